"""make bench, part 2: a folder sort the way a person works, in a real browser on a real ComfyUI.

For each image set (``SETS``: 1024² photo-like JPEG, 1024² photo-like PNG, 6000×4000 camera-like JPEG
with EXIF) the example's shape of workflow (Folder Image Loader in ``sort`` mode -> Image Gate ->
Save Image To Folder per route, the savers on ``SAVER_FORMAT``) sorts 100 images with one Run in
headless Chromium. A key is pressed 250–400 ms (random, seeded) after each image APPEARS, never
waiting for the server (not for its pause, nor a save). Measured:

* key -> next image on screen, inside the page (bench/page_timer.py): median and p95;
* keys not taken (pressed while the page had nothing prepared: state "preparing"), and keys after
  which the page had to wait for a preparation;
* every image saved (the page's ``saving`` count, the sort's ``saved`` events, the output folders hold
  one file per image, byte for byte the source when the format is ``original``) and the wall time from
  the last key to the last save;
* the server's time per image, from the probe's records of the prompts (execution_start -> execution_success),
  less the time its gate waited for the key (the person), and where it went per stage (bench/sort_stats.py);
* the server's RSS with each image on screen, and its trend.

The old rows (bench/sort_flow.py: waiting for the server's pause before each key, today's flow with a
Run per image, a folder of 10,000 images) are measured in the same run, on the same server and page.

Image sets are made once into ``bench/.cache/sort_sets/`` (deterministic), then hard-linked into the
server's input folder. The 24 MP set has ``DISTINCT_24MP`` distinct files under 100 names.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import sys
import time
import urllib.request

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
sys.path.insert(0, HERE)

import sort_stats  # noqa: E402
from page_timer import PageTimer  # noqa: E402

from harness.comfy import Client, ComfyServer  # noqa: E402
from harness.fixtures import CHROMIUM_ARGS, Page, chromium_path  # noqa: E402
from harness.ui import SortPanel, build_sort_graph  # noqa: E402

SAVER_FORMAT = "original"     # the savers' format; "png" when this ComfyUI's Save Image To Folder lacks it
FALLBACK_FORMAT = "png"
PACE_MS = (250, 400)          # from the image appearing to the key
DISTINCT_24MP = 10
CACHE = os.path.join(HERE, ".cache", "sort_sets")
SETS = {
    "jpg1024": {"label": "1024² photo-like JPEG", "w": 1024, "h": 1024, "ext": "jpg", "distinct": None},
    "png1024": {"label": "1024² photo-like PNG", "w": 1024, "h": 1024, "ext": "png", "distinct": None},
    "jpg24mp": {"label": "6000×4000 camera-like JPEG (24 MP, EXIF)", "w": 6000, "h": 4000, "ext": "jpg",
                "distinct": DISTINCT_24MP},
}
GENERATOR = 1                 # bump when the pictures change: the cache is rebuilt
GOAL_NEXT_MEDIAN_MS, GOAL_NEXT_P95_MS, GOAL_SERVER_1024_MS = 100, 200, 60


# ---- the pictures ------------------------------------------------------------------------

def photo_like(w: int, h: int, seed: int, noise: float) -> Image.Image:
    """Smooth colour gradients, mid-frequency texture, a few soft shapes and sensor noise (it compresses
    like a photo, unlike pure noise)."""
    rng = np.random.default_rng(seed)
    low = Image.fromarray(rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)).resize((w, h), Image.BICUBIC)
    arr = np.asarray(low, dtype=np.float32).copy()
    tex = Image.fromarray(rng.integers(0, 256, (max(8, h // 16), max(8, w // 16)), dtype=np.uint8))
    arr += (np.asarray(tex.resize((w, h), Image.BICUBIC), dtype=np.float32)[..., None] - 128.0) * 0.25
    for _ in range(6):
        cx, cy = int(rng.integers(0, w)), int(rng.integers(0, h))
        r = int(rng.integers(min(w, h) // 16, min(w, h) // 4))
        y0, y1, x0, x1 = max(0, cy - r), min(h, cy + r), max(0, cx - r), min(w, cx + r)
        yy, xx = np.ogrid[y0:y1, x0:x1]
        arr[y0:y1, x0:x1][(xx - cx) ** 2 + (yy - cy) ** 2 < r * r] += rng.integers(-60, 60, 3).astype(np.float32)
    arr += rng.standard_normal(arr.shape, dtype=np.float32) * noise
    return Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8))


def camera_exif(i: int) -> bytes:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "BenchCam", "BC-24", 1          # Make, Model, Orientation
    exif[0x0131], exif[0x0132] = "dataset-gates bench", f"2026:11:28 10:{i // 60 % 60:02d}:{i % 60:02d}"
    sub = exif.get_ifd(0x8769)                                                    # the Exif IFD
    sub[0x829A], sub[0x829D], sub[0x8827] = (1, 250), (56, 10), 200              # exposure, f-number, ISO
    sub[0x9003], sub[0x920A] = exif[0x0132], (35, 1)                             # DateTimeOriginal, focal length
    sub[0xA002], sub[0xA003] = 6000, 4000
    return exif.tobytes()


def make_set(name: str, count: int) -> str:
    """The cached folder of set ``name`` with at least ``count`` distinct pictures (or its ``distinct``)."""
    spec = SETS[name]
    d = os.path.join(CACHE, f"{name}-g{GENERATOR}")
    want = spec["distinct"] or count
    os.makedirs(d, exist_ok=True)
    have = sorted(f for f in os.listdir(d) if f.startswith("src_") and not f.endswith(".part"))
    t0 = time.time()
    for i in range(len(have), want):
        im = photo_like(spec["w"], spec["h"], seed=1000 * GENERATOR + i, noise=4.0 if spec["w"] > 2048 else 6.0)
        path = os.path.join(d, f"src_{i:04d}.{spec['ext']}")
        if spec["ext"] == "png":
            im.save(path + ".part", "PNG", compress_level=6)
        elif spec["w"] > 2048:
            im.save(path + ".part", "JPEG", quality=95, exif=camera_exif(i))
        else:
            im.save(path + ".part", "JPEG", quality=90)
        os.replace(path + ".part", path)
    if want > len(have):
        print(f"sort bench: made {want - len(have)} {spec['label']} pictures in {time.time() - t0:.0f} s "
              f"(cached in {d})", flush=True)
    return d


def lay_out(srv: ComfyServer, name: str, count: int) -> str:
    """``count`` images of set ``name`` in the server's input folder (hard links to the cache); the folder name."""
    src = make_set(name, count)
    pics = sorted(f for f in os.listdir(src) if f.startswith("src_") and not f.endswith(".part"))
    folder = f"pace_{name}"
    dest = srv.folder(f"input/{folder}")
    os.makedirs(dest, exist_ok=True)
    for i in range(count):
        a, b = os.path.join(src, pics[i % len(pics)]), os.path.join(dest, f"img_{i:04d}.{SETS[name]['ext']}")
        try:
            os.link(a, b)
        except OSError:
            shutil.copyfile(a, b)
    return folder


