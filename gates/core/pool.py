"""Image Pool (Grid): a pool of images, each with its own mask and label, on disk. No ComfyUI, no torch.

The layout is the original project's, so pools made by either load in the other::

    <input>/grid_pool/<pool_id>/manifest.json
    <input>/grid_pool/<pool_id>/img_0001.png   img_0001.mask.png   img_0002.png ...

``manifest.json`` is ``{"active": 0, "slots": [{"image", "mask" (null until painted), "label",
"added"}], "next_seq": 3}``. A missing manifest is an empty pool; a corrupt one is rebuilt from the
``img_*.png`` files, as the original does. Masks are grayscale PNGs, white = painted.

Every id and file name is checked before it touches the disk: an id is one plain folder name
(no ``..``, no separator, not absolute), a manifest's file names are plain names inside the pool
folder, and every write is atomic (``files.atomic_write``) under one lock.
"""
from __future__ import annotations

import io
import json
import os
import re
import threading

import numpy as np

from . import files

POOL_FOLDER = "grid_pool"          # under ComfyUI's input folder, as the original
MANIFEST = "manifest.json"
MAX_IMAGE_BYTES = 256 * 1024 * 1024
MAX_IMAGE_PIXELS = 8192 * 8192
MAX_LABEL = 1000
_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_. -]{0,199}$")
LOCK = threading.RLock()           # one read-modify-write of a manifest (or the profile registry) at a time


class PoolError(ValueError):
    """A refused request; ``status`` is its HTTP status."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def check_id(pool_id) -> str:
    """A pool (or profile) id: one plain folder name, else a PoolError (400)."""
    if not isinstance(pool_id, str) or not pool_id.strip():
        raise PoolError("'pool_id' must be a non-empty string")
    p = pool_id.strip()
    if ".." in p or "/" in p or "\\" in p or os.path.isabs(p) or not _ID.match(p):
        raise PoolError(f"pool id {p[:60]!r} is not a plain folder name (letters, digits, '_', '-', '.'; no '..')")
    return p


def check_member(name) -> str:
    """A file name inside a pool folder (from a manifest): plain, no '..', no separator."""
    if not isinstance(name, str) or ".." in name or "/" in name or "\\" in name or not _NAME.match(name):
        raise PoolError(f"file name {str(name)[:60]!r} in the pool is not a plain file name")
    return name


def pool_dir(base: str, pool_id) -> str:
    """``<base>/<pool_id>``, checked to stay inside ``base`` (symlinks resolved)."""
    pid = check_id(pool_id)
    root = os.path.realpath(base)
    path = os.path.join(root, pid)
    real = os.path.realpath(path)
    if os.path.dirname(real) != root:
        raise PoolError(f"pool {pid!r} leaves the pool folder", 403)
    return path


def member_path(base: str, pool_id, name) -> str:
    d = pool_dir(base, pool_id)
    path = os.path.join(d, check_member(name))
    if os.path.dirname(os.path.realpath(path)) != os.path.realpath(d):
        raise PoolError(f"{name!r} leaves the pool folder", 403)
    return path


def empty_manifest() -> dict:
    return {"active": 0, "slots": [], "next_seq": 1}


def _clean(m) -> dict:
    """A manifest read from disk, with its shape and every file name checked."""
    if not isinstance(m, dict) or not isinstance(m.get("slots"), list):
        raise ValueError("bad manifest")
    slots = []
    for s in m["slots"]:
        if not isinstance(s, dict):
            raise ValueError("bad slot")
        slot = dict(s)
        slot["image"] = check_member(s.get("image"))
        slot["mask"] = check_member(s["mask"]) if s.get("mask") else None
        slot["label"] = str(s.get("label") or "")
        slot.setdefault("added", 0)
        slots.append(slot)
    out = dict(m)
    out["slots"] = slots
    active = m.get("active", 0)
    out["active"] = active if isinstance(active, int) and not isinstance(active, bool) else 0
    seq = m.get("next_seq")
    out["next_seq"] = seq if isinstance(seq, int) and seq > 0 else len(slots) + 1
    out["active"] = clamp_active(out)
    return out


def read_manifest(base: str, pool_id) -> dict:
    d = pool_dir(base, pool_id)
    path = os.path.join(d, MANIFEST)
    if not os.path.isfile(path):
        return empty_manifest()
    try:
        with open(path, encoding="utf-8") as f:
            return _clean(json.load(f))
    except (ValueError, UnicodeDecodeError):
        return rebuild_manifest(base, pool_id)


def rebuild_manifest(base: str, pool_id) -> dict:
    """The original's rule: every ``img_<n>.png`` of the folder (name order), its ``.mask.png`` when there."""
    d = pool_dir(base, pool_id)
    m = empty_manifest()
    if not os.path.isdir(d):
        return m
    seq = 0
    for name in sorted(os.listdir(d)):
        match = re.match(r"img_(\d+)\.png$", name)
        if not match:
            continue
        seq = max(seq, int(match.group(1)))
        mask = name[:-4] + ".mask.png"
        m["slots"].append({"image": name, "mask": mask if os.path.isfile(os.path.join(d, mask)) else None,
                           "label": "", "added": 0})
    m["next_seq"] = seq + 1
    return m


