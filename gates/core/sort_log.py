"""The decision log of a folder sort: append-only JSON Lines, replayed to resume. Stdlib only.

One log per sorted folder (its absolute path names it). Lines:

    {"type": "sort", "folder": "/abs/src", "version": 1, "time": ...}             first line
    {"type": "decision", "seq": 3, "file": "a/img3.png", "fingerprint": "1234-1699999999000000000",
     "route": 1, "label": "keep", "files": ["/abs/out/keep/img3.png", ...], "mask": false,
     "caption_changed": false, "time": ..., "crop": {"x": 0, "y": 80, "width": 832, "height": 1216},
     "bucket": "832x1216"}                                          (crop and bucket only when cropped)
    {"type": "undo", "seq": 3, "file": "a/img3.png", "moved_to": "/abs/.../undone/3", "time": ...}
    {"type": "change", "seq": 3, "file": "a/img3.png", "route": 3, "label": "fix", "from_route": 1,
     "from_label": "keep", "files": ["/abs/out/fix/img3.png", ...], "time": ...}     a decision revisited

A decision is appended only after its files are written and fsynced, with one
``write`` of a whole line; a process killed mid-write leaves at most a torn
last line, which ``read`` ignores (that image is simply asked again). The line
is fsynced at once, or (a ``committer``, as the sort has) its files' fsyncs,
then the line and its fsync, run a few ms later on a thread of its own, in
that order: a line is never on disk before its files are; a process killed
before it loses that decision (its image is asked again), never a file.

A file counts as decided while its current fingerprint (size and modification
time in ns) equals the logged one: a replaced or edited file is asked again.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import time

from .files import fsync_file

LOG_VERSION = 1


def fingerprint(path: str) -> str:
    """``<size>-<mtime_ns>`` of a file: cheap (one stat) and changes when the file is replaced."""
    st = os.stat(path)
    return f"{st.st_size}-{st.st_mtime_ns}"


def log_name(folder: str) -> str:
    """The log's file name for a source folder: readable stem + a hash of the absolute path."""
    folder = os.path.abspath(folder)
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in os.path.basename(folder.rstrip(os.sep)))[:40]
    return f"{stem or 'root'}-{hashlib.sha1(folder.encode()).hexdigest()[:10]}.jsonl"


def read(path: str) -> list:
    """Every complete entry of a log; a torn or unreadable line is skipped."""
    entries = []
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        return entries
    for line in raw.split(b"\n"):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue                       # a torn last line from a killed process
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


def _ends_with_newline(path: str) -> bool:
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        if f.tell() == 0:
            return True
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


