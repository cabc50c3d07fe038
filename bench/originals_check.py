"""How long format 'original' spends deciding "unchanged": the loader's registration and the saver's check.

    .venv/bin/python bench/originals_check.py [--repeat 5]

Tensors are made under torch.inference_mode(), as inside ComfyUI (no version
counter there, so every check hashes the whole image). Prints the median ms per
size; not part of make bench.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from gates import originals  # noqa: E402

SIZES = [(1024, 1024), (6000, 4000)]


def ms(fn, repeat):
    fn()                                          # warm up: the digest's thread pool, Pillow's plugins
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def one_size(folder, w, h, repeat):
    import torch
    from PIL import Image

    path = os.path.join(folder, f"src_{w}x{h}.jpg")
    rgb = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(path, quality=90)
    image = torch.from_numpy(rgb.astype(np.float32) / 255.0)[None]
    reg = ms(lambda: originals.register(image, path, "src"), repeat)
    ok = ms(lambda: originals.check(image), repeat)
    assert originals.check(image).unchanged
    dig = ms(lambda: originals.digest(image), repeat)
    parallel, originals.PARALLEL_BYTES = originals.PARALLEL_BYTES, 1 << 62
    one_thread = ms(lambda: originals.digest(image), repeat)
    originals.PARALLEL_BYTES = parallel
    image[0, h // 2, w // 2, 1] += 0.5                      # an inference tensor: only the digest sees it
    edited = originals.check(image)
    assert not edited.unchanged, edited
    copy = image.clone()
    other = ms(lambda: originals.check(copy), repeat)
    mb = image.numel() * 4 / 2**20
    print(f"{w}x{h} ({mb:.0f} MiB float32): register {reg:.1f} ms, check unchanged {ok:.1f} ms "
          f"(digest {dig:.1f} ms; on one thread {one_thread:.1f} ms), check of another tensor {other:.2f} ms")


def main():
    import torch

    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    print(f"cpu_count {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}, "
          f"digest chunks {originals.DIGEST_CHUNKS}")
    with tempfile.TemporaryDirectory() as d, torch.inference_mode():
        for w, h in SIZES:
            one_size(d, w, h, args.repeat)


if __name__ == "__main__":
    main()
