"""Folder Image Batch: several images of a folder as one batch of one size (torch, no ComfyUI)."""
import numpy as np
import pytest
from PIL import Image

from gates.core import names
from gates.nodes.loader import FolderImageBatch, batch_size

torch = pytest.importorskip("torch")


def test_the_batch_size_rule():
    assert batch_size((640, 480), 0, 0) == (640, 480)           # the first image's size
    assert batch_size((640, 480), 320, 0) == (320, 240)         # one side: the first image's aspect
    assert batch_size((640, 480), 0, 240) == (320, 240)
    assert batch_size((640, 480), 100, 50) == (100, 50)


def test_the_shipped_sample_as_one_batch():
    images, masks, files = FolderImageBatch().load(names.SAMPLE_FOLDER, 0, 8, 0, 512, 512)
    assert images.shape == (8, 512, 512, 3) and masks.shape == (8, 512, 512)
    assert images.dtype == torch.float32 and 0 <= float(images.min()) and float(images.max()) <= 1
    assert files.split("\n") == ["cat_01.png", "cat_02.jpg", "cat_10.webp", "dog_1.png", "dog_2.jpg",
                                 "dog_11.bmp", "logo_alpha.png", "plant_3.webp"]          # natural order
    assert float(masks[6].max()) > 0 and float(masks[:6].max()) == 0                       # logo_alpha's alpha


def test_start_count_and_cover_crop(tmp_path):
    # 40x20: left half red, right half blue; the 10x10 batch crops its centre (both colours, equal parts)
    wide = np.zeros((20, 40, 4), dtype=np.uint8)
    wide[:, :20] = (255, 0, 0, 255)
    wide[:, 20:] = (0, 0, 255, 255)
    wide[:, :4, 3] = 0                                           # transparent far left: cropped away
    Image.fromarray(wide, "RGBA").save(tmp_path / "a2.png")
    Image.new("RGB", (10, 10), (0, 255, 0)).save(tmp_path / "a10.png")
    Image.new("RGB", (30, 30), (9, 9, 9)).save(tmp_path / "a1.png")
    images, masks, files = FolderImageBatch().load(str(tmp_path), 1, 5, 0, 0, 0)
    assert files == "a2.png\na10.png"                            # from start, fewer than count at the end
    assert images.shape == (2, 20, 40, 3)                        # 0 x 0: the first image's size
    assert np.allclose(images[1].numpy(), [0, 1, 0], atol=1e-3)  # 10x10 covers 40x20: scaled, cropped
    images, masks, _ = FolderImageBatch().load(str(tmp_path), 1, 1, 0, 10, 10)
    left, right = images[0, 5, 1].numpy(), images[0, 5, 8].numpy()
    assert left[0] > 0.9 and right[2] > 0.9                      # the centre: red left, blue right
    assert float(masks.max()) == 0                               # the transparent edge was cropped off


def test_a_start_past_the_end_and_an_empty_folder(tmp_path):
    Image.new("RGB", (4, 4)).save(tmp_path / "only.png")
    with pytest.raises(ValueError, match="start 1 is past the end"):
        FolderImageBatch().load(str(tmp_path), 1, 4)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no images"):
        FolderImageBatch().load(str(tmp_path / "empty"), 0, 4)
