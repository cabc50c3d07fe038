"""Benchmark this pack's Image Gate against the plan's design, in one run, on a real ComfyUI.

    .venv/bin/python bench/run.py [--n 5] [--sizes 512,1024,2048,4096] [--readme]

One server loads both packs (this one and ``bench/baseline_plan_gate``). For each
noise image size it measures, n times after a warm-up run:

* preview: the gate's ``executing`` event -> its show event arrives -> the preview
  is in hand (ours: GET of the preview file; the plan's: base64-decoding the PNG
  that came inside the message), plus the show message's size;
* resume: POST choice -> the downstream node's ``executing`` event;
* cancel: POST /interrupt while paused -> ``execution_interrupted`` (bounded at 20 s;
  "never" when it does not end; the plan's gate is then released with its own
  ``__cancel__``). The plan's gate is timed at one size only (``--baseline-cancel-size``):
  each "never" costs the full 20 s.

Cross-check of the client: at the largest size, the plan's show time is compared with what
it should cost on this machine: its server-side work (PNG-encode, base64, JSON of the same
image, timed here) plus the message size divided by the loopback throughput measured in the
same run (an HTTP download of a file of that size from the same server). A client that
spends its own time on big frames (websocket-client's pure-Python UTF-8 check took seconds
at 4096²) shows up as a ratio far above 1; the goal is within 2×.

For this pack only: the sort loop's per-image overhead (Folder Image Loader ->
gate -> saver answered at once, against Folder Image Loader -> saver), and the
server's RSS and temp-folder size before and after 200 gated runs.

Then, on a server of its own, a folder sort in a real browser at a person's pace (bench/sort_pace.py:
key -> next image on screen, keys not taken, every image saved, the server's time per image) for
three image sets, and the older sort rows (bench/sort_flow.py). ``--sort-only`` runs just those:

    .venv/bin/python bench/run.py --sort-only --sort-images 10 --sort-sets jpg1024 --sort-legacy off

Last, the quality signals of 10,000 1024² JPEGs, first pass and second pass (bench/quality_signals.py;
no server). ``--quality-only`` runs just those:

    .venv/bin/python bench/run.py --quality-only --quality-images 10000

And, on a server of its own, captions as tags at 10,000 captions (bench/caption_tags.py): the caption
box's autocomplete over HTTP as the page asks (goal: median <= 50 ms) and Caption Batch Edit rewriting
every caption (goal <= 5 s). ``--tags-only`` runs just those rows (printed, nothing written).

Writes ``bench/results/<date>.json`` and ``bench/results/<date>.md`` and prints the table.
With ``--readme`` the README's performance section is replaced by that table.
"""
from __future__ import annotations

import argparse
import base64
import datetime as dt
import http.client
import io
import json
import os
import platform
import statistics
import sys
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
sys.path.insert(0, HERE)                   # sort_pace & co, also when this file is imported (tests/unit)

import caption_tags  # noqa: E402  (bench/caption_tags.py: autocomplete and Caption Batch Edit at 10,000 captions)
import chooser_batch  # noqa: E402  (bench/chooser_batch.py: the Image Chooser Gate on 16 and 64 images)
import dup_grouping  # noqa: E402  (bench/dup_grouping.py: the Duplicate Review's grouping of 10,000 images)
import quality_signals  # noqa: E402  (bench/quality_signals.py: quality signals of 10,000 images)
import sort_pace  # noqa: E402  (bench/sort_pace.py: a folder sort at a person's pace, in a real browser)

from harness.comfy import REPO, Client, ComfyServer, comfy_dir  # noqa: E402
from harness.graphs import noise_image  # noqa: E402

BASELINE = os.path.join(HERE, "baseline_plan_gate")
CANCEL_BOUND = 20.0
GATE = "2"


