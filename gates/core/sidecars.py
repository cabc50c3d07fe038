"""Sidecar chains: text files written beside an image under its name. Stdlib only.

A chain is an immutable tuple of :class:`Spec` (ComfyUI may hand one cached
output to several nodes, so nobody can append to another's chain). The file of
a spec is ``<image stem><name><ext>``, the original project's rule: with its
counter names (``ComfyUI_00001_``) an empty name gives ``ComfyUI_00001_.txt``,
and beside ``cat_01.png`` it gives ``cat_01.txt``; ``.meta`` gives
``cat_01.meta.json``. Everything is checked before the first byte is written.
"""
from __future__ import annotations

import json
import logging
import re
from typing import NamedTuple

from .names import LOGGER

TYPE = "SIDECAR"                     # the socket type, as in the original
# Text and data formats only: nothing a machine would run or an image viewer would pick up.
ALLOWED_EXTENSIONS = (".txt", ".caption", ".json", ".yaml", ".yml", ".md", ".csv", ".tsv", ".xml", ".log",
                      ".ini", ".toml")
_log = logging.getLogger(LOGGER)
_BAD = re.compile(r'[<>:"/\\|?*\x00-\x1f]')


class Spec(NamedTuple):
    content: str
    name: str
    ext: str

    @property
    def suffix(self) -> str:
        return self.name + self.ext


def check_ext(ext) -> str:
    """``.json`` / ``json`` -> ``.json`` when allowed (any case), else a ValueError naming it."""
    e = str(ext if ext is not None else "").strip()
    if e and not e.startswith("."):
        e = "." + e
    if e.lower() not in ALLOWED_EXTENSIONS:
        raise ValueError(f"sidecar extension {str(ext)!r} is not allowed; allowed: {', '.join(ALLOWED_EXTENSIONS)}")
    return e.lower()


def check_name(name) -> str:
    """A name that stays a part of one file name, nothing invalid on Windows.

    As in the original project, a path part is dropped (``sub/v`` -> ``v``, ``../evil`` -> ``evil``)
    with a warning in the log; what is left may not hold '..' (``sub/..`` is refused)."""
    given = n = str(name if name is not None else "").strip()
    if "/" in n or "\\" in n:
        bare = re.split(r"[/\\]", n)[-1].strip()
        _log.warning("sidecar name %r holds a path; its path part is dropped: %r", n, bare)
        n = bare
    if ".." in n:
        raise ValueError(f"sidecar name {given!r} contains '..', which is not allowed (it would leave the folder)")
    bad = _BAD.search(n)
    if bad:
        raise ValueError(f"sidecar name {n!r} contains {bad.group()!r}, which is invalid in a file name")
    if len(n.encode("utf-8")) > 100:
        raise ValueError(f"sidecar name {n[:30]!r}... is too long (over 100 bytes)")
    return n


def _key(suffix: str) -> str:
    return suffix.lower()          # case-insensitive file systems would make a.TXT and a.txt one file


def append(chain, content, name, ext) -> tuple:
    """A new chain: ``chain`` plus this sidecar, checked (extension, name, duplicate)."""
    chain = tuple(chain or ())
    spec = Spec("" if content is None else str(content), check_name(name), check_ext(ext))
    return plan(chain + (spec,))


def plan(chain, reserved: dict | None = None) -> tuple:
    """Validate a whole chain; return it as a tuple of Specs.

    ``reserved`` maps suffixes the saver writes itself (``.txt`` for the caption)
    to what they are, so a sidecar cannot silently overwrite them.
    """
    seen = {_key(s): what for s, what in (reserved or {}).items()}
    out = []
    for raw in chain or ():
        if isinstance(raw, dict):            # the original's chain items: {content, name, ext}
            raw = Spec(raw.get("content"), raw.get("name"), raw.get("ext"))
        if not isinstance(raw, Spec):
            raise ValueError(f"not a sidecar chain item: {raw!r} (wire a Sidecar node)")
        s = Spec("" if raw.content is None else str(raw.content), check_name(raw.name), check_ext(raw.ext))
        k = _key(s.suffix)
        if k in seen:
            raise ValueError(f"two sidecars would write the same file '<image>{s.suffix}' "
                             f"({seen[k]} and name={s.name!r}, extension {s.ext}): give one a distinct name")
        seen[k] = f"name={s.name!r}, extension {s.ext}"
        out.append(s)
    return tuple(out)


def files_for(stem: str, chain) -> list:
    """(file name, UTF-8 bytes) of every sidecar of an image with this stem."""
    return [(stem + s.suffix, s.content.encode("utf-8")) for s in chain]


def json_content(**fields) -> str:
    """A stable JSON text for a ``.json`` sidecar (e.g. a gate decision: route, label, source)."""
    return json.dumps(fields, ensure_ascii=False, sort_keys=True, indent=2) + "\n"
