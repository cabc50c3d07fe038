"""The Image Gate's sticky mask, without a server: what it keeps, when it forgets, its overlay."""
import io

import numpy as np
import pytest
from PIL import Image

from gates.core import gate_memory as memory


@pytest.fixture(autouse=True)
def empty():
    for k in list(memory._masks):
        memory.forget(k)
    yield


def half(h=10, w=20):
    m = np.zeros((h, w), dtype=np.float32)
    m[:, : w // 2] = 1.0
    return m


def test_keep_on_remembers_what_was_painted_per_gate():
    memory.settle("5", {0: half()}, keep=True)
    got = memory.recall("5")
    assert got.dtype == np.float32 and got.shape == (10, 20)
    assert got[:, :10].min() == 1.0 and got[:, 10:].max() == 0.0
    assert memory.recall("6") is None                        # another gate keeps nothing


def test_a_pause_without_painting_keeps_the_old_mask():
    memory.settle("5", {0: half()}, keep=True)
    memory.settle("5", {}, keep=True)
    assert memory.recall("5") is not None


def test_clear_an_empty_mask_or_keep_off_forget_it():
    memory.settle("5", {0: half()}, keep=True)
    memory.settle("5", {0: None}, keep=True)                 # Clear mask
    assert memory.recall("5") is None
    memory.settle("5", {0: half()}, keep=True)
    memory.settle("5", {0: np.zeros((4, 4), np.float32)}, keep=True)
    assert memory.recall("5") is None
    memory.settle("5", {0: half()}, keep=True)
    memory.settle("5", {}, keep=False)                       # switched off: starts from nothing later
    assert memory.recall("5") is None


def test_a_painted_mask_with_keep_off_is_not_kept():
    memory.settle("7", {0: half()}, keep=False)
    assert memory.recall("7") is None


def test_gray_levels_survive_to_within_one_step_and_a_batch_keeps_its_first():
    m = np.linspace(0, 1, 256, dtype=np.float32).reshape(16, 16)
    memory.settle("8", {0: np.stack([m, 1 - m])}, keep=True)
    assert np.abs(memory.recall("8") - m).max() <= 1 / 255


def test_only_the_newest_gates_are_remembered():
    for i in range(memory.MAX_GATES + 3):
        memory.settle(str(i), {0: half()}, keep=True)
    assert memory.recall("0") is None and memory.recall("2") is None
    assert memory.recall(str(memory.MAX_GATES + 2)) is not None
    assert len(memory._masks) == memory.MAX_GATES


def test_painted():
    assert not memory.painted(None) and not memory.painted(np.zeros((3, 3)))
    assert memory.painted(half())


def test_overlay_is_translucent_red_where_painted_at_the_preview_size():
    png = memory.overlay_png(half(100, 200), 48, 96)
    im = Image.open(io.BytesIO(png))
    assert im.mode == "RGBA" and im.size == (96, 48)
    a = np.asarray(im)
    assert tuple(a[24, 10, :3]) == memory.OVERLAY_RGB and a[24, 10, 3] == round(255 * memory.OVERLAY_ALPHA)
    assert a[24, 90, 3] == 0                                  # nothing painted: fully transparent
