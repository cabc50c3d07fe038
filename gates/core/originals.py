"""Which images are still exactly a file's pixels, so the saver can copy the file instead of re-encoding it.

The Folder Image Loader registers every image it puts out (``register``); Save
Image To Folder with ``format: original`` asks ``check`` whether the image it got
is that tensor, untouched, and the file still the one that was decoded. Only a
yes copies bytes, so every doubt answers "changed": the worst a wrong "changed"
does is write a lossless re-encode; a wrong "unchanged" would silently put the
source's pixels where the workflow meant edited ones.

What a yes needs, cheapest first:

* the very tensor the loader returned (a weak reference, so nothing is kept alive);
  any other tensor is "changed", even one with equal pixels;
* one image, not a batch;
* torch's in-place counter (``_version``) unmoved, where torch keeps one: ComfyUI
  runs nodes under ``torch.inference_mode()``, whose tensors have none, so inside
  ComfyUI the digest below is what catches in-place edits;
* the same shape, strides, dtype, device and data pointer (``.data = ...``, ``resize_``);
* the source file's fingerprint (size, mtime_ns, inode, ctime_ns) as it was at load:
  a file replaced or rewritten since is "changed" (on Linux and macOS ctime cannot
  be set back by ``touch`` or ``cp -p``, so a copy with the old mtime is caught too);
* a digest of every byte of the pixels equal to the one taken when the loader
  returned: the only thing that catches an edit made through a numpy view or
  a raw pointer, which moves no counter;
* or, instead of the digest, a proof from the graph (``untouched_in``): the loader
  ran in this very prompt and every node its image reached in it (through the
  Image Gate's pass-through outputs) is one of this pack's that never writes into
  an input (``READS_ONLY``). Nothing else ever held a reference to the tensor, so
  nothing else can have edited it. ComfyUI runs one prompt at a time; a tensor
  from an earlier prompt (ComfyUI's cache) may have been reached by other nodes
  since, so it needs the digest. This spares the folder sort two passes over
  every image (12 MB at 1024², 290 MB at 24 MP).

Stdlib only at module level; torch tensors are used through their methods, PIL is
imported inside ``describe``.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass

from . import files

ORIGINAL = "original"         # Save Image To Folder's format that asks for this
SAVER = "SaveImageToFolder"
MAX_RECORDS = 64              # loader images remembered; a sort keeps one or two alive at a time
DIGEST_CHUNKS = 4             # fixed, so a digest does not depend on how many threads computed it
PARALLEL_BYTES = 8 << 20      # below this one thread is quicker than handing chunks out
COPY_BLOCK = 1 << 20


@dataclass(frozen=True)
class Source:
    """The file an image was decoded from, as it was when it was loaded."""
    path: str
    stem: str
    fingerprint: tuple
    format: str               # PIL's name: PNG, JPEG, WEBP, BMP, TIFF... ('' when unreadable)
    mode: str                 # PIL's mode: RGB, RGBA, L, I;16, P...
    bits: int                 # bits per sample: 16 for a 16-bit PNG (any colour type) or an I;16 file
    has_trns: bool = False    # a palette or gray PNG with a transparent colour (tRNS)
    node_id: str | None = None  # the loader node that registered it (None before ComfyUI's executing context)

    @property
    def ext(self) -> str:
        return os.path.splitext(self.path)[1]

    @property
    def gray(self) -> bool:
        return self.mode in ("1", "L", "LA", "La", "I", "F") or self.mode.startswith("I;16")

    @property
    def alpha(self) -> bool:
        return self.mode in ("RGBA", "RGBa", "LA", "La", "PA") or (self.mode == "P" and self.has_trns)


@dataclass
class _Record:
    ref: weakref.ref
    source: Source
    version: int | None
    layout: tuple
    digest: str
    prompt_id: str | None = None


@dataclass(frozen=True)
class Verdict:
    unchanged: bool
    reason: str               # why it is not unchanged ('' when it is)
    source: Source | None     # the loader's source when the image is (or was) the loader's tensor


_lock = threading.Lock()
_records: OrderedDict = OrderedDict()          # id(tensor) -> _Record, newest last
# (id, weakref) of registered tensors that died. Weak-reference callbacks only append here: they can
# run inside any code, a cyclic GC in a section holding _lock included, so they take no lock.
_dead: list = []
_pool = None


def file_fingerprint(path: str) -> tuple | None:
    """(size, mtime_ns, inode, ctime_ns) of a file, or None when it cannot be read."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return _fp(st)


