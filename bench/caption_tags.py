"""Bench rows of captions as tags at 10,000 captions: the autocomplete's answer and Caption Batch Edit.

    .venv/bin/python bench/caption_tags.py [--n 10000]      (the same as bench/run.py --tags-only)

On a real ComfyUI (a server of its own), with a folder of ``n`` images and captions in its input folder:

* autocomplete, as the caption box asks (web/tag_complete.js): ``GET /datasete_gate/tags`` with the
  loader's ``folder`` and ``depth``, the typed ``prefix`` and ``limit=12``, on a kept-alive connection,
  timed from the request to the parsed JSON answer. ``first_ms``: the first answer (the server reads
  the folder's captions); then ``typing_ms``: ``KEYS`` answers, one every ``KEY_PACE_S`` (a person typing,
  long enough that the route's recheck of the folder, every 5 s, falls inside): median, p95, max.
  Goal: the median of ``typing_ms`` <= 50 ms.
* Caption Batch Edit: a real ``replace`` that rewrites every caption (journal included), queued as the
  node on the server and timed from the queue to ``execution_success`` (``batch_edit_node_s``, goal
  <= 5 s), its dry run the same way, then ``undo_last``; and, without the server, the node's own work
  (``caption_batch_edit.run``) for the same edit on a folder of its own: ``batch_edit_s``.

The route re-checks the folder every 5 s (gates/core/tag_vocab.py: a stat of every image and caption,
to see edits made behind its back) on a thread of its own, so no keystroke waits for it; the ``max``
shows whether one did.

Deletions: on an ext4 without a journal (as this machine's), creating a file scans past the inodes
freed in the last minutes (``recently_deleted`` in the kernel), so every create is slower for a while
after many files were deleted, by anyone. The pure run goes first and its folder is deleted last,
so neither edit follows this bench's own deletions (the server's folder of 20,000 files, the pure
run's); ``undo_last`` right after the edit pays for the 10,000 inodes the edit has just freed.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [REPO, os.path.join(REPO, "tests")]

from gates.core import names  # noqa: E402
from gates.nodes import caption_batch_edit  # noqa: E402
from harness.comfy import Client, ComfyServer  # noqa: E402

WORDS = [f"{a}{b}" for a in ("bl", "re", "gr", "ca", "do", "ha", "sk", "ou") for b in range(300)]
KEYS = 60
KEY_PACE_S = 0.12
FOLDER = "bench_tags"
AUTOCOMPLETE_GOAL_MS = 50
BATCH_EDIT_GOAL_S = 5


def make_folder(parent: str, n: int, name: str = "src", seed: int = 1) -> str:
    """``n`` empty ``.png`` files, each with a caption of 12 of 2,400 tags plus ``cat``."""
    src = os.path.join(parent, name)
    os.makedirs(src)
    rng = random.Random(seed)
    for i in range(n):
        open(os.path.join(src, f"img{i}.png"), "wb").close()
        with open(os.path.join(src, f"img{i}.txt"), "w", encoding="utf-8") as f:
            f.write(", ".join(rng.sample(WORDS, 12)) + ", cat")
    return src


def fragments(count: int) -> list:
    """What a person types, keystroke by keystroke: 'b', 'bl', 'bl1', 'bl12', then 'r', 're', ..."""
    out = []
    for w in WORDS[::97]:
        out += [w[:i] for i in range(1, len(w) + 1)]
    return (out * (count // len(out) + 1))[:count]


def ask(conn: http.client.HTTPConnection, query: dict) -> tuple:
    """One autocomplete request as the page sends it; (ms to the parsed answer, the answer)."""
    t = time.perf_counter()
    conn.request("GET", f"{names.ROUTE_TAGS}?{urllib.parse.urlencode(query)}")
    r = conn.getresponse()
    body = json.loads(r.read())
    ms = (time.perf_counter() - t) * 1e3
    if r.status != 200:
        raise RuntimeError(f"{names.ROUTE_TAGS} answered {r.status}: {body}")
    return ms, body


def stats(xs: list) -> dict:
    s = sorted(xs)
    return {"median": statistics.median(s), "p95": s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))],
            "min": s[0], "max": s[-1], "n": len(s)}


def node_run(c: Client, **inputs) -> tuple:
    """Queue Caption Batch Edit alone; (seconds from the queue to execution_success, the report)."""
    g = {"1": {"class_type": "CaptionBatchEdit", "inputs": {"folder": FOLDER, "depth": 0, "find": "",
                                                             "replace": "", "match": "tag", **inputs}}}
    m = c.mark()
    t = time.perf_counter()
    pid = c.queue(g)
    end = c.wait_end(pid, 300, m)
    s = time.perf_counter() - t
    if end["type"] != "execution_success":
        raise RuntimeError(f"Caption Batch Edit ended with {end['type']}: {end.get('data')}")
    out = c.wait_history(pid, 30)["outputs"]["1"]["text"][0]     # /history may lag the event a little
    return s, out


def measure_server(n: int) -> dict:
    with ComfyServer() as srv:
        make_folder(srv.folder("input"), n, FOLDER)
        c = Client(srv.url)
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
        try:
            q = {"folder": FOLDER, "depth": "0", "limit": "12"}
            first, body = ask(conn, {**q, "prefix": "bl"})
            if not body["tags"] or not str(body["tags"][0][0]).startswith("bl"):
                raise RuntimeError(f"the autocomplete's first answer lists no 'bl' tag: {body}")
            typing, server = [], []
            for frag in fragments(KEYS):
                t = time.perf_counter()
                ms, body = ask(conn, {**q, "prefix": frag})
                typing.append(ms)
                server.append(body["ms"])
                time.sleep(max(0.0, KEY_PACE_S - (time.perf_counter() - t)))
            dry_s, rep = node_run(c, operation="replace", find="cat", replace="feline", dry_run=True)
            if f"{n} caption file(s) would change" not in rep:
                raise RuntimeError(f"the dry run did not plan {n} changes: {rep[:300]}")
            edit_s, rep = node_run(c, operation="replace", find="cat", replace="feline", dry_run=False)
            if f"{n} caption file(s) changed" not in rep:
                raise RuntimeError(f"the batch edit did not change {n} captions: {rep[:300]}")
            undo_s, rep = node_run(c, operation="undo_last", dry_run=False)
            if f"restored {n} caption file(s)" not in rep:
                raise RuntimeError(f"undo_last did not restore {n} captions: {rep[:300]}")
        finally:
            conn.close()
            c.close()
    return {"autocomplete_first_ms": first, "autocomplete_ms": stats(typing), "autocomplete_server_ms": stats(server),
            "batch_dry_run_node_s": dry_s, "batch_edit_node_s": edit_s, "batch_undo_node_s": undo_s}


def measure_pure(root: str, n: int) -> dict:
    """The node's work alone (no server, no queue) on a folder of its own under ``root``."""
    src, out = make_folder(root, n), os.path.join(root, "out")
    t = time.perf_counter()
    caption_batch_edit.run(src, 0, "replace", "cat", "feline", "tag", "", False, out)
    return {"batch_edit_s": time.perf_counter() - t}


