"""Save Image To Folder: keeps the dataset's file names, captions and masks; writes atomically."""
from __future__ import annotations

import io
import logging
import os

import numpy as np
from PIL import Image

from ..comfy import sort_session
from ..comfy.comfy_paths import comfy_folder
from ..core import access, files, originals, scan, sidecars
from ..core.names import CATEGORY, LOGGER

log = logging.getLogger(LOGGER)

FORMATS = {"png": ("PNG", ".png", {"compress_level": 4}),
           "jpg": ("JPEG", ".jpg", {"quality": 95}),
           "webp": ("WEBP", ".webp", {"quality": 95})}
ORIGINAL = originals.ORIGINAL  # the source file's bytes when unchanged, else its format losslessly


def resolve_out_folder(folder: str, base: str | None) -> str:
    path = access.check(scan.resolve_folder(folder, base))
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"output folder is a file, not a folder: {path}")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise ValueError(f"cannot create output folder {path}: {e.strerror}") from None
    return path


def encode(arr: np.ndarray, fmt: str) -> bytes:
    kind, _, opts = FORMATS[fmt]
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, kind, **opts)
    return buf.getvalue()


def save_item(folder, stem, rgb, fmt, policy, caption=None, mask=None, chain=()):
    """Write one image (+ caption, + mask, + sidecars) under ``stem``; return the names written ([] if skipped).

    The sidecars take the image's final name, after the conflict policy picked it.
    """
    ext = FORMATS[fmt][1]
    target = files.resolve_target(folder, stem + ext, policy)
    if target is None:
        return []
    files.atomic_write_bytes(target, encode(rgb, fmt))
    return [os.path.basename(target)] + write_beside(folder, target, caption, mask, chain)


def write_beside(folder, target, caption=None, mask=None, chain=()):
    """The caption, mask and sidecars of the image written at ``target``, under its final stem."""
    stem = os.path.splitext(os.path.basename(target))[0]
    written = []
    if caption is not None and caption != "":
        p = os.path.join(folder, stem + ".txt")
        files.atomic_write_bytes(p, caption.encode("utf-8"))
        written.append(os.path.basename(p))
    if mask is not None:
        p = os.path.join(folder, stem + scan.MASK_SUFFIX)
        files.atomic_write_bytes(p, encode(mask, "png"))
        written.append(os.path.basename(p))
    for name, data in sidecars.files_for(stem, chain):
        files.atomic_write_bytes(os.path.join(folder, name), data)
        written.append(name)
    return written


def encode_plan(image, plan: originals.Plan) -> bytes:
    """One IMAGE ``[H, W, 3]`` tensor as ``plan`` says: lossless PNG (8/16-bit, gray/RGB) or WebP."""
    from ..core.imaging import encode_png16, tensor_to_uint8, tensor_to_uint16

    arr = tensor_to_uint16(image) if plan.bits == 16 else tensor_to_uint8(image)
    arr = arr[..., 0] if plan.channels == 1 else arr[..., :3]     # an RGBA IMAGE of another node: RGB, as planned
    if plan.bits == 16:
        return encode_png16(np.ascontiguousarray(arr))
    buf = io.BytesIO()
    if plan.kind == "WEBP":
        # lossless: exact pixels; quality is then the effort, method 4 Pillow's default speed/size balance
        Image.fromarray(arr).save(buf, "WEBP", lossless=True, quality=80, method=4)
    else:
        Image.fromarray(arr).save(buf, "PNG", compress_level=FORMATS["png"][2]["compress_level"])
    return buf.getvalue()


def is_gray(image, bits: int) -> bool:
    """The three channels of one IMAGE ``[H, W, 3]`` are equal once quantised to ``bits`` (so gray loses nothing)."""
    if image.shape[-1] < 3:
        return True
    x = image.detach()
    if bool((x[..., 0] == x[..., 1]).all()) and bool((x[..., 0] == x[..., 2]).all()):
        return True                      # the loader's gray and a resize of it: equal floats, no quantising
    scale = 65535 if bits == 16 else 255
    q = [x[..., c].clamp(0, 1).mul(scale).round() for c in range(3)]
    return bool((q[0] == q[1]).all()) and bool((q[0] == q[2]).all())


