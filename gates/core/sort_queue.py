"""The keys of a folder sort, in the order they were pressed. Pure logic, stdlib only.

The page shows the images prepared ahead and sends every key at once; the
server applies them, in order, to the images as its prompts reach them. So a
fast person never waits for a save, and no key is lost or applied twice:

* a route key queues a decision for the file that was on screen;
* Undo takes back the newest decision: still queued, it is simply dropped;
  already applied, an ``undo`` op waits its turn (the log's newest decision
  is undone when the ops before it are applied);
* Stop waits its turn too: the decisions made before it are applied first.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

DECIDE, UNDO, STOP = "decide", "undo", "stop"


@dataclass
class Op:
    kind: str                           # DECIDE, UNDO or STOP
    file: str | None = None             # DECIDE: the file (relative to the folder) that was on screen
    route: int = 0
    caption: str | None = None          # the edited caption, None = unchanged
    mask: object = None                 # a decoded mask painted ahead of the server (or None)
    crop: dict | None = None            # {x, y, width, height} in source pixels, and the bucket it is for
    bucket: str | None = None


@dataclass
class DecisionQueue:
    ops: list = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __len__(self) -> int:
        with self.lock:
            return len(self.ops)

    def decide(self, file: str, route: int, caption: str | None = None, mask=None, crop=None, bucket=None) -> Op:
        """Queue a decision; a second key for a file still queued replaces its decision (in place)."""
        with self.lock:
            for op in self.ops:
                if op.kind == DECIDE and op.file == file and not self._undo_after(op):
                    op.route, op.caption, op.crop, op.bucket = route, caption, crop, bucket
                    if mask is not None:
                        op.mask = mask
                    return op
            op = Op(DECIDE, file, int(route), caption, mask, crop, bucket)
            self.ops.append(op)
            return op

    def _undo_after(self, op: Op) -> bool:
        i = self.ops.index(op)
        return any(o.kind != DECIDE for o in self.ops[i + 1:])

    def undo(self) -> Op | None:
        """Take back the newest decision: the queued one (returned, dropped), else queue an undo op (None)."""
        with self.lock:
            if self.ops and self.ops[-1].kind == DECIDE:
                return self.ops.pop()
            self.ops.append(Op(UNDO))
            return None

    def newest_is_decision(self) -> bool:
        with self.lock:
            return bool(self.ops) and self.ops[-1].kind == DECIDE

    def reroute(self, file: str, route: int) -> bool:
        """Give a decision still queued another route (a revisit); False when ``file`` has none queued."""
        with self.lock:
            for op in self.ops:
                if op.kind == DECIDE and op.file == file:
                    op.route = int(route)
                    return True
            return False

    def stop(self) -> None:
        with self.lock:
            self.ops.append(Op(STOP))

    def queued_files(self) -> set:
        """Files with a decision waiting to be applied."""
        with self.lock:
            return {op.file for op in self.ops if op.kind == DECIDE}

    def decisions(self) -> list:
        with self.lock:
            return [op for op in self.ops if op.kind == DECIDE]

    def take_for(self, file: str) -> Op | None:
        """The op to apply now to the prompt that shows ``file``: the head when it is an undo or a stop
        or this file's decision; else this file's decision further on (the server's order differed),
        never past an undo or stop. None: nothing for it yet (the gate waits)."""
        with self.lock:
            for i, op in enumerate(self.ops):
                if op.kind != DECIDE:
                    if i == 0:
                        return self.ops.pop(0)
                    return None
                if op.file == file:
                    return self.ops.pop(i)
            return None

    def drop_stale(self, is_open) -> None:
        """Forget decisions for files no longer waiting (decided elsewhere, removed): ``is_open(file)``."""
        with self.lock:
            self.ops = [op for op in self.ops if op.kind != DECIDE or is_open(op.file)]

    def clear(self) -> None:
        with self.lock:
            self.ops.clear()