class Design:
    """How to drive one gate design: its node class, show event and answer route."""

    def __init__(self, name, cls, event, choice_path, form):
        self.name, self.cls, self.event, self.choice_path, self.form = name, cls, event, choice_path, form

    def graph(self, image):
        # LoadImage -> gate -> route k -> ImageScale(16x16) -> SaveImage: a cheap downstream (16x16 PNGs in
        # output/bench_sink), so resume measures the hand-over, not the saving of a big image.
        g = {"1": {"class_type": "LoadImage", "inputs": {"image": image}},
             GATE: {"class_type": self.cls, "inputs": {"image": ["1", 0], "routes": 2}}}
        if self.cls == "ImageGate":
            g[GATE]["inputs"].update(labels="", timeout_seconds=0, on_timeout="stop")
        for k in (1, 2):
            g[f"1{k}"] = {"class_type": "ImageScale", "inputs": {"image": [GATE, k], "upscale_method": "nearest-exact",
                                                                  "width": 16, "height": 16, "crop": "disabled"}}
            g[f"2{k}"] = {"class_type": "SaveImage", "inputs": {"images": [f"1{k}", 0],
                                                                "filename_prefix": f"bench_sink/route{k}"}}
        return g

    def answer(self, c: Client, show: dict, message) -> int:
        """POST the choice on a kept-alive connection, as a browser tab would; return the status."""
        if self.form:   # the plan's route reads request.post(): a form body, no token
            body = urllib.parse.urlencode({"id": show["id"], "message": message}).encode()
            ctype = "application/x-www-form-urlencoded"
        else:
            body = json.dumps({"id": show["id"], "token": show["token"], "message": message}).encode()
            ctype = "application/json"
        conn = keepalive(c)
        conn.request("POST", self.choice_path, body=body, headers={"Content-Type": ctype})
        r = conn.getresponse()
        r.read()
        return r.status

    def fetch_preview(self, c: Client, show: dict) -> int:
        """Bytes of the preview in hand, as a page would get them."""
        if self.form:
            return len(base64.b64decode(show["image"]))
        ref = show["previews"][0]
        q = urllib.parse.urlencode({k: ref[k] for k in ("filename", "subfolder", "type")})
        with urllib.request.urlopen(f"{c.url}/view?{q}", timeout=30) as r:
            return len(r.read())


_conns: dict = {}


def keepalive(c: Client) -> http.client.HTTPConnection:
    if c.url not in _conns:
        u = urllib.parse.urlsplit(c.url)
        _conns[c.url] = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    return _conns[c.url]


OURS = Design("ours", "ImageGate", "datasete-gate-show", "/datasete_gate/choice", form=False)
PLAN = Design("plan", "BaselineImageGate", "baseline-gate-show", "/baseline_gate/choice", form=True)


def pause(c: Client, d: Design, image):
    """Queue one gated run; return (prompt_id, mark, executing event, show event)."""
    m = c.mark()
    pid = c.queue(d.graph(image))
    ex = c.wait_for(lambda e: e.get("type") == "executing" and (e.get("data") or {}).get("node") == GATE
                    and e["data"].get("prompt_id") == pid, 120, m)
    show = c.wait_for(lambda e: e.get("type") == d.event, 120, m)
    return pid, m, ex, show


def forget(c: Client, ev):
    """Drop the plan's base64 image from the client's event log once measured (it can be 67 MB)."""
    if isinstance(ev.get("data"), dict) and "image" in ev["data"]:
        ev["data"]["image"] = ""


def run_once(c: Client, d: Design, image) -> dict:
    pid, m, ex, show_ev = pause(c, d, image)
    t_fetch0 = time.perf_counter()
    nbytes = d.fetch_preview(c, show_ev["data"])
    t_fetched = time.perf_counter()
    r = {"show_ms": (show_ev["_t"] - ex["_t"]) * 1e3, "fetch_ms": (t_fetched - t_fetch0) * 1e3,
         "preview_ms": (t_fetched - ex["_t"]) * 1e3, "message_bytes": show_ev["_size"], "preview_bytes": nbytes}
    forget(c, show_ev)
    m2 = c.mark()
    t0 = time.perf_counter()
    status = d.answer(c, show_ev["data"], "1")
    assert status == 200, f"{d.name}: choice answered {status}"
    down = c.wait_for(lambda e: e.get("type") == "executing" and (e.get("data") or {}).get("node") == "11", 60, m2)
    r["resume_ms"] = (down["_t"] - t0) * 1e3
    end = c.wait_end(pid, 120, m)
    assert end["type"] == "execution_success", f"{d.name}: run ended with {end['type']}"
    return r