# ---- one sort at a person's pace -------------------------------------------------------------

def saver_formats(c: Client) -> list:
    info = c.get("/object_info/SaveImageToFolder")[1]
    return list(info["SaveImageToFolder"]["input"]["required"]["format"][0])


def set_saver_format(page, fmt: str):
    page.js("""(fmt) => { for (const n of app.graph._nodes.filter(n => n.type === 'SaveImageToFolder')) {
      const w = n.widgets.find(w => w.name === 'format'); w.value = fmt; w.callback?.(fmt); } }""", fmt)


def node_types(page) -> dict:
    return page.js("() => Object.fromEntries(app.graph._nodes.map(n => [String(n.id), n.type]))")


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_outputs(srv: ComfyServer, folder: str, out: str, fmt: str) -> dict:
    """Image files in the route folders; with ``original``, how many equal their source byte for byte."""
    src_dir, out_dir = srv.folder(f"input/{folder}"), srv.folder(f"output/{out}")
    sources = {os.path.splitext(f)[0]: os.path.join(src_dir, f) for f in os.listdir(src_dir)}
    saved = []
    for root, _, names in os.walk(out_dir):
        saved += [os.path.join(root, n) for n in names
                  if n.lower().endswith((".png", ".jpg", ".jpeg", ".webp")) and not n.startswith(".")]
    same = None
    if fmt == "original":
        same = sum(1 for p in saved if os.path.splitext(os.path.basename(p))[0] in sources
                   and sha256(p) == sha256(sources[os.path.splitext(os.path.basename(p))[0]]))
    stems = {os.path.splitext(os.path.basename(p))[0] for p in saved}
    return {"files": len(saved), "distinct_stems": len(stems), "identical_to_source": same}


