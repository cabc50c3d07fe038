"""Dataset Export node: a curated folder in the layout a trainer reads (kohya, OneTrainer, Hugging Face imagefolder)."""
from __future__ import annotations

from ..comfy.comfy_paths import comfy_folder
from ..core import export_layouts as ex
from ..core.names import CATEGORY


class DatasetExport:
    CATEGORY = CATEGORY
    FUNCTION = "run"
    OUTPUT_NODE = True
    RETURN_TYPES = ("STRING", "STRING")
    RETURN_NAMES = ("report", "folder")
    OUTPUT_TOOLTIPS = ("What the export did (or, in a dry run, would do): counts, and every image skipped "
                       "with the reason.",
                       "The folder the images went to (kohya: <target>/<repeats>_<name>).")
    DESCRIPTION = ("Exports curated images with their captions (<stem>.txt) and masks (<stem>.mask.png) in the "
                   "layout a trainer reads: kohya (<repeats>_<name>/ folders), OneTrainer (<stem>-masklabel.png "
                   "masks) or Hugging Face imagefolder (metadata.jsonl). Images are copied byte for byte, every "
                   "file atomically, with manifest.jsonl (source, target, sha256). A dry run (the default) writes "
                   "nothing and reports what it would do.")

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "source": ("STRING", {"default": "sorted/keep", "multiline": True, "tooltip": "Folder(s) of "
                           "images to export, one per line or comma-separated: absolute, or relative to "
                           "ComfyUI's output folder. Only images directly in each folder; masks are not images."}),
                "target": ("STRING", {"default": "export/dataset", "tooltip": "The folder to export into: "
                           "absolute, or relative to ComfyUI's output folder. Created when missing; must not "
                           "overlap a source."}),
                "layout": (list(ex.LAYOUTS), {"default": "kohya", "tooltip": "kohya: <target>/<repeats>_<name>/"
                           "<stem>.<ext> + caption. onetrainer: <target>/<stem>.<ext> + <stem>.txt + "
                           "<stem>-masklabel.png. imagefolder: <target>/<stem>.<ext> + metadata.jsonl (file_name, "
                           "text) for Hugging Face datasets."}),
                "name": ("STRING", {"default": "dataset", "tooltip": "kohya: the concept's folder name, "
                         "<repeats>_<name> (often the trigger word, e.g. 'ohwx woman'). Other layouts: unused."}),
                "repeats": ("INT", {"default": 10, "min": 1, "max": 10000, "tooltip": "kohya: how many times "
                            "each image is repeated per epoch (the folder's number)."}),
                "caption_ext": (list(ex.CAPTION_EXTS), {"default": ".txt", "tooltip": "kohya: the caption "
                                "file's extension (set the trainer's caption_extension to match). OneTrainer "
                                "always reads .txt."}),
                "uncaptioned": (list(ex.UNCAPTIONED), {"default": "include", "tooltip": "An image without a "
                                "caption (no <stem>.txt, or an empty one): include it with an empty caption, "
                                "skip it (listed in the report), or error (nothing is written)."}),
                "masks": (list(ex.MASK_MODES), {"default": "auto", "tooltip": "auto: the layout's own "
                          "convention (onetrainer: <stem>-masklabel.png; kohya and imagefolder: not exported). "
                          "skip: no masks. alpha (kohya): an image with a mask becomes a PNG whose alpha is the "
                          "mask, for sd-scripts' alpha_mask (255 = learned); its RGB is unchanged."}),
                "on_conflict": (list(ex.CONFLICTS), {"default": "error", "tooltip": "When a file the export "
                                "would write already exists with other contents: error (nothing is written), "
                                "skip that image (left alone, listed), overwrite it, or add a suffix (<stem>_1). "
                                "A file with the same bytes is never a conflict."}),
                "dry_run": ("BOOLEAN", {"default": True, "tooltip": "On: write nothing, report what would be "
                            "done. Turn off to export."}),
            },
            "optional": {
                "painted": (list(ex.PAINTED), {"default": "learn", "tooltip": "What the painted (white) area of "
                            "a mask means for training: learn = the trainer learns it (the mask as it is); "
                            "ignore = the trainer ignores it (a watermark, a defect: the mask inverted)."}),
            },
        }

    @classmethod
    def IS_CHANGED(cls, **_):
        return float("nan")           # the folders change behind ComfyUI's back: always look again

    def run(self, source, target, layout="kohya", name="dataset", repeats=10, caption_ext=".txt",
            uncaptioned="include", masks="auto", on_conflict="error", dry_run=True, painted="learn"):
        opt = ex.Options(layout=layout, name=name, repeats=int(repeats), caption_ext=caption_ext,
                         uncaptioned=uncaptioned, masks=masks, painted=painted, on_conflict=on_conflict)
        s, text = ex.export(source, target, opt, bool(dry_run), comfy_folder("output"))
        return {"ui": {"text": [text], "dataset_export": [s]}, "result": (text, s["folder"])}


NODE_CLASS_MAPPINGS = {"DatasetExport": DatasetExport}
NODE_DISPLAY_NAME_MAPPINGS = {"DatasetExport": "Dataset Export"}