def cancel_once(c: Client, d: Design, image):
    pid, m, ex, show_ev = pause(c, d, image)
    forget(c, show_ev)
    m2 = c.mark()
    t0 = time.perf_counter()
    c.post("/interrupt", {})
    try:
        ev = c.wait_for(lambda e: e.get("type") == "execution_interrupted"
                        and (e.get("data") or {}).get("prompt_id") == pid, CANCEL_BOUND, m2)
        ms = (ev["_t"] - t0) * 1e3
    except TimeoutError:
        ms = None
        d.answer(c, show_ev["data"], "__cancel__")     # release the plan's gate its own way
    c.wait_end(pid, 60, m)
    return ms


def loopback_throughput(srv: ComfyServer, c: Client, nbytes: int, tries: int = 3) -> dict:
    """Best of ``tries`` HTTP downloads of an ``nbytes`` file from the same server over 127.0.0.1."""
    name = "bench_loopback.bin"
    with open(srv.folder(f"input/{name}"), "wb") as f:
        f.write(os.urandom(nbytes))
    times = []
    for _ in range(tries):
        t0 = time.perf_counter()
        with urllib.request.urlopen(f"{c.url}/view?filename={name}&type=input", timeout=60) as r:
            got = len(r.read())
        times.append(time.perf_counter() - t0)
        assert got == nbytes, f"loopback download returned {got} of {nbytes} bytes"
    os.remove(srv.folder(f"input/{name}"))
    best = min(times)
    return {"bytes": nbytes, "seconds": best, "mb_per_s": nbytes / best / 1e6}


def plan_server_work_ms(srv: ComfyServer, image: str) -> float:
    """The plan's show work before the first byte leaves, done here on the same pixels: float image ->
    uint8, PNG-encode, base64, JSON (ComfyUI's send_sync serializes the message with json.dumps)."""
    import numpy as np
    from PIL import Image

    arr = np.asarray(Image.open(srv.folder(f"input/{image}")).convert("RGB"), dtype=np.float32)[None] / 255.0
    t0 = time.perf_counter()
    u8 = (arr[0] * 255.0).clip(0, 255).astype("uint8")
    buf = io.BytesIO()
    Image.fromarray(u8).save(buf, "PNG")
    msg = json.dumps({"type": PLAN.event, "data": {"id": GATE, "image": base64.b64encode(buf.getvalue()).decode(),
                                                   "routes": 2}})
    ms = (time.perf_counter() - t0) * 1e3
    del msg
    return ms


def cross_check(res: dict, size: str, loop: dict, work_ms: float) -> dict:
    plan = res["sizes"][size]["plan"]
    transfer_ms = plan["message_bytes"]["median"] / (loop["mb_per_s"] * 1e6) * 1e3
    expected = work_ms + transfer_ms
    return {"size": size, "message_bytes": plan["message_bytes"]["median"], "loopback_mb_per_s": loop["mb_per_s"],
            "transfer_ms": transfer_ms, "server_work_ms": work_ms, "expected_show_ms": expected,
            "plan_show_ms": plan["show_ms"]["median"], "ratio": plan["show_ms"]["median"] / expected}


def stats(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return None
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "n": len(xs)}


def folder_bytes(path) -> tuple[int, int]:
    total = n = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
                n += 1
            except OSError:
                pass
    return total, n


