"""HTTP routes of the Image Pool (Grid) and Pool Profile nodes. Imported only inside ComfyUI.

Under the pack's prefix (``names.ROUTE_POOL_*``, ``names.ROUTE_PROFILES_*``). Every pool route
answers the pool's manifest (``{active, slots, next_seq}``), as the original's; a refused request
gets a 4xx JSON ``{error}`` and changes nothing (a bad or escaping id, an index out of range, a
file that is not an image).

* ``GET  pool/list?pool_id=``                      the manifest
* ``POST pool/add``      multipart ``pool_id, image`` (+ ``ts``, ``label``)
* ``POST pool/active``   ``{pool_id, index}``      the clicked slot
* ``POST pool/label``    ``{pool_id, index, label}``
* ``POST pool/set_mask`` multipart ``pool_id, index, mask`` (grayscale PNG, white = painted, or a
                         MaskEditor RGBA file: painted = transparent), or JSON ``{pool_id, index,
                         ref: {filename, subfolder, type}}`` (a file the MaskEditor saved), or
                         ``{pool_id, index, clear: true}``
* ``POST pool/remove``   ``{pool_id, index}``
* ``GET  pool/profiles/list``; ``POST pool/profiles/create {name}``, ``rename {id, name}``,
  ``delete {id}``, ``duplicate {id, name}``; ``GET pool/profiles/export?id=`` (a zip);
  ``POST pool/profiles/import`` multipart ``file`` (+ ``name``)
"""
from __future__ import annotations

import asyncio
import io
import json
import tempfile
import time

from aiohttp import web
from server import PromptServer

from ..core import imaging, names, pool, pool_profiles
from ..core.pool import PoolError
from ..nodes.pool_nodes import pool_base

routes = PromptServer.instance.routes


def _call(fn):
    """A handler: run ``fn(request)`` (async), its PoolError / BadImage as a 4xx JSON error."""
    async def handler(request):
        try:
            out = await fn(request)
        except PoolError as e:
            return web.json_response({"error": str(e)}, status=e.status)
        except imaging.BadImage as e:
            return web.json_response({"error": str(e)}, status=400)
        return out if isinstance(out, web.StreamResponse) else web.json_response(out)
    return handler


