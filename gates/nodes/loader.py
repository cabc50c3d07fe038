"""Folder Image Loader: one image of a folder per run, with its caption and name; Folder Image
Batch: several images of a folder as one batch of one size."""
from __future__ import annotations

import os

import numpy as np
from PIL import Image

from ..comfy.comfy_paths import comfy_base, comfy_folder
from ..core import access, buckets, query, samples, scan
from ..core.imaging import alpha_mask, upright
from ..core.names import CATEGORY
from ..core.quality import ORDERS

MODES = ["index", "sort"]
MAX_BATCH = 1024
FOLDER_TOOLTIP = ("Folder of images: an absolute path, or relative to ComfyUI's input folder ('ds'), or to "
                  "ComfyUI's base folder ('input/ds') when not under input. "
                  "'dataset_gates_sample' is the pack's own sample dataset when input/ has no folder of that name.")


def source_folder(folder) -> str:
    """The folder to read: absolute, relative to ComfyUI's input folder, or the shipped sample
    (``samples``); refused by the access policy when it may not be read."""
    return access.check(samples.resolve_input_folder(folder, comfy_folder("input"), comfy_base()), read=True)


def source_fingerprint(folder, depth) -> str:
    """What IS_CHANGED compares: the folder's listing and files ('none' when there is nothing to list)."""
    if not str(folder or "").strip():
        return "none"
    path = samples.resolve_input_folder(folder, comfy_folder("input"), comfy_base())
    if path and not access.allowed(path, read=True):
        path = ""                                     # loading raises the refusal; don't list the folder
    return scan.fingerprint(path, depth) if path else "none"


def check_files(path: str, rel: str) -> None:
    """An image and its caption may be read (a link out of an allowed folder counts as outside)."""
    for p, what in ((os.path.join(path, rel), "image"), (scan.sidecar_path(path, rel), "caption")):
        access.check(p, what, read=True)