def loop_overhead(srv: ComfyServer, c: Client, count: int) -> dict:
    """Per-image wall time of loader -> gate -> saver (answered at once) vs loader -> saver."""
    folder = srv.folder("input/bench_loop")
    os.makedirs(folder, exist_ok=True)
    for i in range(count):
        noise_image(folder, 1024, 1024, f"img_{i:03d}.png", seed=i)

    def graph(i, gated, out):
        g = {"1": {"class_type": "FolderImageLoader", "inputs": {"folder": "bench_loop", "index": i, "depth": 0}}}
        src = ["1", 0]
        if gated:
            g[GATE] = {"class_type": "ImageGate", "inputs": {"image": src, "routes": 2, "labels": "keep, reject",
                                                            "timeout_seconds": 0, "on_timeout": "stop"}}
            src = [GATE, 1]
        g["3"] = {"class_type": "SaveImageToFolder", "inputs": {
            "image": src, "folder": out, "filename": ["1", 3], "format": "png", "on_conflict": "overwrite",
            "save_empty_mask": False, "caption": ["1", 1]}}
        return g

    times = {"gated": [], "plain": []}
    for i in range(count):
        for kind in ("plain", "gated"):      # interleaved, so drift hits both alike
            m = c.mark()
            t0 = time.perf_counter()
            pid = c.queue(graph(i, kind == "gated", f"bench_{kind}"))
            if kind == "gated":
                show = c.wait_gate(GATE, 60, m)
                c.choose(show, 1)
            end = c.wait_end(pid, 120, m)
            assert end["type"] == "execution_success", end
            times[kind].append((end["_t"] - t0) * 1e3)
    saved = len([f for f in os.listdir(srv.folder("output/bench_gated")) if f.endswith(".png")])
    assert saved == count, f"the gated loop saved {saved} of {count} images"
    g, p = stats(times["gated"]), stats(times["plain"])
    return {"images": count, "gated_ms": g, "plain_ms": p,
            "overhead_ms": g["median"] - p["median"]}


def soak_resources(srv: ComfyServer, c: Client, image, runs: int) -> dict:
    temp = srv.folder("temp")
    for _ in range(3):
        run_once(c, OURS, image)
    time.sleep(1.0)
    before = {"rss_mb": srv.rss_mb(), "temp": folder_bytes(temp)}
    series = [round(before["rss_mb"], 1)]
    for i in range(runs):
        run_once(c, OURS, image)
        if (i + 1) % 50 == 0:
            series.append(round(srv.rss_mb(), 1))
    time.sleep(1.0)      # the full-size PNG writer of the last pause finishes
    after = {"rss_mb": srv.rss_mb(), "temp": folder_bytes(temp)}
    gate_temp = folder_bytes(os.path.join(temp, "datasete_gate"))
    return {"runs": runs, "rss_before_mb": before["rss_mb"], "rss_after_mb": after["rss_mb"],
            "rss_growth_mb": after["rss_mb"] - before["rss_mb"], "rss_every_50_mb": series,
            "temp_before_bytes": before["temp"][0], "temp_after_bytes": after["temp"][0],
            "temp_after_files": after["temp"][1], "gate_temp_after_files": gate_temp[1]}


def machine() -> dict:
    import psutil

    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    comfy = "?"
    try:
        with open(os.path.join(comfy_dir(), "comfyui_version.py")) as f:
            comfy = f.read().split("=", 1)[1].strip().strip("\"'")
    except (OSError, IndexError):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gb": round(psutil.virtual_memory().total / 2**30),
            "load_start": os.getloadavg()[0],
            "python": platform.python_version(), "comfyui": comfy,
            "os": platform.platform()}


def fmt(s, unit="ms"):
    if s is None:
        return "never"
    return f"{s['median']:.1f} {unit} ({s['min']:.1f}–{s['max']:.1f})"


def ratio(a, b):
    if a is None:
        return "—"
    if b is None:
        return "ours ends, plan never"
    return f"{a['median'] / b['median']:.3f}×"


