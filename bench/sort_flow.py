"""make bench, part 2: the next image on screen, measured in a real browser.

From the key press that routes image i to the moment image i+1's preview is
decoded in the page (``img.decode()`` resolved), over photo-like 1024² images
(JPEG and PNG mixed) answered at a human pace (one key every 300-600 ms; never
before the image is on screen). Measured in one run for:

* ours: the example sort workflow with the loader in ``sort`` mode, Run once;
* today's flow: the loader in ``index`` mode, each key followed at once by Run;
* ours again on a folder of 10,000 images (the same 100 first, then small ones).

The server's RSS before and after the 100 images of ours is reported too.
"""
from __future__ import annotations

import os
import random
import statistics
import sys
import time

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))

from harness.comfy import Client, ComfyServer  # noqa: E402
from harness.fixtures import CHROMIUM_ARGS, Page, chromium_path  # noqa: E402
from harness.ui import SortPanel, build_sort_graph  # noqa: E402

PACE_MS = (300, 600)

# A key listener (capture phase, before the pack's own) notes when the key went down and
# which file is shown; then the page waits for a preview of another file and its decode().
PAGE_TIMER = """
(preview) => {
  window.__dgTimes = [];
  window.addEventListener("keydown", (ev) => {
    if (!/^[1-9]$/.test(ev.key)) return;
    const shown = document.querySelector(preview);
    window.__dgKey = { t0: performance.now(), from: shown?.dataset.file ?? shown?.src ?? null };
  }, true);
}
"""

WAIT_NEXT = """
async (candidates) => {
  const key = window.__dgKey;
  const other = (img) => (img.dataset.file ?? img.src) !== key.from;
  for (;;) {
    const img = [...document.querySelectorAll(candidates)].find(other);
    if (img && img.complete !== undefined) {
      try { await img.decode(); } catch (e) { await new Promise(r => setTimeout(r, 5)); continue; }
      const ms = performance.now() - key.t0;
      window.__dgTimes.push(ms);
      return ms;
    }
    await new Promise(r => requestAnimationFrame(r));
  }
}
"""


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


def make_folder(srv: ComfyServer, name: str, photos: int, extra_small: int = 0) -> str:
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


def answer_folder(page, panel, images: int, run_each: bool, rng: random.Random, every=None) -> list:
    """Answer ``images`` images at a human pace; returns key → next-decoded times (ms).

    ``every(i)`` is called with image i on screen, for each image (e.g. to sample memory), before its key.
    """
    page.js("() => app.queuePrompt(0, 1)")
    panel.wait_buttons(timeout=120000)
    page.page.mouse.click(5, 450)
    times = []
    for i in range(images - 1):
        if every:
            every(i + 1)                                  # image i+1 on screen, the same moment each time
        t_key = time.perf_counter()
        page.page.keyboard.press(str(1 + i % 3))
        if run_each:
            page.js("() => app.queuePrompt(0, 1)")          # today: answer, then Run at once
        times.append(page.js(WAIT_NEXT, panel.live_previews))
        if not run_each:
            panel.wait_progress(f"{i + 2} / ", timeout=60000)  # the real pause too (a human waits for it)
        else:
            panel.wait_buttons(timeout=60000)
        left = rng.uniform(*PACE_MS) / 1000 - (time.perf_counter() - t_key)
        if left > 0:
            time.sleep(left)
    page.js("() => fetch('/interrupt', {method: 'POST'})")
    return times


def summary(xs: list) -> dict:
    xs = sorted(xs)
    p95 = xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]
    return {"median": statistics.median(xs), "p95": p95, "min": xs[0], "max": xs[-1], "n": len(xs)}


