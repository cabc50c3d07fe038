"""Dataset Summary node: a chart and a report of what a folder of images holds."""
from __future__ import annotations

import io
import os
import uuid

from PIL import Image

from ..comfy.comfy_paths import comfy_folder
from ..core import access, buckets, files, samples, scan, summary, summary_chart
from ..core.names import CATEGORY

QUALITY = ("on", "off")


def summarize_folder(folder, depth=-1, relative_to="output", min_size=512, duplicates="exact", near_threshold=6,
                     resolution=1280, divisible=64, bucket_list="", quality="on"):
    """(summary dict, report text) of a folder, with the access policy applied."""
    if relative_to not in ("output", "input"):
        raise ValueError(f"relative_to must be 'output' or 'input', got {relative_to!r}")
    base = comfy_folder(relative_to)
    path = samples.resolve_input_folder(folder, base) if relative_to == "input" else scan.resolve_folder(folder, base)
    root = access.check(path, read=True)
    pol = access.current()
    cands = buckets.candidates(resolution, divisible, bucket_list)
    items, refused = summary.scan_items(root, int(depth), (lambda p: pol.allows(p, read=True)) if pol else None)
    if quality not in QUALITY:
        raise ValueError(f"quality must be 'on' or 'off', got {quality!r}")
    signals = None
    if quality == "on":
        from ..comfy import sort_session

        signals = sort_session.folder_signals(root, [it.rel for it in items if not it.error])
    s = summary.summarize(root, items, cands, int(min_size), duplicates, int(near_threshold), refused, signals)
    if signals is not None:
        s.update(summary.quality_stats(signals))
    from ..comfy import tokens

    s.update(summary.tag_stats({it.rel: scan.read_sidecar(root, it.rel) for it in items if it.caption},
                               tokens.counter()))
    listed = str(bucket_list or "").strip()
    note = " (from bucket_list)" if listed else f" (resolution {resolution}, divisible {divisible})"
    return s, summary.report(s, note)


class DatasetSummary:
    CATEGORY = CATEGORY
    FUNCTION = "run"
    OUTPUT_NODE = True
    RETURN_TYPES = ("IMAGE", "STRING")
    RETURN_NAMES = ("chart", "report")
    OUTPUT_TOOLTIPS = ("The chart (also shown in the node).", "The report as text.")
    DESCRIPTION = ("Shows what a folder of images holds: images per subfolder (= per route after a sort), how "
                   "many have a caption (<stem>.txt) and a mask (<stem>.mask.png), a histogram of aspect "
                   "buckets (Bucket Resize's rule), the size distribution, images below a minimum size, and "
                   "duplicates (same pixels; near-duplicates by a perceptual hash on request). Reads only image "
                   "headers for sizes; 'quality' adds sharpness and exposure (histograms, the 20 worst).")

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "folder": ("STRING", {"default": "sorted", "tooltip": "The dataset folder: absolute, or relative "
                                      "to ComfyUI's output (or input) folder, see relative_to. Relative to input, "
                                      "'dataset_gates_sample' is the pack's sample dataset when input/ has no "
                                      "folder of that name."}),
                "depth": ("INT", {"default": -1, "min": -1, "max": 64, "tooltip": "Subfolders to include: "
                                  "0 = only this folder, N = N levels, -1 = all (as the Folder Image Loader)."}),
                "relative_to": (["output", "input"], {"default": "output", "tooltip": "Which ComfyUI folder a "
                                "relative 'folder' is under (sorted datasets land in output)."}),
                "min_size": ("INT", {"default": 512, "min": 0, "max": 16384, "tooltip": "List images whose "
                                     "shorter side is below this many pixels."}),
                "duplicates": (list(summary.DUPLICATE_MODES), {"default": "exact", "tooltip": "exact: same "
                               "pixels (decodes only images that share a size). exact + near: also a perceptual "
                               "hash (decodes every image). off: headers only."}),
            },
            "optional": {
                "near_threshold": ("INT", {"default": 6, "min": 0, "max": 32, "tooltip": "Near-duplicates: "
                                           "at most this many of the 64 hash bits differ."}),
                "resolution": ("INT", {"default": 1280, "min": 64, "max": 8192,
                                       "tooltip": "Bucket area budget, as in Bucket Resize."}),
                "divisible": ("INT", {"default": 64, "min": 8, "max": 256,
                                      "tooltip": "Bucket side multiple, as in Bucket Resize."}),
                "bucket_list": ("STRING", {"default": "", "multiline": True, "tooltip": "Explicit buckets "
                                           "(e.g. '1024x1024, 1152x896'), as in Bucket Resize; empty = generated."}),
                "quality": (list(QUALITY), {"default": "on", "tooltip": "on: histograms of sharpness and of "
                            "clipped pixels and the 20 least sharp / most clipped images (decodes every image "
                            "once, small; cached beside the decision logs, so a second look is quick). off: "
                            "headers only."}),
            },
        }

    @classmethod
    def IS_CHANGED(cls, **_):
        return float("nan")           # the folder changes behind ComfyUI's back: always look again

    def run(self, folder, depth=-1, relative_to="output", min_size=512, duplicates="exact", near_threshold=6,
            resolution=1280, divisible=64, bucket_list="", quality="on"):
        import torch

        s, text = summarize_folder(folder, depth, relative_to, min_size, duplicates, near_threshold,
                                   resolution, divisible, bucket_list, quality)
        chart = summary_chart.draw(s)
        ui = {"text": [text], "dataset_summary": [s]}
        temp = comfy_folder("temp")
        if temp:
            os.makedirs(temp, exist_ok=True)
            name = f"dataset_summary_{uuid.uuid4().hex[:10]}.png"
            buf = io.BytesIO()
            Image.fromarray(chart).save(buf, "PNG", compress_level=1)
            files.atomic_write_bytes(os.path.join(temp, name), buf.getvalue())
            ui["images"] = [{"filename": name, "subfolder": "", "type": "temp"}]
        image = torch.from_numpy(chart.astype("float32") / 255.0)[None]
        return {"ui": ui, "result": (image, text)}


NODE_CLASS_MAPPINGS = {"DatasetSummary": DatasetSummary}
NODE_DISPLAY_NAME_MAPPINGS = {"DatasetSummary": "Dataset Summary"}