def pil_to_arrays(im: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    """Any PIL image -> (RGB float32 [H,W,3] in 0..1, mask float32 [H,W] = 1 - alpha).

    EXIF orientation is applied; 16-bit, palette, LA and CMYK are converted.
    """
    return expand_arrays(*decode_compact(im))


def decode_compact(im: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """The pixels of ``pil_to_arrays`` in the least memory, for an image decoded ahead of its
    turn: 8-bit RGB stays uint8 (a quarter of float32) and no mask when there is no alpha."""
    im = upright(im)
    mask = None
    if im.mode == "P" and "transparency" in im.info:
        im = im.convert("RGBA")
    if "A" in im.getbands():
        mask = alpha_mask(im)
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(im, dtype=np.float32)
        arr = arr / (65535.0 if im.mode != "I" or arr.max() > 255 else 255.0)
        rgb = np.repeat(np.clip(arr, 0, 1)[..., None], 3, axis=2)
    elif im.mode == "F":
        rgb = np.repeat(np.clip(np.asarray(im, dtype=np.float32), 0, 1)[..., None], 3, axis=2)
    else:
        rgb = np.asarray(im if im.mode == "RGB" else im.convert("RGB"), dtype=np.uint8)
    return rgb, mask


def expand_arrays(rgb: np.ndarray, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """``decode_compact``'s result as the loader outputs it: float32 RGB in 0..1 and a mask."""
    if rgb.dtype == np.uint8:
        rgb = np.divide(rgb, np.float32(255.0), dtype=np.float32)   # the same values as float32 / 255
    if mask is None:
        mask = np.zeros(rgb.shape[:2], dtype=np.float32)
    return np.ascontiguousarray(rgb), np.ascontiguousarray(mask)


def load_file(path: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        with Image.open(path) as im:
            im.load()
            return pil_to_arrays(im)
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise ValueError(f"cannot read image {path}: {e}") from None


class FolderImageLoader:
    CATEGORY = CATEGORY
    FUNCTION = "load"
    RETURN_TYPES = ("IMAGE", "STRING", "MASK", "STRING", "INT", "INT")
    RETURN_NAMES = ("image", "text", "mask", "filename", "index", "count")
    OUTPUT_TOOLTIPS = ("The image ([1,H,W,3]).", "Its caption: the sidecar <stem>.txt, or empty.",
                       "1 - alpha, or zeros when the image has no alpha.", "The file's stem (name without extension).",
                       "The index that was loaded.", "How many images the folder holds (that match the filter).")
    DESCRIPTION = ("Loads one image of a folder per run, in natural order (img2 before img10), with its caption "
                   "and file name. Set index to 'increment' to walk the folder one run at a time; past the last "
                   "image it stops with a clear error. In 'sort' mode one Run sorts the whole folder: each run "
                   "loads the first image without a decision in the folder's decision log, and an Image Gate "
                   "queues the next run the moment it is answered.")

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "folder": ("STRING", {"default": "", "tooltip": FOLDER_TOOLTIP}),
            "index": ("INT", {"default": 0, "min": 0, "max": 0xFFFFFFFF, "control_after_generate": True,
                              "tooltip": "Which image (0 = first, natural order). 'increment' advances per run."}),
            "depth": ("INT", {"default": 0, "min": -1, "max": 64,
                              "tooltip": "Subfolders to include: 0 = only this folder, N = N levels, -1 = all."}),
        }, "optional": {
            "mode": (MODES, {"default": "index", "tooltip": "index: load the image at 'index'. sort: load the "
                             "first image without a decision, and keep going after each gate answer until the "
                             "folder is done (resumes where it stopped; see the decision log)."}),
            "filter": ("STRING", {"default": "", "tooltip": "Only the images matching this query, e.g. "
                                  "tag:cat AND NOT tag:blurry, width:<1024, has:caption (see the README). index, "
                                  "count and a sort's progress follow the matching images. Empty = all."}),
            "order": (list(ORDERS), {"default": "name", "tooltip": "The order images come in. name: natural "
                                     "order (img2 before img10). sharpness: least sharp first. exposure: most "
                                     "clipped (black + white) first. size: fewest pixels first. index, count and "
                                     "a sort follow it; the signals are measured once per file and cached "
                                     "beside the decision logs."}),
        }, "hidden": {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"}}

    @classmethod
    def IS_CHANGED(cls, folder, index, depth, mode="index", filter="", order="name", **_):  # noqa: A002
        if mode == "sort":
            return float("nan")                       # the next undecided image: never the cached one
        return f"{index}:{depth}:{filter}:{order}:{source_fingerprint(folder, depth)}"

    def load(self, folder, index, depth=0, mode="index", prompt=None, extra_pnginfo=None, filter="",  # noqa: A002
             order="name"):
        import torch

        from ..core import originals

        path = source_folder(folder)
        q = query.Query(filter)                   # a bad query fails here, naming the position
        if order not in ORDERS:
            raise ValueError(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
        arrays = fingerprint = digest = None
        if mode == "sort":
            from ..comfy import pause_server, sort_session

            session = sort_session.start(path, int(depth), pause_server.current_prompt_id(), prompt,
                                         {"extra_pnginfo": extra_pnginfo} if extra_pnginfo else {}, q.text, order)
            files, rel, index = session.files, session.current["file"], session.current["index"]
            session.digest_ahead = originals.wanted(prompt) and not originals.untouched_in(
                prompt, originals.executing_node())
            arrays, fingerprint, digest = sort_session.take_prefetched(session, rel)
        else:
            from ..comfy import sort_session

            files, _ = sort_session.select(path, scan.list_images(path, depth), q, order)
            if q and not files:
                raise ValueError(f"no image of {path} matches the filter {q.text!r}")
            rel = scan.pick(files, int(index), path)
        check_files(path, rel)
        if arrays is None:                # the file as it is before it is read: a copy must be of these bytes
            fingerprint = originals.file_fingerprint(os.path.join(path, rel))
        rgb, mask = expand_arrays(*arrays) if arrays else load_file(os.path.join(path, rel))
        if mode == "sort":
            sort_session.prefetch_next(session)
        stem = os.path.splitext(os.path.basename(rel))[0]
        image = torch.from_numpy(rgb)[None]
        if originals.wanted(prompt):              # a saver's format 'original' may copy the file
            ahead = digest if arrays is not None and rgb is arrays[0] else None   # hashed as it was decoded
            originals.register(image, os.path.join(path, rel), stem, fingerprint=fingerprint, pixels_digest=ahead,
                               prompt=prompt, prompt_id=originals.executing_prompt())
        return (image, scan.read_sidecar(path, rel), torch.from_numpy(mask)[None], stem, int(index), len(files))


def batch_size(first: tuple, width: int, height: int) -> tuple:
    """(W, H) of a batch: ``width`` x ``height``; 0 x 0 = the first image's size; one side 0 = that
    side from the first image's aspect (as ComfyUI's Upscale Image does)."""
    w0, h0 = first
    if width and height:
        return int(width), int(height)
    if width:
        return int(width), max(1, round(h0 * width / w0))
    if height:
        return max(1, round(w0 * height / h0)), int(height)
    return w0, h0


def to_size(rgb: np.ndarray, mask: np.ndarray, W: int, H: int) -> tuple:
    """An image and its mask scaled to cover W x H, centre cropped (Bucket Resize's crop, Lanczos)."""
    from .bucket_resize import fit_array, fit_plane

    h, w = rgb.shape[:2]
    if (w, h) == (W, H):
        return rgb, mask
    geo = buckets.geometry(w, h, W, H, "crop")
    return fit_array(rgb, geo, W, H, "crop"), fit_plane(mask, geo, W, H, "crop")


class FolderImageBatch:
    CATEGORY = CATEGORY
    FUNCTION = "load"
    RETURN_TYPES = ("IMAGE", "MASK", "STRING")
    RETURN_NAMES = ("images", "masks", "files")
    OUTPUT_TOOLTIPS = ("The images as one batch ([N,H,W,3]), all of one size.",
                       "Their masks (1 - alpha, zeros without alpha), resized like the images.",
                       "Their files (relative to the folder), one per line, in batch order.")
    DESCRIPTION = ("Loads up to 'count' images of a folder as one batch, in natural order from 'start', for "
                   "nodes that take a whole batch such as the Image Chooser Gate. A batch has one size: every "
                   "image is scaled to cover width x height and centre-cropped (Lanczos, the mask likewise); "
                   "0 x 0 is the first image's size.")

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "folder": ("STRING", {"default": "", "tooltip": FOLDER_TOOLTIP}),
            "start": ("INT", {"default": 0, "min": 0, "max": 0xFFFFFFFF,
                              "tooltip": "The first image (0 = the folder's first, natural order)."}),
            "count": ("INT", {"default": 8, "min": 1, "max": MAX_BATCH,
                              "tooltip": "How many images; fewer when the folder ends first."}),
            "depth": ("INT", {"default": 0, "min": -1, "max": 64,
                              "tooltip": "Subfolders to include: 0 = only this folder, N = N levels, -1 = all."}),
            "width": ("INT", {"default": 0, "min": 0, "max": 16384, "tooltip": "Width of the batch; 0 = from "
                              "the first image (its width, or its aspect when height is set)."}),
            "height": ("INT", {"default": 0, "min": 0, "max": 16384, "tooltip": "Height of the batch; 0 = "
                               "from the first image (its height, or its aspect when width is set)."}),
        }}

    @classmethod
    def IS_CHANGED(cls, folder, start, count, depth, width, height):
        return source_fingerprint(folder, depth)

    def load(self, folder, start, count, depth=0, width=0, height=0):
        import torch

        path = source_folder(folder)
        files = scan.list_images(path, depth)
        scan.pick(files, 0, path)                     # a clear error for a folder without images
        if int(start) >= len(files):
            raise ValueError(f"start {start} is past the end of {path} ({len(files)} images, "
                             f"0..{len(files) - 1})")
        chosen = files[int(start):int(start) + int(count)]
        rgbs, masks, size = [], [], None
        for rel in chosen:
            check_files(path, rel)
            rgb, mask = load_file(os.path.join(path, rel))
            if size is None:
                size = batch_size((rgb.shape[1], rgb.shape[0]), int(width), int(height))
            rgb, mask = to_size(rgb, mask, *size)
            rgbs.append(rgb)
            masks.append(mask)
        return torch.from_numpy(np.stack(rgbs)), torch.from_numpy(np.stack(masks)), "\n".join(chosen)


NODE_CLASS_MAPPINGS = {"FolderImageLoader": FolderImageLoader, "FolderImageBatch": FolderImageBatch}
NODE_DISPLAY_NAME_MAPPINGS = {"FolderImageLoader": "Folder Image Loader", "FolderImageBatch": "Folder Image Batch"}
