"""aiohttp glue for the Image Gate: show events, preview files, answer routes.

Imported only inside ComfyUI (``__init__`` guards it). Routes:

* ``POST /datasete_gate/choice``  ``{id, token, message}``  message = route (1-based) or ``__cancel__``
* ``POST /datasete_gate/mask``    multipart ``id, token, mask`` (grayscale PNG, white = painted)
                                  or JSON ``{id, token, ref: {filename, subfolder, type}}``
                                  (a file the core MaskEditor saved; mask = 1 - alpha/255)
* ``GET  /datasete_gate/pending`` the pauses waiting now, for pages that (re)load

Events (broadcast to every tab): ``datasete-gate-show`` (a pause began: token,
routes, labels, timeout, preview refs; never image bytes), ``datasete-gate-ready``
(the full-resolution PNGs for the MaskEditor exist), ``datasete-gate-done``
(the pause ended: routed, stopped, interrupted, timeout).
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import threading

from aiohttp import web

import folder_paths
from server import PromptServer

from . import imaging
from .gate_bus import GateBus, GateError

log = logging.getLogger("datasete_gate")
routes = PromptServer.instance.routes
SUBFOLDER = "datasete_gate"
MAX_PREVIEWS = 16                 # a batch shows at most this many thumbnails
_files_lock = threading.Lock()
_ended_tokens: set = set()


def current_prompt_id():
    try:
        from comfy_execution.utils import get_executing_context

        ctx = get_executing_context()
        if ctx is not None and getattr(ctx, "prompt_id", None):
            return ctx.prompt_id
    except ImportError:
        pass
    return getattr(PromptServer.instance, "last_prompt_id", None)


def _send(event, data):
    PromptServer.instance.send_sync(event, data)   # sid=None: every open tab


def _preview_dir():
    d = os.path.join(folder_paths.get_temp_directory(), SUBFOLDER)
    os.makedirs(d, exist_ok=True)
    return d


def _ref(name, w, h):
    return {"filename": name, "subfolder": SUBFOLDER, "type": "temp", "width": w, "height": h}


def _remove(path):
    try:
        if path:
            os.remove(path)
    except OSError:
        pass


def _publish(tmp, final, token):
    """Rename a finished file into place unless its pause already ended."""
    with _files_lock:
        if token in _ended_tokens:
            os.remove(tmp)
        else:
            os.replace(tmp, final)


def show(pause, image):
    """Write the previews, announce the pause, and write full PNGs in the background."""
    d = _preview_dir()
    b, h, w = int(image.shape[0]), int(image.shape[1]), int(image.shape[2])
    n = min(b, MAX_PREVIEWS)
    small = imaging.downscale(image[:n])
    previews = []
    for i in range(n):
        name = f"{pause.token}_{i}_preview.jpg"
        tmp = os.path.join(d, name + ".part")
        imaging.save_jpeg(imaging.tensor_to_uint8(small[i]), tmp)
        _publish(tmp, os.path.join(d, name), pause.token)
        previews.append(_ref(name, int(small.shape[2]), int(small.shape[1])))
    full = [_ref(f"{pause.token}_{i}_full.png", w, h) for i in range(n)]
    GateBus.update(pause.node_id, pause.token, previews=previews, full=full, width=w, height=h, batch=b)
    _send("datasete-gate-show", pause.public())

    frames = image[:n].detach().cpu()

    def write_full():
        ended = lambda: pause.token in _ended_tokens   # noqa: E731
        tmp = None
        try:
            for i, ref in enumerate(full):
                tmp = os.path.join(d, ref["filename"] + ".part")
                imaging.save_png_stoppable(frames[i], tmp, should_stop=ended)
                _publish(tmp, os.path.join(d, ref["filename"]), pause.token)
            GateBus.update(pause.node_id, pause.token, full_ready=True)
            _send("datasete-gate-ready", {"id": pause.node_id, "token": pause.token, "full": full})
        except imaging.Abandoned:       # the pause ended first: nobody will open the editor on it
            _remove(tmp)
        except Exception:
            _remove(tmp)
            log.exception("Image Gate: writing the full-resolution preview failed")

    threading.Thread(target=write_full, name="datasete-gate-full", daemon=True).start()


def ended(pause, outcome):
    """Tell every tab the pause is over and delete its preview files."""
    d = _preview_dir()
    with _files_lock:
        _ended_tokens.add(pause.token)
        if len(_ended_tokens) > 1000:
            _ended_tokens.clear()
            _ended_tokens.add(pause.token)
        for name in os.listdir(d):
            if name.startswith(pause.token + "_") and not name.endswith(".part"):
                try:
                    os.remove(os.path.join(d, name))
                except OSError:
                    pass
    _send("datasete-gate-done", {"id": pause.node_id, "token": pause.token, "outcome": outcome})


# ---- HTTP --------------------------------------------------------------------

def _error(message, status=400):
    return web.json_response({"error": message}, status=status)


async def _fields(request):
    """Body fields from JSON or a form; a GateError when the body is malformed."""
    ctype = request.content_type or ""
    if ctype == "application/json":
        try:
            data = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
            raise GateError("the body is not valid JSON")
        if not isinstance(data, dict):
            raise GateError("the JSON body must be an object")
        return data
    try:
        return dict(await request.post())
    except web.HTTPException:
        raise
    except Exception:
        raise GateError("the body is not a valid form")


@routes.post("/datasete_gate/choice")
async def _choice(request):
    try:
        data = await _fields(request)
        if "message" not in data:
            raise GateError("missing field 'message' (a route number or '__cancel__')")
        taken = GateBus.answer(data.get("id"), data.get("token"), data.get("message"))
    except GateError as e:
        return _error(str(e), e.status)
    return web.json_response({"ok": True, "taken": taken})


def _resolve_ref(ref):
    """A MaskEditor file ref -> a real path inside ComfyUI's input or temp folder."""
    if not isinstance(ref, dict):
        raise GateError("'ref' must be an object {filename, subfolder, type}")
    name, sub, kind = ref.get("filename"), ref.get("subfolder") or "", ref.get("type") or "input"
    if not isinstance(name, str) or not name or not isinstance(sub, str) or not isinstance(kind, str):
        raise GateError("'ref' needs a string 'filename' (and optional string 'subfolder', 'type')")
    if "\x00" in name + sub:
        raise GateError("the ref holds a NUL character")
    bases = {"input": folder_paths.get_input_directory(), "temp": folder_paths.get_temp_directory()}
    if kind not in bases:
        raise GateError("ref 'type' must be 'input' or 'temp'")
    base = os.path.realpath(bases[kind])
    path = os.path.realpath(os.path.join(base, sub, name))
    if os.path.commonpath([path, base]) != base or path == base:
        raise GateError(f"the ref points outside ComfyUI's {kind} folder", 403)
    if not os.path.isfile(path):
        raise GateError(f"no file {os.path.join(sub, name)!r} in ComfyUI's {kind} folder", 404)
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
                            raise GateError(f"the mask is over {imaging.MAX_MASK_BYTES // 2**20} MiB", 413)
                    data = bytes(buf)
                elif part.name in ("id", "token"):
                    fields[part.name] = (await part.read(decode=False))[:4096].decode("utf-8", "replace")
                else:
                    await part.release()
        except GateError:
            raise
        except web.HTTPException:
            raise
        except Exception:
            raise GateError("the multipart body is malformed or truncated")
        fields["mask"] = data
        return fields
    return await _fields(request)


@routes.post("/datasete_gate/mask")
async def _mask(request):
    try:
        data = await _mask_fields(request)
        pause = GateBus.get(data.get("id"), data.get("token"))
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
        else:
            raise GateError("send a 'mask' image (multipart) or a MaskEditor file 'ref' (JSON)")
        GateBus.attach_mask(pause.node_id, pause.token, mask)
    except imaging.BadImage as e:
        return _error(str(e), 400)
    except GateError as e:
        return _error(str(e), e.status)
    return web.json_response({"ok": True, "height": int(mask.shape[0]), "width": int(mask.shape[1])})


@routes.get("/datasete_gate/pending")
async def _pending(request):
    return web.json_response({"pending": GateBus.list_pending()})