def stage_costs(path: str, reps: int = 3) -> dict:
    """What each step costs alone on one picture (ms, median of ``reps``), in this process, done the way
    the pack does it: the page's preview (``small_image`` + JPEG), the full decode (the loader's
    ``decode_compact``), its float32 expansion, a PNG encode (the saver on ``png``), a byte copy."""
    import io
    import statistics
    import tempfile

    repo = os.path.dirname(HERE)
    if repo not in sys.path:
        sys.path.insert(0, repo)
    from gates.comfy import sort_session
    from gates.core import imaging
    from gates.nodes import loader, saver

    def timed(f):
        xs = []
        for _ in range(reps):
            t0 = time.perf_counter()
            f()
            xs.append((time.perf_counter() - t0) * 1e3)
        return statistics.median(xs)

    def preview():
        small, _ = sort_session.small_image(path, sort_session.PREVIEW_SIDE)
        small.save(io.BytesIO(), "JPEG", quality=imaging.PREVIEW_QUALITY)

    def decode():
        with Image.open(path) as im:
            im.load()
            return loader.decode_compact(im)

    arrays = decode()
    rgb = (np.clip(loader.expand_arrays(*arrays)[0], 0, 1) * 255).astype(np.uint8)
    with tempfile.TemporaryDirectory() as tmp:
        copy = timed(lambda: shutil.copyfile(path, os.path.join(tmp, "copy")))
    return {"preview": timed(preview), "decode": timed(decode),
            "to_float": timed(lambda: loader.expand_arrays(*arrays)),
            "png_encode": timed(lambda: saver.encode(rgb, "png")), "copy": copy,
            "bytes": os.path.getsize(path)}


PROBE = os.path.join(HERE, "stage_probe")   # bench-only extension: server-side timestamps


def probe_events(url: str, since: int = 0) -> tuple[list, int]:
    with urllib.request.urlopen(f"{url}/dg_bench_probe/events?since={since}", timeout=30) as r:
        data = json.loads(r.read())
    return data["events"], data["next"]


def thread_costs(events: list, images: int) -> dict:
    """What the pack's heavier steps cost, from the probe's records: previews and decodes by where they
    ran, and per image in total (ms) the SHA-1 digests, copies, log appends and fsyncs (with counts)."""
    def pick(kind, prefix=None, other=False):
        return sort_stats.summary([e["ms"] for e in events if e["type"] == kind and (
            (prefix is None) or (e.get("thread", "").startswith(prefix) != other))])

    out = {"preview": pick("probe:small_image", "dataset-gates-previews"),
           "strip_thumb": pick("probe:small_image", "dataset-gates-previews", other=True),
           "decode_ahead": pick("probe:decode", "dataset-gates-decode"),
           "decode_in_prompt": pick("probe:decode", "dataset-gates-decode", other=True)}
    for label in ("digest", "copy_exact", "log_record", "fsync", "queue_prompt"):
        xs = [e["ms"] for e in events if e["type"] == f"probe:{label}"]
        out[label] = {"calls_per_image": len(xs) / max(1, images), "ms_per_image": sum(xs) / max(1, images),
                      "median": sort_stats.summary(xs)["median"] if xs else None}
    return out