def judge(image, stem, prompt=None, unique_id=None) -> tuple:
    """(unchanged?, why not, the loader source or None) of an IMAGE reaching a saver in ``format: original``."""
    verdict = originals.check(image, originals.executing_prompt())
    if verdict.source is not None:
        return verdict.unchanged, verdict.reason, verdict.source
    loaders = originals.upstream_of(prompt, unique_id)
    source = originals.source_for(image, stem, loaders)
    if source is None and loaders:
        # the loader did not register: ComfyUI reused its output, cached by a run whose savers
        # did not ask for 'original' (the loader registers only when one does)
        return False, ("from a Folder Image Loader whose output ComfyUI reused from a run without format "
                       "'original' (load the image again to copy it)"), None
    if source is None:
        return False, "not from the Folder Image Loader", None
    return False, "pixels changed on the way (a new image made from the loader's)", source


def save_original(folder, stem, image, index, unchanged, reason, source, policy, caption=None, mask=None,
                  chain=()):
    """``format: original`` for image ``index`` of the batch: (names written, one line saying what was done).

    The source's bytes when ``unchanged`` (``judge``: the loader's image, untouched,
    from a file still as it was); else ``originals.plan``'s lossless file.
    """
    src_name = os.path.basename(source.path) if source is not None else ""
    if unchanged:
        target = files.resolve_target(folder, stem + source.ext, policy)
        if target is None:
            return [], f"{stem}{source.ext}: exists, skipped (on_conflict skip)"
        try:
            originals.copy_exact(source, target)
            name = os.path.basename(target)
            return [name] + write_beside(folder, target, caption, mask, chain), \
                f"{name}: byte-for-byte copy of {src_name} (unchanged since it was loaded)"
        except originals.SourceChanged as e:
            reason = str(e)
    one = image[index]
    gray = source is not None and source.gray and is_gray(one, originals.out_bits(source))   # only gray sources ask
    plan = originals.plan(source, gray)
    target = files.resolve_target(folder, stem + plan.ext, policy)
    name = os.path.basename(target) if target is not None else stem + plan.ext
    if source is None:
        say = f"{name}: {reason}, so written as {plan.what}"
    else:
        say = f"{name}: {reason}; source {src_name}, so written as {plan.what}"
    say += "".join(f"; {n}" for n in plan.notes)
    if target is None:
        return [], say.replace(f"{name}: ", f"{name}: exists, skipped (on_conflict skip); ", 1)
    files.atomic_write_bytes(target, encode_plan(one, plan))
    return [name] + write_beside(folder, target, caption, mask, chain), say


