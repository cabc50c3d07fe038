"""Sidecar and Save Image (Sidecars): the original project's chainable text files beside an image."""
from __future__ import annotations

import io
import json
import os

from PIL import Image

from ..comfy.comfy_paths import comfy_folder
from ..core import access, files, sidecars
from ..core.names import CATEGORY


class Sidecar:
    CATEGORY = CATEGORY
    FUNCTION = "run"
    RETURN_TYPES = (sidecars.TYPE,)
    RETURN_NAMES = ("sidecar",)
    OUTPUT_TOOLTIPS = ("The chain with this file added; wire it into a saver or the next Sidecar.",)
    DESCRIPTION = ("One text file to write beside a saved image, as <image name><name><extension> (an empty "
                   "name gives <image name>.txt). Chain several; Save Image To Folder and Save Image (Sidecars) "
                   "write them all, and refuse the chain before writing anything when an extension is not a "
                   "text format or two files would share a name.")

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "content": ("STRING", {"forceInput": True, "tooltip": "The text of the file (JSON is text too)."}),
                "name": ("STRING", {"default": "", "tooltip": "Added to the image's name, e.g. '.meta' -> "
                                    "cat_01.meta.json. A path part is dropped with a warning "
                                    "(sub/v -> v, as the original); no '..'."}),
                "extension": ("STRING", {"default": ".txt", "tooltip": "One of " +
                                         " ".join(sidecars.ALLOWED_EXTENSIONS) + "."}),
            },
            "optional": {
                "sidecar": (sidecars.TYPE, {"tooltip": "The chain so far (from another Sidecar)."}),
            },
        }

    def run(self, content, name, extension, sidecar=None):
        return (sidecars.append(sidecar, content, name, extension),)


def _png(arr, prompt=None, extra_pnginfo=None) -> bytes:
    from PIL.PngImagePlugin import PngInfo

    meta = None
    try:
        from comfy.cli_args import args

        keep_meta = not args.disable_metadata
    except ImportError:
        keep_meta = True
    if keep_meta and (prompt is not None or extra_pnginfo):
        meta = PngInfo()
        if prompt is not None:
            meta.add_text("prompt", json.dumps(prompt))
        for k, v in (extra_pnginfo or {}).items():
            meta.add_text(k, json.dumps(v))
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG", pnginfo=meta, compress_level=4)
    return buf.getvalue()


def output_root(output_folder: str) -> str:
    """The original's rule: an absolute folder as is; anything else under ComfyUI's output folder
    (its default 'output' means that folder itself)."""
    out = comfy_folder("output")
    f = str(output_folder or "").strip().strip('"')
    if os.path.isabs(os.path.expanduser(f)):
        return os.path.abspath(os.path.expanduser(f))
    if not out:
        raise ValueError("a relative output_folder needs ComfyUI's output folder")
    if f in ("", ".", "output"):
        return out
    path = os.path.abspath(os.path.join(out, f))
    if not access.inside(access.real(path), access.real(out)):
        raise ValueError(f"output_folder {output_folder!r} leaves ComfyUI's output folder; give an absolute folder")
    return path


class SaveImageSidecars:
    CATEGORY = CATEGORY
    FUNCTION = "save"
    OUTPUT_NODE = True
    RETURN_TYPES = ()
    DESCRIPTION = ("Saves images as <prefix>_00001_.png (ComfyUI's counter names, as the original project's "
                   "node) and writes every sidecar of the chain beside each image. The chain is checked before "
                   "anything is written; every file is written to a temporary name and renamed into place.")

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "images": ("IMAGE", {"tooltip": "The image or batch to save."}),
                "filename_prefix": ("STRING", {"default": "ComfyUI", "tooltip": "File name prefix; may hold a "
                                               "subfolder and ComfyUI's %date% style variables."}),
                "output_folder": ("STRING", {"default": "output", "tooltip": "Absolute folder, or a folder under "
                                             "ComfyUI's output folder ('output' = that folder itself)."}),
            },
            "optional": {
                "sidecar": (sidecars.TYPE, {"tooltip": "The sidecar chain to write beside each image."}),
            },
            "hidden": {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"},
        }

    def save(self, images, filename_prefix, output_folder, sidecar=None, prompt=None, extra_pnginfo=None):
        import folder_paths

        from ..core.imaging import tensor_to_uint8

        chain = sidecars.plan(sidecar)                       # refuse a bad chain before any write
        root = access.check(output_root(output_folder))
        h, w = int(images.shape[1]), int(images.shape[2])
        os.makedirs(root, exist_ok=True)
        try:
            folder, name, counter, _, _ = folder_paths.get_save_image_path(filename_prefix, root, w, h)
        except Exception:                                    # ComfyUI raises a bare Exception
            raise ValueError(f"filename_prefix {filename_prefix!r} leaves the folder {root}") from None
        access.check(folder)
        os.makedirs(folder, exist_ok=True)
        out_dir = comfy_folder("output")
        in_output = out_dir and access.inside(access.real(folder), access.real(out_dir))
        results, saved = [], []
        for i in range(int(images.shape[0])):
            base = f"{name.replace('%batch_num%', str(i))}_{counter:05}_"
            while os.path.lexists(os.path.join(folder, base + ".png")):   # never overwrite an earlier save
                counter += 1
                base = f"{name.replace('%batch_num%', str(i))}_{counter:05}_"
            files.atomic_write_bytes(os.path.join(folder, base + ".png"),
                                     _png(tensor_to_uint8(images[i]), prompt, extra_pnginfo))
            saved.append(os.path.join(folder, base + ".png"))
            for fname, data in sidecars.files_for(base, chain):
                files.atomic_write_bytes(os.path.join(folder, fname), data)
                saved.append(os.path.join(folder, fname))
            if in_output:
                rel = os.path.relpath(folder, out_dir)
                results.append({"filename": base + ".png", "subfolder": "" if rel == "." else rel, "type": "output"})
            counter += 1
        ui = {"saved": saved}
        if results:
            ui["images"] = results
        return {"ui": ui}


NODE_CLASS_MAPPINGS = {"Sidecar": Sidecar, "SaveImageSidecars": SaveImageSidecars}
NODE_DISPLAY_NAME_MAPPINGS = {"Sidecar": "Sidecar (text/json)", "SaveImageSidecars": "Save Image (Sidecars)"}
