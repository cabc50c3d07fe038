"""Pool Profile: named pools, portable as zip files. Stdlib only (and ``pool``'s checks).

As the original project: ``<input>/grid_pool/profiles.json`` maps names to ids,
``{"profiles": [{"id", "name", "created"}]}``; a profile's images are the pool
``<input>/grid_pool/<id>/``. An exported zip holds ``profile_meta.json``
(``{"name": ...}``) and the pool's files under ``pool/``; an import makes a new
id (never overwriting a profile) and a free name (``name (2)``).
"""
from __future__ import annotations

import json
import os
import shutil
import uuid
import zipfile

from . import files, pool
from .pool import PoolError

REGISTRY = "profiles.json"
META = "profile_meta.json"
MAX_NAME = 200
MAX_ZIP_FILES = 20000
MAX_ZIP_BYTES = 4 * 1024 ** 3


def read_registry(base: str) -> dict:
    path = os.path.join(base, REGISTRY)
    try:
        with open(path, encoding="utf-8") as f:
            reg = json.load(f)
        if not isinstance(reg, dict) or not isinstance(reg.get("profiles"), list):
            raise ValueError("bad registry")
        reg["profiles"] = [p for p in reg["profiles"] if isinstance(p, dict) and isinstance(p.get("id"), str)
                           and isinstance(p.get("name"), str)]
        return reg
    except (OSError, ValueError, UnicodeDecodeError):
        return {"profiles": []}                       # missing or corrupt: empty, as the original


def write_registry(base: str, reg: dict) -> dict:
    os.makedirs(base, exist_ok=True)
    files.atomic_write_bytes(os.path.join(base, REGISTRY), json.dumps(reg, indent=2).encode("utf-8"))
    return reg


def check_name(name) -> str:
    if not isinstance(name, str) or not name.strip():
        raise PoolError("'name' must be a non-empty string")
    n = name.strip()
    if len(n) > MAX_NAME or any(ord(c) < 32 for c in n):
        raise PoolError(f"profile name {n[:40]!r} is too long or holds control characters")
    return n


def find(reg: dict, pid=None, name=None):
    return next((p for p in reg["profiles"] if (pid is not None and p["id"] == pid)
                 or (name is not None and p["name"] == name)), None)


def _entry(reg, pid):
    e = find(reg, pid=pool.check_id(pid))
    if not e:
        raise PoolError(f"no profile with id {pid!r}", 404)
    return e


def _free(reg, name):
    cand, i = name, 2
    while find(reg, name=cand):
        cand, i = f"{name} ({i})", i + 1
    return cand


def new_id() -> str:
    return uuid.uuid4().hex


def create(base: str, name, ts: int = 0, pid: str | None = None) -> dict:
    with pool.LOCK:
        reg, n = read_registry(base), check_name(name)
        if find(reg, name=n):
            raise PoolError(f"a profile named {n!r} exists already", 409)
        pid = pool.check_id(pid or new_id())
        os.makedirs(pool.pool_dir(base, pid), exist_ok=True)
        entry = {"id": pid, "name": n, "created": int(ts)}
        reg["profiles"].append(entry)
        write_registry(base, reg)
        return entry


def rename(base: str, pid, name) -> dict:
    with pool.LOCK:
        reg, n = read_registry(base), check_name(name)
        entry = _entry(reg, pid)
        other = find(reg, name=n)
        if other and other["id"] != entry["id"]:
            raise PoolError(f"a profile named {n!r} exists already", 409)
        entry["name"] = n
        write_registry(base, reg)
        return entry


def delete(base: str, pid) -> dict:
    with pool.LOCK:
        reg = read_registry(base)
        entry = _entry(reg, pid)
        reg["profiles"] = [p for p in reg["profiles"] if p["id"] != entry["id"]]
        write_registry(base, reg)
        d = pool.pool_dir(base, entry["id"])
        if os.path.isdir(d) and not os.path.islink(d):
            shutil.rmtree(d)
        return reg