def _fp(st: os.stat_result) -> tuple:
    return (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)


def describe(path: str) -> dict:
    """Format, mode and bits per sample of an image file, from its header (no pixels decoded)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            fmt, mode, trns = im.format or "", im.mode, "transparency" in im.info
    except Exception:                          # the saver then writes PNG and says the source is unknown
        return {"format": "", "mode": "", "bits": 8, "has_trns": False}
    bits = 16 if mode.startswith("I;16") or mode in ("I", "F") else 8
    if fmt == "PNG":
        bits = _png_bit_depth(path) or bits   # Pillow opens a 48/64-bit PNG as 8-bit RGB(A); the header knows
    return {"format": fmt, "mode": mode, "bits": bits, "has_trns": trns}


def _png_bit_depth(path: str) -> int | None:
    try:
        with open(path, "rb") as f:
            head = f.read(29)
    except OSError:
        return None
    if len(head) < 29 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return head[24]


def _tensor_version(t) -> int | None:
    try:
        return int(t._version)
    except (AttributeError, RuntimeError):     # inference tensors (all of ComfyUI's) keep no counter
        return None


def _layout(t) -> tuple:
    return (tuple(t.shape), tuple(t.stride()), str(t.dtype), str(t.device), t.data_ptr())


def _hash(mv) -> bytes:
    return hashlib.sha1(mv, usedforsecurity=False).digest()


def _workers():
    global _pool
    with _lock:
        if _pool is None:
            from concurrent.futures import ThreadPoolExecutor

            n = max(1, min(DIGEST_CHUNKS, os.cpu_count() or 1))
            _pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="dataset-gates-digest")
        return _pool


def digest(t) -> str | None:
    """A digest of every byte of a CPU tensor's pixels (None when it is not contiguous CPU memory)."""
    if str(t.device) != "cpu" or not t.is_contiguous():
        return None
    return digest_array(t.detach().numpy(), tuple(t.shape), str(t.dtype))


