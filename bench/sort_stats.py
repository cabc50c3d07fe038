"""Pure statistics of the sort benches (no ComfyUI, no browser): tested in tests/unit/test_bench_sort_stats.py.

* ``percentile`` / ``summary``: median and p95 of a list of times;
* ``exec_ms``: a prompt's execution_start -> execution_success from its ``/history`` status messages;
* ``pause_waits``: how long each gate pause waited for the person's key, from the page's events;
* ``prompt_stages``: where each prompt's time went (loader, gate, waiting for the key, saver, the gap to
  the next prompt), from the events the page received.

Page events are dicts ``{"type", "t"}`` (``t``: when the page got it, ms since the epoch, the same
clock as the server's on one machine) plus, by type: ``execution_start``/``execution_success``:
``prompt_id``; ``executing``: ``node`` (None = the prompt is done); ``datasete-gate-show``: ``prompt_id``,
``token``, ``started_at`` (the server's time.time() when the pause opened, seconds);
``datasete-gate-done``: ``token``.
"""
from __future__ import annotations

import math
import statistics

SHOW, DONE = "datasete-gate-show", "datasete-gate-done"


def percentile(xs, q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between the closest ranks (numpy's default)."""
    xs = sorted(xs)
    if not xs:
        raise ValueError("percentile of no values")
    pos = (len(xs) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def summary(xs) -> dict | None:
    """median, p95, min, max and n of the values that are not None (None when there are none)."""
    xs = [x for x in xs if x is not None]
    if not xs:
        return None
    return {"median": statistics.median(xs), "p95": percentile(xs, 95), "min": min(xs), "max": max(xs),
            "n": len(xs)}


def exec_ms(messages) -> float | None:
    """execution_start -> execution_success of one prompt, from ``/history``'s ``status.messages``
    (``[[type, {prompt_id, timestamp (ms)}], ...]``); None when the prompt did not succeed."""
    ts = {}
    for kind, data in messages or []:
        if kind in ("execution_start", "execution_success") and isinstance(data, dict) and "timestamp" in data:
            ts.setdefault(kind, float(data["timestamp"]))
    if "execution_start" not in ts or "execution_success" not in ts:
        return None
    return ts["execution_success"] - ts["execution_start"]


def exec_ms_by_prompt(events) -> dict:
    """``{prompt_id: ms}``: ``exec_ms`` of every prompt, from the stage probe's records of the messages
    the server sent (``{type, prompt_id, t}``); a sort keeps one prompt in ``/history``, not one an image."""
    messages: dict = {}
    for e in events:
        if e.get("type") in ("execution_start", "execution_success") and e.get("prompt_id"):
            messages.setdefault(e["prompt_id"], []).append((e["type"], {"timestamp": e["t"]}))
    return {pid: exec_ms(m) for pid, m in messages.items()}


def pause_waits(events) -> dict:
    """``{prompt_id: ms}``: from each gate pause opening (the show event's ``started_at``) to its end
    (the done event of the same token arriving). A prompt whose key was queued before its gate ran has
    no show event, so no entry (it waited 0 ms)."""
    opened = {}
    out: dict = {}
    for e in events:
        if e["type"] == SHOW and e.get("token"):
            opened[e["token"]] = e
        elif e["type"] == DONE and e.get("token") in opened:
            show = opened.pop(e["token"])
            pid = show.get("prompt_id")
            out[pid] = out.get(pid, 0.0) + max(0.0, e["t"] - float(show["started_at"]) * 1000.0)
    return out


STAGES = ("setup", "loader", "gate", "wait", "saver", "gap")


def prompt_stages(events, node_types: dict, loader="FolderImageLoader", gate="ImageGate",
                  saver="SaveImageToFolder") -> list:
    """One dict per prompt that succeeded, in order, with ms per stage:

    * ``setup``: execution_start -> the loader runs; ``loader``: the loader -> the gate runs;
    * ``gate``: the gate -> the first saver runs, less ``wait``; ``wait``: the gate's pause waiting for the key;
    * ``saver``: the first saver runs -> execution_success;
    * ``gap``: the previous prompt's execution_success -> this one's execution_start (None for the first);
    * ``total``: execution_start -> execution_success; ``own``: ``total`` less ``wait``.

    A stage whose events are missing is None. ``node_types`` maps node ids to class types.
    """
    waits = pause_waits(events)
    out, cur, last_end = [], None, None
    for e in events:
        kind = e["type"]
        if kind == "execution_start":
            cur = {"prompt_id": e.get("prompt_id"), "start": e["t"], "nodes": {}}
        elif cur is None:
            continue
        elif kind == "executing" and e.get("node") is not None:
            cur["nodes"].setdefault(node_types.get(str(e["node"])), e["t"])
        elif kind == "execution_success" and e.get("prompt_id") == cur["prompt_id"]:
            n, start, end = cur["nodes"], cur["start"], e["t"]
            wait = waits.get(cur["prompt_id"], 0.0)

            def span(a, b):
                return None if a is None or b is None else b - a

            gate_span = span(n.get(gate), n.get(saver))
            out.append({"prompt_id": cur["prompt_id"], "setup": span(start, n.get(loader)),
                        "loader": span(n.get(loader), n.get(gate)),
                        "gate": None if gate_span is None else gate_span - wait, "wait": wait,
                        "saver": span(n.get(saver), end), "gap": span(last_end, start),
                        "total": end - start, "own": end - start - wait})
            last_end, cur = end, None
    return out


def stage_medians(stages: list) -> dict:
    """``{stage: median ms}`` over the prompts (stages without any value are left out)."""
    out = {}
    for k in STAGES + ("total", "own"):
        xs = [s[k] for s in stages if s.get(k) is not None]
        if xs:
            out[k] = statistics.median(xs)
    return out
