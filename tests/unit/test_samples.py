"""The shipped sample dataset by its published name: input/ first, then the pack's own folder."""
import os

import pytest

from gates.core import names, samples


def test_the_name_and_the_folder():
    assert names.SAMPLE_FOLDER == "dataset_gates_sample"        # published: the example workflows use it
    assert os.path.isdir(samples.FOLDER)
    assert samples.FOLDER == os.path.join(samples.PACK_ROOT, "example_data", "sample_dataset")
    for value in ("dataset_gates_sample", " dataset_gates_sample/", "./dataset_gates_sample", '"dataset_gates_sample"'):
        assert samples.is_sample_name(value), value
    for value in ("", None, "dataset_gates_sample/sub", "sample_dataset", "/x/dataset_gates_sample",
                  "dataset_gates_samples"):
        assert not samples.is_sample_name(value), value


def test_input_first_then_the_shipped_sample(tmp_path):
    base = tmp_path / "input"
    base.mkdir()
    assert samples.resolve_input_folder("dataset_gates_sample", str(base)) == samples.FOLDER
    assert samples.resolve_input_folder("./dataset_gates_sample/", str(base)) == samples.FOLDER
    (base / "dataset_gates_sample").mkdir()                      # a folder of that name in input/ wins
    assert samples.resolve_input_folder("dataset_gates_sample", str(base)) == str(base / "dataset_gates_sample")
    # any other missing folder stays where it was looked for (the loader says it is not found)
    assert samples.resolve_input_folder("other", str(base)) == str(base / "other")
    abs_missing = str(tmp_path / "nowhere" / "dataset_gates_sample")
    assert samples.resolve_input_folder(abs_missing, str(base)) == abs_missing
    with pytest.raises(ValueError, match="no folder given"):
        samples.resolve_input_folder("  ", str(base))
