"""A folder sort inside ComfyUI: one Run walks a whole folder, one image per prompt.

The Folder Image Loader in ``sort`` mode opens (or resumes) the folder's
session and picks the first image without a decision. The page shows images
prepared ahead (previews, decoded on their own thread, JPEG draft mode for big
files) and sends every key at once; ``sort_queue`` keeps the keys in order and
the Image Gate applies them as its prompts reach each image, queueing the same
workflow again the moment it is answered. The dataset saver logs the decision
once its files are written (``sort_log``). So the person never waits for a save
and the server never waits for the person.

Imported lazily by the nodes and the routes, inside ComfyUI only.
"""
from __future__ import annotations

import hashlib
import io
import itertools
import logging
import os
import secrets
import threading
import time

from ..core import files, heap, names, quality, scan, sort_log
from ..core.pauses import CANCEL, PauseError, RouteKind, UnknownPause, bucket_name, crop_box, route_number, text_field
from ..core.sort_queue import DECIDE, DecisionQueue
from ..core.sort_queue import UNDO as UNDO_OP
from .comfy_paths import comfy_folder

log = logging.getLogger(names.LOGGER)
LOG_SUBFOLDER = "dataset_gates_logs"      # under ComfyUI's output folder
UNDO = "__undo__"                         # the answer that takes the last decision back
PREPARE_AHEAD = 10                        # previews ready after the page's image: a burst shows one per key
DECODE_AHEAD = 2                          # full images decoded ahead of the server's own prompts
CLAIM_WAIT_SECONDS = 30.0                 # the loader waits this long at most for a decode under way
RELEASE_GRACE_SECONDS = 20.0              # released previews stay this long for fetches on their way
EXPAND_AHEAD_PIXELS = 4_200_000           # up to 2048²: float32 pixels and their digest made ahead too
PREVIEW_SIDE = 1024                       # a sort's previews: large enough for the culling view
THUMB_SIDES = {"strip": 160, "large": PREVIEW_SIDE}
HISTORY_KEPT = 1                          # a sort's finished prompts kept in ComfyUI's history, beside the running one
_lock = threading.RLock()
LOG_COMMIT = files.Committer()   # a decision made durable (files' fsyncs, then its log line) off the prompt
_sessions: dict[str, Session] = {}        # source folder -> its session (of one depth and filter)
_by_id: dict[str, Session] = {}           # session id (sent to the page) -> session
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


def quality_cache(folder: str) -> str:
    """The folder's quality-signal cache: beside its decision log, in ComfyUI's output/dataset_gates_logs."""
    return os.path.join(comfy_folder("output"), LOG_SUBFOLDER, quality.cache_name(folder))


def folder_signals(folder: str, files: list) -> dict:
    """rel -> quality.Signals of ``files``, from the folder's cache (new or changed files are measured,
    with ComfyUI's progress bar on the running node; Cancel stops it)."""
    bar = []

    def progress(done, total):
        try:
            import comfy.utils

            if not bar:
                bar.append(comfy.utils.ProgressBar(total))
            bar[0].update_absolute(done, total)
        except Exception:                      # outside ComfyUI, or no node running: no bar
            pass
        try:
            import comfy.model_management as mm
        except ImportError:
            return
        mm.throw_exception_if_processing_interrupted()      # Cancel stops a long first pass
    return quality.signals_for(folder, files, quality_cache(folder), progress=progress)


def select(folder: str, files: list, q, order: str = "name") -> tuple:
    """(files, signals): the listing filtered by the query ``q`` and put in ``order``; ``signals``
    (rel -> quality.Signals) when the filter or the order needed them, else {}."""
    from ..core import query

    signals = folder_signals(folder, files) if order != "name" or (q and query.needs_signals(q)) else {}
    if q:
        from . import tokens

        files = query.filter_files(folder, files, q, tokens.counter() if "tokens" in q.fields() else None,
                                   signals=signals)
    return quality.order_files(files, signals, order), signals


