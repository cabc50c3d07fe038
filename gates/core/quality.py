"""Quality signals per image: sharpness, clipped exposure, size, a difference hash. numpy and Pillow only.

Every signal comes from ONE decode of the file, as small as the format allows
(a JPEG decodes at 1/2, 1/4 or 1/8 of its size through ``draft``), turned into
one gray version whose long side is ``SIDE`` (256) pixels, whatever the file's size:

* ``sharpness``: the variance of the 4-neighbour Laplacian of that gray version
  (0..255 levels). Blur lowers it; as the version has a fixed size, the number
  does not grow or shrink with the file's resolution. A smooth studio shot reads
  ~50-200, a crisp detailed photo 500-3000, a blurred one under ~50.
* ``black`` / ``white``: the share (0..1) of that version's pixels at or below
  ``BLACK_LEVEL`` (2) / at or above ``WHITE_LEVEL`` (253): clipped shadows and
  highlights.
* ``width`` / ``height``: the upright file's size (EXIF orientation applied).
* ``small``: fewer pixels than the smallest training bucket of Bucket Resize's
  defaults (resolution 1280, divisible 64: 12864x64 = 823,296 px, about 907²), so
  every bucket would enlarge it.
* ``dhash``: a 64-bit difference hash of the upright gray version (9x8 thumbnail:
  is each pixel brighter than its right neighbour); near-duplicates differ in a
  few bits. ``dhash_centre``: the same of its centre (the middle ``CENTRE`` of each
  side), so that a slightly cropped copy still matches (see ``dup_groups``).

``signals_for`` keeps the signals of a folder in a cache file keyed by each file's
(size, mtime_ns), so an unchanged folder is read back without a decode and a
changed file is measured again.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import dataclass

import numpy as np
from PIL import Image

CENTRE = 0.8                  # dhash_centre covers the middle 80 % of each side (gates/core/dup_groups.py)
SIDE = 256                    # long side of the gray version every signal is measured on
BLACK_LEVEL = 2               # a gray level <= this is clipped black
WHITE_LEVEL = 253             # a gray level >= this is clipped white
BUCKET_RESOLUTION, BUCKET_DIVISIBLE = 1280, 64    # Bucket Resize's defaults (a unit test keeps them equal)
SMALLEST_BUCKET_AREA = 12864 * 64                 # min w*h of buckets.generate(1280, 64) (checked by a test)
CACHE_VERSION = 2             # bump when a signal's definition changes: old caches are then ignored
POOL_MIN_FILES = 64           # below this, measuring in this process is quicker than starting workers
_TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
              4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
              6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_90}
ORDERS = ("name", "sharpness", "exposure", "size")


@dataclass(frozen=True)
class Signals:
    sharpness: float          # variance of the Laplacian of the 256 px gray version
    black: float              # share of pixels <= BLACK_LEVEL (0..1)
    white: float              # share of pixels >= WHITE_LEVEL (0..1)
    width: int                # of the upright image (EXIF orientation applied)
    height: int
    small: bool               # fewer pixels than the smallest default training bucket
    dhash: int                # 64-bit difference hash of the upright image
    dhash_centre: int = 0     # the same of its centre (CENTRE of each side): near-duplicates that are crops

    @property
    def clipped(self) -> float:
        """black + white: the share of clipped pixels."""
        return self.black + self.white

    def as_dict(self) -> dict:
        """For JSON (the sort page's badges): dhash as 16 hex digits, floats rounded."""
        return {"sharpness": round(self.sharpness, 1), "black": round(self.black, 4),
                "white": round(self.white, 4), "width": self.width, "height": self.height,
                "small": self.small, "dhash": f"{self.dhash:016x}"}


def is_small(width: int, height: int) -> bool:
    return width * height < SMALLEST_BUCKET_AREA


def _scaled(w: int, h: int, side: int = SIDE) -> tuple:
    long = max(w, h)
    return max(1, round(w * side / long)), max(1, round(h * side / long))


def _gray(im: Image.Image) -> Image.Image:
    """An 8-bit-scaled gray image (mode L, or F for 16-bit / float sources)."""
    if im.mode in ("I", "F") or im.mode.startswith("I;16"):
        arr = np.asarray(im if im.mode == "F" else im.convert("I"), dtype=np.float32)
        if im.mode != "F" and arr.max(initial=0) > 255:
            arr = arr / 257.0
        elif im.mode == "F" and arr.max(initial=0) <= 1.0:
            arr = arr * 255.0
        return Image.fromarray(np.ascontiguousarray(arr, dtype=np.float32), "F")
    return im.convert("L")


def gray_version(im: Image.Image) -> tuple:
    """(upright gray float32 array with long side SIDE, (width, height) of the upright file).

    ``im`` is a freshly opened image: it is drafted (JPEG), decoded once, and not used after.
    """
    w, h = im.size
    im.draft("L", _scaled(w, h, SIDE * 2) if max(w, h) > SIDE * 2 else (w, h))   # >= 2x SIDE, then resize
    im.load()
    orientation = im.getexif().get(0x0112, 1) if im.format != "PNG" or "exif" in im.info else 1
    g = _gray(im)
    g = g.resize(_scaled(*g.size), Image.Resampling.BILINEAR, reducing_gap=2.0)
    if orientation in _TRANSPOSE:
        g = g.transpose(_TRANSPOSE[orientation])
        if orientation >= 5:
            w, h = h, w
    return np.asarray(g, dtype=np.float32), (w, h)


def sharpness_of(g: np.ndarray) -> float:
    if g.shape[0] < 3 or g.shape[1] < 3:
        return 0.0
    lap = g[1:-1, :-2] + g[1:-1, 2:] + g[:-2, 1:-1] + g[2:, 1:-1] - 4.0 * g[1:-1, 1:-1]
    return float(lap.var())


def dhash_of(g: np.ndarray) -> int:
    """64-bit difference hash of a gray array: is each pixel of a 9x8 thumbnail brighter than its right one."""
    im = Image.fromarray(np.ascontiguousarray(g, dtype=np.float32), "F").resize((9, 8), Image.Resampling.BILINEAR)
    px = np.asarray(im, dtype=np.float32)
    bits = (px[:, 1:] > px[:, :-1]).flatten()
    return int(np.packbits(bits).view(">u8")[0])


def centre_of(g: np.ndarray) -> np.ndarray:
    """The middle CENTRE of each side of a gray array."""
    h, w = g.shape
    my, mx = round(h * (1 - CENTRE) / 2), round(w * (1 - CENTRE) / 2)
    return g[my:max(my + 1, h - my), mx:max(mx + 1, w - mx)]


def measure(path: str) -> Signals:
    """Every signal of one image file, from one decode. A ValueError naming the path for an unreadable file."""
    try:
        with Image.open(path) as im:
            g, (w, h) = gray_version(im)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
        raise ValueError(f"cannot read image {path}: {e}") from None
    return _signals(g, w, h)


def from_image(im: Image.Image, size: tuple | None = None) -> Signals:
    """The signals of an image already decoded and upright (e.g. a sort's preview), by the same 256 px
    recipe; ``size`` = the upright file's (width, height) when ``im`` is a smaller copy. A preview
    drafted at another scale than ``measure`` drafts gives numbers a few percent apart, so these are
    for display and never go into the cache."""
    g = _gray(im)
    g = g.resize(_scaled(*g.size), Image.Resampling.BILINEAR, reducing_gap=2.0)
    w, h = size or im.size
    return _signals(np.asarray(g, dtype=np.float32), int(w), int(h))


def _signals(g: np.ndarray, w: int, h: int) -> Signals:
    n = g.size or 1
    # rounded as the cache keeps them, so a cached value equals a measured one
    return Signals(round(sharpness_of(g), 3), round(int(np.count_nonzero(g <= BLACK_LEVEL)) / n, 6),
                   round(int(np.count_nonzero(g >= WHITE_LEVEL)) / n, 6), int(w), int(h), is_small(w, h), dhash_of(g),
                   dhash_of(centre_of(g)))


def dhash(path: str) -> int:
    """The 64-bit difference hash of an image file (what ``measure`` gives as ``dhash``)."""
    return measure(path).dhash


def order_files(files: list, signals: dict, order: str) -> list:
    """``files`` (in natural order) in the loader's ``order``: ``name`` keeps them; ``sharpness`` least
    sharp first; ``exposure`` most clipped (black + white) first; ``size`` fewest pixels first. Ties keep
    the natural order; images without signals (unreadable) come last."""
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
    if order == "name":
        return list(files)
    keys = {"sharpness": lambda s: s.sharpness, "exposure": lambda s: -(s.black + s.white),
            "size": lambda s: s.width * s.height}[order]
    have = [f for f in files if f in signals]
    return sorted(have, key=lambda f: keys(signals[f])) + [f for f in files if f not in signals]


# ---- the cache ------------------------------------------------------------------------------------

def cache_name(folder: str) -> str:
    """The cache's file name for a folder: its decision log's name (``sort_log.log_name``) with
    ``.quality.json`` for ``.jsonl``, so it sits beside the log in ComfyUI's output/dataset_gates_logs."""
    from . import sort_log  # imported here: the worker processes load this file alone

    return sort_log.log_name(folder)[:-len(".jsonl")] + ".quality.json"


def _fingerprint(path: str) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _to_row(fp: tuple, s: Signals) -> list:
    return [fp[0], fp[1], s.sharpness, s.black, s.white, s.width, s.height, f"{s.dhash:016x}",
            f"{s.dhash_centre:016x}"]


def _from_row(row: list) -> tuple:
    size, mtime, sharp, black, white, w, h, dh, dc = row
    return (int(size), int(mtime)), Signals(float(sharp), float(black), float(white), int(w), int(h),
                                             is_small(int(w), int(h)), int(dh, 16), int(dc, 16))


def read_cache(cache_path: str) -> dict:
    """rel -> ((size, mtime_ns), Signals) from a cache file; {} when missing, torn or of another version."""
    try:
        with open(cache_path, encoding="utf-8") as f:
            data = json.load(f)
        if data.get("version") != CACHE_VERSION or data.get("side") != SIDE:
            return {}
        return {rel: _from_row(row) for rel, row in data["files"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def write_cache(cache_path: str, entries: dict) -> None:
    """Atomically (temp file + os.replace) write rel -> ((size, mtime_ns), Signals)."""
    folder = os.path.dirname(cache_path) or "."
    os.makedirs(folder, exist_ok=True)
    data = {"version": CACHE_VERSION, "side": SIDE,
            "files": {rel: _to_row(fp, s) for rel, (fp, s) in sorted(entries.items())}}
    fd, tmp = tempfile.mkstemp(prefix=".quality-", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, separators=(",", ":"))
        os.replace(tmp, cache_path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _measure_many(paths: list) -> list:
    """[(Signals or None)] for paths, in this process."""
    out = []
    for p in paths:
        try:
            out.append(measure(p))
        except Exception:             # whatever a broken file raises: it has no signals, the rest go on
            out.append(None)
    return out


def signals_for(root: str, rels, cache_path: str | None, workers: int = 2, progress=None) -> dict:
    """rel -> Signals for the images ``rels`` under ``root``; an unreadable file has no entry.

    Signals are read from ``cache_path`` for files whose (size, mtime_ns) is unchanged; the rest are
    measured (in ``workers`` processes when there are many) and the cache is rewritten atomically.
    Cache entries of other files that are still there unchanged are kept (another depth of the same
    folder); the cache is rewritten only when something was measured.
    ``progress(done, total)`` is called now and then during measuring, from the caller's thread; an
    exception it raises (a cancelled run) stops the measuring. ``cache_path`` None: no cache.
    """
    rels = list(rels)
    cached = read_cache(cache_path) if cache_path else {}
    out, todo, fps = {}, [], {}
    for rel in rels:
        fp = _fingerprint(os.path.join(root, rel))
        if fp is None:
            continue
        hit = cached.get(rel)
        if hit is not None and hit[0] == fp:
            out[rel] = hit[1]
        else:
            todo.append(rel)
            fps[rel] = fp
    if not todo:
        return out
    measured = _run(root, todo, workers, progress)
    for rel, s in zip(todo, measured):
        if s is not None:
            out[rel] = s
    if cache_path:
        asked = set(rels)
        keep = {rel: v for rel, v in cached.items()
                if rel not in asked and _fingerprint(os.path.join(root, rel)) == v[0]}
        keep.update({rel: (fps[rel] if rel in fps else cached[rel][0], s) for rel, s in out.items()})
        try:
            write_cache(cache_path, keep)
        except OSError:
            pass              # a cache that cannot be written costs time next time, nothing else
    return out


def _run(root: str, todo: list, workers: int, progress) -> list:
    paths = [os.path.join(root, rel) for rel in todo]
    total = len(paths)
    if workers <= 1 or total < POOL_MIN_FILES:
        out = []
        for i in range(0, total, 64):
            out += _measure_many(paths[i:i + 64])
            if progress:
                progress(len(out), total)
        return out
    return _pool_run(paths, workers, progress)


_WORKER = ("import importlib.util as u, sys; s = u.spec_from_file_location('dataset_gates_quality', sys.argv[1]); "
           "m = u.module_from_spec(s); sys.modules[s.name] = m; s.loader.exec_module(m); m.worker_main()")
CHUNK = 32                    # paths per request to a worker


def worker_main() -> None:
    """A measuring worker: a JSON list of paths per line in, a JSON list of rows (or null) per line out."""
    for line in sys.stdin:
        rows = [None if s is None else _to_row((0, 0), s)[2:] for s in _measure_many(json.loads(line))]
        sys.stdout.write(json.dumps(rows) + "\n")
        sys.stdout.flush()


def _pool_run(paths: list, workers: int, progress, fallback: bool = True) -> list:
    """Measure in ``workers`` child processes (each a plain ``python`` that loads this file by path:
    no ``multiprocessing``, so the host's main module, e.g. ComfyUI's main.py, is never re-imported).
    Falls back to this process for whatever a worker could not do."""
    import queue
    import subprocess
    import threading

    results: list = [None] * len(paths)
    done = [False] * len(paths)
    chunks: queue.Queue = queue.Queue()
    for i in range(0, len(paths), CHUNK):
        chunks.put(i)
    lock, counter = threading.Lock(), [0]

    def serve():
        try:
            # -P (3.11+) and a neutral working folder: nothing of the host's folder shadows numpy or PIL
            flags = ["-P"] if sys.version_info >= (3, 11) else []
            proc = subprocess.Popen([sys.executable, *flags, "-c", _WORKER, os.path.abspath(__file__)],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
                                    cwd=tempfile.gettempdir())
        except OSError:
            return
        try:
            while True:
                try:
                    i = chunks.get_nowait()
                except queue.Empty:
                    break
                part = paths[i:i + CHUNK]
                assert proc.stdin is not None and proc.stdout is not None
                proc.stdin.write(json.dumps(part) + "\n")
                proc.stdin.flush()
                line = proc.stdout.readline()
                if not line:
                    chunks.put(i)             # the worker died: someone else (or the fallback) does it
                    break
                for k, row in enumerate(json.loads(line)):
                    if row is not None:
                        sharp, black, white, w, h, dh, dc = row
                        results[i + k] = Signals(float(sharp), float(black), float(white), int(w), int(h),
                                                 is_small(int(w), int(h)), int(dh, 16), int(dc, 16))
                    done[i + k] = True
                with lock:
                    counter[0] += len(part)
        except (OSError, ValueError):
            pass
        finally:
            try:
                if proc.stdin:
                    proc.stdin.close()
                proc.wait(timeout=10)
            except Exception:
                proc.kill()

    threads = [threading.Thread(target=serve, name=f"dataset-gates-quality-{n}", daemon=True)
               for n in range(workers)]
    for t in threads:
        t.start()
    reported = 0
    try:
        for t in threads:             # progress from the caller's thread (ComfyUI's bar wants the node's)
            alive = True
            while alive:
                t.join(0.25)
                alive = t.is_alive()
                if progress and counter[0] != reported:
                    reported = counter[0]
                    progress(reported, len(paths))
    except BaseException:             # progress raised (the run was cancelled): hand out no more work
        while True:
            try:
                chunks.get_nowait()
            except queue.Empty:
                break
        raise
    left = [i for i, d in enumerate(done) if not d]
    if left and not fallback:
        raise RuntimeError(f"the measuring workers left {len(left)} of {len(paths)} images")
    for i, s in zip(left, _measure_many([paths[i] for i in left])):
        results[i] = s
    return results
