"""A folder with planted near-duplicate groups, for the Duplicate Review's tests.

``plant(folder)`` writes ``GROUPS`` source images, each with a resized, a re-encoded
(JPEG) and a slightly cropped copy, plus ``UNRELATED`` images of other scenes.
The scenes are fixed (seeded), so the folder is the same on every run.
"""
from __future__ import annotations

import os

import numpy as np
from PIL import Image

W, H = 320, 240
GROUP_SEEDS = (1, 3, 4)            # chosen so that every copy is within 4 bits of its group
UNRELATED_SEEDS = (5, 6, 7, 8, 14, 15)   # and every other image at least 18 bits away
CROP = 0.05                       # the cropped copy loses 5 % of each side


def scene(seed: int, w: int = W, h: int = H) -> Image.Image:
    """A smooth synthetic 'photo': coloured blobs and stripes on a gradient, with a little noise."""
    r = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / max(w, h)
    img = np.zeros((h, w, 3))
    for _ in range(10):
        cx, cy, s = r.random(), r.random() * h / w, 0.04 + r.random() * 0.15
        img += np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * s * s))[..., None] * (r.random(3) - 0.5) * 2
    angle, freq = r.random() * np.pi, 0.5 + r.random() * 1.5
    img += 0.4 * np.sin(2 * np.pi * freq * (x * np.cos(angle) + y * np.sin(angle)))[..., None] * r.random(3)
    img += x[..., None] * r.normal(0, .5, 3) + y[..., None] * r.normal(0, .5, 3)
    img += r.normal(0, 0.02, img.shape)
    img = (img - img.min()) / (img.max() - img.min())
    return Image.fromarray((img * 255).astype(np.uint8))


def plant(folder: str) -> dict:
    """Write the planted folder; returns {"groups": [[names]], "unrelated": [names]} (natural order)."""
    os.makedirs(folder, exist_ok=True)
    groups = []
    for k, seed in enumerate(GROUP_SEEDS, 1):
        im = scene(seed)
        base = f"g{k}"
        im.save(os.path.join(folder, f"{base}_a.png"))
        im.resize((W // 2, H // 2), Image.LANCZOS).save(os.path.join(folder, f"{base}_b_small.png"))
        im.save(os.path.join(folder, f"{base}_c_q50.jpg"), quality=50)
        dx, dy = round(W * CROP), round(H * CROP)
        im.crop((dx, dy, W - dx, H - dy)).save(os.path.join(folder, f"{base}_d_crop.png"))
        groups.append([f"{base}_a.png", f"{base}_b_small.png", f"{base}_c_q50.jpg", f"{base}_d_crop.png"])
    unrelated = []
    for k, seed in enumerate(UNRELATED_SEEDS, 1):
        name = f"u{k}.png"
        scene(seed).save(os.path.join(folder, name))
        unrelated.append(name)
    return {"groups": groups, "unrelated": unrelated}
