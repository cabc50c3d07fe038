"""The decision log of a duplicate review: a sibling of the sort's log (same folder, same name plus
``.dups``), append-only JSON Lines, replayed to resume. Stdlib only.

    {"type": "dups", "folder": "/abs/src", "version": 1, "time": ...}                   first line
    {"type": "group", "seq": 2, "files": ["a.jpg", "a_small.jpg"], "fingerprints": {"a.jpg": "1234-16999..."},
     "keep": ["a.jpg"], "reject": ["a_small.jpg"], "copies": ["/abs/out/dedup/reject/a_small.jpg"],
     "threshold": 8, "time": ...}                                   one decided group, its copies written
    {"type": "undo", "seq": 2, "removed": ["/abs/out/dedup/reject/a_small.jpg"], "time": ...}

A group line is appended only after its copies are written (one write and an
fsync, as the sort's log: a torn last line is ignored). A group counts as
decided while every member's fingerprint (size and mtime in ns) equals the
logged one; a file added to the group or a member replaced since asks for it again.
"""
from __future__ import annotations

import os
import time

from .sort_log import append_line, fingerprint, log_name, read

LOG_VERSION = 1


def dup_log_name(folder: str) -> str:
    """``<the sort log's stem>.dups.jsonl``: beside the sort's log of the same folder."""
    return os.path.splitext(log_name(folder))[0] + ".dups.jsonl"


class DupLog:
    def __init__(self, folder: str, log_dir: str):
        self.folder = os.path.abspath(folder)
        self.path = os.path.join(log_dir, dup_log_name(self.folder))
        self.groups: dict[int, dict] = {}        # seq -> its live group entry
        self.order: list[int] = []               # live seqs, oldest first (the undo stack)
        self.seq = 0
        for entry in read(self.path):
            self._apply(entry)

    def _apply(self, entry: dict) -> None:
        seq = int(entry.get("seq") or 0)
        self.seq = max(self.seq, seq)
        if entry.get("type") == "group" and isinstance(entry.get("files"), list):
            self.groups[seq] = entry
            self.order.append(seq)
        elif entry.get("type") == "undo" and seq in self.groups:
            del self.groups[seq]
            self.order.remove(seq)

    def _decided(self) -> dict:
        """file -> the fingerprint its newest live group logged."""
        out: dict = {}
        for seq in self.order:
            out.update(self.groups[seq].get("fingerprints") or {})
        return out

    def is_decided(self, files: list, decided: dict | None = None) -> bool:
        """Every file of a group was decided, and none changed since."""
        decided = self._decided() if decided is None else decided
        for rel in files:
            try:
                if decided.get(rel) != fingerprint(os.path.join(self.folder, rel)):
                    return False
            except OSError:
                return False
        return True

    def undecided(self, groups: list) -> list:
        decided = self._decided()
        return [g for g in groups if not self.is_decided(g, decided)]

    def _append(self, entry: dict) -> dict:
        append_line(self.path, entry, {"type": "dups", "folder": self.folder, "version": LOG_VERSION})
        self._apply(entry)
        return entry

    def record(self, files: list, fingerprints: dict, keep: list, reject: list, copies: list,
               threshold: int) -> dict:
        """Log a decided group whose copies are already written."""
        return self._append({"type": "group", "seq": self.seq + 1, "files": list(files),
                             "fingerprints": dict(fingerprints), "keep": list(keep), "reject": list(reject),
                             "copies": list(copies), "threshold": int(threshold), "time": time.time()})

    def live(self) -> list:
        return [self.groups[seq] for seq in self.order]

    def undo_last(self) -> dict | None:
        """Take the newest decided group back: remove its copies, log the undo. Its entry; None if none."""
        if not self.order:
            return None
        entry = self.groups[self.order[-1]]
        removed = []
        for path in entry.get("copies") or []:
            try:
                os.remove(path)
                removed.append(path)
            except FileNotFoundError:
                pass
        self._append({"type": "undo", "seq": entry["seq"], "removed": removed, "time": time.time()})
        return entry