async def _json(request) -> dict:
    try:
        data = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        raise PoolError("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise PoolError("the JSON body must be an object")
    return data


async def _multipart(request, big: str, limit: int) -> dict:
    """Text fields and one file part ``big`` (at most ``limit`` bytes) of a multipart body."""
    if not (request.content_type or "").startswith("multipart/"):
        raise PoolError(f"send a multipart form with '{big}'")
    fields: dict = {}
    try:
        reader = await request.multipart()
        async for part in reader:
            if part.name == big:
                buf = bytearray()
                while True:
                    chunk = await part.read_chunk(1 << 20)
                    if not chunk:
                        break
                    buf += chunk
                    if len(buf) > limit:
                        raise PoolError(f"'{big}' is over {limit // 2**20} MiB", 413)
                fields[big] = bytes(buf)
            elif part.name:
                fields[part.name] = (await part.read(decode=False))[:4096].decode("utf-8", "replace")
    except (PoolError, web.HTTPException):
        raise
    except Exception:
        raise PoolError("the multipart body is malformed or truncated") from None
    return fields


def _run(fn, *args):
    return asyncio.get_running_loop().run_in_executor(None, fn, *args)


async def _list(request):
    return await _run(pool.read_manifest, pool_base(), request.query.get("pool_id", "default"))


async def _add(request):
    f = await _multipart(request, "image", pool.MAX_IMAGE_BYTES)
    if "image" not in f:
        raise PoolError("send the image as the multipart field 'image'")
    ts = f.get("ts", "")
    ts = int(ts) if ts.strip().isdigit() else int(time.time() * 1000)
    return await _run(pool.add_image, pool_base(), f.get("pool_id", "default"), f["image"], ts,
                      f.get("label", ""))


async def _active(request):
    d = await _json(request)
    return await _run(pool.set_active, pool_base(), d.get("pool_id"), d.get("index"))


async def _label(request):
    d = await _json(request)
    return await _run(pool.set_label, pool_base(), d.get("pool_id"), d.get("index"), d.get("label"))


async def _remove(request):
    d = await _json(request)
    return await _run(pool.remove_slot, pool_base(), d.get("pool_id"), d.get("index"))


async def _set_mask(request):
    if (request.content_type or "").startswith("multipart/"):
        d = await _multipart(request, "mask", imaging.MAX_MASK_BYTES)
        if "mask" not in d:
            raise PoolError("send the mask as the multipart field 'mask'")
        mask = await _run(imaging.decode_gray_mask, d["mask"])
    else:
        d = await _json(request)
        if d.get("clear") is True:
            mask = None
        elif "ref" in d:
            from .routes import RequestError, _resolve_ref

            try:
                path = _resolve_ref(d["ref"])
            except RequestError as e:
                raise PoolError(str(e), e.status) from None
            mask = await _run(imaging.decode_editor_file, path)
        else:
            raise PoolError("send a 'mask' image (multipart), a MaskEditor file 'ref' or 'clear': true")
    pool.check_id(d.get("pool_id"))
    return await _run(pool.set_mask, pool_base(), d.get("pool_id"), d.get("index"), mask)


async def _profiles_list(request):
    return pool_profiles.read_registry(pool_base())


async def _profiles_create(request):
    d = await _json(request)
    return await _run(pool_profiles.create, pool_base(), d.get("name"), int(time.time()))


async def _profiles_rename(request):
    d = await _json(request)
    return await _run(pool_profiles.rename, pool_base(), d.get("id"), d.get("name"))


async def _profiles_delete(request):
    d = await _json(request)
    return await _run(pool_profiles.delete, pool_base(), d.get("id"))


async def _profiles_duplicate(request):
    d = await _json(request)
    return await _run(pool_profiles.duplicate, pool_base(), d.get("id"), d.get("name"), int(time.time()))


async def _profiles_export(request):
    pid = request.query.get("id", "")
    buf = io.BytesIO()
    name = await _run(pool_profiles.export_zip, pool_base(), pid, buf)
    safe = "".join(c if c.isalnum() or c in "-_. ()" else "_" for c in name)[:100] or "profile"
    return web.Response(body=buf.getvalue(), content_type="application/zip",
                        headers={"Content-Disposition": f'attachment; filename="{safe}.zip"'})


async def _profiles_import(request):
    d = await _multipart(request, "file", pool_profiles.MAX_ZIP_BYTES)
    if "file" not in d:
        raise PoolError("send the zip as the multipart field 'file'")
    with tempfile.SpooledTemporaryFile(max_size=64 * 2**20) as f:
        f.write(d["file"])
        f.seek(0)
        return await _run(pool_profiles.import_zip, pool_base(), f, d.get("name"), int(time.time()))


for path, method, fn in (
        (names.ROUTE_POOL_LIST, "get", _list), (names.ROUTE_POOL_ADD, "post", _add),
        (names.ROUTE_POOL_ACTIVE, "post", _active), (names.ROUTE_POOL_LABEL, "post", _label),
        (names.ROUTE_POOL_SET_MASK, "post", _set_mask), (names.ROUTE_POOL_REMOVE, "post", _remove),
        (names.ROUTE_PROFILES_LIST, "get", _profiles_list), (names.ROUTE_PROFILES_CREATE, "post", _profiles_create),
        (names.ROUTE_PROFILES_RENAME, "post", _profiles_rename),
        (names.ROUTE_PROFILES_DELETE, "post", _profiles_delete),
        (names.ROUTE_PROFILES_DUPLICATE, "post", _profiles_duplicate),
        (names.ROUTE_PROFILES_EXPORT, "get", _profiles_export),
        (names.ROUTE_PROFILES_IMPORT, "post", _profiles_import)):
    getattr(routes, method)(path)(_call(fn))
