"""Bench-only ComfyUI extension: server-side timestamps of what a folder sort does (bench/sort_pace.py).

Loaded beside this pack by the sort bench (``ComfyServer(extra_nodes=[...])``), never by the tests or
a user. It adds no node. It records, with ``time.time()`` of the server at the moment it happens:

* every message the server sends (``PromptServer.send_sync``: execution_start, executing per node,
  execution_success, the gates' show/done events, the sort's events), when the sending thread hands
  it over, not when the event loop gets round to delivering it;
* each preview the sort prepares for the page (``sort_session.small_image`` on the preview thread)
  and each image decoded ahead (``loader.decode_compact`` on the decode thread): start and duration.

``GET /dg_bench_probe/events?since=N`` returns the records from index N.
"""
import sys
import threading
import time

NODE_CLASS_MAPPINGS = {}
NODE_DISPLAY_NAME_MAPPINGS = {}

_records: list = []
_lock = threading.Lock()
_patched = {"done": False}


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


def _patch_pack():
    """Wrap the pack's preview and decode functions once each (the pack looks them up at call time, so
    a wrapper in the module works). The sort's module is imported when a sort first runs."""
    for name, mod in list(sys.modules.items()):
        if "dataset" not in name:
            continue
        if name.endswith(".gates.sort_session") and not hasattr(mod.small_image, "__wrapped__"):
            mod.small_image = _timed(name, mod.small_image, "probe:small_image")
            _patched["done"] = True
        elif name.endswith(".gates.loader") and not hasattr(mod.decode_compact, "__wrapped__"):
            mod.decode_compact = _timed(name, mod.decode_compact, "probe:decode")


def _install():
    try:
        from aiohttp import web
        from server import PromptServer
    except ImportError:          # not inside ComfyUI
        return
    srv = PromptServer.instance
    original = srv.send_sync

    def send_sync(event, data, sid=None):
        if not _patched["done"]:
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
