"""The ``filter`` query of the Folder Image Loader and Caption Batch Edit: parser and evaluator. Stdlib only.

Grammar (keywords in any case; juxtaposition means AND)::

    query   := or
    or      := and ( "OR" and )*
    and     := unary ( ["AND"] unary )*
    unary   := "NOT" unary | "(" or ")" | term
    term    := field ":" value | value            (a bare value = caption:value)
    field   := tag | caption | ext | has | width | height | tokens | sharpness | black | white | clipped
    value   := word | "quoted string"             (\\" and \\\\ inside quotes)
    number  := ["<" | "<=" | ">" | ">=" | "="] integer      (width, height, tokens)
    measure := ["<" | "<=" | ">" | ">=" | "="] decimal      (sharpness, black, white, clipped)

``tag:cat`` is a whole comma-separated tag (case-insensitive), ``caption:"red hat"``
a substring of the caption (case-insensitive), ``ext:png`` the file's extension
(``jpg`` and ``jpeg`` are the same), ``has:caption`` / ``has:mask`` a non-empty
``<stem>.txt`` / a ``<stem>.mask.png``. ``sharpness:<50`` compares the image's
sharpness (variance of the Laplacian, see ``quality``), ``black:>5`` / ``white:>5``
/ ``clipped:>5`` the percentage of its pixels clipped to black / white / either.
NOT binds tightest, then AND, then OR.
A mistake raises :class:`QueryError`, which names the position and what was expected.
"""
from __future__ import annotations

import os
import re

from . import tags as tagmod

FIELDS = ("tag", "caption", "ext", "has", "width", "height", "tokens", "sharpness", "black", "white", "clipped")
QUALITY = ("sharpness", "black", "white", "clipped")          # quality signals (gates/core/quality.py)
NUMERIC = ("width", "height", "tokens") + QUALITY
HAS = ("caption", "mask")
_OPS = ("<=", ">=", "<", ">", "=")
_NUMBER = re.compile(r"(<=|>=|<|>|=)?\s*(\d+)$")
_DECIMAL = re.compile(r"(<=|>=|<|>|=)?\s*(\d+(?:\.\d*)?|\.\d+)$")
_EXT_ALIASES = {"jpeg": "jpg", "tiff": "tif"}


class QueryError(ValueError):
    def __init__(self, text: str, pos: int, expected: str):
        self.text, self.pos, self.expected = text, pos, expected
        super().__init__(f"filter: at position {pos + 1}: {expected}\n  {text}\n  {' ' * pos}^")


# ---- tokens -----------------------------------------------------------------------------------

class Tok:
    __slots__ = ("kind", "value", "pos", "field")

    def __init__(self, kind, value, pos, field=None):
        self.kind, self.value, self.pos, self.field = kind, value, pos, field

    def __repr__(self):
        return f"Tok({self.kind}, {self.value!r}, {self.pos})"


def _read_value(text: str, i: int) -> tuple:
    """(value, next index, was quoted) of the value starting at ``i``."""
    n = len(text)
    if i < n and text[i] == '"':
        out, j = [], i + 1
        while j < n and text[j] != '"':
            if text[j] == "\\" and j + 1 < n:
                j += 1
            out.append(text[j])
            j += 1
        if j >= n:
            raise QueryError(text, i, 'expected a closing " for the quote that starts here')
        return "".join(out), j + 1, True
    j = i
    while j < n and not text[j].isspace() and text[j] not in '()"':
        j += 1
    return text[i:j], j, False


def tokenize(text: str) -> list:
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "()":
            out.append(Tok(c, c, i))
            i += 1
        else:
            start = i
            m = re.match(r"([A-Za-z_]+):", text[i:])
            if m and m.group(1).lower() in FIELDS:
                field = m.group(1).lower()
                i += len(m.group(0))
                if i >= n or text[i].isspace() or text[i] in "()":
                    raise QueryError(text, i, f"expected a value after '{m.group(0)}'")
                value, i, _ = _read_value(text, i)
                out.append(Tok("term", value, start, field))
            elif m:
                raise QueryError(text, start, f"expected a field ({', '.join(FIELDS)}), got '{m.group(1)}'")
            else:
                value, i, quoted = _read_value(text, i)
                if not quoted and value.upper() in ("AND", "OR", "NOT"):
                    out.append(Tok(value.upper(), value, start))
                else:
                    out.append(Tok("term", value, start, "caption"))
    return out


