"""The sample dataset in a ComfyUI input folder, as `make demo` and the example workflows expect it."""
from __future__ import annotations

import os
import shutil

from .comfy import REPO

SAMPLE = os.path.join(REPO, "example_data", "sample_dataset")
SAMPLE_FOLDER = "dataset_gates_sample"          # the sort example's folder, under input/
# The batch example loads these with core Load Image nodes, whose list holds only files directly
# in input/ (a value outside it is a "missing" issue on newer frontends): top-level copies.
BATCH_IMAGES = ("cat_01.png", "cat_02.jpg", "dog_1.png", "dog_2.jpg")
BATCH_PREFIX = "dataset_gates_"


def batch_image_names() -> list:
    """The Load Image values of the batch example, in batch order."""
    return [BATCH_PREFIX + name for name in BATCH_IMAGES]


def install_sample(input_dir: str) -> None:
    """Copy the sample into ``input_dir`` (what is there already is kept)."""
    folder = os.path.join(input_dir, SAMPLE_FOLDER)
    if not os.path.isdir(folder):
        shutil.copytree(SAMPLE, folder)
    for name, value in zip(BATCH_IMAGES, batch_image_names()):
        target = os.path.join(input_dir, value)
        if not os.path.exists(target):
            shutil.copyfile(os.path.join(SAMPLE, name), target)
