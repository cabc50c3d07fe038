"""HTTP routes of every pause: answer, attach a mask, list what waits.

Imported only inside ComfyUI (``__init__`` guards it). Paths are in ``names``:

* ``POST {prefix}/choice``  ``{id, token, ...}``: the answer, checked by the pause's kind
                            (``message`` = route number for the Image Gate), or
                            ``message: "__cancel__"`` (Stop)
* ``POST {prefix}/mask``    multipart ``id, token, mask`` (grayscale PNG, white = painted)
                            or JSON ``{id, token, ref: {filename, subfolder, type}}``
                            (a file the core MaskEditor saved; mask = 1 - alpha/255)
                            or JSON ``{id, token, clear: true}`` (no mask on this pause)
* ``POST {prefix}/full``    ``{id, token, index}``: write one image of a batch pause at full
                            resolution (for the MaskEditor); EVENT_READY with ``index`` follows
* ``POST {prefix}/progress`` ``{id, token, ...}``: a partial answer kept on the pause (``/pending``
                            returns it), checked by the pause's kind
* ``GET  {prefix}/pending`` the pauses waiting now, for pages that (re)load

The core raises its own exceptions; ``STATUS`` maps them to HTTP statuses.
"""
from __future__ import annotations

import asyncio
import json
import os

import folder_paths
from aiohttp import web
from server import PromptServer

from ..core import imaging, names
from ..core.pauses import PauseError, StalePause, UnknownPause
from .pause_server import HUB


class RequestError(PauseError):
    """A request the routes refuse before the core sees it; ``status`` is its HTTP status."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


# most specific first
STATUS = ((UnknownPause, 404), (StalePause, 409), (imaging.BadImage, 400), (PauseError, 400))


def _error(exc: Exception):
    status = getattr(exc, "status", None) or next(s for kind, s in STATUS if isinstance(exc, kind))
    return web.json_response({"error": str(exc)}, status=status)


routes = PromptServer.instance.routes

async def _fields(request):
    """Body fields from JSON or a form; a RequestError when the body is malformed."""
    ctype = request.content_type or ""
    if ctype == "application/json":
        try:
            data = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
            raise RequestError("the body is not valid JSON") from None
        if not isinstance(data, dict):
            raise RequestError("the JSON body must be an object")
        return data
    try:
        return dict(await request.post())
    except web.HTTPException:
        raise
    except Exception:
        raise RequestError("the body is not a valid form") from None


@routes.post(names.ROUTE_CHOICE)
async def _choice(request):
    try:
        taken = HUB.answer(await _fields(request))
    except PauseError as e:
        return _error(e)
    return web.json_response({"ok": True, "taken": taken})


def _resolve_ref(ref):
    """A MaskEditor file ref -> a real path inside ComfyUI's input or temp folder."""
    if not isinstance(ref, dict):
        raise RequestError("'ref' must be an object {filename, subfolder, type}")
    name, sub, kind = ref.get("filename"), ref.get("subfolder") or "", ref.get("type") or "input"
    if not isinstance(name, str) or not name or not isinstance(sub, str) or not isinstance(kind, str):
        raise RequestError("'ref' needs a string 'filename' (and optional string 'subfolder', 'type')")
    if "\x00" in name + sub:
        raise RequestError("the ref holds a NUL character")
    bases = {"input": folder_paths.get_input_directory(), "temp": folder_paths.get_temp_directory()}
    if kind not in bases:
        raise RequestError("ref 'type' must be 'input' or 'temp'")
    base = os.path.realpath(bases[kind])
    path = os.path.realpath(os.path.join(base, sub, name))
    if os.path.commonpath([path, base]) != base or path == base:
        raise RequestError(f"the ref points outside ComfyUI's {kind} folder", 403)
    if not os.path.isfile(path):
        raise RequestError(f"no file {os.path.join(sub, name)!r} in ComfyUI's {kind} folder", 404)
    return path


