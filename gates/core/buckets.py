"""Training buckets: which W x H an image lands on, and how it gets there.

Pure arithmetic (stdlib and numpy), shared by Bucket Resize and Dataset Summary so
both use one rule. The generated buckets are, for every width that is a
multiple of ``divisible``, the tallest multiple-of-``divisible`` height whose
area stays within ``resolution``²; an image takes the bucket nearest to its
aspect in log space, ties going to the larger area (1920x1080 -> 1664x960 at
1280/64).
"""
from __future__ import annotations

import re
from fractions import Fraction

import numpy as np

MODES = ("crop", "pad")
_ITEM = re.compile(r"^\s*(\d+)\s*[xX×*]\s*(\d+)\s*$")


def generate(resolution: int = 1280, divisible: int = 64) -> list:
    """Every (w, h) of the max-area frontier, widest last."""
    resolution, divisible = int(resolution), int(divisible)
    if resolution < 1 or divisible < 1:
        raise ValueError(f"resolution and divisible must be positive, got {resolution} and {divisible}")
    if divisible > resolution:
        raise ValueError(f"divisible {divisible} is larger than resolution {resolution}: no bucket fits")
    budget = resolution * resolution
    out = []
    for w in range(divisible, budget // divisible + 1, divisible):
        h = budget // w // divisible * divisible
        if h >= divisible:
            out.append((w, h))
    return out


def parse_list(text: str) -> list:
    """A kohya-style list ``"1024x1024, 1152x896"`` (commas, semicolons or white space) -> [(w, h), ...]."""
    text = re.sub(r"\s*([xX×*])\s*", r"\1", str(text or ""))
    items = [t for t in re.split(r"[,;\s]+", text) if t]
    out = []
    for t in items:
        m = _ITEM.match(t)
        if not m or int(m.group(1)) < 1 or int(m.group(2)) < 1:
            raise ValueError(f"bucket_list: {t.strip()!r} is not a size like 1024x1024")
        wh = (int(m.group(1)), int(m.group(2)))
        if wh not in out:
            out.append(wh)
    if not out:
        raise ValueError("bucket_list is empty: give sizes like '1024x1024, 1152x896' or clear it")
    return out


def candidates(resolution: int = 1280, divisible: int = 64, bucket_list: str = "") -> list:
    """The explicit list when one is given, else the generated frontier."""
    return parse_list(bucket_list) if str(bucket_list or "").strip() else generate(resolution, divisible)


def _distance(w: int, h: int, iw: int, ih: int) -> Fraction:
    # exp(|ln(w/h) - ln(iw/ih)|) as an exact fraction: equal distances compare equal,
    # so the area tie-break is never decided by float rounding.
    a, b = w * ih, h * iw
    return Fraction(max(a, b), min(a, b))


def pick(iw: int, ih: int, buckets: list) -> tuple:
    """The bucket nearest to iw:ih in log-aspect; ties -> the larger area."""
    return Picker(buckets)(iw, ih)


class Picker:
    """``pick`` for many images: bucket aspects computed once, one answer cached per image size."""

    def __init__(self, buckets: list):
        self.buckets = [(int(w), int(h)) for w, h in buckets]
        self._log = np.log(np.array([w / h for w, h in self.buckets], dtype=np.float64))
        self._seen: dict = {}

    def __call__(self, iw: int, ih: int) -> tuple:
        key = (iw, ih)
        if key not in self._seen:
            if iw < 1 or ih < 1:
                raise ValueError(f"image size {iw}x{ih} is empty")
            d = np.abs(self._log - np.log(iw / ih))
            near = np.nonzero(d <= d.min() + 1e-9)[0]      # floats shortlist, exact fractions decide
            self._seen[key] = min((self.buckets[i] for i in near),
                                  key=lambda b: (_distance(b[0], b[1], iw, ih), -b[0] * b[1]))
        return self._seen[key]


def pick_for_batch(sizes: list, buckets: list) -> tuple:
    """One bucket for every (w, h) in ``sizes``, or a ValueError saying to resize before batching."""
    picked = {tuple(s): pick(s[0], s[1], buckets) for s in sizes}
    if len(set(picked.values())) > 1:
        pairs = ", ".join(f"{w}x{h} -> {b[0]}x{b[1]}" for (w, h), b in picked.items())
        raise ValueError(f"the images of this batch fall on different buckets ({pairs}): "
                         "resize before batching (one image per run, or Bucket Resize before the batch node)")
    return next(iter(picked.values()))


def cover(iw: int, ih: int, W: int, H: int) -> dict:
    """Scale to cover W x H, then crop the centre: resize to (new_w, new_h), crop box at (left, top)."""
    scale = max(W / iw, H / ih)
    new_w, new_h = max(W, round(iw * scale)), max(H, round(ih * scale))
    if new_w - W <= 1 and new_h - H <= 1:
        # already the bucket's aspect to within a pixel (a crop framed for this bucket at the gate):
        # resize to the bucket itself rather than cut one more row or column
        new_w, new_h = W, H
    return {"scale": scale, "new_w": new_w, "new_h": new_h,
            "left": (new_w - W) // 2, "top": (new_h - H) // 2}


def contain(iw: int, ih: int, W: int, H: int) -> dict:
    """Scale to fit inside W x H, then letterbox: resize to (new_w, new_h), paste at (left, top)."""
    scale = min(W / iw, H / ih)
    new_w, new_h = min(W, max(1, round(iw * scale))), min(H, max(1, round(ih * scale)))
    return {"scale": scale, "new_w": new_w, "new_h": new_h,
            "left": (W - new_w) // 2, "top": (H - new_h) // 2}


def geometry(iw: int, ih: int, W: int, H: int, mode: str = "crop") -> dict:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    return cover(iw, ih, W, H) if mode == "crop" else contain(iw, ih, W, H)


def upscale_warning(iw: int, ih: int, W: int, H: int, scale: float, max_upscale: float) -> str | None:
    """The warning when an image is enlarged past ``max_upscale`` (it still gets its bucket)."""
    if scale > max_upscale:
        return (f"{iw}x{ih} -> {W}x{H} is a {scale:.2f}x upscale, past max_upscale {max_upscale:g}: "
                "expect a soft image")
    return None