class Session:
    def __init__(self, folder: str, depth: int, filter_text: str = "", order: str = "name"):
        self.folder, self.depth = folder, depth
        self.filter = str(filter_text or "").strip()    # the loader's query: the sort walks its matches only
        self.order = order                              # the loader's order: the sort walks the files in it
        self.signals: dict = {}                         # rel -> quality.Signals (the page's badges)
        self._cached_signals: dict | None = None        # the folder's quality cache, read once
        self.id = secrets.token_urlsafe(12)       # names the session to the page; never a path
        self._ahead_seq = itertools.count(1)      # next() is atomic: progress() runs without the lock
        self.log = sort_log.SortLog(folder, os.path.join(comfy_folder("output"), LOG_SUBFOLDER),
                                    committer=LOG_COMMIT)
        self.queue = DecisionQueue()
        self.files: list = []
        self.listed_key = None
        self.current: dict | None = None        # the image this prompt shows
        self.pending: dict | None = None        # a decision waiting for its files to be written
        self.waiting = None                     # the gate's pause while it waits for a key
        self.prompt: dict | None = None         # the workflow to queue again, and its extra data
        self.extra: dict = {}
        self.digest_ahead = False               # format original needs the pixels' digest (the graph proves nothing)
        self.gate_id: str | None = None
        self.routes, self.labels = 1, ["1"]
        self.prefetched: dict = {}              # file -> ((rgb, mask), fingerprint, digest), decoded ahead
        self.decoding: set = set()              # files the decode thread will decode (the loader may claim one)
        self.decoding_now: str | None = None    # the one it decodes now: the loader waits for it
        self.changed = threading.Condition(_lock)   # a preview or a decode ahead is done
        self.previews: dict = {}                # file -> {path, ref, caption, width, height}, prepared ahead
        self.preparing: set = set()
        self.idle = threading.Event()           # clear from a key until the next image's pause: a prompt saves
        self.idle.set()
        self.temp_files: list = []              # full-size PNGs made for the MaskEditor ahead of the server
        self.finishing = False                  # the folder's last key was taken; its save is on its way
        self.undos_in_flight = 0                # undo ops taken by a gate, not yet applied to the log
        self.prompt_ids: list = []              # this sort's prompts still in ComfyUI's history, oldest first
        self.queueing = 0                       # next prompts handed to the queue thread, not on ComfyUI's queue yet

    # ---- the folder -------------------------------------------------------------
    def listing(self) -> list:
        """The folder's images (those matching the filter); listed again only when a folder's modification
        time changed (a caption written atomically changes it too)."""
        key = scan.dir_key(self.folder, self.depth)
        if key != self.listed_key:
            from ..core import query

            files = scan.list_images(self.folder, self.depth)
            self.files, signals = select(self.folder, files, query.Query(self.filter), self.order)
            self.signals.update(signals)
            self.listed_key = key
        return self.files

    def signals_of(self, rel: str, preview=None):
        """An image's quality signals for its badges: measured for the order or filter, else from the
        folder's cache when the file is unchanged, else from ``(preview image, (w, h))`` (the preview's
        own decode: no second one), else measured now."""
        s = self.signals.get(rel)
        if s is not None:
            return s
        if self._cached_signals is None:
            self._cached_signals = quality.read_cache(quality_cache(self.folder))
        hit = self._cached_signals.get(rel)
        path = os.path.join(self.folder, rel)
        try:
            st = os.stat(path)
            if hit is not None and hit[0] == (st.st_size, st.st_mtime_ns):
                s = hit[1]
            else:
                s = quality.from_image(*preview) if preview is not None else quality.measure(path)
        except (OSError, ValueError):
            return None
        self.signals[rel] = s
        return s

    def frontier(self) -> list:
        """The images still to be shown to the person: undecided, and no key queued for them."""
        queued = self.queue.queued_files()
        return [f for f in self.log.undecided(self.files) if f not in queued]

    def ahead(self, frontier: list | None = None) -> list:
        """The prepared images at the front of the frontier, in order (a gap ends the list)."""
        out = []
        for rel in (self.frontier() if frontier is None else frontier)[:PREPARE_AHEAD + 1]:
            p = self.previews.get(rel)
            if p is None:
                break
            out.append({"file": rel, "preview": p["ref"], "caption": p["caption"], "width": p["width"],
                        "height": p["height"], "signals": p.get("signals")})
        return out

    def ahead_state(self, frontier: list | None = None) -> dict:
        """``ahead()`` with its sequence number: the page keeps the newest list it got, whichever of the
        show event (made on the prompt thread) and the preview thread's event reaches it last."""
        return {"ahead": self.ahead(frontier), "ahead_seq": next(self._ahead_seq)}

    def progress(self) -> dict:
        files = self.files
        frontier = self.frontier()
        decided = len(files) - len(self.log.undecided(files))
        return {"session": self.id, "index": decided + 1, "count": len(files), "counts": self.log.counts(files),
                "file": self.current and self.current["file"], "undo": len(self.log.order), "folder": self.folder,
                "queued": len(self.queue), "remaining": len(frontier), **self.ahead_state(frontier),
                "signals": self.current_signals()}

    def current_signals(self) -> dict | None:
        """The quality signals of the image this prompt shows, for its badges (None when unreadable)."""
        cur = self.current and self.current["file"]
        sig = self.signals_of(cur) if cur else None
        return sig.as_dict() if sig is not None else None

    # ---- the decisions ------------------------------------------------------------
    def flush_pending(self) -> None:
        """Log the decision of the prompt that ended (its saver wrote its files, or it had none)."""
        p, self.pending = self.pending, None
        if p is not None:
            self.log.record(p["file"], p["fingerprint"], p["route"], p["label"], p["files"], p["mask"],
                            p["caption_changed"], crop=p.get("crop"), bucket=p.get("bucket"),
                            durable_first=p.get("unsynced", ()))
            saved = {"state": "saved", "session": self.id, "folder": self.folder, "file": p["file"],
                     "route": p["route"], "label": p["label"], "queued": len(self.queue),
                     "counts": self.log.counts(self.files)}
            LOG_COMMIT.submit(lambda: _send(saved))    # "saved" once its line is on disk

    def decide(self, route, label, mask=False, caption_changed=False, prompt_id=None, crop=None,
               bucket=None) -> None:
        cur = self.current
        self.pending = {"file": cur["file"], "fingerprint": cur["fingerprint"], "route": route, "label": label,
                        "files": [], "mask": bool(mask), "caption_changed": bool(caption_changed),
                        "prompt_id": prompt_id, "crop": crop, "bucket": bucket}

    def remaining_after_current(self) -> int:
        cur = self.current["file"] if self.current else None
        return len([f for f in self.log.undecided(self.files) if f != cur])




def _send(data: dict) -> None:
    from . import pause_server

    pause_server.send(names.EVENT_SORT, data)


# ---- the loader's side -------------------------------------------------------------

