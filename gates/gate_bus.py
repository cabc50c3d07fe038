"""Blocking choice bus for the Image Gate node. Stdlib only - no comfy/torch.

Two layers share one lock:

* the plan's untokened API (``arm / put / wait / put_mask / pop_mask``), kept
  exactly so its tests and simple callers work;
* pauses: ``open`` registers a pause with its own token and cancel state,
  ``answer / cancel / attach_mask`` act on it only with the right token, and
  ``wait`` ends it however it ends (choice, Stop, interrupt, timeout), always
  removing it from the registry of pending pauses.

An answer wakes the waiter at once through a Condition; the waiter also wakes
at least every ``period`` seconds to run ``check`` (ComfyUI's interrupt check).
"""
from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

CANCEL = "__cancel__"


class GateCancelled(Exception):
    """The person pressed Stop on this pause."""


class GateTimedOut(Exception):
    """Nobody answered within the pause's timeout."""


class GateError(Exception):
    """A request that cannot act on a pause; ``status`` is the HTTP status to send."""

    status = 400

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        if status is not None:
            self.status = status


class UnknownPause(GateError):
    status = 404


class StaleToken(GateError):
    status = 409


@dataclass
class Pause:
    node_id: str
    token: str
    prompt_id: Optional[str] = None
    routes: int = 1
    labels: list = field(default_factory=list)
    timeout: float = 0.0
    started_at: float = field(default_factory=time.time)
    previews: list = field(default_factory=list)   # [{filename, subfolder, type, width, height}]
    full: list = field(default_factory=list)       # full-resolution PNG refs for the MaskEditor
    full_ready: bool = False
    width: int = 0
    height: int = 0
    batch: int = 1

    def public(self) -> dict:
        """What the UI needs to show and answer the pause (never image bytes)."""
        return {
            "id": self.node_id,
            "token": self.token,
            "prompt_id": self.prompt_id,
            "routes": self.routes,
            "labels": list(self.labels),
            "timeout": self.timeout,
            "deadline": self.started_at + self.timeout if self.timeout else None,
            "started_at": self.started_at,
            "previews": list(self.previews),
            "full": list(self.full),
            "full_ready": self.full_ready,
            "width": self.width,
            "height": self.height,
            "batch": self.batch,
        }


