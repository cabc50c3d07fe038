"""The sample dataset this pack ships, reachable by a published name from any ComfyUI. Stdlib only.

A relative ``folder`` named ``dataset_gates_sample`` (``names.SAMPLE_FOLDER``) is looked for in
ComfyUI's input folder first, as every relative folder is; when input/ has nothing of that name it
is the pack's own ``example_data/sample_dataset``. So the example workflows run in a ComfyUI where
only the pack was installed and nothing was copied into input/. The nodes only read the shipped
folder: the access policy lets them read it even when ComfyUI listens beyond loopback, never write
(``access.current``); what a sort writes goes to the output folder.
"""
from __future__ import annotations

import os

from . import names, scan

PACK_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))   # gates/core/ -> the pack
FOLDER = os.path.join(PACK_ROOT, "example_data", "sample_dataset")


def is_sample_name(folder) -> bool:
    """Is ``folder`` the sample's name (``dataset_gates_sample``, also ``./dataset_gates_sample/``)?"""
    value = str(folder or "").strip().strip('"')
    return bool(value) and os.path.normpath(value) == names.SAMPLE_FOLDER


def resolve_input_folder(folder, base: str | None, comfy_base: str | None = None) -> str:
    """``folder`` as ``scan.resolve_folder`` finds it under ``base`` (ComfyUI's input folder, else
    ``comfy_base``), or the shipped sample when ``folder`` is its name and ``base`` holds nothing of that name."""
    path = scan.resolve_folder(folder, base, comfy_base)
    if is_sample_name(folder) and not os.path.exists(path):
        return FOLDER
    return path