class SaveImageToFolder:
    CATEGORY = CATEGORY
    FUNCTION = "save"
    OUTPUT_NODE = True
    RETURN_TYPES = ()
    DESCRIPTION = ("Saves images into a folder under their dataset names (wire 'filename' from the Folder Image "
                   "Loader), with the caption as <stem>.txt, a painted mask as <stem>.mask.png and any Sidecar files "
                   "under the same name. Every file is "
                   "written to a temporary name and renamed into place, so nothing is ever half-written. "
                   "Format 'original' copies the loader's file byte for byte while its image is unchanged, and "
                   "otherwise writes the source's format losslessly (the node says which).")

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "image": ("IMAGE", {"tooltip": "The image or batch to save."}),
                "folder": ("STRING", {"default": "sorted/keep", "tooltip": "Target folder: absolute, or "
                                      "relative to ComfyUI's output folder. Created when missing."}),
                "filename": ("STRING", {"default": "image", "tooltip": "File stem, without extension or folders "
                                        "(wire it from the loader). A batch saves as <stem>_00, <stem>_01..."}),
                "format": ([*FORMATS, ORIGINAL], {"default": "png", "tooltip": "File format of the image. "
                           "original: when the image is the Folder Image Loader's, unchanged, its file is copied "
                           "byte for byte (the source's extension, EXIF and ICC kept); when it was changed on the "
                           "way (resized, cropped, edited), the source's format is written losslessly: PNG at its "
                           "bit depth and mode, WebP as lossless WebP, anything else as PNG; not from the loader: "
                           "PNG. The node and the log say which."}),
                "on_conflict": (list(files.CONFLICT_POLICIES), {"default": "suffix", "tooltip":
                                "When the file exists: skip it, overwrite it, or add a numeric suffix."}),
            },
            "optional": {
                "caption": ("STRING", {"forceInput": True, "tooltip": "Caption text, saved as <stem>.txt."}),
                "mask": ("MASK", {"tooltip": "Mask (1 = painted), saved as <stem>.mask.png (white = painted)."}),
                "save_empty_mask": ("BOOLEAN", {"default": False, "tooltip": "Also save an all-zero mask."}),
                "sidecar": (sidecars.TYPE, {"tooltip": "Sidecar files (from Sidecar nodes) to write beside each "
                                            "image under its final name; checked before anything is written."}),
            },
            # format original: the graph tells whether the image comes from a Folder Image Loader at all
            "hidden": {"prompt": "PROMPT", "unique_id": "UNIQUE_ID"},
        }

    def save(self, image, folder, filename, format="png", on_conflict="suffix", caption=None, mask=None,
             save_empty_mask=False, sidecar=None, prompt=None, unique_id=None):
        from ..core.imaging import fit_mask, has_paint

        stem = files.check_stem(filename)
        if format not in FORMATS and format != ORIGINAL:
            raise ValueError(f"format must be one of {[*FORMATS, ORIGINAL]}, got {format!r}")
        chain = sidecars.plan(sidecar, {".txt": "the caption"} if caption is not None else None)
        out = resolve_out_folder(folder, comfy_folder("output"))
        b, h, w = int(image.shape[0]), int(image.shape[1]), int(image.shape[2])
        if mask is not None and not save_empty_mask and getattr(mask, "ndim", 2) in (2, 3) and not has_paint(mask):
            mask = None                       # nothing painted: no mask file, and no pass over a resized copy
        masks = fit_mask(mask, b, h, w) if mask is not None else None
        judged = judge(image, stem, prompt, unique_id) if format == ORIGINAL else None
        written, told = [], []
        with files.deferred_sync(sort_session.logs_this_save()) as unsynced:
            try:
                self._save_all(image, b, stem, out, format, on_conflict, caption, masks, save_empty_mask, chain,
                               judged, written, told)
            except BaseException:
                files.fsync_files(unsynced or ())       # what was written stays durable, as any save
                raise
        paths = [os.path.join(out, n) for n in written]
        sort_session.saved(paths, unsynced)       # in a folder sort: logged once its files are durable
        return {"ui": {"saved": paths, "text": told}} if judged is not None else {"ui": {"saved": paths}}

    @staticmethod
    def _save_all(image, b, stem, out, format, on_conflict, caption, masks, save_empty_mask, chain,  # noqa: A002
                  judged, written, told):
        from ..core.imaging import tensor_to_uint8

        for i in range(b):
            name = stem if b == 1 else f"{stem}_{i:02d}"
            m = None
            if masks is not None and (save_empty_mask or float(masks[i].max()) > 0):
                m = tensor_to_uint8(masks[i])
            if judged is None:
                written += save_item(out, name, tensor_to_uint8(image[i]), format, on_conflict, caption, m, chain)
                continue
            names, said = save_original(out, name, image, i, *judged, on_conflict, caption, m, chain)
            written += names
            told.append(said)
            log.info("Save Image To Folder (original): %s", said)


NODE_CLASS_MAPPINGS = {"SaveImageToFolder": SaveImageToFolder}
NODE_DISPLAY_NAME_MAPPINGS = {"SaveImageToFolder": "Save Image To Folder (Dataset)"}