def paced_sort(srv: ComfyServer, page, timer: PageTimer, name: str, images: int, fmt: str,
               rng: random.Random) -> dict:
    """Sort set ``name`` (``images`` of it) with one Run, a key 250–400 ms after each image appears."""
    folder = lay_out(srv, name, images)
    if hasattr(os, "sync"):       # the set's files (and any earlier row's) on disk first: a curator's folder
        os.sync()                 # was written long before, and its writeback is not the sort's cost
    out = f"sorted_{name}"
    load_start = os.getloadavg()[0]
    timer.reset()
    _, mark = probe_events(srv.url, 10**9)
    build_sort_graph(page, folder, out)
    set_saver_format(page, fmt)
    types = node_types(page)
    page.page.mouse.click(5, 450)                       # the canvas has focus: keys go to the page
    page.js("() => app.queuePrompt(0, 1)")
    rss, t_run = [], time.time()
    for i in range(images):
        shown = timer.wait_shown(i + 1, timeout_ms=180000)
        rss.append(srv.rss_mb())                         # image i+1 on screen, the same moment each time
        pace = rng.uniform(*PACE_MS)
        left = pace - (timer.now() - shown["t"])
        if left > 0:
            time.sleep(left / 1000)
        page.page.keyboard.press(str(rng.randint(1, 3)))
    t_keys = time.time()
    timeout_ms = int(max(120, 30 * images if SETS[name]["w"] > 2048 else 5 * images) * 1000)
    timer.wait_saved(images, timeout_ms)
    panel = SortPanel(page)
    saving_zero = True
    try:                                                 # the page's own count of decisions not yet saved
        page.page.wait_for_function("() => document.querySelector('.dsg-panel[data-sort-saving]')"
                                    "?.dataset.sortSaving === '0'", timeout=5000)
    except Exception:  # noqa: BLE001 - Playwright's TimeoutError: reported, not fatal
        saving_zero = False
    saving_attr = page.js("() => { const r = document.querySelector('.dsg-panel[data-sort-saving]');"
                          " return r ? [r.dataset.sortSaving, r.dataset.sortState] : null; }")
    del panel
    data = timer.data()
    outputs = check_outputs(srv, folder, out, fmt)
    server_events, _ = probe_events(srv.url, mark)
    started = [e["prompt_id"] for e in server_events if e["type"] == "execution_start"]
    waits = sort_stats.pause_waits(server_events)
    execs = sort_stats.exec_ms_by_prompt(server_events)
    server_own = [execs[p] - waits.get(p, 0.0) for p in started if execs.get(p) is not None]
    stages = sort_stats.prompt_stages(server_events, types)
    saved_t = [e["t"] for e in data["events"] if e["type"] == "datasete-gate-sort" and e.get("state") == "saved"
               and e.get("session") == data["session"]]
    last_key = data["keys"][-1]["epoch"] if data["keys"] else None
    next_ms = [s["ms"] for s in data["shown"] if s["ms"] is not None]
    res = {
        "set": name, "label": SETS[name]["label"], "images": images, "format": fmt,
        "distinct_pictures": SETS[name]["distinct"] or images,
        "next_ms": sort_stats.summary(next_ms),
        "pace_ms": sort_stats.summary([k["sinceShown"] for k in data["keys"] if k["sinceShown"] is not None]),
        "keys": len(data["keys"]), "not_taken": data["notTaken"],
        "waited_for_preparation": sum(1 for s in data["shown"] if s.get("waitedForPreparation")),
        "waited_at": [i + 1 for i, s in enumerate(data["shown"]) if s.get("waitedForPreparation")],
        "ahead_at_key": sort_stats.summary([k["aheadLeft"] for k in data["keys"] if k.get("aheadLeft") is not None]),
        "saved_events": len(saved_t), "saving_zero": saving_zero, "saving_attr": saving_attr, "outputs": outputs,
        "last_key_to_all_saved_ms": (max(saved_t) - last_key) if saved_t and last_key else None,
        "keys_s": t_keys - t_run, "prompts": len(started),
        "server_exec_ms": sort_stats.summary([v for v in execs.values() if v is not None]),
        "server_own_ms": sort_stats.summary(server_own),
        "stages_ms": sort_stats.stage_medians(stages),
        "threads_ms": thread_costs(server_events, images),
        "next_ms_all": [round(x, 1) for x in next_ms],
        "per_prompt": [{"exec": execs.get(st["prompt_id"]), **{k: (None if v is None else round(v, 1))
                        for k, v in st.items() if k != "prompt_id"}} for st in stages],
        "rss_mb": rss, "rss_trend_mb": trend(rss), "load": [load_start, os.getloadavg()[0]],
        "costs_ms": stage_costs(os.path.join(srv.folder(f"input/{folder}"), sorted(os.listdir(
            srv.folder(f"input/{folder}")))[0])),
    }
    print(f"sort at a person's pace, {res['label']} ({fmt}): next image {fmt_ms(res['next_ms'])}; "
          f"not taken {res['not_taken']}; waited at keys {res['waited_at']}; "
          f"server {fmt_ms(res['server_own_ms'])} per image; "
          f"saved {outputs['files']}/{images} files ({res['saved_events']} logged), "
          f"last key → all saved {res['last_key_to_all_saved_ms'] or 0:.0f} ms; stages {res['stages_ms']}",
          flush=True)
    return res


def trend(samples: list) -> float:
    import sort_flow

    return sort_flow.trend(samples)


def med(s) -> str:
    return "—" if not s else f"{s['median']:.0f}"


def fmt_ms(s) -> str:
    if not s:
        return "—"
    return f"{s['median']:.1f} ms (p95 {s['p95']:.1f}, n = {s['n']})"


# ---- everything in one run ------------------------------------------------------------------

