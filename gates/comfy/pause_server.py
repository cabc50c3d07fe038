"""Pauses inside ComfyUI: the one PauseHub, the events to the page, the preview files.

Imported only inside ComfyUI (lazily by the nodes, and by ``routes``). Every
gate node waits through ``hold``: it opens a pause, lets the node show it,
waits for the answer while watching ComfyUI's Cancel, and always tells the
page the pause is over and deletes its files.
"""
from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import folder_paths
from server import PromptServer

from ..core import heap, imaging, names, quality
from ..core.pauses import PauseHub, Stopped, TimedOut

log = logging.getLogger(names.LOGGER)
HUB = PauseHub()
MAX_PREVIEWS = 16                 # a batch shows at most this many thumbnails
# ComfyUI's Cancel only sets a flag; a waiting gate looks at it this often
# (an answer wakes the gate at once, whatever this is).
INTERRUPT_CHECK_SECONDS = 0.02
_files_lock = threading.Lock()
# Thumbnails of a batch are made two at a time: numpy and Pillow release the GIL,
# and this machine class has two cores. Made on first use, shared by every pause.
_thumb_pool: ThreadPoolExecutor | None = None
_full_pool: ThreadPoolExecutor | None = None


def current_prompt_id():
    try:
        from comfy_execution.utils import get_executing_context

        ctx = get_executing_context()
        if ctx is not None and getattr(ctx, "prompt_id", None):
            return ctx.prompt_id
    except ImportError:           # ComfyUI before the executing context existed
        pass
    return getattr(PromptServer.instance, "last_prompt_id", None)


def send(event, data):
    PromptServer.instance.send_sync(event, data)   # sid=None: every open tab


def preview_dir():
    d = os.path.join(folder_paths.get_temp_directory(), names.TEMP_SUBFOLDER)
    os.makedirs(d, exist_ok=True)
    return d


def file_ref(name, w, h):
    return {"filename": name, "subfolder": names.TEMP_SUBFOLDER, "type": "temp", "width": w, "height": h}


def remove_quietly(path):
    try:
        if path:
            os.remove(path)
    except OSError:
        pass


def _publish(tmp, final, pause):
    """Rename a finished file into place unless its pause already ended (then nobody deletes it later)."""
    with _files_lock:
        if pause.ended:
            os.remove(tmp)
        else:
            os.replace(tmp, final)


def write_previews(pause, image, first: int = 0, count: int = MAX_PREVIEWS) -> list:
    """Small JPEG previews of images ``first..first+count`` of ``image``; their refs."""
    d = preview_dir()
    frames = image[first:first + count]
    small = imaging.downscale(frames)
    refs = []
    for i in range(int(small.shape[0])):
        name = f"{pause.token}_{first + i}_preview.jpg"
        tmp = os.path.join(d, name + ".part")
        imaging.save_jpeg(imaging.tensor_to_uint8(small[i]), tmp)
        _publish(tmp, os.path.join(d, name), pause)
        refs.append(file_ref(name, int(small.shape[2]), int(small.shape[1])))
    return refs


def _full_writer() -> ThreadPoolExecutor:
    """One long-lived thread writes full-resolution files: a new thread per pause would grow the
    heap (a malloc arena each), and a pause that ends abandons its file within a band of rows,
    so the next one never waits long."""
    global _full_pool
    with _files_lock:
        if _full_pool is None:
            _full_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dataset-gates-full")
        return _full_pool


def _then_give_back(job) -> None:
    try:
        job()
    finally:
        heap.give_back()


def write_thumbnails(pause, image, cap: int = imaging.THUMB_LONG_SIDE) -> dict:
    """A small JPEG of every image of a batch; one ref for all of them.

    The ref's ``filename`` holds ``{index}`` (replace it by 0..count-1), so the
    show event stays small for any batch: thumbnails are files, never bytes.
    """
    global _thumb_pool
    if _thumb_pool is None:
        _thumb_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="dataset-gates-thumbs")
    d = preview_dir()
    pattern = f"{pause.token}_{{index}}_thumb.jpg"
    frames = image.detach()
    if frames.device.type != "cpu":          # shrink on the device, copy only the small batch
        frames = imaging.downscale(frames, 2 * cap).cpu()
    frames = frames.float()

    full = (int(image.shape[2]), int(image.shape[1]))

    def one(i):
        im = imaging.thumbnail(frames[i].numpy(), cap)
        final = os.path.join(d, pattern.format(index=i))
        im.save(final + ".part", "JPEG", quality=imaging.THUMB_QUALITY)
        _publish(final + ".part", final, pause)
        return im.size, quality.from_image(im, full)        # the thumbnail is the 256 px version already

    done = list(_thumb_pool.map(one, range(int(frames.shape[0]))))
    w, h = done[0][0]
    sig = [s for _, s in done]
    # the grid's quality badges, compact (a number per image) so the show event stays small
    return {**file_ref(pattern, w, h), "count": len(done), "sharpness": [round(s.sharpness) for s in sig],
            "clipped": [round(100 * (s.black + s.white), 1) for s in sig], "small": sig[0].small}