def measure(images: int = 100, big_folder: int = 10_000, seed: int = 7) -> dict:
    rng = random.Random(seed)
    from playwright.sync_api import sync_playwright

    res: dict = {"images": images, "big_folder": big_folder}
    with ComfyServer() as srv, sync_playwright() as pw:
        t0 = time.time()
        folder = make_folder(srv, "bench_sort", images)
        big = make_folder(srv, "bench_sort_big", images, big_folder - images)
        print(f"sort flow: made {images} photos + a {big_folder}-image folder in {time.time() - t0:.0f} s",
              flush=True)
        ctx = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        try:
            page = Page(ctx.new_page(viewport={"width": 1400, "height": 900}), srv).open()
            page.js(PAGE_TIMER, SortPanel.preview)
            panel = SortPanel(page)
            c = Client(srv.url)
            build_sort_graph(page, folder, "bench_sorted_ours")
            rss = []                                      # sampled with each image on screen, from image 1
            res["ours_ms"] = summary(answer_folder(page, panel, images, False, rng,
                                                   every=lambda i: rss.append(srv.rss_mb())))
            c.reset()
            res["rss_mb"] = rss
            res["rss_before_mb"], res["rss_after_mb"] = rss[0], rss[-1]
            print(f"sort flow ours: {res['ours_ms']}", flush=True)
            build_index_graph(page, folder, "bench_sorted_today")
            res["today_ms"] = summary(answer_folder(page, panel, images, True, rng))
            c.reset()
            print(f"sort flow today: {res['today_ms']}", flush=True)
            build_sort_graph(page, big, "bench_sorted_big")
            res["ours_big_ms"] = summary(answer_folder(page, panel, images, False, rng))
            c.reset()
            print(f"sort flow ours, {big_folder} images in the folder: {res['ours_big_ms']}", flush=True)
            c.close()
            res["page_errors"] = page.real_errors()
        finally:
            ctx.close()
    res["ratio"] = res["ours_ms"]["median"] / res["today_ms"]["median"]
    res["rss_growth_mb"] = res["rss_after_mb"] - res["rss_before_mb"]
    res["rss_trend_mb"] = trend(res["rss_mb"])
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
        "", f"Next image on screen: key press routing image i → image i+1's preview decoded in the page "
            f"(headless Chromium, 1024² photo-like JPEG/PNG, one key every {PACE_MS[0]}–{PACE_MS[1]} ms).", "",
        "| flow | key → next image decoded | ratio |", "|---|---|---|",
        f"| ours: one Run, sort mode ({r['images']} images) | {f(r['ours_ms'])} | {r['ratio']:.3f}× |",
        f"| today's flow: key, then Run, one image per run | {f(r['today_ms'])} | 1 |",
        f"| ours, the folder holding {r['big_folder']:,} images | {f(r['ours_big_ms'])} | "
        f"{r['ours_big_ms']['median'] / r['today_ms']['median']:.3f}× |",
        f"| server RSS over our {r['images']} images (sampled with each image on screen) | trend "
        f"{r['rss_trend_mb']:+.1f} MB (least squares, first to last image); first → last sample "
        f"{r['rss_before_mb']:.0f} → {r['rss_after_mb']:.0f} MB ({r['rss_growth_mb']:+.1f} MB); range "
        f"{min(r['rss_mb']):.0f}–{max(r['rss_mb']):.0f}; every 10th: "
        f"{', '.join(f'{x:.0f}' for x in r['rss_mb'][::10])} | |",
    ]


def goals(r: dict) -> dict:
    return {
        "next image median ≤ 100 ms": r["ours_ms"]["median"] <= 100,
        "next image p95 ≤ 200 ms": r["ours_ms"]["p95"] <= 200,
        "next image median ≤ 100 ms with 10,000 images": r["ours_big_ms"]["median"] <= 100,
        "sort RSS growth (trend) ≤ 50 MB": r["rss_trend_mb"] <= 50,
    }


if __name__ == "__main__":
    import json
    import sys

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    big = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    out = measure(n, big)
    print(json.dumps(out, indent=1))
    print("\n".join(rows(out)))
    print(goals(out))