def write_manifest(base: str, pool_id, m: dict) -> dict:
    d = pool_dir(base, pool_id)
    os.makedirs(d, exist_ok=True)
    files.atomic_write_bytes(os.path.join(d, MANIFEST), json.dumps(m, indent=2).encode("utf-8"))
    return m


def clamp_active(m: dict) -> int:
    n = len(m["slots"])
    return 0 if n == 0 else max(0, min(int(m.get("active", 0)), n - 1))


def resolve_slot(m: dict, index: int) -> int:
    """-1 = the active (clicked) slot, else that slot clamped to the pool; -1 for an empty pool."""
    n = len(m["slots"])
    if n == 0:
        return -1
    idx = m.get("active", 0) if int(index) == -1 else int(index)
    return max(0, min(int(idx), n - 1))


def check_index(m: dict, index) -> int:
    if isinstance(index, bool):
        raise PoolError(f"'index' must be a slot number, got {index!r}")
    try:
        i = int(str(index).strip())
    except (TypeError, ValueError):
        raise PoolError(f"'index' must be a slot number, got {str(index)[:40]!r}") from None
    if not 0 <= i < len(m["slots"]):
        raise PoolError(f"'index' {i} is out of range: the pool has {len(m['slots'])} images")
    return i


def as_png(data: bytes) -> bytes:
    """An uploaded image as PNG bytes (a PNG as is), or a PoolError saying why not."""
    from PIL import Image

    if not data:
        raise PoolError("the image upload is empty")
    if len(data) > MAX_IMAGE_BYTES:
        raise PoolError(f"the image is over {MAX_IMAGE_BYTES // 2**20} MiB", 413)
    try:
        im = Image.open(io.BytesIO(data))
        w, h = im.size
        if w * h > MAX_IMAGE_PIXELS:
            raise PoolError(f"the image is {w}x{h}: over the {MAX_IMAGE_PIXELS}-pixel cap", 413)
        im.load()
    except PoolError:
        raise
    except Exception as e:  # PIL raises many kinds for bad data
        raise PoolError(f"the upload is not an image PIL can read ({type(e).__name__})") from None
    if im.format == "PNG":
        return data
    from PIL import ImageOps

    im = ImageOps.exif_transpose(im) or im
    if im.mode not in ("RGB", "RGBA", "L", "LA", "I;16", "I"):
        im = im.convert("RGBA" if "A" in im.getbands() or "transparency" in im.info else "RGB")
    buf = io.BytesIO()
    im.save(buf, "PNG", compress_level=4)
    return buf.getvalue()


