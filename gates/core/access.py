"""Which folders the loader, the savers and Dataset Summary may touch.

On a ComfyUI that listens on loopback only (its default) every folder is
allowed, as before. When it listens beyond loopback, anyone who can queue a
prompt could read and write anywhere the server can, so folders must then lie
under ComfyUI's input or output folder, or under a root the owner listed:

- the environment variable ``DATASET_GATES_ROOTS`` (folders separated by
  ``os.pathsep``), read when a folder is checked, and
- ``"allowed_roots": [...]`` in ``dataset_gates.json`` in the root of ComfyUI's
  user folder (``<user>/dataset_gates.json``). ComfyUI's ``/userdata`` API only
  reaches ``<user>/<name>/``, so a remote client cannot edit this file.

The sample dataset the pack ships (``samples.FOLDER``) may always be read, and
never written, by these nodes: it holds no secret, and the example workflows
read it on any server.

Paths are compared after ``realpath``: a symlink inside a root that leads out
of it counts as outside. The policy itself is pure; ``current()`` is the only
glue, and looks at ComfyUI's already-parsed arguments without importing them
(importing ``comfy.cli_args`` parses ``sys.argv``).
"""
from __future__ import annotations

import ipaddress
import json
import os
import sys

ENV = "DATASET_GATES_ROOTS"
SETTINGS_FILE = "dataset_gates.json"
SETTINGS_KEY = "allowed_roots"


def is_loopback(listen) -> bool:
    """True when every address ComfyUI listens on is a loopback one (``--listen`` takes a comma list)."""
    addrs = [a.strip().strip("[]") for a in str(listen or "127.0.0.1").split(",") if a.strip()]
    for a in addrs:
        if a.lower() == "localhost":
            continue
        try:
            if not ipaddress.ip_address(a).is_loopback:
                return False
        except ValueError:
            return False               # a host name may resolve to anything
    return bool(addrs)


def real(path: str) -> str:
    return os.path.normcase(os.path.realpath(os.path.abspath(os.path.expanduser(path))))


def inside(path: str, root: str) -> bool:
    """Is ``path`` (already real) ``root`` or under it (already real)?"""
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:                 # different drives on Windows
        return False


def env_roots(value: str | None) -> list:
    roots = [r.strip() for r in str(value or "").split(os.pathsep) if r.strip()]
    for r in roots:
        if not os.path.isabs(os.path.expanduser(r)):
            raise ValueError(f"{ENV} lists {r!r}, which is not an absolute folder")
    return roots


def settings_roots(path: str | None) -> list:
    """``allowed_roots`` of the settings file; [] when there is no file."""
    if not path or not os.path.exists(path):
        return []
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError(f"cannot read {path}: {e}") from None
    roots = data.get(SETTINGS_KEY, []) if isinstance(data, dict) else None
    if not isinstance(roots, list) or not all(isinstance(r, str) for r in roots):
        raise ValueError(f'{path} must hold {{"{SETTINGS_KEY}": ["/absolute/folder", ...]}}')
    for r in roots:
        if not os.path.isabs(os.path.expanduser(r)):
            raise ValueError(f"{path} lists {r!r} in {SETTINGS_KEY}, which is not an absolute folder")
    return roots


class Policy:
    """Folders are allowed under ``roots``, and for reading (``read=True``) also under ``read_roots``;
    ``listen`` and ``settings_path`` only word the refusal."""

    def __init__(self, roots: list, listen: str = "", settings_path: str | None = None, read_roots: list = ()):
        self.roots = [real(r) for r in roots if r]
        self.read_roots = [real(r) for r in read_roots if r]
        self.listen = listen
        self.settings_path = settings_path

    def allows(self, path: str, read: bool = False) -> bool:
        p = real(path)
        return any(inside(p, r) for r in self.roots + (self.read_roots if read else []))

    def check(self, path: str, what: str = "folder", read: bool = False) -> str:
        """``path`` unchanged when allowed, else a ValueError that names it and the settings."""
        if self.allows(path, read):
            return path
        rp = os.path.realpath(path)
        via = f" (a link to {rp})" if os.path.normcase(rp) != os.path.normcase(os.path.abspath(path)) else ""
        ro = next((r for r in self.read_roots if inside(real(path), r)), None)
        if ro:
            raise ValueError(f"{what} {path}{via} is inside {ro}, which these nodes may read but never write "
                             "(the pack's sample dataset): write under ComfyUI's output folder instead.")
        raise ValueError(
            f"{what} {path}{via} is outside ComfyUI's input and output folders and outside the allowed roots, "
            f"and ComfyUI listens on {self.listen} (beyond loopback), so it is refused. To allow it, add it or a "
            f"parent folder to the environment variable {ENV} (separated by {os.pathsep!r}) or to "
            f'"{SETTINGS_KEY}" in {self.settings_path or "<ComfyUI user folder>/" + SETTINGS_FILE}.')


def current() -> Policy | None:
    """The policy of this ComfyUI, or None when it listens on loopback only (or outside ComfyUI)."""
    cli = sys.modules.get("comfy.cli_args")
    listen = getattr(getattr(cli, "args", None), "listen", None)
    if cli is None or is_loopback(listen):
        return None
    import folder_paths

    from . import samples

    settings = os.path.join(folder_paths.get_user_directory(), SETTINGS_FILE)
    roots = [folder_paths.get_input_directory(), folder_paths.get_output_directory()]
    roots += env_roots(os.environ.get(ENV)) + settings_roots(settings)
    return Policy(roots, listen, settings, read_roots=[samples.FOLDER])


def check(path: str, what: str = "folder", read: bool = False) -> str:
    """``path`` when this ComfyUI allows it (for reading only: ``read=True``), else a ValueError
    naming the folder and the settings."""
    pol = current()
    return pol.check(path, what, read) if pol else path


def allowed(path: str, read: bool = False) -> bool:
    """Like :func:`check`, without raising (for IS_CHANGED, which must not fail)."""
    try:
        check(path, read=read)
        return True
    except ValueError:
        return False
