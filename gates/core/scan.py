"""Folder scanning for the Folder Image Loader: natural sort, depth, sidecars. Stdlib only."""
from __future__ import annotations

import hashlib
import os
import re

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
MASK_SUFFIX = ".mask.png"     # the mask beside an image, as Save Image To Folder writes it: not an image
_DIGITS = re.compile(r"(\d+)")


def natural_key(path: str):
    """``img2`` before ``img10``; case-insensitive; stable on ties."""
    parts = _DIGITS.split(path.replace(os.sep, "/").lower())
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p != ""], path


def resolve_folder(folder: str, base: str | None = None, comfy_base: str | None = None) -> str:
    """An absolute folder, or one relative to ``base`` (ComfyUI's input folder); see ``base_relative``."""
    folder = str(folder or "").strip().strip('"')
    if not folder:
        raise ValueError("no folder given: set 'folder' to a folder of images")
    path = os.path.expanduser(folder)
    if not os.path.isabs(path) and base:
        path = base_relative(path, os.path.join(base, path), comfy_base)
    return os.path.abspath(path)


def base_relative(rel: str, joined: str, comfy_base: str | None) -> str:
    """The original project's workflows give folders relative to ComfyUI's base folder (its working
    folder), e.g. ``input/ds``: a relative folder that is not a folder under ``base`` but is one
    under ``comfy_base`` is that one. Otherwise ``joined`` (under ``base``), so a missing folder is
    still named under the input folder."""
    if comfy_base and not os.path.isdir(joined):
        other = os.path.join(comfy_base, rel)
        if os.path.isdir(other):
            return other
    return joined


def list_images(folder: str, depth: int = 0) -> list:
    """Image files under ``folder`` (relative paths), naturally sorted.

    depth 0 = the folder itself, N = up to N levels of subfolders, -1 = unlimited.
    Hidden files and folders (leading '.') and masks beside images (``*.mask.png``)
    are skipped. Raises ValueError naming
    the folder when it is missing, not a folder, or holds no images.
    """
    if not os.path.isdir(folder):
        raise ValueError(f"folder not found: {folder}")
    found = []
    root_len = len(folder.rstrip(os.sep)) + 1
    for dirpath, dirnames, filenames in os.walk(folder):
        level = 0 if dirpath == folder else dirpath[root_len:].count(os.sep) + 1
        if depth >= 0 and level >= depth:
            dirnames[:] = []
        else:
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        rel = dirpath[root_len:] if dirpath != folder else ""
        for f in filenames:
            low = f.lower()
            if not f.startswith(".") and low.endswith(IMAGE_EXTS) and not low.endswith(MASK_SUFFIX):
                found.append(os.path.join(rel, f) if rel else f)
    found.sort(key=natural_key)
    return found


def sidecar_path(folder: str, rel: str) -> str:
    """The caption file of an image: ``<stem>.txt`` beside it."""
    return os.path.join(folder, os.path.splitext(rel)[0] + ".txt")


def read_sidecar(folder: str, rel: str) -> str:
    p = sidecar_path(folder, rel)
    try:
        with open(p, encoding="utf-8-sig") as f:
            return f.read().strip()
    except FileNotFoundError:
        return ""
    except UnicodeDecodeError:
        with open(p, encoding="latin-1") as f:
            return f.read().strip()


def pick(files: list, index: int, folder: str) -> str:
    """The file at ``index``; a clear error past either end (the normal stop of an increment run)."""
    if not files:
        raise ValueError(f"no images ({', '.join(IMAGE_EXTS)}) in folder: {folder}")
    if index < 0 or index >= len(files):
        raise ValueError(f"index {index} is past the end of {folder} ({len(files)} images, "
                         f"indexes 0..{len(files) - 1}): the folder is done")
    return files[index]


def fingerprint(folder: str, depth: int = 0) -> str:
    """Changes when the listing or any image's / caption's mtime or size changes."""
    h = hashlib.sha1()
    try:
        files = list_images(folder, depth)
    except ValueError as e:
        return f"error:{e}"
    for rel in files:
        for p in (os.path.join(folder, rel), sidecar_path(folder, rel)):
            try:
                st = os.stat(p)
                h.update(f"{p}\0{st.st_mtime_ns}\0{st.st_size}\n".encode())
            except OSError:
                h.update(f"{p}\0-\n".encode())
    return h.hexdigest()


def dir_key(folder: str, depth: int):
    """Modification times of the folder and its listed subfolders: a new or removed file changes one."""
    out = []
    root_len = len(folder.rstrip(os.sep)) + 1
    for dirpath, dirnames, _ in os.walk(folder):
        level = 0 if dirpath == folder else dirpath[root_len:].count(os.sep) + 1
        if depth >= 0 and level >= depth:
            dirnames[:] = []
        else:
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        try:
            out.append((dirpath, os.stat(dirpath).st_mtime_ns))
        except OSError:
            pass
    return tuple(out)