def _line(entry: dict) -> bytes:
    return (json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def append_line(path: str, entry: dict, header: dict, sync: bool = True) -> None:
    """Append ``entry`` as one JSON line (``header`` first when the log is new): one ``write`` of whole
    lines and an fsync (unless ``sync`` is False: the caller syncs later), so a process killed mid-write
    leaves at most a torn last line."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    new = not os.path.exists(path)
    data = b""
    if not new and not _ends_with_newline(path):
        data += b"\n"                     # end a torn line of a killed process: it stays unreadable alone
    if new:
        data += _line({**header, "time": time.time()})
    data += _line(entry)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, data)
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)


class SortLog:
    """The decisions of one folder, replayed from its log file."""

    def __init__(self, folder: str, log_dir: str, committer=None):
        """``committer`` (a :class:`files.Committer`), if given, writes the lines on its thread: the
        decision counts here at once, and the prompt that logs it waits for no disk."""
        if committer is not None:
            committer.flush()                  # lines of an earlier SortLog of this folder are on disk
        self.folder = os.path.abspath(folder)
        self.committer = committer
        self.path = os.path.join(log_dir, log_name(self.folder))
        self.undo_dir = os.path.join(log_dir, "undone", os.path.splitext(log_name(self.folder))[0])
        self.decisions: dict[str, dict] = {}     # file (relative) -> its live decision entry
        self.order: list[str] = []               # files in the order they were decided (undo stack)
        self.seq = 0
        for entry in read(self.path):
            self._apply(entry)

    # ---- replay -----------------------------------------------------------------
    def _apply(self, entry: dict) -> None:
        kind, rel = entry.get("type"), entry.get("file")
        self.seq = max(self.seq, int(entry.get("seq") or 0))
        if kind == "decision" and isinstance(rel, str):
            self.decisions[rel] = entry
            if rel in self.order:
                self.order.remove(rel)
            self.order.append(rel)
        elif kind == "change" and rel in self.decisions:
            # a revisited decision keeps its place in the undo order; only its route and files change
            self.decisions[rel] = {**self.decisions[rel], "route": entry.get("route"), "label": entry.get("label"),
                                   "files": list(entry.get("files") or [])}
        elif kind == "undo" and rel in self.decisions:
            del self.decisions[rel]
            self.order.remove(rel)

    # ---- questions ----------------------------------------------------------------
    def is_decided(self, rel: str) -> bool:
        entry = self.decisions.get(rel)
        if entry is None:
            return False
        try:
            return fingerprint(os.path.join(self.folder, rel)) == entry.get("fingerprint")
        except OSError:
            return False

    def undecided(self, files: list) -> list:
        """``files`` (natural order) without the ones decided and unchanged since."""
        return [rel for rel in files if not self.is_decided(rel)]

    def counts(self, files: list | None = None) -> dict:
        """Decisions per route label (only of ``files`` when given)."""
        out: dict[str, int] = {}
        keep = set(files) if files is not None else None
        for rel, entry in self.decisions.items():
            if keep is None or (rel in keep and self.is_decided(rel)):
                key = entry.get("label") or str(entry.get("route"))
                out[key] = out.get(key, 0) + 1
        return out

    # ---- writing -------------------------------------------------------------------
    def _append(self, entry: dict, durable_first=(), then=None) -> dict:
        """Append ``entry`` once the files ``durable_first`` (written without an fsync) are fsynced;
        ``then()`` after. With a committer all of it runs on its thread, in order, and returns at once."""
        def commit():
            for path in durable_first:
                fsync_file(path)
            append_line(self.path, entry, {"type": "sort", "folder": self.folder, "version": LOG_VERSION})
            if then is not None:
                then()

        if self.committer is None:
            commit()
            self._apply(entry)
        else:
            self._apply(entry)
            self.committer.submit(commit)
        return entry

    def record(self, rel: str, fp: str, route: int, label: str, files: list, mask: bool = False,
               caption_changed: bool = False, crop: dict | None = None, bucket: str | None = None,
               durable_first=(), then=None) -> dict:
        """Log a decision whose files are already written (with the crop framed at the gate, if any);
        ``durable_first`` and ``then`` as in ``_append``."""
        entry = {"type": "decision", "seq": self.seq + 1, "file": rel, "fingerprint": fp, "route": int(route),
                 "label": str(label), "files": list(files), "mask": bool(mask),
                 "caption_changed": bool(caption_changed), "time": time.time()}
        if crop:
            entry.update(crop=dict(crop), bucket=bucket)
        return self._append(entry, durable_first, then)

    def change(self, rel: str, route: int, label: str, files: list) -> dict:
        """Log that a decided file now has another route, its files already moved to ``files``."""
        old = self.decisions[rel]
        return self._append({"type": "change", "seq": old.get("seq"), "file": rel, "route": int(route),
                             "label": str(label), "from_route": old.get("route"), "from_label": old.get("label"),
                             "files": list(files), "time": time.time()})

    def live(self) -> list:
        """The live decisions, oldest first (the undo order)."""
        return [self.decisions[rel] for rel in self.order]

    def undo_last(self) -> dict | None:
        """Take the last decision back: move its files to the undo folder, log the undo; None if none."""
        if not self.order:
            return None
        rel = self.order[-1]
        entry = self.decisions[rel]
        dest = os.path.join(self.undo_dir, str(entry.get("seq")))
        moved = []
        for path in entry.get("files") or []:
            if os.path.exists(path):
                os.makedirs(dest, exist_ok=True)
                target = os.path.join(dest, os.path.basename(path))
                shutil.move(path, target)
                moved.append(target)
        return self._append({"type": "undo", "seq": entry.get("seq"), "file": rel, "moved_to": dest,
                             "moved": moved, "time": time.time()})


def to_csv(path: str) -> str:
    """The live decisions of a log as CSV (one row per decided file, in decision order)."""
    entries = read(path)
    live: dict[str, dict] = {}
    for e in entries:
        if e.get("type") == "decision":
            live.pop(e.get("file"), None)
            live[e.get("file")] = e
        elif e.get("type") == "undo":
            live.pop(e.get("file"), None)
        elif e.get("type") == "change" and e.get("file") in live:
            live[e["file"]] = {**live[e["file"]], "route": e.get("route"), "label": e.get("label"),
                               "files": e.get("files")}
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["seq", "file", "fingerprint", "route", "label", "files", "mask", "caption_changed", "time"])
    for e in live.values():
        w.writerow([e.get("seq"), e.get("file"), e.get("fingerprint"), e.get("route"), e.get("label"),
                    ";".join(e.get("files") or []), e.get("mask"), e.get("caption_changed"),
                    time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(e.get("time") or 0))])
    return out.getvalue()
