"""The pause core shared by every gate. Stdlib only: no ComfyUI, no torch, no HTTP.

A *pause* is one gate waiting for a person. It has a node id, a fresh random
token, a *kind* that checks answers (a route number, a decision per image, a
text...), an optional timeout, and a bag of attachments (masks painted while it
waits). A ``PauseHub`` holds the pending pauses and a bounded record of ended
ones, so a late answer gets "this pause has ended" instead of "no such gate".

    hub = PauseHub()
    with hub.pausing("12", RouteKind(3), timeout=0) as pause:
        ...show it...
        value = hub.wait(pause, check=interrupted)   # Stopped / TimedOut / check's exception

An answer wakes the waiter at once (a Condition); the waiter also wakes every
``period`` seconds to run ``check`` (ComfyUI's interrupt flag).
"""
from __future__ import annotations

import contextlib
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .names import CANCEL


class PauseError(Exception):
    """A request that cannot act on a pause (malformed or wrong answer)."""


class UnknownPause(PauseError):
    """No pause is waiting under that node id."""


class StalePause(PauseError):
    """The token belongs to a pause that has ended."""


class Stopped(Exception):
    """The person pressed Stop."""


class TimedOut(Exception):
    """Nobody answered within the pause's timeout."""


class PauseKind:
    """What a pause asks for. Subclasses check an answer and describe themselves to the page."""

    name = "pause"

    def parse(self, data: dict) -> Any:
        """The answer carried by a request body ``data``; raise PauseError when it is wrong."""
        raise NotImplementedError

    def public(self) -> dict:
        """Fields the page needs to show the pause."""
        return {}

    def masks(self, pause) -> int:
        """How many masks can be attached (one per image index); 0 = none."""
        return 1

    def progress(self, data: dict) -> dict:
        """Pause info to keep from a partial answer (``data`` = the request body), so a reloaded
        page shows it again; PauseError when this kind keeps none."""
        raise PauseError(f"a '{self.name}' pause keeps no progress")

    def full(self, pause, index) -> dict:
        """Have the full-resolution file of image ``index`` written: ``{index, ref, ready}``
        (EVENT_READY follows when not ready yet); PauseError when this kind writes none on demand."""
        raise PauseError(f"a '{self.name}' pause writes no full-resolution image on demand")

    def done_info(self, pause, outcome: str) -> dict:
        """Fields the done event adds to say how the pause ended (e.g. the route taken); {} = none."""
        return {}


MAX_TEXT_BYTES = 64 * 1024        # a caption or a text sent as an answer, in UTF-8


def text_field(data: dict, name: str, required: bool = False) -> str | None:
    """The text field ``name`` of an answer body; None when absent (or null) and not required.

    PauseError when it is not a string, not valid Unicode, or over MAX_TEXT_BYTES.
    """
    value = data.get(name)
    if value is None:
        if required:
            raise PauseError(f"missing field {name!r} (a string)")
        return None
    if not isinstance(value, str):
        raise PauseError(f"{name!r} must be a string, got {type(value).__name__}")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise PauseError(f"{name!r} is not valid Unicode text (a lone surrogate)") from None
    if size > MAX_TEXT_BYTES:
        raise PauseError(f"{name!r} is {size} bytes: over the {MAX_TEXT_BYTES // 1024} KB limit")
    return value


MAX_FULL = 16                     # the Image Gate shows (and writes full-size) at most this many of a batch


def full_once(kind, pause, index: int) -> dict:
    """Have ``kind.writer`` write image ``index`` at full resolution, once per pause: a second ask
    (a reload, a second tab) gets the same file. ``{index, ref, ready}``; EVENT_READY follows."""
    if kind.writer is None:
        raise PauseError("this pause writes no full-resolution image on demand")
    entry = kind.fulls.get(index)
    if entry is None:
        entry = kind.fulls[index] = {"ref": None, "ready": False}
        entry["ref"] = kind.writer(pause, index, lambda: entry.update(ready=True))
    return {"index": index, "ref": entry["ref"], "ready": entry["ready"]}


class RouteChoice(int):
    """A route number that also carries the caption sent with it (None: the caption is unchanged).

    An int, so it compares, formats and serializes as the route number.
    """

    caption: str | None
    crop: dict | None                 # {x, y, width, height} in source pixels, or None
    bucket: str | None                # the bucket the crop was framed for ("832x1216"), or None

    def __new__(cls, route: int, caption: str | None = None, crop: dict | None = None, bucket: str | None = None):
        choice = super().__new__(cls, route)
        choice.caption, choice.crop, choice.bucket = caption, crop, bucket
        return choice


MIN_CROP = 64                     # a crop under this many pixels on a side is refused
_BUCKET = re.compile(r"^\s*(\d{1,5})\s*[xX×]\s*(\d{1,5})\s*$")