# ---- the tree -----------------------------------------------------------------------------------

class Term:
    def __init__(self, field: str, value, op: str = "="):
        self.field, self.value, self.op = field, value, op

    def __repr__(self):
        if self.field in NUMERIC:
            return f"{self.field}{self.op}{self.value}"
        return f"{self.field}:{self.value!r}"

    def eval(self, c, count_tokens) -> bool:
        f = self.field
        if f == "tag":
            return tagmod.has_tag(c.caption(), self.value)
        if f == "caption":
            return self.value.casefold() in c.caption().casefold()
        if f == "ext":
            return _ext(c.ext()) == self.value
        if f == "has":
            return bool(c.caption().strip()) if self.value == "caption" else bool(c.has_mask())
        if f == "tokens":
            if count_tokens is None:
                raise ValueError("filter: tokens: needs a tokenizer (inside ComfyUI, its SD1 CLIP tokenizer)")
            got = count_tokens(c.caption())
        elif f in QUALITY:
            sig = c.signals()
            if sig is None:                   # unreadable: no signal matches any comparison
                return False
            got = sig.sharpness if f == "sharpness" else 100.0 * (
                sig.black if f == "black" else sig.white if f == "white" else sig.black + sig.white)
        else:
            w, h = c.size()
            got = w if f == "width" else h
        v = self.value
        return {"<": got < v, "<=": got <= v, ">": got > v, ">=": got >= v, "=": got == v}[self.op]


class Not:
    def __init__(self, a):
        self.a = a

    def __repr__(self):
        return f"NOT {self.a!r}"

    def eval(self, c, count_tokens) -> bool:
        return not self.a.eval(c, count_tokens)


class And:
    def __init__(self, parts):
        self.parts = parts

    def __repr__(self):
        return "(" + " AND ".join(map(repr, self.parts)) + ")"

    def eval(self, c, count_tokens) -> bool:
        return all(p.eval(c, count_tokens) for p in self.parts)


class Or(And):
    def __repr__(self):
        return "(" + " OR ".join(map(repr, self.parts)) + ")"

    def eval(self, c, count_tokens) -> bool:
        return any(p.eval(c, count_tokens) for p in self.parts)


def _ext(ext: str) -> str:
    e = str(ext or "").lower().lstrip(".")
    return _EXT_ALIASES.get(e, e)


class _Parser:
    def __init__(self, text: str):
        self.text, self.toks, self.i = text, tokenize(text), 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else None

    def where(self) -> int:
        t = self.peek()
        return t.pos if t else len(self.text)

    def parse(self):
        node = self.or_()
        t = self.peek()
        if t is not None:
            raise QueryError(self.text, t.pos, "unmatched ')': expected AND, OR or the end, got ')'"
                             if t.kind == ")" else f"expected the end, got '{t.value}'")
        return node

    def or_(self):
        parts = [self.and_()]
        while self.peek() is not None and self.peek().kind == "OR":
            self.i += 1
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else Or(parts)

    def and_(self):
        parts = [self.unary()]
        while True:
            t = self.peek()
            if t is None or t.kind in ("OR", ")"):
                break
            if t.kind == "AND":
                self.i += 1
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else And(parts)

    def unary(self):
        t = self.peek()
        if t is None:
            raise QueryError(self.text, len(self.text), "expected a term (field:value), NOT or '(' at the end")
        if t.kind == "NOT":
            self.i += 1
            return Not(self.unary())
        if t.kind == "(":
            self.i += 1
            node = self.or_()
            end = self.peek()
            if end is None or end.kind != ")":
                raise QueryError(self.text, self.where(), f"expected ')' to close the '(' at position {t.pos + 1}")
            self.i += 1
            return node
        if t.kind == "term":
            self.i += 1
            return self.term(t)
        raise QueryError(self.text, t.pos, f"expected a term (field:value), NOT or '(', got '{t.value}'")

    def term(self, t: Tok):
        f, v = t.field, t.value
        vpos = t.pos + (len(f) + 1 if self.text[t.pos:t.pos + len(f) + 1].lower() == f + ":" else 0)
        if f in QUALITY:
            m = _DECIMAL.match(v.strip())
            if not m:
                unit = "" if f == "sharpness" else " (a percentage of the pixels)"
                raise QueryError(self.text, vpos, f"expected a number after '{f}:'{unit}, optionally after "
                                 f"{', '.join(_OPS)} (e.g. {f}:<{50 if f == 'sharpness' else 5}), got '{v}'")
            return Term(f, float(m.group(2)), m.group(1) or "=")
        if f in NUMERIC:
            m = _NUMBER.match(v.strip())
            if not m:
                raise QueryError(self.text, vpos, f"expected a number after '{f}:', optionally after "
                                 f"{', '.join(_OPS)} (e.g. {f}:<1024), got '{v}'")
            return Term(f, int(m.group(2)), m.group(1) or "=")
        if f == "has":
            if v.lower() not in HAS:
                raise QueryError(self.text, vpos, f"expected has:caption or has:mask, got 'has:{v}'")
            return Term(f, v.lower())
        if f == "ext":
            return Term(f, _ext(v))
        if not v.strip():
            raise QueryError(self.text, vpos, f"expected a non-empty value after '{f}:'")
        return Term(f, v)