def start(folder: str, depth: int, prompt_id, prompt, extra, filter_text: str = "", order: str = "name") -> Session:
    """Open the folder's session for this prompt and pick its first undecided image (of the filter's,
    in the order's)."""
    with _lock:
        session = _sessions.get(folder)
        if session is None or session.depth != depth or session.filter != str(filter_text or "").strip() \
                or session.order != order:
            if session is not None:
                _release(session)
                _by_id.pop(session.id, None)
            session = _sessions[folder] = Session(folder, depth, filter_text, order)
            _by_id[session.id] = session
        session.flush_pending()
        session.finishing = False
        _by_prompt.clear()
        _by_prompt[str(prompt_id)] = session
        _forget_old_prompts(session, str(prompt_id))
        session.prompt, session.extra = prompt, dict(extra or {})
        try:
            files = session.listing()
        except ValueError as e:
            _tell("missing", f"Sort stopped: {e}")
            raise SortDone(f"sort: {e}") from None
        if not files:
            msg = f"Sort stopped: no images in {folder}" + (f" match the filter {session.filter!r}"
                                                            if session.filter else "")
            _tell("empty", msg)
            raise SortDone(msg)
        todo = session.log.undecided(files)
        listed = set(files)
        session.queue.drop_stale(lambda f: f in listed and (not session.log.is_decided(f)
                                                            or _undo_queued_for(session, f)))
        if not todo:
            session.queue.clear()
            _release(session)
            counts = ", ".join(f"{k} {v}" for k, v in session.log.counts(files).items())
            msg = f"Sort of {folder} is done: all {len(files)} images decided ({counts})"
            _tell("done", msg, session)
            raise SortDone(msg)
        rel = todo[0]
        path = os.path.join(folder, rel)
        session.current = {"file": rel, "fingerprint": sort_log.fingerprint(path), "index": files.index(rel)}
        return session


def _forget_old_prompts(session: Session, prompt_id: str) -> None:
    """Keep the sort's two newest prompts in ComfyUI's history, not one per image: the page lists the
    history (up to 200 entries, each with its workflow) after every prompt, and on the server's event
    loop that listing grew to ~100 ms an image, slowing the sort's own messages and prompts. A sort's
    record is its decision log. ComfyUI runs one prompt at a time, so the earlier ones have finished."""
    if prompt_id in session.prompt_ids:
        return
    session.prompt_ids.append(prompt_id)
    old = session.prompt_ids[:-(HISTORY_KEPT + 1)]
    del session.prompt_ids[:-(HISTORY_KEPT + 1)]
    try:
        from server import PromptServer

        history = PromptServer.instance.prompt_queue
    except (ImportError, AttributeError):        # outside ComfyUI (unit tests)
        return
    for pid in old:
        history.delete_history_item(pid)


def take_prefetched(session: Session, rel: str) -> tuple:
    """``(arrays, fingerprint, digest)`` of ``rel`` decoded ahead (the file's fingerprint taken before it
    was read; the pixels' ``originals.digest_array`` when they were expanded ahead), or Nones."""
    from ..core.originals import file_fingerprint

    with _lock:
        deadline = time.monotonic() + CLAIM_WAIT_SECONDS
        while session.decoding_now == rel and time.monotonic() < deadline:
            session.changed.wait(deadline - time.monotonic())   # half decoded: wait, not decode it twice
        session.decoding.discard(rel)          # not started yet: the decode thread skips it, the loader decodes
        session.changed.notify_all()
        got = session.prefetched.pop(rel, (None, None, None))
    if got[1] is not None and got[1] != file_fingerprint(os.path.join(session.folder, rel)):
        return None, None, None                # the file changed since it was decoded (a Stop, then an edit)
    return got


def prefetch_next(session: Session) -> None:
    """Prepare what comes next, each on its own thread: previews of the images the page will show
    (ahead of the person, who may be far ahead of the server) and the full pixels of the images
    the server's next prompts load. Neither waits for the other, nor for a save."""
    with _lock:
        frontier = session.frontier()
        cur = session.current["file"] if session.current else None
        show = frontier[:PREPARE_AHEAD + 1]
        if cur and cur not in show:
            show.append(cur)
        # A keyed image keeps its preview until its decision is made: the page asks for its strip
        # thumbnail as it sends the key, and the preview makes it in a few ms (the source: 100+ ms).
        keep = set(show) | session.queue.queued_files()
        for rel in [r for r in session.previews if r not in keep]:
            _remove(session.previews.pop(rel)["path"])
        new_previews = [r for r in show if r not in session.previews and r not in session.preparing]
        session.preparing.update(new_previews)
        server_next = [r for r in session.log.undecided(session.files) if r != cur][:DECODE_AHEAD]
        session.prefetched = {k: v for k, v in session.prefetched.items() if k in server_next}
        new_arrays = [r for r in server_next if r not in session.prefetched and r not in session.decoding]
        session.decoding.update(new_arrays)
        ahead = session.ahead_state(frontier)
    _send_ahead(session, ahead, len(frontier))
    if new_previews:
        _pool("previews").submit(_prepare_previews, session, new_previews)
    if new_arrays:
        _pool("decode").submit(_decode_ahead, session, new_arrays)


_pools: dict = {}


def _pool(name: str):
    """One long-lived thread per job kind: a new thread per image would grow the heap (malloc arenas)."""
    with _lock:
        if name not in _pools:
            from concurrent.futures import ThreadPoolExecutor

            _pools[name] = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"dataset-gates-{name}")
        return _pools[name]


STOCK_TO_YIELD = PREPARE_AHEAD - 2   # previews in stock (of PREPARE_AHEAD) that let the others go first
YIELD_SECONDS = 0.3                  # at most this long, for the prompt saving the image just decided


