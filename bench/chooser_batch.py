"""Bench rows of the Image Chooser Gate: a batch of noise images of 1024² (16 and 64 of them).

For each batch size, n times after a warm-up:

* thumbnails: the gate's ``executing`` event -> its show event -> every thumbnail fetched
  (four parallel GETs, as a browser tab fetches a grid), plus the show message's size;
* resume: POST Done -> the ``executing`` event of the first node after the gate (whichever of
  the two routes ComfyUI runs first: the other waits for that whole branch), for the first half of the
  batch to route 1 and the rest to route 2 (each sub-batch a slice of the input: no copy) and,
  for comparison, every other image to route 1 (one gather copy per route);
* Cancel: POST /interrupt while the grid waits -> ``execution_interrupted``.

Used by ``bench/run.py``: rows in its table, and ``--chooser-only`` for just these (on a server of
their own, printed, nothing written).
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [REPO, os.path.join(REPO, "tests")]

from gates.core import names  # noqa: E402
from harness.comfy import Client, ComfyServer  # noqa: E402
from harness.graphs import noise_image  # noqa: E402

GATE = "3"
DOWNSTREAM = ("11", "12")          # the first node of each route
SIDE = 1024


def graph(image: str, batch: int) -> dict:
    """LoadImage -> RepeatImageBatch -> ImageChooserGate -> per route ImageScale(16x16) -> SaveImage."""
    g = {"1": {"class_type": "LoadImage", "inputs": {"image": image}},
         "2": {"class_type": "RepeatImageBatch", "inputs": {"image": ["1", 0], "amount": batch}},
         GATE: {"class_type": "ImageChooserGate", "inputs": {"images": ["2", 0], "routes": 2, "labels": "keep, fix",
                                                            "default_route": "drop", "timeout_seconds": 0,
                                                            "on_timeout": "default"}}}
    for k in (1, 2):
        g[f"1{k}"] = {"class_type": "ImageScale", "inputs": {"image": [GATE, 3 * (k - 1)], "upscale_method":
                                                            "nearest-exact", "width": 16, "height": 16,
                                                            "crop": "disabled"}}
        g[f"2{k}"] = {"class_type": "SaveImage", "inputs": {"images": [f"1{k}", 0],
                                                            "filename_prefix": f"bench_sink/chooser{k}"}}
    return g


def fetch_all(c, show: dict, pool: ThreadPoolExecutor) -> int:
    t = show["thumbs"]

    def one(i):
        q = urllib.parse.urlencode({"filename": t["filename"].replace("{index}", str(i)),
                                    "subfolder": t["subfolder"], "type": t["type"]})
        with urllib.request.urlopen(f"{c.url}/view?{q}", timeout=30) as r:
            return len(r.read())

    return sum(pool.map(one, range(show["count"])))


def pause(c, image: str, batch: int):
    m = c.mark()
    pid = c.queue(graph(image, batch))
    ex = c.wait_for(lambda e: e.get("type") == "executing" and (e.get("data") or {}).get("node") == GATE
                    and e["data"].get("prompt_id") == pid, 120, m)
    show = c.wait_for(lambda e: e.get("type") == names.EVENT_SHOW and e["data"].get("prompt_id") == pid, 120, m)
    return pid, m, ex, show


def done(c, show: dict, decisions: list) -> int:
    body = json.dumps({"id": show["id"], "token": show["token"], "decisions": decisions}).encode()
    req = urllib.request.Request(c.url + names.ROUTE_CHOICE, data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status


def run_once(c, image: str, batch: int, pool: ThreadPoolExecutor, interleaved: bool = False) -> dict:
    pid, m, ex, show_ev = pause(c, image, batch)
    nbytes = fetch_all(c, show_ev["data"], pool)
    t_fetched = time.perf_counter()
    half = batch // 2
    decisions = [1 + i % 2 for i in range(batch)] if interleaved else [1] * half + [2] * (batch - half)
    m2 = c.mark()
    t0 = time.perf_counter()
    assert done(c, show_ev["data"], decisions) == 200
    down = c.wait_for(lambda e: e.get("type") == "executing" and (e.get("data") or {}).get("node") in DOWNSTREAM,
                      60, m2)
    end = c.wait_end(pid, 120, m)
    assert end["type"] == "execution_success", f"chooser run ended with {end['type']}"
    return {"thumbs_ms": (t_fetched - ex["_t"]) * 1e3, "show_ms": (show_ev["_t"] - ex["_t"]) * 1e3,
            "resume_ms": (down["_t"] - t0) * 1e3, "message_bytes": show_ev["_size"], "thumb_bytes": nbytes}


def cancel_once(c, image: str, batch: int) -> float:
    pid, m, _, _ = pause(c, image, batch)
    m2 = c.mark()
    t0 = time.perf_counter()
    c.post("/interrupt", {})
    ev = c.wait_for(lambda e: e.get("type") == "execution_interrupted"
                    and (e.get("data") or {}).get("prompt_id") == pid, 20, m2)
    c.wait_end(pid, 60, m)
    return (ev["_t"] - t0) * 1e3


def stats(xs):
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "n": len(xs)}


def measure(c, image: str, batches: list, n: int) -> dict:
    """``{batch: {thumbs_ms, show_ms, resume_ms, resume_gather_ms, cancel_ms, message_bytes, ...}}``."""
    out = {}
    with ThreadPoolExecutor(4) as pool:
        for b in batches:
            run_once(c, image, b, pool)                              # warm-up
            runs = [run_once(c, image, b, pool) for _ in range(n)]
            row = {k: stats([r[k] for r in runs]) for k in runs[0]}
            row["resume_gather_ms"] = stats([run_once(c, image, b, pool, interleaved=True)["resume_ms"]
                                             for _ in range(n)])
            row["cancel_ms"] = stats([cancel_once(c, image, b) for _ in range(n)])
            out[str(b)] = row
            print(f"chooser {b}×{SIDE}²: thumbnails {row['thumbs_ms']['median']:.1f} ms, resume "
                  f"{row['resume_ms']['median']:.1f} ms (gather {row['resume_gather_ms']['median']:.1f} ms), "
                  f"cancel {row['cancel_ms']['median']:.1f} ms, message {row['message_bytes']['median']:,.0f} B",
                  flush=True)
    return out


GOAL_THUMBS_MS = {"16": 150, "64": 400}


def goals(rows: dict) -> dict:
    out = {}
    for b, row in rows.items():
        if b in GOAL_THUMBS_MS:
            out[f"chooser thumbnails ≤ {GOAL_THUMBS_MS[b]} ms at {b}×{SIDE}²"] = \
                row["thumbs_ms"]["median"] <= GOAL_THUMBS_MS[b]
    if rows:
        out["chooser resume (slices) ≤ 10 ms"] = all(r["resume_ms"]["median"] <= 10 for r in rows.values())
        out["chooser Cancel ≤ 250 ms"] = all(r["cancel_ms"]["median"] <= 250 for r in rows.values())
        out["chooser show message ≤ 4 KB"] = all(r["message_bytes"]["max"] <= 4096 for r in rows.values())
    return out


def fmt(s) -> str:
    return f"{s['median']:.1f} ms ({s['min']:.1f}–{s['max']:.1f})"


def rows(r: dict) -> list:
    """Markdown lines for bench/run.py's table."""
    lines = ["| Image Chooser Gate, a batch of 1024² noise images | result |", "|---|---|"]
    for b, row in r.items():
        lines += [f"| {b} images: executing → every thumbnail fetched | {fmt(row['thumbs_ms'])} |",
                  f"| {b} images:   of which executing → show event | {fmt(row['show_ms'])} |",
                  f"| {b} images: resume, Done (two halves: slices) → next node runs | {fmt(row['resume_ms'])} |",
                  f"| {b} images: resume, Done (every other image: a gather) → next node runs | "
                  f"{fmt(row['resume_gather_ms'])} |",
                  f"| {b} images: Cancel → execution_interrupted | {fmt(row['cancel_ms'])} |",
                  f"| {b} images: show message / all thumbnails | {row['message_bytes']['median']:,.0f} B / "
                  f"{row['thumb_bytes']['median'] / 1024:,.0f} KiB |"]
    return lines


def test_image(srv) -> str:
    return noise_image(srv.folder("input"), SIDE, SIDE, f"bench_{SIDE}.png", seed=SIDE)


def only(batches: list, n: int) -> int:
    """Just these rows, on a server of their own; printed, nothing written. Exit status: goals met."""
    with ComfyServer() as srv:
        c = Client(srv.url)
        r = measure(c, test_image(srv), batches, n)
        c.close()
    g = goals(r)
    print("\n".join(rows(r)) + "\n\nGoals: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in g.items()))
    return 0 if all(g.values()) else 1
