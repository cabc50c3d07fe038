"""The Dataset Summary chart: three bar panels drawn with Pillow. No ComfyUI, no torch."""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

WIDTH = 1024
BG, FG, DIM = (24, 24, 28), (230, 230, 230), (150, 150, 160)
COLORS = {"images": (86, 156, 214), "captions": (106, 190, 120), "masks": (230, 160, 80), "bars": (180, 120, 220)}
MAX_BARS = 16


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)      # Pillow >= 10.1 with FreeType
    except TypeError:
        return ImageFont.load_default()


def _bars(d: ImageDraw.ImageDraw, top: int, title: str, rows: list, series: list, font, small) -> int:
    """Horizontal bars; ``rows`` = [(label, {series: value})]. Returns the next free y."""
    d.text((16, top), title, fill=FG, font=font)
    y = top + 28
    peak = max([v.get(s, 0) for _, v in rows for s in series] + [1])
    left, right = 240, WIDTH - 90
    for label, vals in rows:
        d.text((16, y), label[:32], fill=DIM, font=small)
        h = 18 if len(series) == 1 else 13
        for k, s in enumerate(series):
            v = vals.get(s, 0)
            yy = y + k * (h + 1)
            d.rectangle((left, yy, left + max(1, int((right - left) * v / peak)), yy + h - 1), fill=COLORS[s])
            d.text((right + 8, yy - 1), str(v), fill=FG, font=small)
        y += max(22, len(series) * (h + 1) + 6)
    return y + 12


def draw(s: dict) -> np.ndarray:
    """The chart of a summary dict (see summary.summarize) as uint8 [H, W, 3]."""
    font, small = _font(18), _font(13)
    folders = [("(top folder)" if name == "." else name, f) for name, f in s["folders"].items()][:MAX_BARS]
    bucket_rows = [(b, {"bars": n}) for b, n in list(s["buckets"].items())[:MAX_BARS]]
    short_rows = [(f"short side {k}", {"bars": n}) for k, n in s["short_side"].items()]
    sharp_rows = [(f"sharpness {k}", {"bars": n}) for k, n in s.get("sharpness_hist", {}).items()]
    clip_rows = [(f"clipped {k}", {"bars": n}) for k, n in s.get("clipped_hist", {}).items()]
    worst = [f"{r}  {v:g}" for r, v in s.get("least_sharp", [])[:10]]
    height = 120 + len(folders) * 50 + (len(bucket_rows) + len(short_rows) + len(sharp_rows) + len(clip_rows)) * 22 \
        + len(worst) * 18 + 340
    im = Image.new("RGB", (WIDTH, height), BG)
    d = ImageDraw.Draw(im)
    d.text((16, 12), f"{s['images']} images   {s['captions']} captions   {s['masks']} masks", fill=FG, font=font)
    dup = "not checked" if s["duplicates"] == "off" else f"{len(s['exact_duplicates'])} duplicate group(s)"
    d.text((16, 40), f"below {s['min_size']} px: {len(s['small'])}   {dup}   unreadable: {len(s['unreadable'])}",
           fill=DIM, font=small)
    x = 16
    for name in ("images", "captions", "masks"):
        d.rectangle((x, 66, x + 12, 78), fill=COLORS[name])
        d.text((x + 18, 64), name, fill=DIM, font=small)
        x += 110
    y = _bars(d, 96, "per folder", folders, ["images", "captions", "masks"], font, small)
    y = _bars(d, y, "aspect buckets", bucket_rows, ["bars"], font, small)
    y = _bars(d, y, "size distribution", short_rows, ["bars"], font, small)
    if sharp_rows:
        y = _bars(d, y, "sharpness (variance of the Laplacian at 256 px)", sharp_rows, ["bars"], font, small)
        y = _bars(d, y, "clipped pixels (black or white)", clip_rows, ["bars"], font, small)
        d.text((16, y), "least sharp", fill=FG, font=font)
        y += 28
        for line in worst:
            d.text((16, y), line[:120], fill=DIM, font=small)
            y += 18
        y += 12
    return np.asarray(im.crop((0, 0, WIDTH, min(height, y + 8))))