def _release(session: Session) -> None:
    """The sort stopped or ended: its previews, decoded pixels and full-size PNGs go (caller holds _lock).

    The previews go a little later: a page that got their names just before a Stop may still be
    fetching them (a 404 and a console error otherwise)."""
    session.idle.set()
    late = [entry["path"] for entry in session.previews.values()]
    if late:
        timer = threading.Timer(RELEASE_GRACE_SECONDS, _remove_unused_previews, args=(late,))
        timer.daemon = True
        timer.start()
    session.previews.clear()
    session.prefetched.clear()
    session.decoding.clear()                  # decodes not started are dropped; a waiting thread wakes
    session.changed.notify_all()
    for path in session.temp_files:
        _remove(path)
    session.temp_files.clear()


def _remove_unused_previews(paths: list) -> None:
    """Remove released previews, unless a sort started since uses them (their names are per file)."""
    with _lock:
        used = {e["path"] for sess in _by_id.values() for e in sess.previews.values()}
        for path in paths:
            if path not in used:
                _remove(path)


def _send_ahead(session: Session, ahead: dict, remaining: int) -> None:
    _send({"state": "ahead", "session": session.id, "folder": session.folder, **ahead,
           "remaining": remaining, "count": len(session.files), "queued": len(session.queue)})


def _remove(path) -> None:
    try:
        if path:
            os.remove(path)
    except OSError:
        pass


def small_image(path: str, side: int):
    """An upright RGB image whose long side is at most ``side``, decoded as little as possible:
    JPEG draft mode decodes a 24-megapixel file at 1/4 or 1/8 scale, several times faster.
    Returns (image, (width, height) of the upright original)."""
    from PIL import Image

    from ..core import imaging

    with Image.open(path) as im:
        w, h = im.size                              # before draft() scales it down
        ph, pw = imaging.preview_size(h, w, side)
        im.draft("RGB", (pw, ph))                   # a no-op for formats other than JPEG
        if im.getexif().get(imaging.ORIENTATION, 1) in (5, 6, 7, 8):    # EXIF: turned by 90 degrees
            w, h, pw, ph = h, w, ph, pw
        im = imaging.upright(im)
        im.load()                                   # the pixels are read before the file closes
        small = im if im.mode == "RGB" else im.convert("RGB")
        if small.size != (pw, ph):
            small = small.resize((pw, ph), Image.BILINEAR, reducing_gap=2.0)
        return small, (w, h)


def _prepare_previews(session: Session, todo: list) -> None:
    from ..core import imaging
    from . import pause_server

    for rel in todo:
        _yield_to_the_prompt(session)
        try:
            small, (w, h) = small_image(os.path.join(session.folder, rel), PREVIEW_SIDE)
            tag = hashlib.sha1(f"{session.folder}/{rel}".encode()).hexdigest()[:16]
            name = f"sort_{tag}_preview.jpg"
            d = pause_server.preview_dir()
            small.save(os.path.join(d, name + ".part"), "JPEG", quality=imaging.PREVIEW_QUALITY)
            os.replace(os.path.join(d, name + ".part"), os.path.join(d, name))
            sig = session.signals_of(rel, (small, (w, h)))
            entry = {"path": os.path.join(d, name), "ref": pause_server.file_ref(name, small.width, small.height),
                     "caption": scan.read_sidecar(session.folder, rel), "width": w, "height": h,
                     "signals": sig.as_dict() if sig is not None else None}
            with _lock:
                session.preparing.discard(rel)
                session.previews[rel] = entry
                frontier = session.frontier()
                ahead = session.ahead_state(frontier)
                session.changed.notify_all()
            _send_ahead(session, ahead, len(frontier))
        except Exception:
            with _lock:
                session.preparing.discard(rel)
                session.changed.notify_all()
            log.exception("Dataset Gates: preparing the preview of %s failed", rel)


def _yield_to_the_prompt(session: Session) -> None:
    """With a few previews in stock ahead of the person, let the prompt saving the image just decided run
    first: on two cores a preview decoded beside it slows it (and the server falls behind). With less
    in stock, or keys waiting for the server (a server slower than the person: big files), the
    preview goes first, at once: the person waits for previews, not for saves."""
    with _lock:
        stock = len(session.ahead()) - 1         # beyond the image on screen
        behind = len(session.queue) > 0          # keys wait for the server: it is behind the person
    if stock >= STOCK_TO_YIELD and not behind:
        session.idle.wait(YIELD_SECONDS)


def _previews_first(session: Session, rel: str, longest: float = 2.0) -> None:
    """While the page has few previews in stock and more are being made, let them be made first: on two
    cores a full decode of a big file beside them slows them down, and the person waits for previews,
    not for saves. With a stock (the usual case with small files) the decode goes at once, so the
    server's next prompt finds its pixels ready."""
    deadline = time.monotonic() + longest
    with _lock:
        while rel in session.decoding and session.preparing and len(session.ahead()) - 1 < STOCK_TO_YIELD:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            session.changed.wait(left)


