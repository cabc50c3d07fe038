"""Bucket Resize: put an image (and its mask) exactly on a training bucket.

The original project's node (id ``BucketResize``, same inputs, outputs and
defaults, so its workflows run) plus a ``pad`` mode and an explicit bucket list.
"""
from __future__ import annotations

import logging

import numpy as np
from PIL import Image, ImageColor

from ..core import buckets
from ..core.names import CATEGORY, LOGGER

log = logging.getLogger(LOGGER)


def parse_color(text: str) -> tuple:
    """``#rrggbb``, a colour name, ``r,g,b`` or one gray level -> (r, g, b) in 0..255."""
    s = str(text or "").strip()
    try:
        if s.replace(",", "").replace(" ", "").isdigit():
            parts = [int(p) for p in s.split(",")]
            if len(parts) == 1:
                parts *= 3
            if len(parts) == 3 and all(0 <= p <= 255 for p in parts):
                return tuple(parts)
            raise ValueError
        return ImageColor.getrgb(s)[:3]
    except ValueError:
        raise ValueError(f"pad_color {text!r} is not a colour: use #rrggbb, a name like 'black', "
                         "'r,g,b' or one gray level 0..255") from None


def fit_plane(plane: np.ndarray, geo: dict, W: int, H: int, mode: str, fill: float = 0.0) -> np.ndarray:
    """One float [h, w] plane through the bucket geometry (Lanczos), as float32 [H, W].

    Image channels and masks take exactly this path, so a mask stays aligned with
    its image pixel for pixel.
    """
    im = Image.fromarray(np.ascontiguousarray(plane, dtype=np.float32))
    im = im.resize((geo["new_w"], geo["new_h"]), Image.LANCZOS)
    if mode == "crop":
        im = im.crop((geo["left"], geo["top"], geo["left"] + W, geo["top"] + H))
    else:
        canvas = Image.new("F", (W, H), float(fill))
        canvas.paste(im, (geo["left"], geo["top"]))
        im = canvas
    return np.clip(np.asarray(im, dtype=np.float32), 0.0, 1.0)


def fit_array(arr: np.ndarray, geo: dict, W: int, H: int, mode: str, fill: tuple = (0, 0, 0)) -> np.ndarray:
    """float [h, w, C] -> [H, W, C], channel by channel (alpha and extra channels pad with 1.0)."""
    chans = []
    for c in range(arr.shape[2]):
        f = fill[c] / 255.0 if c < len(fill) else 1.0
        chans.append(fit_plane(arr[..., c], geo, W, H, mode, f))
    return np.stack(chans, axis=-1)


class BucketResize:
    CATEGORY = CATEGORY
    FUNCTION = "run"
    RETURN_TYPES = ("IMAGE", "MASK", "INT", "INT", "STRING")
    RETURN_NAMES = ("image", "mask", "width", "height", "label")
    OUTPUT_TOOLTIPS = ("The image, exactly bucket-sized.", "The mask with the same transform (zeros without one).",
                       "The bucket's width.", "The bucket's height.", "The bucket as 'WxH'.")
    DESCRIPTION = ("Resizes an image onto its training bucket: the bucket nearest to its aspect ratio (in log "
                   "space, ties to the larger area) among, for each width that is a multiple of 'divisible', the "
                   "tallest multiple-of-'divisible' height within resolution² pixels, or among an explicit "
                   "bucket list. 'crop' scales to cover and crops the centre; 'pad' scales to fit and letterboxes. "
                   "Lanczos; the mask gets the same transform. Warns in the log past max_upscale.")

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "image": ("IMAGE", {"tooltip": "The image, or a batch of images of one size."}),
                "resolution": ("INT", {"default": 1280, "min": 64, "max": 8192,
                                       "tooltip": "Area budget: every bucket has at most resolution² pixels."}),
                "divisible": ("INT", {"default": 64, "min": 8, "max": 256,
                                      "tooltip": "Both sides of every bucket are multiples of this."}),
                "max_upscale": ("FLOAT", {"default": 1.5, "min": 1.0, "max": 8.0, "step": 0.1,
                                          "tooltip": "Log a warning when the image is enlarged more than this "
                                                     "(it is still resized)."}),
            },
            "optional": {
                "mask": ("MASK", {"tooltip": "Optional mask; resized to the image first if its size differs, "
                                             "then transformed like the image."}),
                "mode": (list(buckets.MODES), {"default": "crop", "tooltip": "crop: cover and crop the centre "
                                               "(the original's behaviour). pad: fit inside and letterbox."}),
                "pad_color": ("STRING", {"default": "#000000", "tooltip": "Letterbox colour in pad mode: "
                                         "#rrggbb, a name, r,g,b or a gray level. The mask pads with zeros."}),
                "bucket_list": ("STRING", {"default": "", "multiline": True, "tooltip": "Explicit buckets, "
                                           "e.g. '1024x1024, 1152x896, 896x1152'. Empty: generate them from "
                                           "resolution and divisible (which a list overrides)."}),
            },
        }

    def run(self, image, resolution=1280, divisible=64, max_upscale=1.5, mask=None, mode="crop",
            pad_color="#000000", bucket_list=""):
        import torch

        from ..core.imaging import fit_mask

        b, ih, iw = int(image.shape[0]), int(image.shape[1]), int(image.shape[2])
        cands = buckets.candidates(resolution, divisible, bucket_list)
        W, H = buckets.pick_for_batch([(iw, ih)] * b, cands)
        geo = buckets.geometry(iw, ih, W, H, mode)
        fill = parse_color(pad_color) if mode == "pad" else (0, 0, 0)
        warning = buckets.upscale_warning(iw, ih, W, H, geo["scale"], max_upscale)
        if warning:
            log.warning("Bucket Resize: %s", warning)
        src = image.detach().cpu().float().numpy()
        out = np.stack([fit_array(src[i], geo, W, H, mode, fill) for i in range(b)])
        if mask is None:
            out_mask = np.zeros((b, H, W), dtype=np.float32)
        else:
            m = fit_mask(mask, b, ih, iw).numpy()
            out_mask = np.stack([fit_plane(m[i], geo, W, H, mode, 0.0) for i in range(b)])
        return (torch.from_numpy(out), torch.from_numpy(out_mask), W, H, f"{W}x{H}")


NODE_CLASS_MAPPINGS = {"BucketResize": BucketResize}
NODE_DISPLAY_NAME_MAPPINGS = {"BucketResize": "Bucket Resize (Klein 9B)"}
