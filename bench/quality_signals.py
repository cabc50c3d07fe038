"""Quality signals (gates/core/quality.py) over a big folder: the first pass (every image decoded, in two
worker processes) and a second pass when nothing changed (the cache read back, every file stat'ed).

    .venv/bin/python bench/run.py --quality-only [--quality-images 10000]

The folder: 16 distinct photo-like 1024² JPEGs (soft gradients at four scales plus grain, quality 90,
~200 KB), written ``images`` times as real files (each copy ends with its own number after the JPEG's
end marker, so every file has its own bytes, inode and mtime; decoders ignore the tail). No server: it
measures the pack's own code on this machine's cores. The files were just written, so they are in the
page cache: the first pass measures decoding, not the disk.
"""
from __future__ import annotations

import io
import os
import shutil
import tempfile
import time

import numpy as np
from PIL import Image

SIDE, BASES = 1024, 16
GOAL_FIRST_S, GOAL_SECOND_S = 60.0, 5.0


def photo(seed: int, side: int = SIDE) -> bytes:
    rng = np.random.default_rng(seed)
    acc = np.zeros((side, side, 3), np.float32)
    for octave, amp in ((4, 90), (16, 50), (64, 30), (256, 15)):
        small = Image.fromarray((rng.random((octave, octave, 3)) * 255).astype(np.uint8))
        acc += (np.asarray(small.resize((side, side), Image.BICUBIC), np.float32) / 255 - 0.5) * amp
    acc += 128 + rng.normal(0, 4, acc.shape)
    buf = io.BytesIO()
    Image.fromarray(np.clip(acc, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def make_folder(folder: str, images: int) -> float:
    """Write the folder; returns seconds taken."""
    t = time.perf_counter()
    bases = [photo(s) for s in range(BASES)]
    os.makedirs(folder, exist_ok=True)
    for i in range(images):
        with open(os.path.join(folder, f"img_{i:05d}.jpg"), "wb") as f:
            f.write(bases[i % BASES])
            f.write(i.to_bytes(4, "big"))
    return time.perf_counter() - t


def measure(images: int = 10_000) -> dict:
    from gates.core import quality, scan

    tmp = tempfile.mkdtemp(prefix="dg-bench-quality-")
    try:
        folder, cache = os.path.join(tmp, "ds"), os.path.join(tmp, "logs", "ds.quality.json")
        made = make_folder(folder, images)
        print(f"quality: {images} images written in {made:.1f} s", flush=True)
        t = time.perf_counter()
        rels = scan.list_images(folder, 0)
        first = quality.signals_for(folder, rels, cache)
        first_s = time.perf_counter() - t
        print(f"quality: first pass {first_s:.1f} s", flush=True)
        t = time.perf_counter()
        rels = scan.list_images(folder, 0)
        second = quality.signals_for(folder, rels, cache)
        second_s = time.perf_counter() - t
        print(f"quality: second pass {second_s:.2f} s", flush=True)
        return {"images": images, "side": SIDE, "write_s": round(made, 1), "first_s": round(first_s, 2),
                "second_s": round(second_s, 3), "first_ms_per_image": round(first_s * 1000 / images, 2),
                "measured": len(first), "second_equal": second == first, "cache_bytes": os.path.getsize(cache),
                "workers": 2, "load": os.getloadavg()[0]}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def goals(r: dict) -> dict:
    n = f"{r['images']:,}"
    return {f"quality signals, {n} {r['side']}² images, first pass ≤ {GOAL_FIRST_S:.0f} s":
            r["first_s"] <= GOAL_FIRST_S and r["measured"] == r["images"],
            f"quality signals, second pass (nothing changed) ≤ {GOAL_SECOND_S:.0f} s":
            r["second_s"] <= GOAL_SECOND_S and r["second_equal"]}


def rows(r: dict) -> list:
    n = f"{r['images']:,}"
    return ["| quality signals (sharpness, exposure, size, dHash) | result |", "|---|---|",
            f"| quality signals, {n} {r['side']}² images, first pass (goal ≤ {GOAL_FIRST_S:.0f} s) | "
            f"{r['first_s']:.1f} s ({r['first_ms_per_image']:.2f} ms per image, {r['workers']} worker processes) |",
            f"| second pass, nothing changed (goal ≤ {GOAL_SECOND_S:.0f} s) | {r['second_s']:.2f} s "
            f"(cache {r['cache_bytes'] / 1024:,.0f} KiB{'' if r['second_equal'] else ', NOT equal to the first'}) |"]


def only(images: int) -> int:
    """Just these rows; printed, nothing written. Exit status: goals met."""
    r = measure(images)
    g = goals(r)
    print("\n".join(rows(r)) + "\n\nGoals: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in g.items()))
    return 0 if all(g.values()) else 1
