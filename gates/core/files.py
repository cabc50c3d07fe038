"""Safe file names and atomic writes for the dataset saver. Stdlib only."""
from __future__ import annotations

import os
import re
import tempfile
import threading
import time
from contextlib import contextmanager

from .names import LOGGER as PACK_LOGGER
from .names import PART_PREFIX

CONFLICT_POLICIES = ("skip", "overwrite", "suffix")
_WINDOWS_BAD = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                     *(f"LPT{i}" for i in range(1, 10))}


def check_stem(stem: str) -> str:
    """A file stem that is safe everywhere, or a ValueError saying why not."""
    s = str(stem if stem is not None else "")
    if not s.strip():
        raise ValueError("empty filename: wire 'filename' from the loader or type a name")
    if s.strip(".") == "" or s.startswith(".."):
        raise ValueError(f"filename {s!r} is not allowed ('..' could leave the folder)")
    if "/" in s or "\\" in s or os.sep in s:
        raise ValueError(f"filename {s!r} contains a path separator; give a bare name")
    bad = _WINDOWS_BAD.search(s)
    if bad:
        raise ValueError(f"filename {s!r} contains {bad.group()!r}, which is invalid on Windows")
    if s.endswith((" ", ".")):
        raise ValueError(f"filename {s!r} ends with a space or a dot, which is invalid on Windows")
    if s.split(".")[0].upper() in _WINDOWS_RESERVED:
        raise ValueError(f"filename {s!r} is a reserved device name on Windows")
    if len(s.encode("utf-8")) > 200:
        raise ValueError(f"filename {s[:40]!r}... is too long (over 200 bytes)")
    return s


def resolve_target(folder: str, name: str, policy: str) -> str | None:
    """The path to write ``name`` in ``folder`` under a conflict policy; None = skip it."""
    if policy not in CONFLICT_POLICIES:
        raise ValueError(f"on_conflict must be one of {CONFLICT_POLICIES}, got {policy!r}")
    path = os.path.join(folder, name)
    if not os.path.lexists(path) or policy == "overwrite":
        return path
    if policy == "skip":
        return None
    stem, ext = os.path.splitext(name)
    for i in range(1, 100000):
        cand = os.path.join(folder, f"{stem}_{i}{ext}")
        if not os.path.lexists(cand):
            return cand
    raise ValueError(f"no free name for {name!r} in {folder}")


TEMP_PREFIX, TEMP_SUFFIX = PART_PREFIX, ".part"
STALE_TEMP_SECONDS = 3600
_UMASK = os.umask(0o022)                  # read the process's umask once (setting it back at once)
os.umask(_UMASK)
_last_sweep: dict = {}        # folder -> time of its last sweep (keeps listdir off every write)


def _writer_gone(name: str) -> bool:
    """Our temp names carry the writing process's pid (``.dsg-<pid>-...``): is that process gone?"""
    pid = name[len(TEMP_PREFIX):].split("-", 1)[0]
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:               # alive, someone else's
        return False
    return False


def sweep_stale_temps(folder: str, max_age: float = STALE_TEMP_SECONDS) -> list:
    """Delete our temp files in ``folder`` whose writer died, or older than ``max_age``; return their names.

    Only a killed process (SIGKILL, power loss) leaves one. Its pid in the name
    tells at once when that process is gone; without one, an hour-old file is
    certainly dead while a younger one may belong to a write in progress.
    """
    gone = []
    try:
        names = os.listdir(folder)
    except OSError:
        return gone
    now = time.time()
    for name in names:
        if name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX):
            p = os.path.join(folder, name)
            try:
                if _writer_gone(name) or now - os.lstat(p).st_mtime > max_age:
                    os.remove(p)
                    gone.append(name)
            except OSError:
                pass
    return gone