def _decode_ahead(session: Session, todo: list) -> None:
    from PIL import Image

    from ..core.originals import digest_array, file_fingerprint
    from ..nodes.loader import decode_compact, expand_arrays

    for rel in todo:
        _previews_first(session, rel)
        with _lock:
            if rel not in session.decoding or session.log.is_decided(rel):
                continue                         # the loader took it over, or it was decided meanwhile
            session.decoding_now = rel
        done = None
        try:
            fingerprint = file_fingerprint(os.path.join(session.folder, rel))   # before the bytes are read
            with Image.open(os.path.join(session.folder, rel)) as im:
                im.load()
                arrays = decode_compact(im)      # big ones stay uint8 while they wait; the loader expands them
            digest = None
            if arrays[0].shape[0] * arrays[0].shape[1] <= EXPAND_AHEAD_PIXELS:
                arrays = expand_arrays(*arrays)  # float32 here, not in the prompt
                if session.digest_ahead:         # format original's check needs the digest: taken here too
                    h, w = arrays[0].shape[:2]
                    digest = digest_array(arrays[0], (1, h, w, 3), "torch.float32")
            done = (arrays, fingerprint, digest)
        except Exception:
            log.exception("Dataset Gates: decoding %s ahead failed", rel)
        finally:
            with _lock:
                session.decoding.discard(rel)
                session.decoding_now = None
                if done is not None and not session.log.is_decided(rel):
                    session.prefetched[rel] = done
                session.changed.notify_all()
    heap.give_back()                       # the decoded arrays freed on this thread


# ---- the gate's side ------------------------------------------------------------------

def for_current_prompt() -> Session | None:
    from . import pause_server

    with _lock:
        return _by_prompt.get(str(pause_server.current_prompt_id()))


def configure(session: Session, gate_id, routes: int, labels: list) -> None:
    with _lock:
        session.gate_id, session.routes, session.labels = str(gate_id), int(routes), list(labels)


def take_queued(session: Session):
    """The key already pressed for this prompt's image (or an undo / stop in its turn), else None."""
    with _lock:
        while session.current:
            op = session.queue.take_for(session.current["file"])
            if op is not None and op.kind == UNDO_OP:
                session.undos_in_flight += 1
            if op is None or op.kind != DECIDE or op.route <= session.routes:
                return op
            log.warning("Dataset Gates: a key for route %s dropped: the gate has %s routes now", op.route,
                        session.routes)
        return None


def waiting(session: Session, pause) -> bool:
    """The gate waits on ``pause``: a key that arrives now answers it. True when one already did."""
    with _lock:
        session.waiting = pause
        session.idle.set()
        return dispatch(session)


def released(session: Session, pause) -> None:
    with _lock:
        if session.waiting is pause:
            session.waiting = None


def dispatch(session: Session) -> bool:
    """Answer the waiting pause with the key queued for its image, if there is one."""
    from .pause_server import HUB

    with _lock:
        pause = session.waiting
        if pause is None or pause.ended or not session.current:
            return False
        op = session.queue.take_for(session.current["file"])
        if op is None:
            return False
        session.waiting = None
        base = {"id": pause.node_id, "token": pause.token}
        try:
            if op.kind == DECIDE:
                if op.mask is not None:
                    HUB.attach(pause.node_id, pause.token, 0, op.mask)
                extra = {"caption": op.caption} if op.caption is not None else {}
                if op.crop:                 # checked against this image's size when the key came
                    extra.update(crop=op.crop, bucket=op.bucket)
                HUB.answer({**base, "message": op.route, **extra})
            elif op.kind == UNDO_OP:
                session.undos_in_flight += 1
                HUB.answer({**base, "message": UNDO})
            else:
                HUB.answer({**base, "message": CANCEL})
                stopped(session)
        except PauseError as e:
            log.warning("Dataset Gates: a sort key could not be applied: %s", e)
            if op.kind == UNDO_OP:
                session.undos_in_flight = max(0, session.undos_in_flight - 1)
            if not (pause.ended or pause.stopped or pause.answered):   # still waiting: it stays answerable
                session.waiting = pause
                return False
        return True


def stopped(session: Session) -> None:
    """A Stop was applied: keys pressed after it are dropped (a new Run starts afresh), temp files go."""
    with _lock:
        session.queue.clear()
        _release(session)
    _tell("stopped", f"Sort stopped: {len(session.log.order)} decisions of {session.folder} are logged; "
                     "Run resumes at the first image without one", session)


def answered(session: Session, route: int, label: str, mask: bool, caption_changed: bool, crop=None,
             bucket=None) -> None:
    """A route was chosen: remember it for the saver, queue the next image (or say the folder is done)."""
    from . import pause_server

    with _lock:
        session.decide(route, label, mask, caption_changed, pause_server.current_prompt_id(), crop, bucket)
        left = session.remaining_after_current()
        if left:
            session.idle.clear()             # until the next image's pause: the preview thread may wait
    if left:
        queue_again(session)
    else:
        session.finishing = True             # an Undo pressed before its save is applied after it
        with _lock:
            _release(session)
        counts = session.log.counts(session.files)
        key = label or str(route)
        counts[key] = counts.get(key, 0) + 1
        text = ", ".join(f"{k} {v}" for k, v in counts.items())
        _tell("done", f"Folder done: {len(session.files)} images ({text})", session, counts)


def undo(session: Session) -> dict | None:
    """Take the last decision back and queue the workflow again (it shows that image)."""
    with _lock:
        entry = session.log.undo_last()
        session.undos_in_flight = max(0, session.undos_in_flight - 1)
    queue_again(session)
    return entry


def queue_again(session: Session) -> None:
    """Put the same workflow on this ComfyUI's queue, so it runs the moment the current prompt ends.

    On its own thread: queueing waits for the server's event loop (validation runs there), and the
    gate need not wait for that; one thread keeps the sort's prompts in the order they were asked."""
    with _lock:
        session.queueing += 1                # until it is on ComfyUI's queue, the sort still runs
    _pool("queue").submit(_queue_now, session)