class GateBus:
    messages: dict = {}   # node_id(str) -> chosen int (1-based)
    masks: dict = {}      # node_id(str) -> mask data (PNG bytes or a decoded array)
    cancelled = False     # the plan's global flag; kept for compatibility, reset by arm
    cancels: set = set()  # node ids whose current pause was stopped
    pending: dict = {}    # node_id(str) -> Pause
    ended: dict = {}      # token -> node_id of recently ended pauses (to answer 409, not 404)
    MAX_ENDED = 256
    _cond = threading.Condition()

    # ---- the plan's API -------------------------------------------------
    @classmethod
    def arm(cls, node_id):
        sid = str(node_id)
        with cls._cond:
            cls.messages.pop(sid, None)
            cls.masks.pop(sid, None)
            cls.cancels.discard(sid)
            cls.cancelled = False

    @classmethod
    def put(cls, node_id, message):
        sid = str(node_id)
        with cls._cond:
            if message == CANCEL:
                cls.cancels.add(sid)
            else:
                cls.messages[sid] = int(message)
            cls._cond.notify_all()

    @classmethod
    def wait(
        cls,
        node_id,
        period: float = 0.1,
        check: Optional[Callable[[], Any]] = None,
        timeout: Optional[float] = None,
    ) -> int:
        """Block until a choice arrives for ``node_id``; return it (1-based).

        Raises GateCancelled on Stop, GateTimedOut after ``timeout`` seconds
        (None or 0 = forever) and whatever ``check`` raises (it runs at least
        every ``period`` seconds). The node's pause, if any, is always closed.
        """
        sid = str(node_id)
        deadline = time.monotonic() + timeout if timeout else None
        try:
            with cls._cond:
                while sid not in cls.messages:
                    if sid in cls.cancels or cls.cancelled:
                        cls.cancels.discard(sid)
                        cls.cancelled = False
                        raise GateCancelled()
                    if check is not None:
                        check()
                    step = period
                    if deadline is not None:
                        left = deadline - time.monotonic()
                        if left <= 0:
                            raise GateTimedOut()
                        step = min(step, left)
                    cls._cond.wait(step)
                return cls.messages.pop(sid)
        finally:
            cls.close(sid)

    @classmethod
    def put_mask(cls, node_id, data):
        with cls._cond:
            cls.masks[str(node_id)] = data

    @classmethod
    def pop_mask(cls, node_id):
        with cls._cond:
            return cls.masks.pop(str(node_id), None)

    # ---- pauses with tokens ---------------------------------------------
    @classmethod
    def open(cls, node_id, **info) -> Pause:
        """Arm ``node_id`` and register a new pause with a fresh token."""
        sid = str(node_id)
        pause = Pause(node_id=sid, token=secrets.token_urlsafe(16), **info)
        with cls._cond:
            cls.arm(sid)
            cls.pending[sid] = pause
        return pause

    @classmethod
    def close(cls, node_id) -> Optional[Pause]:
        sid = str(node_id)
        with cls._cond:
            cls.cancels.discard(sid)
            pause = cls.pending.pop(sid, None)
            if pause is not None:
                cls.ended[pause.token] = sid
                while len(cls.ended) > cls.MAX_ENDED:
                    cls.ended.pop(next(iter(cls.ended)))
            return pause

    @classmethod
    def get(cls, node_id, token) -> Pause:
        """The pending pause of ``node_id`` if ``token`` is its token."""
        if node_id is None or node_id == "":
            raise GateError("missing field 'id' (the gate's node id)")
        if not token:
            raise GateError("missing field 'token' (from the datasete-gate-show event)")
        with cls._cond:
            pause = cls.pending.get(str(node_id))
            was = cls.ended.get(str(token))
        if pause is None and was == str(node_id):
            raise StaleToken("this pause has ended (the gate was answered, stopped or cancelled)")
        if pause is None:
            raise UnknownPause(f"no gate is waiting with node id {str(node_id)[:64]!r}")
        # bytes: compare_digest refuses non-ASCII str (a fuzzed token must get a 409, not a 500)
        if not secrets.compare_digest(str(token).encode("utf-8", "replace"), pause.token.encode()):
            raise StaleToken("this token belongs to a pause that has ended; reload the gate")
        return pause

    @classmethod
    def answer(cls, node_id, token, message) -> int | str:
        """Route (1..routes) or Stop (``__cancel__``) the pause; return what was taken."""
        pause = cls.get(node_id, token)
        if message == CANCEL:
            choice: int | str = CANCEL
        else:
            if isinstance(message, bool) or message is None:
                raise GateError("'message' must be a route number or '__cancel__'")
            try:
                choice = int(str(message).strip())
            except ValueError:
                raise GateError(f"'message' must be a route number or '__cancel__', got {str(message)[:40]!r}") from None
            if not 1 <= choice <= pause.routes:
                raise GateError(f"route {choice} is out of range 1..{pause.routes}")
        with cls._cond:
            if cls.pending.get(pause.node_id) is not pause:
                raise StaleToken("this pause has just ended")
            cls.put(pause.node_id, choice)
        return choice

    @classmethod
    def attach_mask(cls, node_id, token, data) -> None:
        pause = cls.get(node_id, token)
        with cls._cond:
            if cls.pending.get(pause.node_id) is not pause:
                raise StaleToken("this pause has just ended")
            cls.masks[pause.node_id] = data

    @classmethod
    def update(cls, node_id, token, **changes) -> None:
        """Change a pending pause's public fields (e.g. full_ready) if still pending."""
        with cls._cond:
            pause = cls.pending.get(str(node_id))
            if pause is not None and pause.token == token:
                for k, v in changes.items():
                    setattr(pause, k, v)

    @classmethod
    def list_pending(cls) -> list:
        with cls._cond:
            return [p.public() for p in cls.pending.values()]