async def _mask_fields(request):
    if (request.content_type or "").startswith("multipart/"):
        fields, data = {}, None
        try:
            reader = await request.multipart()
            async for part in reader:
                if part.name == "mask":
                    buf = bytearray()
                    while True:
                        chunk = await part.read_chunk(1 << 20)
                        if not chunk:
                            break
                        buf += chunk
                        if len(buf) > imaging.MAX_MASK_BYTES:
                            raise RequestError(f"the mask is over {imaging.MAX_MASK_BYTES // 2**20} MiB", 413)
                    data = bytes(buf)
                elif part.name in ("id", "token", "index"):
                    fields[part.name] = (await part.read(decode=False))[:4096].decode("utf-8", "replace")
                else:
                    await part.release()
        except RequestError:
            raise
        except web.HTTPException:
            raise
        except Exception:
            raise RequestError("the multipart body is malformed or truncated") from None
        fields["mask"] = data
        return fields
    return await _fields(request)


def _mask_index(pause, value) -> int:
    """Which image of the pause a mask is for (0-based; the Image Gate has one mask for its batch)."""
    if value is None or value == "":
        return 0
    try:
        index = int(str(value).strip())
    except ValueError:
        raise RequestError(f"'index' must be an image number, got {str(value)[:40]!r}") from None
    if isinstance(value, bool) or not 0 <= index < pause.kind.masks(pause):
        raise RequestError(f"'index' {index} is out of range 0..{pause.kind.masks(pause) - 1}")
    return index


@routes.post(names.ROUTE_MASK)
async def _mask(request):
    try:
        data = await _mask_fields(request)
        pause = HUB.get(data.get("id"), data.get("token"))
        index = _mask_index(pause, data.get("index"))
        loop = asyncio.get_running_loop()
        if data.get("mask") is not None:
            raw = data["mask"]
            if not isinstance(raw, (bytes, bytearray)):
                raw = getattr(raw, "file", None)
                raw = raw.read() if raw is not None else str(data["mask"]).encode()
            mask = await loop.run_in_executor(None, imaging.decode_gray_mask, bytes(raw))
        elif "ref" in data:
            path = _resolve_ref(data["ref"])
            mask = await loop.run_in_executor(None, imaging.decode_editor_file, path)
        elif data.get("clear") is True:
            # Clear mask: this pause has no mask (None), and a gate that keeps masks forgets its own.
            HUB.attach(pause.node_id, pause.token, index, None)
            return web.json_response({"ok": True, "cleared": True})
        else:
            raise RequestError("send a 'mask' image (multipart), a MaskEditor file 'ref' (JSON) "
                               "or 'clear': true (JSON)")
        HUB.attach(pause.node_id, pause.token, index, mask)
    except (PauseError, imaging.BadImage) as e:
        return _error(e)
    return web.json_response({"ok": True, "height": int(mask.shape[0]), "width": int(mask.shape[1])})


@routes.post(names.ROUTE_FULL)
async def _full(request):
    """``{id, token, index}``: have image ``index`` of a batch pause written at full resolution."""
    try:
        data = await _fields(request)
        pause = HUB.get(data.get("id"), data.get("token"))
        taken = pause.kind.full(pause, data.get("index"))
    except PauseError as e:
        return _error(e)
    return web.json_response({"ok": True, **taken})


@routes.post(names.ROUTE_PROGRESS)
async def _progress(request):
    """``{id, token, ...}``: a partial answer the pause keeps, so a reloaded page shows it again."""
    try:
        data = await _fields(request)
        pause = HUB.get(data.get("id"), data.get("token"))
        if not HUB.update(pause, **pause.kind.progress(data)):
            raise StalePause("this pause has just ended")
    except PauseError as e:
        return _error(e)
    return web.json_response({"ok": True})