def crop_box(value, size) -> dict | None:
    """An answer's ``crop`` checked against the image's (width, height): ``{x, y, width, height}`` of
    whole source pixels inside the image, at least MIN_CROP on a side; None when absent."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise PauseError("'crop' must be an object {x, y, width, height} in source pixels")
    box = {}
    for key in ("x", "y", "width", "height"):
        v = value.get(key)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v or v in (float("inf"), float("-inf")):
            raise PauseError(f"crop '{key}' must be a number, got {str(v)[:40]!r}")
        box[key] = int(round(v))
    if box["width"] < MIN_CROP or box["height"] < MIN_CROP:
        raise PauseError(f"a crop must be at least {MIN_CROP} pixels on a side, got {box['width']}x{box['height']}")
    w, h = size if size else (None, None)
    outside = w is not None and (box["x"] + box["width"] > w or box["y"] + box["height"] > h)
    if box["x"] < 0 or box["y"] < 0 or outside:
        raise PauseError(f"the crop {box} leaves the image ({w}x{h})")
    return box


def bucket_name(value) -> str | None:
    """An answer's ``bucket``: ``"832x1216"`` (or None)."""
    if value is None:
        return None
    m = _BUCKET.match(str(value)) if isinstance(value, str) else None
    if not m:
        raise PauseError(f"'bucket' must look like 832x1216, got {str(value)[:40]!r}")
    return f"{int(m.group(1))}x{int(m.group(2))}"


def route_number(value, routes: int) -> int:
    """``value`` as a route number 1..routes, or PauseError."""
    if isinstance(value, bool) or value is None:
        raise PauseError("a route must be a number")
    try:
        n = int(str(value).strip())
    except ValueError:
        raise PauseError(f"a route must be a number, got {str(value)[:40]!r}") from None
    if not 1 <= n <= routes:
        raise PauseError(f"route {n} is out of range 1..{routes}")
    return n


@dataclass
class RouteKind(PauseKind):
    """Pick one route for the whole image (or batch): ``{message: 1..routes}``."""

    routes: int = 2
    labels: list = field(default_factory=list)
    on_timeout: int | None = None     # the route a timeout takes; None = the run stops
    writer: Any = None                # writer(pause, index, on_ready) -> ref: a full-size PNG on demand
    size: tuple | None = None         # (width, height) of the image: an answer's crop must lie inside it
    fulls: dict = field(default_factory=dict)
    name = "route"

    def full(self, pause, index) -> dict:
        """The full-resolution PNG (for the MaskEditor) is written only when the page asks for it."""
        if self.writer is None:
            raise PauseError("this pause writes no full-resolution image on demand")
        batch = int(pause.info.get("batch") or 1)
        if isinstance(index, bool) or not isinstance(index, (int, str)) or not str(index).strip().isdigit() \
                or not 0 <= int(str(index).strip()) < min(batch, MAX_FULL):
            raise PauseError(f"'index' must be an image number 0..{min(batch, MAX_FULL) - 1}")
        return full_once(self, pause, int(str(index).strip()))

    def parse(self, data: dict) -> int:
        """``message`` = the route; an optional ``caption`` (string, at most MAX_TEXT_BYTES) rides along."""
        if "message" not in data:
            raise PauseError(f"missing field 'message' (a route number or '{CANCEL}')")
        route = route_number(data["message"], self.routes)
        return RouteChoice(route, text_field(data, "caption"), crop_box(data.get("crop"), self.size),
                           bucket_name(data.get("bucket")))

    def public(self) -> dict:
        return {"routes": self.routes, "labels": list(self.labels)}

    def done_info(self, pause, outcome: str) -> dict:
        answer = pause.answer
        if outcome == "answered" and isinstance(answer, int) and not isinstance(answer, bool):
            route = int(answer)
        elif outcome == "timeout" and self.on_timeout:
            route = int(self.on_timeout)
        else:
            return {}
        label = self.labels[route - 1] if 0 < route <= len(self.labels) else str(route)
        return {"route": route, "label": label}


_UNANSWERED = object()


@dataclass(eq=False)
class Pause:
    node_id: str
    token: str
    kind: PauseKind
    prompt_id: str | None = None
    timeout: float = 0.0
    started_at: float = field(default_factory=time.time)
    info: dict = field(default_factory=dict)          # what the page shows: preview refs, sizes...
    attachments: dict = field(default_factory=dict)   # e.g. masks by image index
    answer: Any = _UNANSWERED
    stopped: bool = False
    ended: bool = False

    @property
    def answered(self) -> bool:
        return self.answer is not _UNANSWERED

    def public(self) -> dict:
        """The pause as the page sees it (never image bytes)."""
        return {
            "id": self.node_id, "token": self.token, "kind": self.kind.name, "prompt_id": self.prompt_id,
            "timeout": self.timeout, "started_at": self.started_at,
            "deadline": self.started_at + self.timeout if self.timeout else None,
            **self.kind.public(), **self.info,
        }


