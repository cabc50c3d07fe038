"""The sample dataset the pack ships, and the name the example workflows give it.

The examples read it in place: a relative folder ``dataset_gates_sample`` that is not in ComfyUI's
input folder is the pack's ``example_data/sample_dataset`` (gates/core/samples.py), so neither `make demo`
nor a test copies anything into input/.
"""
from __future__ import annotations

from gates.core import names, samples, scan

SAMPLE = samples.FOLDER                        # example_data/sample_dataset in this repository
SAMPLE_FOLDER = names.SAMPLE_FOLDER            # the examples' folder value


def sample_images() -> list:
    """The sample's image files in the order the loaders take them (natural order)."""
    return scan.list_images(SAMPLE)