def measure(images: int = 100, sets=tuple(SETS), legacy: bool = True, big_folder: int = 10_000,
            seed: int = 7) -> dict:
    """The paced sets, then (``legacy``) the old rows of bench/sort_flow.py, on one server and one page."""
    import sort_flow
    from playwright.sync_api import sync_playwright

    rng = random.Random(seed)
    res: dict = {"images": images, "pace_ms": list(PACE_MS), "sets": {}, "load_start": os.getloadavg()[0]}
    with ComfyServer(extra_nodes=[PROBE]) as srv, sync_playwright() as pw:
        c = Client(srv.url)
        formats = saver_formats(c)
        fmt = SAVER_FORMAT if SAVER_FORMAT in formats else FALLBACK_FORMAT
        res["format"], res["format_wanted"], res["formats_offered"] = fmt, SAVER_FORMAT, formats
        if fmt != SAVER_FORMAT:
            print(f"sort bench: Save Image To Folder has no format {SAVER_FORMAT!r} here ({formats}): "
                  f"the savers use {fmt!r}", flush=True)
        browser = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        try:
            raw = browser.new_page(viewport={"width": 1400, "height": 900})
            PageTimer.install(raw)
            page = Page(raw, srv).open()
            timer = PageTimer(page)
            timer.hook()
            for name in sets:
                res["sets"][name] = paced_sort(srv, page, timer, name, images, fmt, rng)
                c.reset()
            if legacy:
                res["legacy"] = sort_flow.measure_on(srv, page, timer, c, images, big_folder, rng)
            res["page_errors"] = page.real_errors()
            res["load_end"] = os.getloadavg()[0]
        finally:
            c.close()
            browser.close()
    return res


def rows(r: dict) -> list:
    out = paced_rows(r) if r["sets"] else []
    if r.get("legacy"):
        import sort_flow

        out += sort_flow.rows(r["legacy"])
    return out


def paced_rows(r: dict) -> list:
    fmt = r["format"]
    want = r["format_wanted"]
    note = "" if fmt == want else (f" **The savers write `{fmt}`, not `{want}`: this ComfyUI's Save Image To "
                                   f"Folder does not offer `{want}` yet (`SAVER_FORMAT` in bench/sort_pace.py).**")
    out = ["", f"A folder sort the way a person works (bench/sort_pace.py): headless Chromium, {r['images']} images "
               f"per set, one Run, a key {r['pace_ms'][0]}–{r['pace_ms'][1]} ms (random, seeded) after each image "
               f"appears, never waiting for the server; savers on `{fmt}`.{note} *Next image on screen*: timed "
               "in the page, from the key (a capture listener) to the first frame after the next picture is "
               "swapped in and decoded. *Keys not taken*: pressed while the page had nothing prepared. "
               "*Server per image*: execution_start → execution_success (the server's messages), less the time "
               "its gate waited for the key (the person). *Load*: the 1-minute load average of the machine at the "
               "start and the end of the set (2 cores; other jobs may share them).", "",
           "| set | key → next image on screen | key after the image appeared | keys not taken | server per image "
           "| saved | last key → all saved | load |", "|---|---|---|---|---|---|---|---|"]
    for s in r["sets"].values():
        o = s["outputs"]
        same = "" if o["identical_to_source"] is None else f", {o['identical_to_source']} byte-identical to the source"
        page_count = ("the page's saving count says 0" if s["saving_zero"] else
                      f"the page's saving count stays at {s['saving_attr'][0] if s['saving_attr'] else '?'}")
        distinct = "" if s["distinct_pictures"] == s["images"] else f" ({s['distinct_pictures']} distinct pictures)"
        ex = s["server_exec_ms"]
        with_wait = "" if ex is None else f" (with the wait: median {ex['median']:.0f} ms)"
        p = s["pace_ms"]
        pace = f"{p['median']:.0f} ms (p95 {p['p95']:.0f}, {p['min']:.0f}–{p['max']:.0f})" if p else "—"
        out.append(f"| {s['label']}{distinct} | {fmt_ms(s['next_ms'])} | {pace} | {s['not_taken']} of {s['keys']} "
                   f"({s['waited_for_preparation']} keys waited for a preparation) | {fmt_ms(s['server_own_ms'])}"
                   f"{with_wait} | "
                   f"{o['files']}/{s['images']} files{same}; {page_count} | "
                   f"{(s['last_key_to_all_saved_ms'] or 0) / 1000:.1f} s | {s['load'][0]:.1f} → {s['load'][1]:.1f} |")
    out += ["", "Where the server's time goes (medians, ms; server-side timestamps from bench/stage_probe): per "
                "prompt setup → loader → gate (less the wait) → saver, and the gap to the next prompt; of which "
                "per image, in total: the gate queueing the next prompt, format original's SHA-1 digests, its "
                "copy, the decision log's append, the fsyncs (all of them, whatever thread); per image "
                "on the pack's own threads: the page's preview (draft decode + resize), the strip's thumbnail "
                "of each decision (made by the server from the source file, on its request threads) and the "
                "decode ahead, and how many images the loader had to decode itself; prepared images beyond the "
                "one on screen "
                "at each key. Then each step alone on one picture (bench process, server idle): preview, full "
                "decode, to float32, PNG encode, byte copy.", "",
            "| set | prompt stages | of which, per image (calls) | preview thread | strip thumbnail | decode ahead "
            "(in the prompt) | prepared ahead at a key (median, min) | steps alone |", "|---" * 8 + "|"]
    for s in r["sets"].values():
        st, th, k, a = s["stages_ms"], s["threads_ms"], s["costs_ms"], s["ahead_at_key"]
        stages = ", ".join(f"{n} {st[n]:.0f}" for n in ("setup", "loader", "gate", "saver", "gap") if n in st)
        in_prompt = th["decode_in_prompt"]["n"] if th["decode_in_prompt"] else 0
        ahead = "—" if not a else f"{a['median']:.0f}, {a['min']:.0f}"
        steps = "; ".join(f"{name} {th[key]['ms_per_image']:.0f} ({th[key]['calls_per_image']:.1f}×)"
                          for key, name in (("queue_prompt", "queueing the next prompt"), ("digest", "SHA-1"),
                                            ("copy_exact", "copy"), ("log_record", "log"), ("fsync", "fsync"))
                          if th[key]["calls_per_image"])
        out.append(f"| {s['label']} | {stages} | {steps or '—'} | {med(th['preview'])} | {med(th['strip_thumb'])} | "
                   f"{med(th['decode_ahead'])} "
                   f"({in_prompt} of {s['images']} decoded in the prompt) | {ahead} | "
                   f"{k['bytes'] / 1e6:.1f} MB: preview {k['preview']:.0f}, decode {k['decode']:.0f}, to float "
                   f"{k['to_float']:.0f}, PNG {k['png_encode']:.0f}, copy {k['copy']:.1f} |")
    first = next(iter(r["sets"].values()), None)
    if first:
        out += ["", "Server RSS, sampled with each image on screen: " + "; ".join(
            f"{s['label']} trend {s['rss_trend_mb']:+.1f} MB (least squares, first to last image), range "
            f"{min(s['rss_mb']):.0f}–{max(s['rss_mb']):.0f} MB" for s in r["sets"].values()) + "."]
    return out


