"""A folder sort inside ComfyUI: one Run walks a whole folder, one image per prompt.

The Folder Image Loader in ``sort`` mode opens (or resumes) the folder's
session and picks the first image without a decision. The Image Gate then
shows progress and, the moment it is answered, queues the same workflow again
so ComfyUI starts the next image as soon as this one is saved. The dataset
saver logs the decision once its files are written (``sort_log``). While the
person looks at image *i*, image *i+1* is decoded and its preview written in
the background, so the page can show it the instant a key is pressed.

Imported lazily by the nodes, inside ComfyUI only.
"""
from __future__ import annotations

import hashlib
import logging
import os
import threading

from . import heap, names, scan, sort_log
from .comfy_paths import comfy_folder
from .pauses import PauseError, RouteKind

log = logging.getLogger(names.LOGGER)
LOG_SUBFOLDER = "dataset_gates_logs"      # under ComfyUI's output folder
UNDO = "__undo__"                         # the answer that takes the last decision back
PREPARE_AHEAD = 2                         # images decoded (and their previews written) ahead
_lock = threading.RLock()
_sessions: dict[str, Session] = {}        # source folder -> its session
_by_prompt: dict[str, Session] = {}       # prompt id -> the session that prompt sorts


class SortDone(ValueError):
    """The sort cannot show another image (empty, missing or fully decided folder)."""


class SortKind(RouteKind):
    """A route per image, plus Undo (``message: "__undo__"``) while earlier decisions exist."""

    name = "sort"

    def __init__(self, routes, labels, session):
        super().__init__(routes, labels)
        self.session = session

    def parse(self, data: dict):
        if data.get("message") == UNDO:
            if not self.session.log.order:
                raise PauseError("nothing to undo: no decision of this folder is logged")
            return UNDO
        return super().parse(data)


class Session:
    def __init__(self, folder: str, depth: int):
        self.folder, self.depth = folder, depth
        self.log = sort_log.SortLog(folder, os.path.join(comfy_folder("output"), LOG_SUBFOLDER))
        self.files: list = []
        self.listed_key = None
        self.current: dict | None = None        # the image this prompt shows
        self.pending: dict | None = None        # a decision waiting for its files to be written
        self.prompt: dict | None = None         # the workflow to queue again, and its extra data
        self.extra: dict = {}
        self.prefetched: dict = {}              # file -> loader.decode_compact's (rgb, mask), decoded ahead
        self.previews: dict = {}                # file -> path of its preview written ahead
        self.preview_refs: dict = {}            # file -> its /view ref

    # ---- the folder -------------------------------------------------------------
    def listing(self) -> list:
        """The folder's images; listed again only when a folder's modification time changed."""
        key = _dir_key(self.folder, self.depth)
        if key != self.listed_key:
            self.files = scan.list_images(self.folder, self.depth)
            self.listed_key = key
        return self.files

    def progress(self) -> dict:
        files = self.files
        decided = len(files) - len(self.log.undecided(files))
        return {"index": decided + 1, "count": len(files), "counts": self.log.counts(files),
                "file": self.current and self.current["file"], "undo": len(self.log.order),
                "folder": self.folder, "next": upcoming(self)}

    # ---- the decisions ------------------------------------------------------------
    def flush_pending(self) -> None:
        """Log a decision whose route had no saver in the workflow (its prompt has ended)."""
        p, self.pending = self.pending, None
        if p is not None:
            self.log.record(p["file"], p["fingerprint"], p["route"], p["label"], p["files"], p["mask"],
                            p["caption_changed"])

    def decide(self, route, label, mask=False, caption_changed=False, prompt_id=None) -> None:
        cur = self.current
        self.pending = {"file": cur["file"], "fingerprint": cur["fingerprint"], "route": route, "label": label,
                        "files": [], "mask": bool(mask), "caption_changed": bool(caption_changed),
                        "prompt_id": prompt_id}

    def remaining_after_current(self) -> int:
        cur = self.current["file"] if self.current else None
        return len([f for f in self.log.undecided(self.files) if f != cur])