def table(res) -> str:
    m = res["machine"]
    lines = [f"Measured {res['date']} on {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM, "
             f"ComfyUI {m['comfyui']} `--cpu`, Python {m['python']}; 1-minute load average {m['load_start']:.1f} "
             f"at the start, {res.get('load_end', 0):.1f} at the end (other jobs may share the cores); n = {res['n']} "
             "per cell after a warm-up; median (min–max); ratio = ours / plan's.", "",
             "| size | measure | ours | plan's design | ratio |", "|---|---|---|---|---|"]
    for size, row in res["sizes"].items():
        o, p = row["ours"], row["plan"]
        for key, label in (("preview_ms", "preview: executing → preview in hand"),
                           ("show_ms", "  of which: executing → show event"),
                           ("fetch_ms", "  of which: fetch/decode the preview"),
                           ("resume_ms", "resume: POST choice → next node runs"),
                           ("cancel_ms", "Cancel → execution_interrupted")):
            if key == "cancel_ms" and p.get(key) == "not measured":
                lines.append(f"| {size}² | {label} | {fmt(o[key])} | not measured at this size | — |")
                continue
            lines.append(f"| {size}² | {label} | {fmt(o[key])} | {fmt(p[key])} | {ratio(o[key], p[key])} |")
        ob, pb = o["message_bytes"]["median"], p["message_bytes"]["median"]
        lines.append(f"| {size}² | show message size | {ob:,.0f} B | {pb:,.0f} B | {ob / pb:.6f}× |")
    x = res.get("cross_check")
    if x:
        lines += ["", f"Cross-check of the client at {x['size']}²: the plan's show message "
                      f"({x['message_bytes']:,.0f} B) over the loopback ({x['loopback_mb_per_s']:,.0f} MB/s, "
                      f"an HTTP download of that size from the same server in this run) takes "
                      f"{x['transfer_ms']:.0f} ms; its server-side work (PNG, base64, JSON of the same image, "
                      f"timed here) {x['server_work_ms']:.0f} ms; expected "
                      f"{x['expected_show_ms']:.0f} ms, measured {x['plan_show_ms']:.0f} ms: "
                      f"{x['ratio']:.2f}× (goal: within 2×, so no client-side cost inflates the plan's times)."]
    lp, so = res["loop"], res["soak"]
    lines += ["", "| this pack only | result |", "|---|---|",
              f"| sort loop, {lp['images']} images of 1024² (loader → gate → saver, answered at once) | "
              f"{fmt(lp['gated_ms'])} per image |",
              f"| same loop without the gate (loader → saver) | {fmt(lp['plain_ms'])} per image |",
              f"| gate overhead per image (difference of medians) | {lp['overhead_ms']:.1f} ms |",
              f"| server RSS over {so['runs']} gated runs | {so['rss_before_mb']:.0f} → {so['rss_after_mb']:.0f} MB "
              f"({so['rss_growth_mb']:+.1f} MB); every 50 runs: "
              f"{', '.join(f'{x:.0f}' for x in so['rss_every_50_mb'])} |",
              f"| temp folder over {so['runs']} gated runs | {so['temp_before_bytes']:,} → "
              f"{so['temp_after_bytes']:,} B; {so['gate_temp_after_files']} gate preview files left |"]
    if res.get("sort_flow"):
        lines += sort_pace.rows(res["sort_flow"])
    if res.get("chooser"):
        lines += [""] + chooser_batch.rows(res["chooser"])
    if res.get("grouping"):
        lines += [""] + dup_grouping.rows(res["grouping"])
    if res.get("quality"):
        lines += [""] + quality_signals.rows(res["quality"])
    if res.get("caption_tags"):
        lines += [""] + caption_tags.rows(res["caption_tags"])
    lines += ["", "Goals: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in res["goals"].items()) + "."]
    if res.get("wall_s"):
        lines += ["", f"Wall time of this `make bench`: {res['wall_s'] / 60:.1f} min."]
    return "\n".join(lines)


def goals(res) -> dict:
    out = {}
    for size in ("2048", "4096"):
        if size in res["sizes"]:
            o, p = res["sizes"][size]["ours"], res["sizes"][size]["plan"]
            out[f"preview ratio ≤ 0.1 at {size}²"] = o["preview_ms"]["median"] <= 0.1 * p["preview_ms"]["median"]
    rows = res["sizes"].values()
    if "2048" in res["sizes"]:
        out["resume median ≤ 10 ms at 2048²"] = res["sizes"]["2048"]["ours"]["resume_ms"]["median"] <= 10
    out["resume median ≤ 10 ms at every size"] = all(r["ours"]["resume_ms"]["median"] <= 10 for r in rows)
    out["Cancel median ≤ 250 ms"] = all(r["ours"]["cancel_ms"] and r["ours"]["cancel_ms"]["median"] <= 250
                                        for r in rows)
    out["show message ≤ 2 KB"] = all(r["ours"]["message_bytes"]["max"] <= 2048 for r in rows)
    if res.get("cross_check"):
        out["plan's show within 2× of its server work + size / loopback throughput"] = \
            0.5 <= res["cross_check"]["ratio"] <= 2.0
    out["RSS growth ≤ 50 MB"] = res["soak"]["rss_growth_mb"] <= 50
    out["no gate temp files left"] = res["soak"]["gate_temp_after_files"] == 0
    if res.get("sort_flow"):
        out.update(sort_pace.goals(res["sort_flow"]))
    if res.get("chooser"):
        out.update(chooser_batch.goals(res["chooser"]))
    if res.get("grouping"):
        out.update(dup_grouping.goals(res["grouping"]))
    if res.get("quality"):
        out.update(quality_signals.goals(res["quality"]))
    if res.get("caption_tags"):
        out.update(caption_tags.goals(res["caption_tags"]))
    return out


def update_readme(md: str):
    path = os.path.join(REPO, "README.md")
    text = open(path).read()
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    if start not in text or end not in text:
        print("README has no bench markers; not updated")
        return
    head, rest = text.split(start, 1)
    tail = rest.split(end, 1)[1]
    with open(path, "w") as f:
        f.write(f"{head}{start}\n{md}\n{end}{tail}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=5)
    ap.add_argument("--sizes", default="512,1024,2048,4096")
    ap.add_argument("--baseline-cancel-size", default="1024")
    ap.add_argument("--loop-images", type=int, default=100)
    ap.add_argument("--sort-images", type=int, default=100, help="images answered per flow in the browser (0: skip)")
    ap.add_argument("--sort-sets", default=",".join(sort_pace.SETS),
                    help=f"image sets sorted at a person's pace ({', '.join(sort_pace.SETS)}; '' = none)")
    ap.add_argument("--sort-legacy", default="on", choices=("on", "off"),
                    help="the older sort rows (waiting for the pause, today's flow, 10,000 images)")
    ap.add_argument("--sort-big-folder", type=int, default=10_000, help="size of the big folder of the sort flow")
    ap.add_argument("--sort-only", action="store_true",
                    help="only the sort rows, on a server of their own; printed, nothing written "
                         "(quick: --sort-only --sort-images 10 --sort-sets jpg1024 --sort-legacy off)")
    ap.add_argument("--soak-runs", type=int, default=200)
    ap.add_argument("--chooser-batches", default="16,64",
                    help="Image Chooser Gate rows: batch sizes of 1024² images ('' = none)")
    ap.add_argument("--chooser-only", action="store_true",
                    help="only the Image Chooser Gate rows, on a server of their own; printed, nothing written")
    ap.add_argument("--grouping-images", type=int, default=10_000,
                    help="Duplicate Review: images grouped by their (synthetic) hashes (0: skip)")
    ap.add_argument("--grouping-only", action="store_true",
                    help="only the grouping row (no server, a few seconds); printed, nothing written")
    ap.add_argument("--quality-images", type=int, default=10_000,
                    help="images of the quality-signal rows (0: skip them)")
    ap.add_argument("--quality-only", action="store_true",
                    help="run only the quality-signal rows (no server), print them, write nothing")
    ap.add_argument("--tags-captions", type=int, default=10_000,
                    help="captions in the folder of the caption rows (autocomplete, Caption Batch Edit; 0: skip)")
    ap.add_argument("--tags-only", action="store_true",
                    help="only the caption rows, on a server of their own; printed, nothing written")
    ap.add_argument("--readme", action="store_true", help="write the table into README.md")
    ap.add_argument("--out", default=os.path.join(HERE, "results"), help="folder for the .json and .md results")
    args = ap.parse_args()
    batches = [int(b) for b in args.chooser_batches.split(",") if b.strip()]
    if args.chooser_only:
        return chooser_batch.only(batches, args.n)
    if args.grouping_only:
        return dup_grouping.only(args.grouping_images)
    if args.quality_only:
        return quality_signals.only(args.quality_images)
    if args.tags_only:
        return caption_tags.only(args.tags_captions)
    sort_sets = [x.strip() for x in args.sort_sets.split(",") if x.strip()]
    unknown = [x for x in sort_sets if x not in sort_pace.SETS]
    if unknown:
        ap.error(f"unknown --sort-sets {unknown}: choose from {', '.join(sort_pace.SETS)}")

    def sort_rows():
        return sort_pace.measure(args.sort_images, sort_sets, args.sort_legacy == "on", args.sort_big_folder)

    if args.sort_only:
        t0 = time.time()
        r = sort_rows()
        g = sort_pace.goals(r)
        print("\n".join(sort_pace.rows(r)) + "\n\nGoals: "
              + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in g.items())
              + f".\n\nsort rows wall time {time.time() - t0:.0f} s")
        return 0 if all(g.values()) else 1
    sizes = [int(s) for s in args.sizes.split(",")]
    t_start = time.time()
    res = {"date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"), "n": args.n, "machine": machine(), "sizes": {}}
    with ComfyServer(extra_nodes=[BASELINE]) as srv:
        c = Client(srv.url)
        ok, info = c.get("/object_info/BaselineImageGate")
        if ok != 200 or "BaselineImageGate" not in (info or {}):
            raise SystemExit(f"the baseline pack did not load:\n{srv.log_tail()}")
        images = {s: noise_image(srv.folder("input"), s, s, f"bench_{s}.png", seed=s) for s in sizes}
        for s in sizes:
            row = {}
            for d in (OURS, PLAN):
                run_once(c, d, images[s])                     # warm-up: LoadImage cached, code paths hot
                runs = [run_once(c, d, images[s]) for _ in range(args.n)]
                r = {k: stats([x[k] for x in runs]) for k in runs[0]}
                if d is OURS or str(s) == args.baseline_cancel_size:
                    r["cancel_ms"] = stats([cancel_once(c, d, images[s]) for _ in range(args.n)])
                else:
                    r["cancel_ms"] = "not measured"
                row[d.name] = r
                print(f"{s}² {d.name}: preview {fmt(r['preview_ms'])}, resume {fmt(r['resume_ms'])}, "
                      f"cancel {fmt(r['cancel_ms']) if r['cancel_ms'] != 'not measured' else '-'}, "
                      f"message {r['message_bytes']['median']:,.0f} B", flush=True)
            res["sizes"][str(s)] = row
        big = str(max(sizes))
        loop = loopback_throughput(srv, c, int(res["sizes"][big]["plan"]["message_bytes"]["median"]))
        res["cross_check"] = cross_check(res, big, loop, plan_server_work_ms(srv, images[max(sizes)]))
        x = res["cross_check"]
        print(f"cross-check {big}²: loopback {x['loopback_mb_per_s']:,.0f} MB/s, expected plan show "
              f"{x['expected_show_ms']:.0f} ms, measured {x['plan_show_ms']:.0f} ms ({x['ratio']:.2f}×)", flush=True)
        res["loop"] = loop_overhead(srv, c, args.loop_images)
        print(f"loop: {res['loop']['overhead_ms']:.1f} ms overhead per image", flush=True)
        res["soak"] = soak_resources(srv, c, images[min(sizes, key=lambda s: abs(s - 1024))], args.soak_runs)
        if batches:
            res["chooser"] = chooser_batch.measure(c, chooser_batch.test_image(srv), batches, args.n)
        c.close()
    if args.grouping_images:
        res["grouping"] = dup_grouping.measure(args.grouping_images)
    if args.sort_images:                       # its own server: nothing of the baseline pack loaded
        res["sort_flow"] = sort_rows()
    if args.quality_images:                    # no server: the pack's own code on this machine's cores
        res["quality"] = quality_signals.measure(args.quality_images)
    if args.tags_captions:                     # its own server too
        res["caption_tags"] = caption_tags.measure(args.tags_captions)
    res["goals"] = goals(res)
    res["load_end"] = os.getloadavg()[0]
    res["wall_s"] = round(time.time() - t_start, 1)
    md = table(res)
    out = args.out
    os.makedirs(out, exist_ok=True)
    stamp = dt.date.today().isoformat()
    with open(os.path.join(out, f"{stamp}.json"), "w") as f:
        json.dump(res, f, indent=1, ensure_ascii=False)
    with open(os.path.join(out, f"{stamp}.md"), "w") as f:
        f.write(md + "\n")
    print("\n" + md + f"\n\nbench wall time {res['wall_s']} s; results in {os.path.join(out, stamp)}.json")
    if args.readme:
        update_readme(md)
    return 0 if all(res["goals"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