def goals(r: dict) -> dict:
    out = {}
    for name, s in r["sets"].items():
        out[f"next image median ≤ {GOAL_NEXT_MEDIAN_MS} ms ({s['label']})"] = \
            s["next_ms"] is not None and s["next_ms"]["median"] <= GOAL_NEXT_MEDIAN_MS
        out[f"next image p95 ≤ {GOAL_NEXT_P95_MS} ms ({s['label']})"] = \
            s["next_ms"] is not None and s["next_ms"]["p95"] <= GOAL_NEXT_P95_MS
        out[f"no key lost ({s['label']})"] = s["not_taken"] == 0
        ok = s["outputs"]["files"] == s["images"] and s["saved_events"] == s["images"]
        if s["format"] == "original":
            ok = ok and s["outputs"]["identical_to_source"] == s["images"]
        out[f"every image saved ({s['label']})"] = ok
        if SETS[name]["w"] == 1024:
            out[f"server per image ≤ {GOAL_SERVER_1024_MS} ms ({s['label']})"] = \
                s["server_own_ms"] is not None and s["server_own_ms"]["median"] <= GOAL_SERVER_1024_MS
    if "jpg1024" in r["sets"]:
        out["sort RSS growth (trend) ≤ 50 MB"] = r["sets"]["jpg1024"]["rss_trend_mb"] <= 50
    if r.get("legacy"):
        import sort_flow

        out.update(sort_flow.goals(r["legacy"]))
    return out


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    chosen = sys.argv[2].split(",") if len(sys.argv) > 2 else list(SETS)
    result = measure(n, chosen, legacy=False)
    with open(os.path.join("/tmp", "sort_pace.json"), "w") as f:
        json.dump(result, f, indent=1)
    print("\n".join(rows(result)))
    print(goals(result))
