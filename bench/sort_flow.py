"""make bench, the older sort rows (bench/sort_pace.py runs them after its paced sets, same server and page).

Key press routing image i -> image i+1 on screen, timed in the page (bench/page_timer.py), over
photo-like 1024² images (JPEG and PNG mixed), one key every 300-600 ms, for:

* ours, waiting for the server's pause before each key: the sort workflow (loader in ``sort``
  mode), Run once; before each key the driver waits until image i+1 is on screen AND the server's
  gate has paused on it (its show event reached the page), as a person would who waits for the
  server before every key;
* today's flow: the loader in ``index`` mode, each key followed at once by Run;
* ours, waiting for the pause, on a folder of 10,000 images (the same 100 first, then small ones).
"""
from __future__ import annotations

import os
import statistics
import sys
import time

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))

from harness.ui import build_sort_graph  # noqa: E402

PACE_MS = (300, 600)


def photo_like(path: str, seed: int, size: int = 1024) -> None:
    """A smooth, textured picture (like a photo: compresses like one), saved as JPEG or PNG by extension."""
    rng = np.random.default_rng(seed)
    low = Image.fromarray(rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)).resize((size, size), Image.BICUBIC)
    arr = np.asarray(low, dtype=np.int16)
    yy, xx = np.mgrid[0:size, 0:size]
    for _ in range(6):                                    # a few soft shapes
        cx, cy, r = rng.integers(0, size, 2).tolist() + [int(rng.integers(size // 16, size // 4))]
        inside = (xx - cx) ** 2 + (yy - cy) ** 2 < r * r
        arr[inside] += rng.integers(-60, 60, 3, dtype=np.int16)
    arr += rng.normal(0, 6, arr.shape).astype(np.int16)  # sensor noise
    im = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    if path.endswith(".png"):
        im.save(path, "PNG", compress_level=6)
    else:
        im.save(path, "JPEG", quality=90)


def make_folder(srv, name: str, photos: int, extra_small: int = 0) -> str:
    d = srv.folder(f"input/{name}")
    os.makedirs(d, exist_ok=True)
    for i in range(photos):
        photo_like(os.path.join(d, f"a{i:04d}.{'png' if i % 2 else 'jpg'}"), seed=i)
    small = Image.new("RGB", (8, 8), (90, 90, 90))
    for i in range(extra_small):
        small.save(os.path.join(d, f"z{i:05d}.png"))
    return name


def build_index_graph(page, folder, out):
    """Today's flow: the loader in index mode, 'increment' after each Run."""
    build_sort_graph(page, folder, out)
    page.js("""() => { const l = app.graph._nodes.find(n => n.type === 'FolderImageLoader');
      const set = (name, v) => { const w = l.widgets.find(w => w.name === name); w.value = v; w.callback?.(v); };
      set('mode', 'index'); set('index', 0);
      const c = l.widgets.find(w => w.name === 'control_after_generate'); if (c) c.value = 'increment'; }""")


def answer_folder(page, timer, images: int, run_each: bool, rng) -> list:
    """Answer ``images`` images, one key every 300-600 ms, each key only once the image is on screen
    and the server's pause for it is there; returns key -> next image on screen (ms, from the page)."""
    timer.reset()
    page.page.mouse.click(5, 450)                          # the canvas has focus: keys go to the page
    page.js("() => app.queuePrompt(0, 1)")
    t_key = None
    for i in range(images):
        shown = timer.wait_shown(i + 1, timeout_ms=120000)
        if not run_each and shown.get("file"):
            timer.wait_show_event(shown["file"])           # the server's pause on this image
        if t_key is not None:
            left = rng.uniform(*PACE_MS) / 1000 - (time.perf_counter() - t_key)
            if left > 0:
                time.sleep(left)
        if i == images - 1:
            break
        t_key = time.perf_counter()
        page.page.keyboard.press(str(1 + i % 3))
        if run_each:
            page.js("() => app.queuePrompt(0, 1)")          # today: answer, then Run at once
    page.js("() => fetch('/interrupt', {method: 'POST'})")
    return [s["ms"] for s in timer.data()["shown"] if s["ms"] is not None]


def summary(xs: list) -> dict:
    import sort_stats

    return sort_stats.summary(xs)


def measure_on(srv, page, timer, c, images: int, big_folder: int, rng) -> dict:
    """The three older flows on a running server and page (``timer``: bench/page_timer.PageTimer)."""
    res: dict = {"images": images, "big_folder": big_folder}
    t0 = time.time()
    folder = make_folder(srv, "bench_sort", images)
    big = make_folder(srv, "bench_sort_big", images, big_folder - images)
    print(f"sort flow: made {images} photos + a {big_folder}-image folder in {time.time() - t0:.0f} s", flush=True)
    build_sort_graph(page, folder, "bench_sorted_ours")
    res["ours_ms"] = summary(answer_folder(page, timer, images, False, rng))
    c.reset()
    print(f"sort flow ours, waiting for the pause: {res['ours_ms']}", flush=True)
    build_index_graph(page, folder, "bench_sorted_today")
    res["today_ms"] = summary(answer_folder(page, timer, images, True, rng))
    c.reset()
    print(f"sort flow today: {res['today_ms']}", flush=True)
    build_sort_graph(page, big, "bench_sorted_big")
    res["ours_big_ms"] = summary(answer_folder(page, timer, images, False, rng))
    c.reset()
    print(f"sort flow ours, waiting for the pause, {big_folder} images in the folder: {res['ours_big_ms']}",
          flush=True)
    res["ratio"] = res["ours_ms"]["median"] / res["today_ms"]["median"]
    return res


def trend(samples: list) -> float:
    """Growth over the samples along their least-squares line (MB from the first to the last).

    RSS swings by tens of MB from one image to the next (which arrays are alive at that moment),
    so the difference of two single samples says more about the two moments than about a leak.
    """
    n = len(samples)
    if n < 2:
        return 0.0
    mx, my = (n - 1) / 2, statistics.fmean(samples)
    slope = sum((i - mx) * (y - my) for i, y in enumerate(samples)) / sum((i - mx) ** 2 for i in range(n))
    return slope * (n - 1)


def rows(r: dict) -> list:
    def f(s):
        return f"{s['median']:.1f} ms (p95 {s['p95']:.1f}, n = {s['n']})"

    return [
        "", f"The older rows: key press routing image i → image i+1 on screen, timed in the page the same way "
            f"(headless Chromium, 1024² photo-like JPEG/PNG, one key every {PACE_MS[0]}–{PACE_MS[1]} ms, "
            "savers on `png`), each key only once the server's gate has paused on the image shown.", "",
        "| flow | key → next image on screen | ratio |", "|---|---|---|",
        f"| ours: one Run, sort mode, waiting for the server's pause before each key ({r['images']} images) | "
        f"{f(r['ours_ms'])} | {r['ratio']:.3f}× |",
        f"| today's flow: key, then Run, one image per run | {f(r['today_ms'])} | 1 |",
        f"| ours, waiting for the pause, the folder holding {r['big_folder']:,} images | {f(r['ours_big_ms'])} | "
        f"{r['ours_big_ms']['median'] / r['today_ms']['median']:.3f}× |",
    ]


def goals(r: dict) -> dict:
    return {f"next image median ≤ 100 ms with {r['big_folder']:,} images (waiting for the pause)":
            r["ours_big_ms"]["median"] <= 100}