class Query:
    """A parsed filter; an empty one matches everything."""

    def __init__(self, text: str = ""):
        self.text = str(text or "").strip()
        self.tree = _Parser(self.text).parse() if self.text else None

    def __bool__(self):
        return self.tree is not None

    def __repr__(self):
        return f"Query({self.tree!r})"

    def fields(self) -> set:
        out, todo = set(), [self.tree] if self.tree else []
        while todo:
            n = todo.pop()
            if isinstance(n, Term):
                out.add(n.field)
            elif isinstance(n, Not):
                todo.append(n.a)
            else:
                todo.extend(n.parts)
        return out

    def matches(self, candidate, count_tokens=None) -> bool:
        return True if self.tree is None else self.tree.eval(candidate, count_tokens)


def parse(text: str) -> Query:
    return Query(text)


# ---- what a query looks at ---------------------------------------------------------------------

class Record:
    """An image as the evaluator sees it, from plain values (tests, the page)."""

    def __init__(self, caption: str = "", width: int = 0, height: int = 0, ext: str = "png", mask: bool = False,
                 signals=None):
        self._caption, self._size, self._ext, self._mask = caption, (width, height), ext, mask
        self._signals = signals

    def caption(self) -> str:
        return self._caption

    def size(self) -> tuple:
        return self._size

    def ext(self) -> str:
        return self._ext

    def has_mask(self) -> bool:
        return self._mask

    def signals(self):
        """The image's ``quality.Signals`` (None when it could not be read)."""
        return self._signals


class FileRecord(Record):
    """An image file of a folder: caption, size (header only) and mask read on first use."""

    def __init__(self, folder: str, rel: str, signals=None):
        self.folder, self.rel = folder, rel
        self._cap = self._sz = None
        self._signals = signals

    def caption(self) -> str:
        if self._cap is None:
            from .scan import read_sidecar

            self._cap = read_sidecar(self.folder, self.rel)
        return self._cap

    def size(self) -> tuple:
        if self._sz is None:
            from .summary import _size

            try:
                self._sz = _size(os.path.join(self.folder, self.rel))
            except Exception:
                self._sz = (0, 0)
        return self._sz

    def ext(self) -> str:
        return os.path.splitext(self.rel)[1]

    def has_mask(self) -> bool:
        from .scan import MASK_SUFFIX

        return os.path.exists(os.path.join(self.folder, os.path.splitext(self.rel)[0] + MASK_SUFFIX))


def needs_signals(query) -> bool:
    """Does the query look at quality signals (so they must be measured first)?"""
    q = query if isinstance(query, Query) else Query(query)
    return bool(q.fields() & set(QUALITY))


def filter_files(folder: str, files: list, query, count_tokens=None, signals=None) -> list:
    """The files (relative paths, order kept) whose image and caption match ``query`` (text or Query).

    ``signals`` (rel -> quality.Signals) serves the quality fields; without it they are measured here,
    uncached (the nodes pass the folder's cached signals)."""
    q = query if isinstance(query, Query) else Query(query)
    if not q:
        return list(files)
    if signals is None and needs_signals(q):
        from . import quality

        signals = quality.signals_for(folder, files, None)
    get = (signals or {}).get
    return [rel for rel in files if q.matches(FileRecord(folder, rel, get(rel)), count_tokens)]