def _queue_now(session: Session) -> None:
    from server import PromptServer

    from .prompt_queue import queue_prompt

    # Only what a client sends: ComfyUI writes its IS_CHANGED results into the running prompt's
    # nodes ("is_changed"), and a prompt queued with them would be served from the cache.
    prompt = {k: {f: v[f] for f in ("class_type", "inputs", "_meta") if f in v} for k, v in session.prompt.items()}
    try:
        queue_prompt(prompt, session.extra, getattr(PromptServer.instance, "client_id", None))
    except Exception as e:        # the sort stops here; the person can press Run to go on
        log.warning("Dataset Gates: could not queue the next image of the sort (press Run to go on): %s", e)
    finally:
        with _lock:
            session.queueing -= 1


# ---- the page's side (the routes call these) ----------------------------------------------

def by_id(session_id) -> Session:
    # No lock: this runs on the server's event loop, which must never wait for a sort's work.
    session = _by_id.get(str(session_id or ""))
    if session is None:
        raise UnknownPause("no folder sort with this session id (reload the page, or press Run)")
    return session


def _open_file(session: Session, data: dict) -> str:
    rel = data.get("file")
    if not isinstance(rel, str) or rel not in session.files:
        raise PauseError(f"'file' must be an image of this sort's folder, got {str(rel)[:80]!r}")
    return rel


def page_decide(session: Session, data: dict) -> dict:
    """A route key for the image on the page: queued, and applied when its prompt comes."""
    rel = _open_file(session, data)
    route = route_number(data.get("route"), session.routes)
    caption = text_field(data, "caption")
    crop = crop_box(data.get("crop"), _size_of(session, rel)) if data.get("crop") is not None else None
    bucket = bucket_name(data.get("bucket"))
    mask = _painted_ahead(data.get("mask_ref")) if data.get("mask_ref") is not None else None
    with _lock:
        if session.log.is_decided(rel) and not _undo_queued_for(session, rel):
            raise PauseError(f"{rel} is decided already: revisit it to change its route")
        session.queue.decide(rel, route, caption, mask, crop, bucket)
        dispatch(session)
        queued = len(session.queue)
        preview = _read_preview(session, rel)     # before prefetch_next lets its preview go
    _thumbs_from_preview(session, rel, preview)   # outside the lock: the prompt thread never waits for it
    prefetch_next(session)
    return {"queued": queued}


def _undo_queued_for(session: Session, rel: str) -> bool:
    """Will an undo op already queued take ``rel``'s decision back (so a key for it is welcome)?"""
    undos = sum(1 for op in session.queue.ops if op.kind == UNDO_OP) + session.undos_in_flight
    newest = session.log.order + ([session.pending["file"]] if session.pending else [])
    return bool(undos) and rel in newest[-undos:]


def page_undo(session: Session) -> dict:
    """Undo: the newest decision, still queued (dropped at once) or applied (undone in its turn)."""
    with _lock:
        direct = not len(session.queue) and not is_running(session)
        if direct:
            session.flush_pending()           # nothing runs: undo now and show that image again
            entry = session.log.undo_last()
            if entry is None:
                raise PauseError("nothing to undo: no decision of this folder is logged")
    if direct:
        queue_again(session)                  # outside the lock: it waits for the server's loop
        return {"undone": entry["file"], "where": "log"}
    with _lock:
        undos = sum(1 for op in session.queue.ops if op.kind == UNDO_OP)
        if not session.queue.newest_is_decision() and len(session.log.order) + bool(session.pending) <= undos:
            raise PauseError("nothing to undo: no decision of this folder is logged")
        op = session.queue.undo()
        dispatch(session)
    if op is not None:
        prefetch_next(session)
        return {"undone": op.file, "where": "queue"}
    return {"undone": None, "where": "log"}


def page_stop(session: Session) -> dict:
    """Stop after the keys pressed before it are applied."""
    with _lock:
        if not is_running(session):
            session.queue.clear()
            return {"stopped": True, "queued": 0}
        session.queue.stop()
        dispatch(session)
        return {"stopped": False, "queued": len(session.queue)}


def page_reroute(session: Session, data: dict) -> dict:
    """Revisit a decision: a queued one takes the new route; a logged one has its files moved."""
    rel = _open_file(session, data)
    route = route_number(data.get("route"), session.routes)
    label = session.labels[route - 1] if route <= len(session.labels) else str(route)
    with _lock:
        if session.queue.reroute(rel, route):
            return {"file": rel, "route": route, "label": label, "where": "queue"}
        if session.pending and session.pending["file"] == rel:
            raise PauseError(f"{rel} is being saved right now; try again in a moment")
        entry = session.log.decisions.get(rel)
        if entry is None or not session.log.is_decided(rel):
            raise PauseError(f"{rel} has no decision to revisit")
        if int(entry.get("route") or 0) == route:
            return {"file": rel, "route": route, "label": label, "where": "log", "files": entry.get("files")}
        moved = _move_files(session, rel, entry, route)
        session.log.change(rel, route, label, moved)
        counts = session.log.counts(session.files)
    _send({"state": "changed", "session": session.id, "folder": session.folder, "file": rel, "route": route,
           "label": label, "counts": counts})
    return {"file": rel, "route": route, "label": label, "where": "log", "files": moved}


