"""Save Image To Folder: keeps the dataset's file names, captions and masks; writes atomically."""
from __future__ import annotations

import io
import os

import numpy as np
from PIL import Image

from . import access, files, scan, sidecars, sort_session
from .comfy_paths import comfy_folder
from .names import CATEGORY

FORMATS = {"png": ("PNG", ".png", {"compress_level": 4}),
           "jpg": ("JPEG", ".jpg", {"quality": 95}),
           "webp": ("WEBP", ".webp", {"quality": 95})}


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
    stem = os.path.splitext(os.path.basename(target))[0]
    written = []
    files.atomic_write_bytes(target, encode(rgb, fmt))
    written.append(os.path.basename(target))
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


class SaveImageToFolder:
    CATEGORY = CATEGORY
    FUNCTION = "save"
    OUTPUT_NODE = True
    RETURN_TYPES = ()
    DESCRIPTION = ("Saves images into a folder under their dataset names (wire 'filename' from the Folder Image "
                   "Loader), with the caption as <stem>.txt, a painted mask as <stem>.mask.png and any Sidecar files "
                   "under the same name. Every file is "
                   "written to a temporary name and renamed into place, so nothing is ever half-written.")

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "image": ("IMAGE", {"tooltip": "The image or batch to save."}),
                "folder": ("STRING", {"default": "sorted/keep", "tooltip": "Target folder: absolute, or "
                                      "relative to ComfyUI's output folder. Created when missing."}),
                "filename": ("STRING", {"default": "image", "tooltip": "File stem, without extension or folders "
                                        "(wire it from the loader). A batch saves as <stem>_00, <stem>_01..."}),
                "format": (list(FORMATS), {"default": "png", "tooltip": "File format of the image."}),
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
        }

    def save(self, image, folder, filename, format="png", on_conflict="suffix", caption=None, mask=None,
             save_empty_mask=False, sidecar=None):
        from .imaging import fit_mask, tensor_to_uint8

        stem = files.check_stem(filename)
        if format not in FORMATS:
            raise ValueError(f"format must be one of {list(FORMATS)}, got {format!r}")
        chain = sidecars.plan(sidecar, {".txt": "the caption"} if caption is not None else None)
        out = resolve_out_folder(folder, comfy_folder("output"))
        b, h, w = int(image.shape[0]), int(image.shape[1]), int(image.shape[2])
        masks = fit_mask(mask, b, h, w) if mask is not None else None
        written = []
        for i in range(b):
            name = stem if b == 1 else f"{stem}_{i:02d}"
            rgb = tensor_to_uint8(image[i])
            m = None
            if masks is not None and (save_empty_mask or float(masks[i].max()) > 0):
                m = tensor_to_uint8(masks[i])
            written += save_item(out, name, rgb, format, on_conflict, caption, m, chain)
        paths = [os.path.join(out, n) for n in written]
        sort_session.saved(paths)                 # in a folder sort: the image's decision is logged now
        return {"ui": {"saved": paths}}


NODE_CLASS_MAPPINGS = {"SaveImageToFolder": SaveImageToFolder}
NODE_DISPLAY_NAME_MAPPINGS = {"SaveImageToFolder": "Save Image To Folder (Dataset)"}