def duplicate(base: str, pid, name, ts: int = 0) -> dict:
    with pool.LOCK:
        reg, n = read_registry(base), check_name(name)
        src = _entry(reg, pid)
        if find(reg, name=n):
            raise PoolError(f"a profile named {n!r} exists already", 409)
        new = new_id()
        sdir, ddir = pool.pool_dir(base, src["id"]), pool.pool_dir(base, new)
        os.makedirs(ddir)
        if os.path.isdir(sdir):
            for f in os.listdir(sdir):
                p = os.path.join(sdir, f)
                if os.path.isfile(p) and not os.path.islink(p) and not f.startswith("."):
                    shutil.copy2(p, os.path.join(ddir, f))
        entry = {"id": new, "name": n, "created": int(ts)}
        reg["profiles"].append(entry)
        write_registry(base, reg)
        return entry


def export_zip(base: str, pid, out) -> str:
    """Write the profile's zip (the original's format) to the file object ``out``; return its name."""
    reg = read_registry(base)
    entry = find(reg, pid=pool.check_id(pid))
    d = pool.pool_dir(base, pid)
    if not os.path.isdir(d):
        raise PoolError(f"no pool or profile {pid!r}", 404)
    name = entry["name"] if entry else pid
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(META, json.dumps({"name": name}))
        for f in sorted(os.listdir(d)):
            p = os.path.join(d, f)
            if os.path.isfile(p) and not os.path.islink(p) and not f.startswith("."):
                z.write(p, arcname=f"pool/{f}")
    return name


def import_zip(base: str, src, name=None, ts: int = 0) -> dict:
    """A new profile from a zip in the original's format (``src``: a path or a file object).

    Refused with nothing written: not a zip, an entry that would leave the pool folder
    (``..``, absolute, a subfolder), too many or too large files."""
    try:
        z = zipfile.ZipFile(src)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise PoolError("the upload is not a zip file") from None
    with z:
        infos = [i for i in z.infolist() if not i.is_dir()]
        if len(infos) > MAX_ZIP_FILES or sum(i.file_size for i in infos) > MAX_ZIP_BYTES:
            raise PoolError("the zip holds too many or too large files", 413)
        meta, members = None, []
        for i in infos:
            n = i.filename
            if n.startswith("/") or "\\" in n or ".." in n.split("/") or os.path.isabs(n) or ":" in n:
                raise PoolError(f"zip entry {n[:80]!r} would leave the pool folder")
            if n == META:
                try:
                    meta = json.loads(z.read(i).decode("utf-8")).get("name")
                except (ValueError, UnicodeDecodeError, AttributeError):
                    raise PoolError(f"{META} in the zip is not JSON") from None
            elif n.startswith("pool/"):
                member = n[len("pool/"):]
                if "/" in member:
                    raise PoolError(f"zip entry {n[:80]!r} is in a subfolder; a pool is flat")
                members.append((i, pool.check_member(member)))
        with pool.LOCK:
            reg = read_registry(base)
            pid = new_id()
            d = pool.pool_dir(base, pid)
            os.makedirs(d)
            try:
                for i, member in members:
                    with z.open(i) as f:
                        data = f.read(MAX_ZIP_BYTES + 1)
                    files.atomic_write_bytes(os.path.join(d, member), data)
            except BaseException:
                shutil.rmtree(d, ignore_errors=True)
                raise
            wanted = name if isinstance(name, str) and name.strip() else (meta if isinstance(meta, str) else "")
            entry = {"id": pid, "name": _free(reg, check_name(wanted or pid)), "created": int(ts)}
            reg["profiles"].append(entry)
            write_registry(base, reg)
            return entry


def resolve(base: str | None, profile_id, name) -> str:
    """The pool id a Pool Profile node stands for: its id when registered, else the profile of that name,
    else the id as given, else 'default' (the original's fallback)."""
    pid = str(profile_id or "").strip()
    if base and (pid or name):
        reg = read_registry(base)
        if pid and find(reg, pid=pid):
            return pid
        e = find(reg, name=str(name or "").strip()) if name else None
        if e:
            return e["id"]
    return pool.check_id(pid) if pid else "default"