class PauseHub:
    """Pending pauses by node id, and the tokens of recently ended ones."""

    def __init__(self, max_ended: int = 1024):
        self.max_ended = max_ended
        self._pending: dict[str, Pause] = {}
        self._ended: OrderedDict[str, str] = OrderedDict()   # token -> node id
        self._cond = threading.Condition()

    # ---- the waiting side (a node) ------------------------------------------------
    def open(self, node_id, kind: PauseKind, prompt_id=None, timeout: float = 0.0, **info) -> Pause:
        """Register a new pause with a fresh token; a previous pause of that node ends."""
        pause = Pause(node_id=str(node_id), token=secrets.token_urlsafe(16), kind=kind,
                      prompt_id=prompt_id, timeout=float(timeout or 0), info=info)
        with self._cond:
            old = self._pending.get(pause.node_id)
            if old is not None:
                self._end(old)
            self._pending[pause.node_id] = pause
        return pause

    def close(self, pause: Pause) -> None:
        """End ``pause`` (idempotent): it leaves the registry, its token becomes stale."""
        with self._cond:
            self._end(pause)
            self._cond.notify_all()

    @contextlib.contextmanager
    def pausing(self, node_id, kind: PauseKind, **opts):
        """``open`` a pause and ``close`` it however the block ends."""
        pause = self.open(node_id, kind, **opts)
        try:
            yield pause
        finally:
            self.close(pause)

    def wait(self, pause: Pause, check: Callable[[], Any] | None = None, period: float = 0.02) -> Any:
        """Block until ``pause`` is answered; return the answer.

        Raises Stopped, TimedOut (after ``pause.timeout`` seconds, 0 = never) or
        whatever ``check`` raises (it runs at least every ``period`` seconds).
        """
        deadline = time.monotonic() + pause.timeout if pause.timeout else None
        with self._cond:
            while pause.answer is _UNANSWERED:
                if pause.stopped:
                    raise Stopped()
                if pause.ended:
                    raise StalePause("this pause ended before it was answered")
                if check is not None:
                    check()
                step = period
                if deadline is not None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise TimedOut()
                    step = min(step, left)
                self._cond.wait(step)
            return pause.answer

    # ---- the answering side (HTTP) ---------------------------------------------
    def get(self, node_id, token) -> Pause:
        """The pending pause of ``node_id`` if ``token`` is its token."""
        if node_id is None or node_id == "":
            raise PauseError("missing field 'id' (the gate's node id)")
        if not token:
            raise PauseError("missing field 'token' (sent with the pause)")
        with self._cond:
            pause = self._pending.get(str(node_id))
            was = self._ended.get(str(token))
        if pause is None and was == str(node_id):
            raise StalePause("this pause has ended (the gate was answered, stopped or cancelled)")
        if pause is None:
            raise UnknownPause(f"no gate is waiting with node id {str(node_id)[:64]!r}")
        # bytes: compare_digest refuses non-ASCII str, and a fuzzed token must be stale, not a crash
        if not secrets.compare_digest(str(token).encode("utf-8", "replace"), pause.token.encode()):
            raise StalePause("this token belongs to a pause that has ended; reload the gate")
        return pause

    def answer(self, data: dict) -> Any:
        """Answer the pause named by ``data`` ({id, token, ...}); return what was taken.

        ``message: "__cancel__"`` stops it; anything else is checked by the pause's kind.
        """
        pause = self.get(data.get("id"), data.get("token"))
        if data.get("message") == CANCEL:
            value = CANCEL
        else:
            value = pause.kind.parse(data)
        with self._cond:
            self._check_live(pause)
            if value == CANCEL:
                pause.stopped = True
            else:
                pause.answer = value
            self._cond.notify_all()
        return value

    def attach(self, node_id, token, key, data) -> Pause:
        """Keep ``data`` (e.g. a mask) under ``key`` on the pending pause."""
        pause = self.get(node_id, token)
        with self._cond:
            self._check_live(pause)
            pause.attachments[key] = data
        return pause

    def update(self, pause: Pause, **info) -> bool:
        """Change what the page is shown of a pending pause; False once it has ended."""
        with self._cond:
            if pause.ended:
                return False
            pause.info.update(info)
            return True

    def pending(self) -> list:
        with self._cond:
            return [p.public() for p in self._pending.values()]

    # ---- internals ---------------------------------------------------------------
    def _check_live(self, pause: Pause) -> None:
        if pause.ended or pause.answer is not _UNANSWERED or pause.stopped:
            raise StalePause("this pause has just ended")

    def _end(self, pause: Pause) -> None:
        if pause.ended:
            return
        pause.ended = True
        if self._pending.get(pause.node_id) is pause:
            del self._pending[pause.node_id]
        self._ended[pause.token] = pause.node_id
        while len(self._ended) > self.max_ended:
            self._ended.popitem(last=False)
