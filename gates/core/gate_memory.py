"""What an Image Gate remembers between pauses: its sticky mask (``keep_mask``).

The last mask painted at a gate is kept per gate node id, in this ComfyUI
process only (a restart forgets it), and reused at that gate's following
pauses until Clear mask or until ``keep_mask`` is switched off. Masks are kept
as uint8 (a quarter of the float size) and come back as float32 ``[H, W]``;
the node resizes them to each new image. numpy and Pillow only: no ComfyUI.
"""
from __future__ import annotations

import io
import threading
from collections import OrderedDict

import numpy as np
from PIL import Image

MAX_GATES = 32                         # gates remembered at once; the oldest is forgotten first
OVERLAY_RGB = (230, 32, 32)            # the overlay's red
OVERLAY_ALPHA = 0.5                    # opacity of a fully painted pixel

_lock = threading.Lock()
_masks: OrderedDict[str, np.ndarray] = OrderedDict()


def painted(mask) -> bool:
    """Is anything painted in ``mask`` (None = no)?"""
    return mask is not None and bool(np.any(np.asarray(mask) > 0))


def recall(node_id) -> np.ndarray | None:
    """The mask gate ``node_id`` keeps, as float32 [H, W] in 0..1, or None."""
    with _lock:
        kept = _masks.get(str(node_id))
    return None if kept is None else kept.astype(np.float32) / 255.0


def forget(node_id) -> None:
    with _lock:
        _masks.pop(str(node_id), None)


def settle(node_id, attachments: dict, keep: bool) -> None:
    """After a pause of gate ``node_id``: keep what was painted at it, or forget.

    ``attachments[0]`` is the mask painted at the pause (None = Clear mask was
    pressed; absent = nothing was done). With ``keep`` off the gate forgets, so
    switching it on later starts from no mask.
    """
    key = str(node_id)
    if not keep:
        forget(key)
        return
    if 0 not in attachments:
        return
    mask = attachments[0]
    if not painted(mask):
        forget(key)
        return
    m = np.asarray(mask, dtype=np.float32)
    if m.ndim == 3:                    # [B, H, W]: the gate keeps one mask for its batch
        m = m[0]
    kept = np.rint(np.clip(m, 0.0, 1.0) * 255.0).astype(np.uint8)
    with _lock:
        _masks[key] = kept
        _masks.move_to_end(key)
        while len(_masks) > MAX_GATES:
            _masks.popitem(last=False)


def overlay_png(mask, height: int, width: int) -> bytes:
    """A translucent red PNG of ``mask`` at ``width`` x ``height`` (the preview's size), for the page."""
    m = np.clip(np.asarray(mask, dtype=np.float32), 0.0, 1.0)
    if m.ndim == 3:
        m = m[0]
    small = Image.fromarray(np.rint(m * 255.0).astype(np.uint8), "L").resize((width, height), Image.BILINEAR)
    rgba = np.empty((height, width, 4), dtype=np.uint8)
    rgba[..., :3] = OVERLAY_RGB
    rgba[..., 3] = np.rint(np.asarray(small, dtype=np.float32) * OVERLAY_ALPHA).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, "PNG", compress_level=1)
    return buf.getvalue()