def write_full_one(pause, image, index: int, on_ready=None) -> dict:
    """The full-resolution PNG of image ``index`` alone (for the MaskEditor), written in a thread.

    Returns its ref at once. When written, ``on_ready()`` runs and EVENT_READY
    ``{id, token, index, full: [ref]}`` is sent; the writer gives up when the pause ends.
    """
    d = preview_dir()
    ref = file_ref(f"{pause.token}_{index}_full.png", int(image.shape[2]), int(image.shape[1]))
    frame = image[index].detach().cpu().float()       # one image: half-precision batches become float32
    final = os.path.join(d, ref["filename"])

    def write():
        tmp = final + ".part"
        try:
            imaging.save_png_stoppable(frame, tmp, should_stop=lambda: pause.ended)
            _publish(tmp, final, pause)
            if pause.ended:
                return
            if on_ready is not None:
                on_ready()
            send(names.EVENT_READY, {"id": pause.node_id, "token": pause.token, "index": index, "full": [ref]})
        except imaging.Abandoned:
            remove_quietly(tmp)
        except Exception:
            remove_quietly(tmp)
            log.exception("Dataset Gates: writing the full-resolution image failed")

    _full_writer().submit(_then_give_back, write)
    return ref


def show_images(pause, image, previews=None, **info):
    """The usual show of an image pause: previews (``previews``: refs prepared ahead), then the event.

    The full-size PNG for the MaskEditor is written only when the page asks for it
    (``POST /full``, ``kind.writer``): most images are never painted, and writing a
    full PNG of each one cost the server more than everything else it does per image.
    ``info`` adds fields for the page (e.g. a folder sort's progress).
    """
    b, h, w = int(image.shape[0]), int(image.shape[1]), int(image.shape[2])
    previews = previews or write_previews(pause, image)
    def writer(p, index, on_ready):
        ref = write_full_one(p, image, index, lambda: (on_ready(), HUB.update(p, full_ready=True, full=[ref])))
        return ref

    pause.kind.writer = writer
    HUB.update(pause, previews=previews, full_ready=False, full=None, width=w, height=h, batch=b, **info)
    send(names.EVENT_SHOW, pause.public())


def _forget_files(pause):
    d = preview_dir()
    with _files_lock:
        for name in os.listdir(d):
            if name.startswith(pause.token + "_") and not name.endswith(".part"):
                remove_quietly(os.path.join(d, name))


def hold(node_id, kind, show, timeout: float = 0):
    """Pause ``node_id`` with ``kind``; ``show(pause)`` puts it on screen. Returns ``(outcome, pause)``.

    outcome is "answered" (``pause.answer`` holds the answer) or "timeout";
    Stop and ComfyUI's Cancel raise ComfyUI's InterruptProcessingException, so
    the run ends as ComfyUI's own Cancel ends it.
    """
    import comfy.model_management as mm

    outcome = "stopped"
    with HUB.pausing(node_id, kind, prompt_id=current_prompt_id(), timeout=timeout) as pause:
        try:
            show(pause)
            HUB.wait(pause, check=mm.throw_exception_if_processing_interrupted, period=INTERRUPT_CHECK_SECONDS)
            outcome = "answered"
        except Stopped:
            raise mm.InterruptProcessingException() from None
        except TimedOut:
            outcome = "timeout"
        except mm.InterruptProcessingException:
            outcome = "interrupted"
            raise
        finally:
            HUB.close(pause)
            _forget_files(pause)
            send(names.EVENT_DONE, {"id": pause.node_id, "token": pause.token, "outcome": outcome,
                                    **_done_info(kind, pause, outcome)})
    return outcome, pause


def _done_info(kind, pause, outcome) -> dict:
    """What the kind adds to the done event (the route taken...); a failing kind adds nothing."""
    try:
        return dict(kind.done_info(pause, outcome) or {})
    except Exception:
        log.exception("Dataset Gates: describing how a pause ended failed")
        return {}