def _dir_key(folder: str, depth: int):
    """Modification times of the folder and its listed subfolders: a new or removed file changes one."""
    out = []
    root_len = len(folder.rstrip(os.sep)) + 1
    for dirpath, dirnames, _ in os.walk(folder):
        level = 0 if dirpath == folder else dirpath[root_len:].count(os.sep) + 1
        if depth >= 0 and level >= depth:
            dirnames[:] = []
        else:
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        try:
            out.append((dirpath, os.stat(dirpath).st_mtime_ns))
        except OSError:
            pass
    return tuple(out)


# ---- the loader's side -------------------------------------------------------------

def start(folder: str, depth: int, prompt_id, prompt, extra) -> Session:
    """Open the folder's session for this prompt and pick its first undecided image."""
    from . import pause_server

    with _lock:
        session = _sessions.get(folder)
        if session is None or session.depth != depth:
            session = _sessions[folder] = Session(folder, depth)
        session.flush_pending()
        _by_prompt.clear()
        _by_prompt[str(prompt_id)] = session
        session.prompt, session.extra = prompt, dict(extra or {})
        try:
            files = session.listing()
        except ValueError as e:
            _tell(pause_server, "missing", f"Sort stopped: {e}")
            raise SortDone(f"sort: {e}") from None
        if not files:
            msg = f"Sort stopped: no images in {folder}"
            _tell(pause_server, "empty", msg)
            raise SortDone(msg)
        todo = session.log.undecided(files)
        if not todo:
            counts = ", ".join(f"{k} {v}" for k, v in session.log.counts(files).items())
            msg = f"Sort of {folder} is done: all {len(files)} images decided ({counts})"
            _tell(pause_server, "done", msg, session)
            raise SortDone(msg)
        rel = todo[0]
        path = os.path.join(folder, rel)
        session.current = {"file": rel, "fingerprint": sort_log.fingerprint(path), "index": files.index(rel)}
        return session


def take_prefetched(session: Session, rel: str):
    with _lock:
        return session.prefetched.pop(rel, None)


def upcoming(session: Session) -> list:
    """The next undecided images after the current one, as many as are prepared ahead."""
    cur = session.current["file"] if session.current else None
    return [f for f in session.log.undecided(session.files) if f != cur][:PREPARE_AHEAD]


def prefetch_next(session: Session) -> None:
    """Decode the next images and write their previews, in the background.

    Two ahead: when the key for image i is pressed, image i+1 was prepared while
    i-1 was shown, so it is ready however fast the person is.
    """
    from . import pause_server

    wanted = upcoming(session)
    with _lock:
        session.prefetched = {k: v for k, v in session.prefetched.items() if k in wanted}
        for rel in [r for r in session.previews if r not in wanted and r != session.current["file"]]:
            pause_server.remove_quietly(session.previews.pop(rel))
            session.preview_refs.pop(rel, None)
        todo = [r for r in wanted if r not in session.prefetched]
    announced = [r for r in wanted if r not in todo]
    for rel in announced:                      # prepared earlier: say so again for pages that (re)load
        ref = session.preview_refs.get(rel)
        if ref:
            pause_server.send(names.EVENT_SORT, {"state": "next", "folder": session.folder, "file": rel,
                                                 "preview": ref})
    if todo:
        _worker().submit(_prepare, session, todo)


_pool = None


def _worker():
    """One long-lived thread prepares images: a new thread per image would grow the heap (malloc arenas)."""
    global _pool
    with _lock:
        if _pool is None:
            from concurrent.futures import ThreadPoolExecutor

            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dataset-gates-prepare")
        return _pool