def add_image(base: str, pool_id, data: bytes, ts: int = 0, label: str = "") -> dict:
    png = as_png(data)
    with LOCK:
        m = read_manifest(base, pool_id)
        d = pool_dir(base, pool_id)
        os.makedirs(d, exist_ok=True)
        seq = m["next_seq"]
        while os.path.lexists(os.path.join(d, f"img_{seq:04d}.png")):
            seq += 1
        name = f"img_{seq:04d}.png"
        files.atomic_write_bytes(os.path.join(d, name), png)
        m["slots"].append({"image": name, "mask": None, "label": check_label(label), "added": int(ts)})
        m["next_seq"] = seq + 1
        return write_manifest(base, pool_id, m)


def check_label(label) -> str:
    if not isinstance(label, str):
        raise PoolError("'label' must be a string")
    if len(label) > MAX_LABEL:
        raise PoolError(f"the label is over {MAX_LABEL} characters")
    return label


def remove_slot(base: str, pool_id, index) -> dict:
    with LOCK:
        m = read_manifest(base, pool_id)
        i = check_index(m, index)
        slot = m["slots"].pop(i)
        for key in ("image", "mask"):
            if slot.get(key):
                try:
                    os.remove(member_path(base, pool_id, slot[key]))
                except FileNotFoundError:
                    pass
        if i < m["active"]:
            m["active"] -= 1
        m["active"] = clamp_active(m)
        return write_manifest(base, pool_id, m)


def set_active(base: str, pool_id, index) -> dict:
    with LOCK:
        m = read_manifest(base, pool_id)
        m["active"] = check_index(m, index)
        return write_manifest(base, pool_id, m)


def set_label(base: str, pool_id, index, label) -> dict:
    with LOCK:
        m = read_manifest(base, pool_id)
        m["slots"][check_index(m, index)]["label"] = check_label(label)
        return write_manifest(base, pool_id, m)


def mask_name(image: str) -> str:
    return os.path.splitext(image)[0] + ".mask.png"


def set_mask(base: str, pool_id, index, mask: np.ndarray | None) -> dict:
    """Write a slot's mask (float [H, W] in 0..1, white = painted) as a grayscale PNG; None clears it."""
    from PIL import Image

    with LOCK:
        m = read_manifest(base, pool_id)
        slot = m["slots"][check_index(m, index)]
        if mask is None:
            if slot.get("mask"):
                try:
                    os.remove(member_path(base, pool_id, slot["mask"]))
                except FileNotFoundError:
                    pass
            slot["mask"] = None
            return write_manifest(base, pool_id, m)
        name = mask_name(slot["image"])
        buf = io.BytesIO()
        Image.fromarray(np.clip(np.rint(np.asarray(mask, np.float32) * 255), 0, 255).astype(np.uint8), "L").save(
            buf, "PNG", compress_level=4)
        files.atomic_write_bytes(member_path(base, pool_id, name), buf.getvalue())
        slot["mask"] = name
        return write_manifest(base, pool_id, m)


def fingerprint(base: str, pool_id, index: int) -> str:
    """What the node's output depends on: the slot used, its label, its image's and mask's size and mtime."""
    m = read_manifest(base, pool_id)
    idx = resolve_slot(m, index)
    if idx < 0:
        return f"{pool_id}|empty"
    slot = m["slots"][idx]
    parts = [pool_id, str(idx), str(len(m["slots"])), slot.get("label", "")]
    for key in ("image", "mask"):
        try:
            st = os.stat(member_path(base, pool_id, slot[key])) if slot.get(key) else None
            parts.append(f"{st.st_size}:{st.st_mtime_ns}" if st else "-")
        except OSError:
            parts.append("missing")
    return "|".join(parts)


def folder_fingerprint(base: str, pool_id) -> str:
    """Every file of the pool (name, size, mtime): changes with any image, mask, label or active slot."""
    d = pool_dir(base, pool_id)
    parts = [pool_id]
    try:
        for name in sorted(os.listdir(d)):
            st = os.stat(os.path.join(d, name))
            parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
    except OSError:
        parts.append("missing")
    return "|".join(parts)