def _sort_call(fn):
    """A folder-sort route: the body names the sort's ``session``; errors are 4xx JSON."""
    async def handler(request):
        from . import sort_session

        try:
            data = await _fields(request) if request.method == "POST" else dict(request.query)
            session = sort_session.by_id(data.get("session"))
            loop = asyncio.get_running_loop()
            result = await loop.run_in_executor(None, fn, sort_session, session, data)
        except PauseError as e:
            return _error(e)
        except (OSError, ValueError) as e:          # a file moved or unreadable meanwhile
            return web.json_response({"error": str(e)}, status=409)
        except Exception as e:                      # Pillow's DecompressionBombError is neither
            if type(e).__name__ != "DecompressionBombError":
                raise
            return web.json_response({"error": f"the image is too large to show: {e}"}, status=413)
        return result if isinstance(result, web.StreamResponse) else web.json_response({"ok": True, **result})
    return handler


routes.post(names.ROUTE_SORT_DECIDE)(_sort_call(lambda ss, s, d: ss.page_decide(s, d)))
routes.post(names.ROUTE_SORT_UNDO)(_sort_call(lambda ss, s, d: ss.page_undo(s)))
routes.post(names.ROUTE_SORT_STOP)(_sort_call(lambda ss, s, d: ss.page_stop(s)))
routes.post(names.ROUTE_SORT_REROUTE)(_sort_call(lambda ss, s, d: ss.page_reroute(s, d)))
routes.get(names.ROUTE_SORT_LOG)(_sort_call(lambda ss, s, d: {"decisions": ss.decisions(s),
                                                              "progress": ss.progress_of(s)}))
routes.post(names.ROUTE_SORT_FULL)(_sort_call(lambda ss, s, d: ss.full_image(s, d)))
routes.get(names.ROUTE_SORT_THUMB)(_sort_call(
    lambda ss, s, d: web.FileResponse(ss.thumbnail(s, d), headers={"Cache-Control": "private, max-age=3600"})))


def _tags(data: dict) -> dict:
    """The autocomplete: tags of the sort's folder (``session``) or of ``folder`` (relative to input), plus
    an optional tag list CSV (``list``), ranked for ``prefix``."""
    import time

    from ..core import access, scan, tag_vocab
    from .comfy_paths import comfy_folder

    t = time.perf_counter()
    if data.get("session"):
        from . import sort_session

        s = sort_session.by_id(data.get("session"))
        folder, depth = s.folder, s.depth
    elif str(data.get("folder") or "").strip():
        folder = access.check(scan.resolve_folder(data["folder"], comfy_folder("input")))
        depth = int(data.get("depth") or 0)
    else:
        folder = None
    sources = [tag_vocab.folder_counts(folder, depth)] if folder and os.path.isdir(folder) else []
    if str(data.get("list") or "").strip():
        path = access.check(scan.resolve_folder(data["list"], comfy_folder("input")), "tag list")
        if not os.path.isfile(path):
            raise RequestError(f"tag list not found: {path}", 404)
        sources.append(tag_vocab.list_counts(path))
    try:
        limit = max(1, min(100, int(data.get("limit") or 20)))
    except ValueError:
        raise RequestError("'limit' must be a number") from None
    found = tag_vocab.rank(str(data.get("prefix") or ""), sources, limit)
    return {"tags": found, "ms": round((time.perf_counter() - t) * 1000, 1)}


def _tokens(data: dict) -> dict:
    from . import tokens

    if not tokens.available():
        raise RequestError("this ComfyUI has no SD1 CLIP tokenizer (comfy.sd1_clip)", 503)
    return {"tokens": tokens.count(str(data.get("text") or "")), "limit": tokens.LIMIT}


def _page_call(fn):
    """A GET route of the caption box: query fields in, JSON out, errors as 4xx JSON."""
    async def handler(request):
        try:
            result = await asyncio.get_running_loop().run_in_executor(None, fn, dict(request.query))
        except PauseError as e:
            return _error(e)
        except (OSError, ValueError) as e:
            return web.json_response({"error": str(e)}, status=400)
        return web.json_response({"ok": True, **result})
    return handler


routes.get(names.ROUTE_TAGS)(_page_call(_tags))
routes.get(names.ROUTE_TOKENS)(_page_call(_tokens))


@routes.get(names.ROUTE_PENDING)
async def _pending(request):
    return web.json_response({"pending": HUB.pending()})
