"""The tag vocabulary of a folder's captions, for the caption box's autocomplete. Stdlib only.

Counts are captions that have a tag (a tag twice in one caption counts once).
A folder's vocabulary is read again when its listing or a caption changes: a
caption written atomically (rename) changes its folder's modification time,
seen at the next keystroke; any other edit is seen a keystroke after ``RECHECK_SECONDS``
(checked in the background: the loader's fingerprint, each image's and caption's mtime and size).
An optional tag list (CSV
``tag,count``, as the Danbooru/e621 tag lists) adds tags the folder does not
use yet; the folder's own counts come first.
"""
from __future__ import annotations

import csv
import os
import threading
import time
from collections import Counter

from . import scan, tags

_lock = threading.Lock()
_folders: dict = {}           # (folder, depth) -> [dir key, checked at, fingerprint, {key: [spelling, count]}]
RECHECK_SECONDS = 5.0
_lists: dict = {}             # csv path -> (mtime_ns, size, {key: [spelling, count]})


def folder_counts(folder: str, depth: int = 0) -> dict:
    """``{tag key: [spelling, captions that have it]}`` of the captions of ``folder``'s images.

    The periodic re-check (a stat of every image and caption: half a second at 10,000) runs on a
    thread of its own while the keystroke is answered from what is known, so typing never waits
    for it; a changed listing or an atomically written caption is read at once.
    """
    dk, now = scan.dir_key(folder, depth), time.monotonic()
    with _lock:
        hit = _folders.get((folder, depth))
        if hit and hit[0] == dk:
            if now - hit[1] >= RECHECK_SECONDS and (folder, depth) not in _rechecking:
                _rechecking.add((folder, depth))
                hit[1] = now
                threading.Thread(target=_recheck, args=(folder, depth, hit), daemon=True,
                                 name="dataset-gates-tags").start()
            return hit[3]
    return _read(folder, depth, dk, now, hit)


_rechecking: set = set()


def _recheck(folder: str, depth: int, hit: list) -> None:
    try:
        if scan.fingerprint(folder, depth) != hit[2]:
            _read(folder, depth, scan.dir_key(folder, depth), time.monotonic(), None)
    except OSError:
        pass
    finally:
        with _lock:
            _rechecking.discard((folder, depth))


def _read(folder: str, depth: int, dk, now: float, hit) -> dict:
    fp = scan.fingerprint(folder, depth)
    with _lock:
        if hit and hit[2] == fp:
            hit[0], hit[1] = dk, now
            return hit[3]
    counts: dict = {}
    try:
        files = scan.list_images(folder, depth)
    except ValueError:
        files = []
    for rel in files:
        for t in tags.dedupe(tags.split_tags(scan.read_sidecar(folder, rel))):
            k = tags.tag_key(t)
            if k in counts:
                counts[k][1] += 1
            else:
                counts[k] = [t, 1]
    with _lock:
        _folders[(folder, depth)] = [dk, now, fp, counts]
    return counts


def list_counts(path: str) -> dict:
    """A tag list file (CSV ``tag,count``; more columns are ignored, Danbooru's underscores kept)."""
    st = os.stat(path)
    with _lock:
        hit = _lists.get(path)
        if hit and hit[:2] == (st.st_mtime_ns, st.st_size):
            return hit[2]
    counts: dict = {}
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        for row in csv.reader(f):
            if not row or not row[0].strip() or row[0].strip().startswith("#"):
                continue
            try:
                n = int(row[1]) if len(row) > 1 and row[1].strip() else 0
            except ValueError:
                continue                      # a header line
            k = tags.tag_key(row[0])
            if k not in counts:
                counts[k] = [row[0].strip(), n]
    with _lock:
        _lists[path] = (st.st_mtime_ns, st.st_size, counts)
    return counts


def rank(prefix: str, sources: list, limit: int = 20) -> list:
    """``[[tag, count, source index]]``: tags starting with ``prefix`` first, then those containing it;
    within each, the earlier source first (the folder before a list), then by count, then by name."""
    p = tags.tag_key(prefix)
    if not p:
        return []
    scored, seen = [], set()
    for si, counts in enumerate(sources):
        for k, (t, n) in counts.items():
            if k in seen:
                continue
            starts = k.startswith(p) or k.replace("_", " ").startswith(p)
            if starts or p in k or p in k.replace("_", " "):
                seen.add(k)
                scored.append((0 if starts else 1, si, -n, k, t, n))
    scored.sort()
    return [[t, n, si] for _s, si, _n, _k, t, n in scored[:limit]]


def counter_of(counts: dict) -> Counter:
    return Counter({t: n for t, n in counts.values()})
