"""Bench-only ComfyUI extension: server-side timestamps of what a folder sort does (bench/sort_pace.py).

Loaded beside this pack by the sort bench (``ComfyServer(extra_nodes=[...])``), never by the tests or
a user. It adds no node. It records, with ``time.time()`` of the server at the moment it happens:

* every message the server sends (``PromptServer.send_sync``: execution_start, executing per node,
  execution_success, the gates' show/done events, the sort's events), when the sending thread hands
  it over, not when the event loop gets round to delivering it;
* start, duration and thread of the pack's heavier steps: each preview the sort prepares for the page
  (``sort_session.small_image``: the preview thread, or a strip thumbnail), each decode
  (``loader.decode_compact``: ahead on the decode thread, or in the prompt), format original's SHA-1
  (``originals.digest_array``, in the prompt or ahead; none when the graph proves the image
  untouched) and copy (``originals.copy_exact``), the decision log's append
  (``SortLog.record``), queueing the next image's prompt (``prompt_queue.queue_prompt``, in the gate)
  and every ``os.fsync`` in the server.

``GET /dg_bench_probe/events?since=N`` returns the records from index N.
"""
import sys
import threading
import time

NODE_CLASS_MAPPINGS = {}
NODE_DISPLAY_NAME_MAPPINGS = {}

_records: list = []
_lock = threading.Lock()
_patched = {"modules": 0}


def _add(rec: dict):
    with _lock:
        _records.append(rec)


def _slim(event, data) -> dict:
    rec = {"type": event, "t": time.time() * 1000.0}
    if isinstance(data, dict):
        for k in ("prompt_id", "node", "token", "started_at", "state", "file", "session", "outcome"):
            if k in data:
                rec[k] = data[k]
        if isinstance(data.get("sort"), dict):
            rec["file"] = data["sort"].get("file")
            rec["session"] = data["sort"].get("session")
        if isinstance(data.get("ahead"), list):
            rec["ahead"] = len(data["ahead"])
    return rec


def _timed(name, fn, what):
    def wrapper(*args, **kwargs):
        t0 = time.time()
        try:
            return fn(*args, **kwargs)
        finally:
            _add({"type": what, "t": t0 * 1000.0, "ms": (time.time() - t0) * 1000.0,
                  "thread": threading.current_thread().name})
    wrapper.__wrapped__ = fn
    return wrapper


# (module suffix, attribute, label): wrapped once each, in the pack's modules (it looks them up at call time)
WRAP = [(".gates.comfy.sort_session", "small_image", "small_image"),
        (".gates.nodes.loader", "decode_compact", "decode"),
        (".gates.core.originals", "digest_array", "digest"), (".gates.core.originals", "copy_exact", "copy_exact"),
        (".gates.core.sort_log", "SortLog.record", "log_record"),
        (".gates.comfy.prompt_queue", "queue_prompt", "queue_prompt")]


def _patch_pack():
    """Wrap the pack's preview, decode, digest, copy and log functions once each. The sort's module is
    imported when a sort first runs; ``os.fsync`` is wrapped for the whole server at once."""
    import os

    if not hasattr(os.fsync, "__wrapped__"):
        os.fsync = _timed("os", os.fsync, "probe:fsync")
    for name, mod in list(sys.modules.items()):
        if "dataset" not in name:
            continue
        for suffix, attr, label in WRAP:
            if not name.endswith(suffix):
                continue
            *path, fn = attr.split(".")
            owner = mod
            for part in path:
                owner = getattr(owner, part, None)
            target = getattr(owner, fn, None)
            if target is not None and not hasattr(target, "__wrapped__"):
                setattr(owner, fn, _timed(name, target, f"probe:{label}"))


def _install():
    try:
        from aiohttp import web
        from server import PromptServer
    except ImportError:          # not inside ComfyUI
        return
    srv = PromptServer.instance
    original = srv.send_sync

    def send_sync(event, data, sid=None):
        if _patched["modules"] != len(sys.modules):      # the pack imports some modules late: look again
            _patched["modules"] = len(sys.modules)
            _patch_pack()
        _add(_slim(event, data))
        return original(event, data, sid)

    srv.send_sync = send_sync

    @srv.routes.get("/dg_bench_probe/events")
    async def events(request):
        since = int(request.query.get("since", "0") or 0)
        with _lock:
            out = _records[since:]
            n = len(_records)
        return web.json_response({"events": out, "next": n})


_install()