def _move_files(session: Session, rel: str, entry: dict, route: int) -> list:
    """Move a decision's files to the folder of ``route``'s saver (byte for byte, same names)."""
    from ..core import files as fileops

    target = route_folder(session, route)
    if target is None:           # that route saves nothing: its files go where Undo puts them
        target = os.path.join(session.log.undo_dir, f"{entry.get('seq')}-route{route}")
    os.makedirs(target, exist_ok=True)
    old = [p for p in entry.get("files") or [] if os.path.exists(p)]
    moved = []
    if not old and route_folder(session, route) is not None:
        # decided on a route without a saver: the new route gets the original file and its caption
        src = os.path.join(session.folder, rel)
        old_copy = [src] + [p for p in [scan.sidecar_path(session.folder, rel)] if os.path.exists(p)]
        for p in old_copy:
            dest = fileops.resolve_target(target, os.path.basename(p), "suffix")
            with open(p, "rb") as f:
                fileops.atomic_write_bytes(dest, f.read())
            moved.append(dest)
        return moved
    for p in old:
        moved.append(_move(p, target))
    return moved


def _move(src: str, folder: str) -> str:
    """Move a file into ``folder`` under its name (a numeric suffix when taken), never overwriting and
    never leaving half a file: a hard link then unlink, or across disks an atomic copy then unlink."""
    import errno

    from ..core import files as fileops

    while True:
        dest = fileops.resolve_target(folder, os.path.basename(src), "suffix")
        try:
            os.link(src, dest)
        except FileExistsError:
            continue                                  # taken meanwhile: the next suffix
        except OSError as e:
            if e.errno not in (errno.EXDEV, errno.EPERM, errno.ENOTSUP):
                raise
            with open(src, "rb") as f:
                fileops.atomic_write_bytes(dest, f.read())
        os.remove(src)
        return dest


def route_folder(session: Session, route: int) -> str | None:
    """The folder the Save Image To Folder of ``route`` writes to, read from the sort's workflow."""
    prompt, gate = session.prompt or {}, session.gate_id
    for node in prompt.values():
        if node.get("class_type") != "SaveImageToFolder" or not isinstance(node.get("inputs", {}).get("folder"), str):
            continue
        if _route_into(prompt, node.get("inputs", {}).get("image"), gate) == route:
            from ..nodes.saver import resolve_out_folder

            return resolve_out_folder(node["inputs"]["folder"], comfy_folder("output"))
    return None


def _route_into(prompt: dict, link, gate, seen=None) -> int | None:
    """Which route output of ``gate`` an input's link comes from, walking upstream (None: not the gate)."""
    seen = set() if seen is None else seen
    if not (isinstance(link, list) and len(link) == 2):
        return None
    nid, slot = str(link[0]), link[1]
    if nid == gate:
        return slot if isinstance(slot, int) and 1 <= slot <= 10 else None
    if nid in seen or nid not in prompt:
        return None
    seen.add(nid)
    for value in prompt[nid].get("inputs", {}).values():
        found = _route_into(prompt, value, gate, seen)
        if found:
            return found
    return None


def is_running(session: Session) -> bool:
    """Does a prompt of this sort run or wait in ComfyUI's queue, or is one on its way there? (After an
    Undo's prompt ends, the next one is still being validated: a Stop then must not drop the keys.)"""
    if session.waiting is not None or session.queueing:
        return True
    try:
        from server import PromptServer

        running, queued = PromptServer.instance.prompt_queue.get_current_queue()
    except Exception:
        return True
    for item in list(running) + list(queued):
        prompt = item[2] if len(item) > 2 and isinstance(item[2], dict) else {}
        for node in prompt.values():
            inputs = node.get("inputs", {}) if isinstance(node, dict) else {}
            if node.get("class_type") == "FolderImageLoader" and inputs.get("mode") == "sort":
                return True
    return False


def decisions(session: Session) -> list:
    """The strip: every live decision of the log (oldest first), then the keys still queued."""
    with _lock:
        out = [{"file": e["file"], "route": e.get("route"), "label": e.get("label"), "seq": e.get("seq"),
                "saved": True} for e in session.log.live() if e["file"] in session.files]
        for op in session.queue.decisions():
            label = session.labels[op.route - 1] if op.route <= len(session.labels) else str(op.route)
            out.append({"file": op.file, "route": op.route, "label": label, "saved": False})
        return out


def _size_of(session: Session, rel: str) -> tuple:
    """(width, height) of an image as the loader puts it out (EXIF rotation applied), from its header."""
    prepared = session.previews.get(rel)
    if prepared:
        return prepared["width"], prepared["height"]
    from PIL import Image

    with Image.open(os.path.join(session.folder, rel)) as im:
        w, h = im.size
        return (h, w) if im.getexif().get(0x0112, 1) in (5, 6, 7, 8) else (w, h)


def _painted_ahead(ref):
    """A mask painted in the MaskEditor on an image the server has not reached yet, decoded now."""
    from ..core import imaging
    from .routes import _resolve_ref

    try:
        return imaging.decode_editor_file(_resolve_ref(ref))
    except imaging.BadImage as e:
        raise PauseError(f"mask_ref: {e}") from None


def full_image(session: Session, data) -> dict:
    """The full-size PNG of one image of the sort (upright, RGB), for the MaskEditor: made when asked."""
    from PIL import Image

    from ..core import imaging
    from . import pause_server

    rel = _open_file(session, data)
    path = os.path.join(session.folder, rel)
    key = f"{session.folder}/{rel}/{sort_log.fingerprint(path)}"
    name = f"sortfull_{hashlib.sha1(key.encode()).hexdigest()[:20]}.png"
    final = os.path.join(pause_server.preview_dir(), name)
    with Image.open(path) as im:
        im.load()
        im = imaging.upright(im).convert("RGB")
        if not os.path.exists(final):
            buf = io.BytesIO()
            im.save(buf, "PNG", compress_level=1)       # fast: a temp file the editor reads once
            files.atomic_write_bytes(final, buf.getvalue(), sync=False)
            with _lock:
                session.temp_files.append(final)
        return {"ref": pause_server.file_ref(name, im.width, im.height)}