def digest_array(arr, shape: tuple, dtype: str) -> str:
    """``digest`` of a tensor of ``shape`` and torch ``dtype`` whose memory is the C-contiguous ``arr``:
    the loader's decode-ahead thread takes it before the tensor exists (torch.from_numpy shares the
    memory), so the prompt does not pay for it.

    SHA-1 is here a fast checksum, not a security boundary (whoever can write the
    tensor can do anything): 2^-160 for an accidental match, about 2 GB/s with
    the CPU's SHA instructions. hashlib releases the GIL, so the four chunks of a
    big image are hashed on up to four threads (faster where cores are idle).
    """
    mv = memoryview(arr).cast("B") if arr.size else memoryview(b"")
    n = len(mv)
    parts = [mv[n * i // DIGEST_CHUNKS:n * (i + 1) // DIGEST_CHUNKS] for i in range(DIGEST_CHUNKS)]
    if n >= PARALLEL_BYTES and DIGEST_CHUNKS > 1:
        hashes = list(_workers().map(_hash, parts))
    else:
        hashes = [_hash(p) for p in parts]
    h = hashlib.sha1(repr((tuple(shape), dtype)).encode(), usedforsecurity=False)
    for x in hashes:
        h.update(x)
    return h.hexdigest()


def executing_node() -> str | None:
    """The id of the node ComfyUI runs now; None outside ComfyUI or in one without the executing context."""
    try:
        from comfy_execution.utils import get_executing_context
    except ImportError:
        return None
    ctx = get_executing_context()
    return _str(getattr(ctx, "node_id", None)) if ctx is not None else None


def executing_prompt() -> str | None:
    """The id of the prompt ComfyUI runs now, from its executing context only (None outside ComfyUI):
    the graph's proof must never be taken for another prompt."""
    try:
        from comfy_execution.utils import get_executing_context
    except ImportError:
        return None
    ctx = get_executing_context()
    return _str(getattr(ctx, "prompt_id", None)) if ctx is not None else None


def register(t, path: str, stem: str, node_id=None, fingerprint: tuple | None = None,
             pixels_digest: str | None = None, prompt=None, prompt_id=None) -> Source:
    """Remember that ``t`` is exactly the pixels of ``path`` (called by the loader as it returns ``t``).

    ``node_id`` defaults to ComfyUI's executing node: the saver finds
    the source of an edited image through the loader nodes upstream of it.
    ``fingerprint``: ``file_fingerprint(path)`` taken before the pixels were
    decoded, when the caller has one (an image decoded ahead of its turn); else
    it is taken now, which is right when the decode just happened.
    ``pixels_digest``: ``digest_array`` of ``t``'s memory taken ahead by the caller, who
    guarantees nothing wrote to that memory since (else the tensor is hashed now).
    ``prompt`` and ``prompt_id``: the running prompt; when ``untouched_in`` proves no
    other node can reach the tensor in it, no digest is taken at all.
    """
    if node_id is None:
        node_id = executing_node()
    fp = fingerprint if fingerprint is not None else file_fingerprint(path)
    info = describe(path)
    src = Source(path=os.path.abspath(path), stem=stem, fingerprint=fp or (), node_id=_str(node_id), **info)
    proven = prompt_id is not None and untouched_in(prompt, node_id)
    rec = _Record(ref=None, source=src, version=_tensor_version(t), layout=_layout(t),
                  digest=pixels_digest or ("" if proven else digest(t) or ""),
                  prompt_id=_str(prompt_id) if proven else None)
    key = id(t)
    rec.ref = weakref.ref(t, lambda ref, key=key: _dead.append((key, ref)))
    with _lock:
        _purge()
        _records.pop(key, None)
        _records[key] = rec
        while len(_records) > MAX_RECORDS:
            _records.popitem(last=False)
    return src


def _purge() -> None:
    """Drop the records of dead tensors (called holding _lock)."""
    while _dead:
        key, ref = _dead.pop()
        r = _records.get(key)
        if r is not None and r.ref is ref:
            del _records[key]


def live_records() -> int:
    with _lock:
        _purge()
        return len(_records)


def _str(x):
    return None if x is None else str(x)


def _record_of(t) -> _Record | None:
    with _lock:
        _purge()
        rec = _records.get(id(t))
    if rec is None or rec.ref() is not t:      # an id reused by a new object is not the loader's tensor
        return None
    return rec


def check(image, prompt_id=None) -> Verdict:
    """Is ``image`` (an IMAGE batch [B, H, W, C]) exactly what the loader decoded from its file, still on disk?

    ``prompt_id``: the running prompt; the graph's proof made at ``register`` holds only within it.
    """
    rec = _record_of(image)
    if rec is None:
        return Verdict(False, "not the Folder Image Loader's image", None)
    src = rec.source
    if int(image.shape[0]) != 1:
        return Verdict(False, f"a batch of {int(image.shape[0])} images", src)
    if rec.version is not None and _tensor_version(image) != rec.version:
        return Verdict(False, "pixels edited in place", src)
    if _layout(image) != rec.layout:
        return Verdict(False, "the image tensor was reshaped or its memory replaced", src)
    now = file_fingerprint(src.path)
    if now is None:
        return Verdict(False, "the source file is gone", src)
    if not src.fingerprint or now != src.fingerprint:
        return Verdict(False, "the source file changed on disk since it was loaded", src)
    if rec.prompt_id is not None and _str(prompt_id) == rec.prompt_id:
        return Verdict(True, "", src)                  # no node but this pack's read-only ones reached it
    if not rec.digest and rec.prompt_id is not None:
        return Verdict(False, "loaded by an earlier prompt (other nodes may have reached it since)", src)
    d = digest(image)
    if not rec.digest or d != rec.digest:
        return Verdict(False, "pixels edited in place", src)
    return Verdict(True, "", src)


# This pack's nodes that never write into an input tensor. The Image Gate's route outputs are its
# input image itself (a crop is a new tensor), so what they reach is followed too.
READS_ONLY = {"SaveImageToFolder": False, "ImageGate": True}     # class -> passes the image on
IMAGE_OUTPUT = 0                                                   # the Folder Image Loader's image


def untouched_in(prompt, loader_id) -> bool:
    """Does the loader ``loader_id``'s image reach, in ``prompt``, only nodes of ``READS_ONLY``?

    False whenever the graph is unknown or anything else may see the tensor.
    """
    if not isinstance(prompt, dict) or loader_id is None or str(loader_id) not in prompt:
        return False
    reached, todo = set(), [(str(loader_id), IMAGE_OUTPUT)]
    while todo:
        src, slot = todo.pop()
        for nid, node in prompt.items():
            if not isinstance(node, dict):
                return False
            links = [v for v in (node.get("inputs") or {}).values()
                     if _is_link(v) and str(v[0]) == src and (slot is None or v[1] == slot)]
            if not links or str(nid) in reached:
                continue
            kind = node.get("class_type")
            if kind not in READS_ONLY:
                return False
            reached.add(str(nid))
            if READS_ONLY[kind]:
                todo.append((str(nid), None))          # every output of a gate may be the same tensor
    return True


def source_for(image, stem: str, loader_ids=None) -> Source | None:
    """The loader source an image derives from, for an image that is not the loader's tensor itself.

    ``loader_ids``: the Folder Image Loader nodes upstream of the saver's image in
    the prompt (None = the graph is unknown: any loader). Newest first, a
    registration of one of them whose stem is the saver's filename wins (the
    usual wiring: filename from the loader); else the newest of one of them.
    """
    rec = _record_of(image)
    if rec is not None:
        return rec.source
    if loader_ids is not None and not loader_ids:
        return None
    ids = None if loader_ids is None else {str(i) for i in loader_ids}
    with _lock:
        _purge()
        recs = list(reversed(_records.values()))
    mine = [r.source for r in recs
            if ids is None or r.source.node_id is None or r.source.node_id in ids]
    for s in mine:
        if s.stem == stem:
            return s
    return mine[0] if mine and ids is not None else None


def wanted(prompt) -> bool:
    """Does a Save Image To Folder of ``prompt`` use format original (or may it: a wired format)?

    The loader registers only then: the digest is a pass over the whole image
    (150 ms at 6000x4000), which a workflow saving PNG should not pay. An unknown
    prompt (None: outside ComfyUI) counts as yes.
    """
    if not isinstance(prompt, dict):
        return True
    for node in prompt.values():
        if isinstance(node, dict) and node.get("class_type") == SAVER:
            fmt = (node.get("inputs") or {}).get("format")
            if fmt == ORIGINAL or _is_link(fmt):
                return True
    return False


def upstream_of(prompt: dict | None, node_id, input_name: str = "image", class_type: str = "FolderImageLoader"):
    """The ids of ``class_type`` nodes that ``node_id``'s ``input_name`` derives from, through any nodes.

    None when the prompt does not hold the node (the graph is unknown).
    """
    if not isinstance(prompt, dict) or node_id is None or str(node_id) not in prompt:
        return None
    first = (prompt[str(node_id)].get("inputs") or {}).get(input_name)
    todo = [first[0]] if _is_link(first) else []
    seen, found = set(), set()
    while todo:
        nid = str(todo.pop())
        if nid in seen or nid not in prompt:
            continue
        seen.add(nid)
        node = prompt[nid]
        if node.get("class_type") == class_type:
            found.add(nid)
        todo += [v[0] for v in (node.get("inputs") or {}).values() if _is_link(v)]
    return found


def _is_link(v) -> bool:
    return isinstance(v, list) and len(v) == 2 and isinstance(v[1], int)


@dataclass(frozen=True)
class Plan:
    """How ``format: original`` writes an image that is not its source's bytes."""
    kind: str                 # PIL format: PNG or WEBP
    ext: str
    bits: int                 # 8 or 16 per sample
    channels: int             # 1 (gray) or 3 (RGB)
    what: str                 # "16-bit grayscale PNG", "lossless WebP"...
    notes: tuple = ()


def out_bits(src: Source | None) -> int:
    """16 for a source with 16 bits per sample written as PNG (a WebP has 8), else 8."""
    return 16 if src is not None and src.bits == 16 and src.format != "WEBP" else 8


def plan(src: Source | None, gray_pixels: bool) -> Plan:
    """The lossless file for a changed image of ``src`` (None: not from the loader, or unknown).

    PNG keeps a PNG source's depth and mode: 16-bit gray stays 16-bit gray, L stays
    L, RGB stays RGB, a 16-bit RGB(A) source gives 16-bit RGB. WebP gives lossless
    WebP. Anything else (JPEG, BMP, TIFF, GIF) gives PNG, gray when the source is
    gray. An IMAGE carries no alpha (the loader puts it on its mask output), so an
    RGBA/LA/transparent-palette source comes out RGB/gray without alpha, and a gray
    source whose pixels are no longer gray comes out RGB at its depth: both noted.
    ``gray_pixels``: the image's three channels are equal at ``out_bits(src)``.
    """
    if src is None or not src.format:
        return Plan("PNG", ".png", 8, 3, "8-bit RGB PNG")
    notes = []
    if src.alpha:
        notes.append("alpha not kept: an IMAGE has no alpha channel (the loader's mask output has it)")
    if src.format == "WEBP":
        return Plan("WEBP", ".webp", 8, 3, "lossless WebP", tuple(notes))
    bits = out_bits(src)
    channels = 1 if src.gray and gray_pixels else 3
    if src.gray and not gray_pixels:
        notes.append("the pixels are no longer gray, so RGB")
    what = f"{bits}-bit {'grayscale' if channels == 1 else 'RGB'} PNG"
    return Plan("PNG", ".png", bits, channels, what, tuple(notes))


class SourceChanged(Exception):
    """The source file changed while it was being copied: nothing was written."""


def copy_exact(src: Source, target: str) -> None:
    """Copy the source's bytes to ``target`` atomically, only if they are still the bytes that were loaded.

    The fingerprint is taken again on the open file before and after the copy, so
    a file replaced (rename) between the check and the open, or rewritten during
    the copy, raises :class:`SourceChanged` and leaves no file behind.
    """
    try:
        fsrc = open(src.path, "rb")
    except OSError as e:
        raise SourceChanged(f"the source file cannot be read ({e.strerror})") from None
    with fsrc:
        if _fp(os.fstat(fsrc.fileno())) != src.fingerprint:
            raise SourceChanged("the source file changed on disk since it was loaded")

        def write(f):
            shutil.copyfileobj(fsrc, f, COPY_BLOCK)
            if _fp(os.fstat(fsrc.fileno())) != src.fingerprint or f.tell() != src.fingerprint[0]:
                raise SourceChanged("the source file changed while it was copied")

        files.atomic_write(target, write)


def forget_all() -> None:
    """Tests: start from an empty registry."""
    with _lock:
        _records.clear()
        _dead.clear()