def measure(n: int = 10000) -> dict:
    t = time.time()
    r = {"captions": n, "load_start": os.getloadavg()[0]}
    root = tempfile.mkdtemp(prefix="dg-bench-tags-")
    try:                               # its folder deleted last: see "Deletions" in the module's docstring
        r.update(measure_pure(root, n))
        r.update(measure_server(n))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    r["load_end"] = os.getloadavg()[0]
    r["wall_s"] = time.time() - t
    return r


def rows(r: dict) -> list:
    """Markdown lines for bench/run.py's table."""
    a, s = r["autocomplete_ms"], r["autocomplete_server_ms"]
    n = f"{r['captions']:,}"
    return [f"| Captions as tags, a folder of {n} captions (1-minute load {r['load_start']:.1f} → "
            f"{r['load_end']:.1f}) | result |", "|---|---|",
            f"| autocomplete, GET {names.ROUTE_TAGS} as the caption box asks: first answer (reads the captions) | "
            f"{r['autocomplete_first_ms']:.0f} ms |",
            f"| autocomplete while typing ({a['n']} keys, one every {KEY_PACE_S * 1000:.0f} ms): request → "
            f"answer (the folder's re-check every 5 s runs beside it) | median {a['median']:.1f} ms, "
            f"p95 {a['p95']:.1f}, max {a['max']:.1f} |",
            f"|   of which in the route (its own timing) | median {s['median']:.1f} ms, p95 {s['p95']:.1f}, "
            f"max {s['max']:.1f} |",
            f"| Caption Batch Edit `replace` rewriting all {n} captions, journal included: queue → "
            f"execution_success | {r['batch_edit_node_s']:.2f} s |",
            f"|   its dry run / undo_last of it | {r['batch_dry_run_node_s']:.2f} s / "
            f"{r['batch_undo_node_s']:.2f} s |",
            f"|   the node's work alone (no server) | {r['batch_edit_s']:.2f} s |"]


def goals(r: dict) -> dict:
    return {f"autocomplete median ≤ {AUTOCOMPLETE_GOAL_MS} ms at {r['captions']:,} captions":
            r["autocomplete_ms"]["median"] <= AUTOCOMPLETE_GOAL_MS,
            f"Caption Batch Edit ≤ {BATCH_EDIT_GOAL_S} s at {r['captions']:,} captions":
            r["batch_edit_node_s"] <= BATCH_EDIT_GOAL_S}


def only(n: int) -> int:
    """Just these rows; printed, nothing written. Exit status: goals met."""
    r = measure(n)
    g = goals(r)
    print("\n".join(rows(r)) + "\n\nGoals: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in g.items())
          + f".\n\ncaption rows wall time {r['wall_s']:.0f} s")
    return 0 if all(g.values()) else 1


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10000)
    sys.exit(only(ap.parse_args().n))