def _thumb_path(session: Session, rel: str, size: int) -> str:
    from . import pause_server

    key = f"{session.folder}/{rel}/{sort_log.fingerprint(os.path.join(session.folder, rel))}/{size}"
    return os.path.join(pause_server.preview_dir(), f"sortthumb_{hashlib.sha1(key.encode()).hexdigest()[:20]}.jpg")


def _read_preview(session: Session, rel: str) -> bytes | None:
    """The bytes of ``rel``'s prepared preview, or None (also when it is removed meanwhile: callers that
    must have it hold _lock, so the file is still there)."""
    prepared = session.previews.get(rel)
    try:
        with open(prepared["path"], "rb") as f:
            return f.read()
    except (OSError, TypeError):
        return None


def _thumbs_from_preview(session: Session, rel: str, data: bytes | None) -> None:
    """The strip's thumbnail and the large one of an image just decided, made from its preview (a few ms),
    so the server never decodes a big source again for the strip or an Undo. Temp files: no fsync."""
    from PIL import Image

    from ..core import imaging

    if data is None:
        return
    try:
        large = _thumb_path(session, rel, THUMB_SIDES["large"])
        if not os.path.exists(large):
            files.atomic_write_bytes(large, data, sync=False)  # the preview is the large thumbnail's size
        strip = _thumb_path(session, rel, THUMB_SIDES["strip"])
        if not os.path.exists(strip):
            with Image.open(io.BytesIO(data)) as im:
                im.draft("RGB", (THUMB_SIDES["strip"], THUMB_SIDES["strip"]))
                im.thumbnail((THUMB_SIDES["strip"], THUMB_SIDES["strip"]))
                buf = io.BytesIO()
                im.convert("RGB").save(buf, "JPEG", quality=imaging.THUMB_QUALITY)
            files.atomic_write_bytes(strip, buf.getvalue(), sync=False)
    except OSError:
        pass                                                   # made from the source when asked


def thumbnail(session: Session, data) -> str:
    """A small JPEG of one image of the sort (the strip, a revisit), made once per file version."""
    from ..core import imaging

    rel = _open_file(session, data)
    size = THUMB_SIDES.get(str(data.get("size") or "strip"))
    if size is None:
        raise PauseError(f"'size' must be one of {sorted(THUMB_SIDES)}")
    path = os.path.join(session.folder, rel)
    final = _thumb_path(session, rel, size)
    if not os.path.exists(final):
        # The page asks for the strip's thumbnail as it sends the key, so this often runs before the
        # decide made it: the prepared preview makes it in a few ms, where the source costs 100+ ms of
        # the cores the sort's prompts need. No lock: a preview removed meanwhile reads as None.
        _thumbs_from_preview(session, rel, _read_preview(session, rel))
    if not os.path.exists(final):
        small, _ = small_image(path, size)
        buf = io.BytesIO()
        small.save(buf, "JPEG", quality=imaging.THUMB_QUALITY)
        files.atomic_write_bytes(final, buf.getvalue(), sync=False)   # temp; two requests write their own parts
    return final


# ---- the saver's side --------------------------------------------------------------------

def _pending_here():
    """(session, its pending decision) when the running prompt is a sort's whose decision waits for its
    files, else (None, None) (caller holds _lock)."""
    from . import pause_server

    pid = str(pause_server.current_prompt_id())
    session = _by_prompt.get(pid)
    p = session and session.pending
    return (session, p) if p is not None and str(p.get("prompt_id")) == pid else (None, None)


def logs_this_save() -> bool:
    """Will the saver running now log a sort's decision (``saved``)? Then it writes without fsyncs and
    hands ``saved`` the paths: they are fsynced before the decision's line, off the prompt."""
    if not _by_prompt:                    # no sort runs (also: outside ComfyUI)
        return False
    with _lock:
        return _pending_here()[1] is not None


def saved(paths: list, unsynced=None) -> None:
    """The saver wrote ``paths`` for the image of the running prompt: log its decision now (once the
    ``unsynced`` files among them are fsynced: ``files.deferred_sync``)."""
    unsynced = list(unsynced or ())
    with _lock:
        session, p = _pending_here() if _by_prompt else (None, None)
        if p is None:
            files.fsync_files(unsynced)   # no decision names them: durable now, as any save
            return
        p["files"] = list(p["files"]) + [os.path.abspath(x) for x in paths]
        p["unsynced"] = list(p.get("unsynced", ())) + unsynced
        session.flush_pending()
        again = session.finishing and bool(session.queue.ops) and session.queue.ops[0].kind == UNDO_OP
        session.finishing = False
        if again:                          # Undo pressed while the folder's last image was being saved
            session.queue.ops.pop(0)
            session.log.undo_last()
    if again:
        queue_again(session)


def _tell(state, message, session=None, counts=None):
    _send({"state": state, "message": message, "session": session.id if session else None,
           "folder": session.folder if session else None,
           "counts": counts if counts is not None else (session.log.counts(session.files) if session else {})})


def progress_of(session: Session) -> dict:
    with _lock:
        return session.progress()