def _sweep_now_and_then(folder: str) -> None:
    now = time.time()
    if now - _last_sweep.get(folder, 0.0) > STALE_TEMP_SECONDS / 4:
        _last_sweep[folder] = now
        sweep_stale_temps(folder)


def atomic_write(path: str, write, sync: bool = True) -> None:
    """Call ``write(fileobj)`` on a temp file beside ``path``, fsync, then rename into place.

    A crash or an exception mid-way leaves the old file (or none), never a partial one.
    ``sync=False`` skips the fsync, for a caller that writes many files and syncs once at the end;
    inside ``deferred_sync`` the fsync is left to the caller, who gets the path.
    """
    folder = os.path.dirname(path) or "."
    _sweep_now_and_then(folder)
    fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", suffix=TEMP_SUFFIX, dir=folder)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)        # mkstemp makes 0600; a saved file gets the usual mode
        unsynced = getattr(_deferred, "paths", None) if sync else None
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            if sync and unsynced is None:
                os.fsync(f.fileno())
        os.replace(tmp, path)
        if unsynced is not None:          # inside deferred_sync: the caller fsyncs it before recording it
            unsynced.append(path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise


def atomic_write_bytes(path: str, data: bytes, sync: bool = True) -> None:
    atomic_write(path, lambda f: f.write(data), sync)


class Committer:
    """Jobs run one after another, in the order given, on a thread of its own.

    The folder sort hands it what makes a decision durable (the fsync of the files the saver
    wrote, then the log's line and its fsync), so the next image's prompt waits for no disk, and
    a log line is never on disk before the files it names. ``flush()`` waits until all have run."""

    def __init__(self, name: str = "dataset-gates-commit"):
        self.name = name
        self._jobs: list = []
        self._busy = False
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None

    def submit(self, job) -> None:
        with self._cv:
            self._jobs.append(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
            self._cv.notify_all()

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._jobs:
                    self._cv.wait()
                job = self._jobs.pop(0)
                self._busy = True
            try:
                job()
            except Exception as e:        # noqa: BLE001 - one job's failure must not stop the later ones
                import logging

                logging.getLogger(PACK_LOGGER).warning("Dataset Gates: a deferred write failed: %s", e)
            finally:
                with self._cv:
                    self._busy = False
                    self._cv.notify_all()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every job given so far has run; False if ``timeout`` passed first."""
        with self._cv:
            return self._cv.wait_for(lambda: not self._jobs and not self._busy, timeout)


_deferred = threading.local()


@contextmanager
def deferred_sync(enabled: bool = True):
    """Inside (on this thread): ``atomic_write`` renames its file into place without the fsync and lists
    the path in the yielded list instead; the caller fsyncs them (``fsync_file``) before anything
    records them. Yields None and changes nothing when not ``enabled``."""
    if not enabled:
        yield None
        return
    before = getattr(_deferred, "paths", None)
    _deferred.paths = []
    try:
        yield _deferred.paths
    finally:
        _deferred.paths = before


def fsync_file(path: str) -> None:
    """fsync ``path`` (a file's data, or a folder's names: a read-only descriptor does on Linux and
    macOS); nothing where it is gone or cannot be synced."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fsync_files(paths) -> None:
    for path in paths:
        fsync_file(path)


def fsync_dir(folder: str) -> None:
    """Make the names in ``folder`` durable: a file renamed into it, created or removed survives a crash.
    Nothing where a folder cannot be opened or synced (Windows; some network filesystems)."""
    fsync_file(folder)


def makedirs_durable(folder: str) -> None:
    """``os.makedirs(folder, exist_ok=True)``, and each folder it created made durable in its parent."""
    made, d = [], os.path.abspath(folder)
    while not os.path.isdir(d) and os.path.dirname(d) != d:
        made.append(d)
        d = os.path.dirname(d)
    os.makedirs(folder, exist_ok=True)
    for d in made:
        fsync_dir(os.path.dirname(d))


_syncfs = None


def sync_filesystems(folders) -> None:
    """Put on disk every written byte of the filesystems holding ``folders``: ``syncfs(2)`` once per
    filesystem where the C library has it (Linux), else ``os.sync()``. One call for thousands of files:
    an fsync each would be a journal commit each."""
    global _syncfs
    if _syncfs is None:
        try:
            import ctypes

            _syncfs = ctypes.CDLL(None, use_errno=True).syncfs
        except (OSError, AttributeError, TypeError):
            _syncfs = False
    done = set()
    for folder in folders:
        try:
            dev = os.stat(folder).st_dev
        except OSError:
            continue
        if dev in done:
            continue
        done.add(dev)
        ok = False
        if _syncfs:
            fd = os.open(folder, os.O_RDONLY)
            try:
                ok = _syncfs(fd) == 0
            finally:
                os.close(fd)
        if not ok and hasattr(os, "sync"):
            os.sync()
            return                         # every filesystem


_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


BATCH = 500


def atomic_write_many(changes: list, batch: int = BATCH) -> None:
    """``[(path, bytes or None)]``: write each file (None: remove it), each atomically, ``batch`` at a time.

    For each batch, in this order, so that a crash at any moment leaves each file its old or its new bytes:

    1. every new content goes to a temp file beside its target (``.dsg-<pid>-...part``, as ``atomic_write``);
    2. one ``sync_filesystems`` puts the data of all of them on disk;
    3. each temp file is renamed over its target (``os.replace``), each removal is done.

    Then each folder touched is fsynced: when this returns, every change is on disk.

    A target's new bytes are on disk before its rename, so after a crash in 3 it holds the old or the new
    bytes, never an empty or partial file. This counts on no filesystem heuristic such as ext4's
    ``auto_da_alloc``, which makes each rename over a file whose data is not yet written start writing
    it (a write per rename: seconds for 10,000). A crash before 3 leaves the batch's targets as they
    were and temp files that ``sweep_stale_temps`` removes. Why batches rather than all files at once:
    each batch's renames free the inodes of the files they replace, which the next batch's temp files
    take again; creating 10,000 files first needs 10,000 free inodes at once, and on an ext4 without a
    journal each create then scans past every inode freed in the last minutes (its ``recently_deleted``),
    seconds on a busy disk. One sync per 500 files costs far less than an fsync each (a flush each).
    An exception (a full disk, a folder that went away) removes the temp files not yet renamed, then is
    raised: the targets renamed before it hold their new bytes.
    """
    per_file_sync = not hasattr(os, "sync")          # Windows: fsync each temp file instead of step 2
    run = f"{os.getpid()}-{os.urandom(4).hex()}"
    folders = sorted({os.path.dirname(p) or "." for p, _d in changes})
    for folder in folders:
        _sweep_now_and_then(folder)
    temps: list = []
    try:
        for start in range(0, len(changes), max(1, batch)):
            part = changes[start:start + max(1, batch)]
            for i, (path, data) in enumerate(part, start):
                if data is None:
                    continue
                tmp = os.path.join(os.path.dirname(path) or ".", f"{TEMP_PREFIX}{run}-{i}{TEMP_SUFFIX}")
                fd = os.open(tmp, _FLAGS, 0o666)          # the mode the umask leaves, as atomic_write's fchmod
                temps.append(tmp)
                try:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view):]
                    if per_file_sync:
                        os.fsync(fd)
                finally:
                    os.close(fd)
            if not per_file_sync:
                sync_filesystems(sorted({os.path.dirname(p) or "." for p, d in part if d is not None}))
            for path, data in part:
                if data is None:
                    try:
                        os.remove(path)
                    except FileNotFoundError:
                        pass
                else:
                    os.replace(temps[0], path)
                    temps.pop(0)
    finally:
        for tmp in temps:
            try:
                os.remove(tmp)
            except OSError:
                pass
    for folder in folders:
        fsync_dir(folder)
