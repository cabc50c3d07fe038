"""Safe file names and atomic writes for the dataset saver. Stdlib only."""
from __future__ import annotations

import os
import re
import tempfile
import time

from .names import PART_PREFIX

CONFLICT_POLICIES = ("skip", "overwrite", "suffix")
_WINDOWS_BAD = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                     *(f"LPT{i}" for i in range(1, 10))}


def check_stem(stem: str) -> str:
    """A file stem that is safe everywhere, or a ValueError saying why not."""
    s = str(stem if stem is not None else "")
    if not s.strip():
        raise ValueError("empty filename: wire 'filename' from the loader or type a name")
    if s.strip(".") == "" or s.startswith(".."):
        raise ValueError(f"filename {s!r} is not allowed ('..' could leave the folder)")
    if "/" in s or "\\" in s or os.sep in s:
        raise ValueError(f"filename {s!r} contains a path separator; give a bare name")
    bad = _WINDOWS_BAD.search(s)
    if bad:
        raise ValueError(f"filename {s!r} contains {bad.group()!r}, which is invalid on Windows")
    if s.endswith((" ", ".")):
        raise ValueError(f"filename {s!r} ends with a space or a dot, which is invalid on Windows")
    if s.split(".")[0].upper() in _WINDOWS_RESERVED:
        raise ValueError(f"filename {s!r} is a reserved device name on Windows")
    if len(s.encode("utf-8")) > 200:
        raise ValueError(f"filename {s[:40]!r}... is too long (over 200 bytes)")
    return s


def resolve_target(folder: str, name: str, policy: str) -> str | None:
    """The path to write ``name`` in ``folder`` under a conflict policy; None = skip it."""
    if policy not in CONFLICT_POLICIES:
        raise ValueError(f"on_conflict must be one of {CONFLICT_POLICIES}, got {policy!r}")
    path = os.path.join(folder, name)
    if not os.path.lexists(path) or policy == "overwrite":
        return path
    if policy == "skip":
        return None
    stem, ext = os.path.splitext(name)
    for i in range(1, 100000):
        cand = os.path.join(folder, f"{stem}_{i}{ext}")
        if not os.path.lexists(cand):
            return cand
    raise ValueError(f"no free name for {name!r} in {folder}")


TEMP_PREFIX, TEMP_SUFFIX = PART_PREFIX, ".part"
STALE_TEMP_SECONDS = 3600
_UMASK = os.umask(0o022)                  # read the process's umask once (setting it back at once)
os.umask(_UMASK)
_last_sweep: dict = {}        # folder -> time of its last sweep (keeps listdir off every write)


def _writer_gone(name: str) -> bool:
    """Our temp names carry the writing process's pid (``.dsg-<pid>-...``): is that process gone?"""
    pid = name[len(TEMP_PREFIX):].split("-", 1)[0]
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:               # alive, someone else's
        return False
    return False


def sweep_stale_temps(folder: str, max_age: float = STALE_TEMP_SECONDS) -> list:
    """Delete our temp files in ``folder`` whose writer died, or older than ``max_age``; return their names.

    Only a killed process (SIGKILL, power loss) leaves one. Its pid in the name
    tells at once when that process is gone; without one, an hour-old file is
    certainly dead while a younger one may belong to a write in progress.
    """
    gone = []
    try:
        names = os.listdir(folder)
    except OSError:
        return gone
    now = time.time()
    for name in names:
        if name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX):
            p = os.path.join(folder, name)
            try:
                if _writer_gone(name) or now - os.lstat(p).st_mtime > max_age:
                    os.remove(p)
                    gone.append(name)
            except OSError:
                pass
    return gone


def atomic_write(path: str, write, sync: bool = True) -> None:
    """Call ``write(fileobj)`` on a temp file beside ``path``, fsync, then rename into place.

    A crash or an exception mid-way leaves the old file (or none), never a partial one.
    ``sync=False`` skips the fsync, for a caller that writes many files and syncs once at the end.
    """
    folder = os.path.dirname(path) or "."
    now = time.time()
    if now - _last_sweep.get(folder, 0.0) > STALE_TEMP_SECONDS / 4:
        _last_sweep[folder] = now
        sweep_stale_temps(folder)
    fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", suffix=TEMP_SUFFIX, dir=folder)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)        # mkstemp makes 0600; a saved file gets the usual mode
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            if sync:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise


def atomic_write_bytes(path: str, data: bytes, sync: bool = True) -> None:
    atomic_write(path, lambda f: f.write(data), sync)