def _prepare(session: Session, todo: list) -> None:
    from PIL import Image, ImageOps

    from . import imaging, pause_server
    from .loader import decode_compact

    for rel in todo:
        try:
            with Image.open(os.path.join(session.folder, rel)) as im:
                im.load()
                im = ImageOps.exif_transpose(im) or im
                arrays = decode_compact(im)      # small while it waits; the loader expands it
                ph, pw = imaging.preview_size(im.height, im.width)
                small = im.convert("RGB").resize((pw, ph), Image.BILINEAR, reducing_gap=2.0)
            tag = hashlib.sha1(f"{session.folder}/{rel}".encode()).hexdigest()[:16]
            name = f"sort_{tag}_preview.jpg"
            d = pause_server.preview_dir()
            tmp = os.path.join(d, name + ".part")
            small.save(tmp, "JPEG", quality=imaging.PREVIEW_QUALITY)
            os.replace(tmp, os.path.join(d, name))
            ref = pause_server.file_ref(name, pw, ph)
            with _lock:
                if rel not in upcoming(session):  # decided meanwhile (a fast person): not needed
                    pause_server.remove_quietly(os.path.join(d, name))
                    continue
                session.prefetched[rel] = arrays
                session.previews[rel] = os.path.join(d, name)
                session.preview_refs[rel] = ref
            pause_server.send(names.EVENT_SORT, {"state": "next", "folder": session.folder, "file": rel,
                                                 "preview": ref})
        except Exception:
            log.exception("Dataset Gates: preparing the next image of the sort failed")
    heap.give_back()                       # the decoded arrays freed on this thread


# ---- the gate's side ------------------------------------------------------------------

def for_current_prompt() -> Session | None:
    from . import pause_server

    with _lock:
        return _by_prompt.get(str(pause_server.current_prompt_id()))


def answered(session: Session, route: int, label: str, mask: bool, caption_changed: bool) -> None:
    """A route was chosen: remember it for the saver, queue the next image (or say the folder is done)."""
    from . import pause_server

    with _lock:
        session.decide(route, label, mask, caption_changed, pause_server.current_prompt_id())
        left = session.remaining_after_current()
    if left:
        queue_again(session)
    else:
        counts = session.log.counts(session.files)
        key = label or str(route)
        counts[key] = counts.get(key, 0) + 1
        text = ", ".join(f"{k} {v}" for k, v in counts.items())
        _tell(pause_server, "done", f"Folder done: {len(session.files)} images ({text})", session, counts)


def undo(session: Session) -> dict | None:
    """Take the last decision back and queue the workflow again (it shows that image)."""
    with _lock:
        entry = session.log.undo_last()
    queue_again(session)
    return entry


def queue_again(session: Session) -> None:
    """Put the same workflow on this ComfyUI's queue, so it runs the moment the current prompt ends."""
    from server import PromptServer

    from .prompt_queue import queue_prompt

    # Only what a client sends: ComfyUI writes its IS_CHANGED results into the running prompt's
    # nodes ("is_changed"), and a prompt queued with them would be served from the cache.
    prompt = {k: {f: v[f] for f in ("class_type", "inputs", "_meta") if f in v} for k, v in session.prompt.items()}
    try:
        queue_prompt(prompt, session.extra, getattr(PromptServer.instance, "client_id", None))
    except Exception as e:        # the sort stops here; the person can press Run to go on
        log.warning("Dataset Gates: could not queue the next image of the sort (press Run to go on): %s", e)


# ---- the saver's side --------------------------------------------------------------------

def saved(paths: list) -> None:
    """The saver wrote ``paths`` for the image of the running prompt: log its decision now."""
    if not _by_prompt:                    # no sort runs (also: outside ComfyUI)
        return
    from . import pause_server

    pid = str(pause_server.current_prompt_id())
    with _lock:
        session = _by_prompt.get(pid)
        p = session and session.pending
        if p is None or str(p.get("prompt_id")) != pid:
            return
        p["files"] = list(p["files"]) + [os.path.abspath(x) for x in paths]
        session.flush_pending()


def _tell(pause_server, state, message, session=None, counts=None):
    pause_server.send(names.EVENT_SORT, {"state": state, "message": message,
                                         "folder": session.folder if session else None,
                                         "counts": counts if counts is not None else
                                         (session.log.counts(session.files) if session else {})})
