"""Image Pool (Grid) and Pool Profile: the original project's two pool nodes (same ids, inputs, outputs)."""
from __future__ import annotations

import logging
import os

import numpy as np

from ..comfy.comfy_paths import comfy_folder
from ..core import pool, pool_profiles
from ..core.names import CATEGORY, LOGGER

log = logging.getLogger(LOGGER)
PROFILE_TYPE = "POOL_PROFILE"


def pool_base() -> str:
    inp = comfy_folder("input")
    if not inp:
        raise ValueError("the Image Pool needs ComfyUI's input folder")
    return os.path.join(inp, pool.POOL_FOLDER)


def _mask_array(path: str, h: int, w: int) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("L")
        if im.size != (w, h):
            im = im.resize((w, h), Image.BILINEAR)
        return np.asarray(im, dtype=np.float32) / 255.0


class GridImagePool:
    CATEGORY = CATEGORY
    FUNCTION = "run"
    RETURN_TYPES = ("IMAGE", "MASK", "INT", "INT", "STRING")
    RETURN_NAMES = ("image", "mask", "index", "count", "label")
    OUTPUT_TOOLTIPS = ("The chosen slot's image ([1,H,W,3]); a 1x1 black image when the pool is empty.",
                       "Its mask (white = painted), zeros when none was painted.",
                       "The slot used (after clamping).", "How many images the pool holds.",
                       "The slot's label ('' when unset).")
    DESCRIPTION = ("Holds a pool of images, each with its own mask and label (drop, paste or upload them into "
                   "the node's grid). Outputs the clicked slot (index -1) or slot 'index'. The pool is stored in "
                   "input/grid_pool/<pool_id>/ as the original project stores it. An empty pool outputs a 1x1 "
                   "black image, a zero mask and count 0, as the original.")

    @classmethod
    def INPUT_TYPES(cls):
        # pool_id is a normal STRING input whose widget the page hides, not a ComfyUI "hidden" input:
        # ComfyUI fills hidden inputs only for its own kinds (PROMPT, UNIQUE_ID, ...), so a custom hidden
        # one would always arrive as None, while every widget value is sent with the prompt.
        return {
            "required": {
                "index": ("INT", {"default": -1, "min": -1, "max": 9999,
                                  "tooltip": "-1 = the slot clicked in the grid (the active one); 0.. = that slot "
                                             "(clamped to the pool)."}),
                "pool_id": ("STRING", {"default": "default",
                                       "tooltip": "The pool's folder under input/grid_pool (set by the page, "
                                                  "one per node; kept out of sight)."}),
            },
            "optional": {
                "profile": (PROFILE_TYPE, {"tooltip": "A Pool Profile: when connected, its pool is used "
                                                      "instead of pool_id."}),
            },
        }

    @staticmethod
    def _effective(pool_id, profile):
        return pool.check_id(profile or pool_id or "default")

    def run(self, index, pool_id="default", profile=None):
        import torch

        from .loader import load_file

        pid = self._effective(pool_id, profile)
        base = pool_base()
        m = pool.read_manifest(base, pid)
        idx = pool.resolve_slot(m, index)
        if idx < 0:
            log.warning("Image Pool %s is empty: a 1x1 black image, count 0", pid)
            return (torch.zeros((1, 1, 1, 3)), torch.zeros((1, 1, 1)), 0, 0, "")
        slot = m["slots"][idx]
        rgb, _ = load_file(pool.member_path(base, pid, slot["image"]))
        h, w = rgb.shape[:2]
        if slot.get("mask") and os.path.isfile(pool.member_path(base, pid, slot["mask"])):
            mask = _mask_array(pool.member_path(base, pid, slot["mask"]), h, w)
        else:
            mask = np.zeros((h, w), dtype=np.float32)
        return (torch.from_numpy(rgb)[None], torch.from_numpy(np.ascontiguousarray(mask))[None], int(idx),
                len(m["slots"]), str(slot.get("label") or ""))

    @classmethod
    def IS_CHANGED(cls, index, pool_id="default", profile=None, **_):
        try:
            return pool.fingerprint(pool_base(), cls._effective(pool_id, profile), int(index))
        except ValueError as e:
            return f"error:{e}"                       # run() raises it


class PoolProfile:
    CATEGORY = CATEGORY
    FUNCTION = "run"
    RETURN_TYPES = (PROFILE_TYPE,)
    RETURN_NAMES = ("profile",)
    OUTPUT_TOOLTIPS = ("The profile's pool id: wire it into Image Pool (Grid) nodes' 'profile'.",)
    DESCRIPTION = ("Named, reusable pools: pick a profile and the connected Image Pool (Grid) nodes show and "
                   "output its images. Create, rename, duplicate, delete, export (zip) and import (zip) with the "
                   "node's buttons; stored in input/grid_pool/profiles.json, as the original project.")

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "profile": ("STRING", {"default": "", "tooltip": "The profile's name (a list on the page)."}),
                "profile_id": ("STRING", {"default": "", "tooltip": "The profile's id (set by the page; kept "
                                                                    "out of sight)."}),
            },
        }

    def run(self, profile, profile_id=""):
        return (pool_profiles.resolve(pool_base(), profile_id, profile),)

    @classmethod
    def IS_CHANGED(cls, profile, profile_id="", **_):
        # ComfyUI hands IS_CHANGED no linked inputs, so a pool fed by this node cannot see the profile's
        # files itself: a change there (a mask, an image, the active slot) re-runs this node, and so the pool.
        try:
            base = pool_base()
            return pool.folder_fingerprint(base, pool_profiles.resolve(base, profile_id, profile))
        except ValueError as e:
            return f"error:{e}"


NODE_CLASS_MAPPINGS = {"GridImagePool": GridImagePool, "PoolProfile": PoolProfile}
NODE_DISPLAY_NAME_MAPPINGS = {"GridImagePool": "Image Pool (Grid)", "PoolProfile": "Pool Profile"}
