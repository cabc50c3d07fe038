"""The Image Chooser Gate's outputs: per route its images (pixels), masks and indices, with a fake
blocker standing in for ComfyUI's ExecutionBlocker."""
import numpy as np
import pytest

from gates.nodes import chooser

torch = pytest.importorskip("torch", reason="image tensors need torch (scripts/setup-comfyui installs it)")

BLOCKED = object()          # stands in for ComfyUI's ExecutionBlocker


def batch(n=6, h=4, w=5):
    """Image i is filled with the value i/10, so every output image says where it came from."""
    return torch.stack([torch.full((h, w, 3), i / 10) for i in range(n)])


def test_assemble_routes_each_image_and_blocks_empty_and_unused_routes():
    images = batch()
    painted = {2: np.ones((4, 5), np.float32), 4: np.full((2, 2), 0.5, np.float32)}
    out = chooser.assemble(images, [1, 2, 1, 3, 2, 0], painted, 3, BLOCKED, max_routes=4)
    assert len(out) == 12
    (img1, m1, i1), (img2, m2, i2), (img3, m3, i3) = out[0:3], out[3:6], out[6:9]
    assert torch.equal(img1, images[[0, 2]]) and torch.equal(img2, images[[1, 4]]) and torch.equal(img3, images[[3]])
    assert (i1, i2, i3) == ("0,2", "1,4", "3")
    assert m1.shape == (2, 4, 5) and m1[0].max() == 0 and m1[1].min() == 1       # image 2 is route 1's second
    assert m2[0].max() == 0 and torch.allclose(m2[1], torch.full((4, 5), 0.5))   # image 4 (2x2 mask resized)
    assert m3.max() == 0
    assert out[9:] == (BLOCKED,) * 3


def test_assemble_blocks_a_route_that_gets_nothing():
    out = chooser.assemble(batch(3), [2, 2, 0], {}, 2, BLOCKED, max_routes=2)
    assert out[:3] == (BLOCKED,) * 3 and out[5] == "0,1"


def test_consecutive_images_are_a_view_and_others_one_gather():
    images = batch(8)
    assert chooser.take(images, [2, 3, 4]).data_ptr() == images[2].data_ptr()   # no copy
    picked = chooser.take(images, [1, 5])
    assert torch.equal(picked, images[[1, 5]])
