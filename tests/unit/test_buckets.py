"""Bucket Resize: the bucket rule (checked against a brute force of its definition) and the pixel transform."""
import functools
import logging
import math

import numpy as np
import pytest

from gates.core import buckets

torch = pytest.importorskip("torch", reason="the node's tensors need torch (scripts/setup-comfyui installs it)")
from gates.nodes.bucket_resize import BucketResize, parse_color  # noqa: E402


@functools.cache
def brute_force_frontier(resolution, divisible):
    """Every (w, h) on the grid within the budget, then the tallest h per w (numpy over the whole grid)."""
    budget = resolution * resolution
    grid = np.arange(divisible, budget // divisible + 1, divisible, dtype=np.int64)
    fits = grid[:, None] * grid[None, :] <= budget
    tallest = np.where(fits, grid[None, :], 0).max(axis=1)
    return [(int(w), int(h)) for w, h in zip(grid, tallest) if h > 0]


def brute_force_bucket(iw, ih, resolution=1280, divisible=64):
    """The issue's definition, spelled out independently: nearest log-aspect, ties to the larger area."""
    target = math.log(iw / ih)
    dist = {(w, h): abs(math.log(w / h) - target) for w, h in brute_force_frontier(resolution, divisible)}
    best = min(dist.values())
    near = [b for b, d in dist.items() if d - best < 1e-12]
    return max(near, key=lambda b: b[0] * b[1])


TABLE = [  # (image w, h) -> bucket at the defaults (1280, 64); the first is the issue's own example
    ((1920, 1080), (1664, 960)),
    ((1080, 1920), (960, 1664)),
    ((1000, 1000), (1280, 1280)),
    ((4000, 500), (3584, 448)),
    ((300, 200), (1536, 1024)),
]


@pytest.mark.parametrize("size,expected", TABLE)
def test_table_matches_the_rule_computed_by_brute_force(size, expected):
    got = buckets.pick(*size, buckets.generate(1280, 64))
    assert got == brute_force_bucket(*size) == expected
    w, h = got
    assert w * h <= 1280 ** 2 and w % 64 == 0 and h % 64 == 0


@pytest.mark.parametrize("resolution,divisible", [(1280, 64), (1024, 32), (768, 16), (512, 8)])
def test_many_sizes_area_and_divisibility(resolution, divisible):
    rng = np.random.default_rng(resolution + divisible)
    cands = buckets.generate(resolution, divisible)
    for _ in range(60):
        iw, ih = int(rng.integers(1, 6000)), int(rng.integers(1, 6000))
        w, h = buckets.pick(iw, ih, cands)
        assert (w, h) == brute_force_bucket(iw, ih, resolution, divisible)
        assert w * h <= resolution ** 2 and w % divisible == 0 and h % divisible == 0


def test_generated_buckets_are_the_tallest_per_width():
    for w, h in buckets.generate(1280, 64):
        assert w * h <= 1280 ** 2 < w * (h + 64)


def test_bucket_list_parsing_and_picking():
    cands = buckets.parse_list("1024x1024, 1152 x 896\n896×1152; 1216X832, 1024x1024")
    assert cands == [(1024, 1024), (1152, 896), (896, 1152), (1216, 832)]
    assert buckets.pick(1920, 1080, cands) == (1216, 832)
    assert buckets.candidates(1280, 64, "  ") == buckets.generate(1280, 64)
    for bad in ("1024x", "abc", "0x512", "1024x1024, 12x"):
        with pytest.raises(ValueError, match="bucket_list"):
            buckets.parse_list(bad)
    with pytest.raises(ValueError, match="empty"):
        buckets.parse_list(", ,")


def test_ties_go_to_the_larger_area():
    # 2:1 and 1:2 sit at the same log distance from 1:1; 8x8 and 16x16 are both exact.
    assert buckets.pick(100, 100, [(8, 8), (16, 16), (20, 10)]) == (16, 16)
    assert buckets.pick(100, 100, [(20, 10), (10, 20)]) == (20, 10)        # equal distance, equal area: first
    assert buckets.pick(100, 100, [(20, 10), (12, 24)]) == (12, 24)        # equal distance, larger area


def test_a_batch_must_fall_on_one_bucket():
    cands = buckets.generate(1280, 64)
    assert buckets.pick_for_batch([(1920, 1080), (1921, 1080)], cands) == (1664, 960)
    with pytest.raises(ValueError, match="resize before batching"):
        buckets.pick_for_batch([(1920, 1080), (1080, 1920)], cands)


def test_cover_and_contain_geometry():
    g = buckets.geometry(1920, 1080, 1664, 960, "crop")
    assert g["new_w"] >= 1664 and g["new_h"] >= 960 and g["left"] == (g["new_w"] - 1664) // 2
    g = buckets.geometry(4000, 500, 1024, 1024, "pad")
    assert (g["new_w"], g["new_h"], g["left"], g["top"]) == (1024, 128, 0, 448)
    with pytest.raises(ValueError, match="mode"):
        buckets.geometry(10, 10, 8, 8, "stretch")


def test_upscale_warning_only_past_max_upscale():
    g = buckets.geometry(300, 200, 1536, 1024, "crop")
    assert g["scale"] == pytest.approx(5.12)
    assert "5.12x upscale" in buckets.upscale_warning(300, 200, 1536, 1024, g["scale"], 1.5)
    assert buckets.upscale_warning(300, 200, 1536, 1024, g["scale"], 6.0) is None


# ---- the node ----

def marker(h, w, y, x):
    img = torch.zeros((1, h, w, 3))
    img[0, y, x, :] = 1.0
    mask = torch.zeros((1, h, w))
    mask[0, y, x] = 1.0
    return img, mask


@pytest.mark.parametrize("size,expected", TABLE)
def test_node_outputs_the_bucket_and_the_mask_follows_pixel_for_pixel(size, expected):
    iw, ih = size
    y, x = ih // 3, iw // 4
    img, mask = marker(ih, iw, y, x)
    out, out_mask, W, H, label = BucketResize().run(img, 1280, 64, 1.5, mask)
    assert (W, H) == expected and label == f"{W}x{H}"
    assert tuple(out.shape) == (1, H, W, 3) and tuple(out_mask.shape) == (1, H, W)
    for c in range(3):                                      # same filter, same geometry: identical planes
        assert torch.equal(out[0, :, :, c], out_mask[0])
    g = buckets.geometry(iw, ih, W, H, "crop")
    my, mx = np.unravel_index(int(out_mask[0].argmax()), (H, W))
    assert abs(mx - ((x + 0.5) * g["new_w"] / iw - 0.5 - g["left"])) <= 1
    assert abs(my - ((y + 0.5) * g["new_h"] / ih - 0.5 - g["top"])) <= 1


def test_max_upscale_is_logged(caplog):
    with caplog.at_level(logging.WARNING):
        BucketResize().run(torch.rand((1, 200, 300, 3)), 1280, 64, 1.5)
    assert "300x200 -> 1536x1024" in caplog.text and "max_upscale 1.5" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        BucketResize().run(torch.rand((1, 200, 300, 3)), 1280, 64, 8.0)
    assert "upscale" not in caplog.text


def test_pad_mode_letterboxes_with_the_colour_and_pads_the_mask_with_zeros():
    img, mask = marker(500, 4000, 250, 1000)
    img[0, :, :, 1] = 0.5                                   # a green-ish image, so padding is visible
    img[0, 250, 1000, 1] = 1.0
    out, out_mask, W, H, label = BucketResize().run(img, 1280, 64, 1.5, mask, mode="pad", pad_color="255,0,0",
                                                    bucket_list="1024x1024")
    assert label == "1024x1024"
    assert torch.allclose(out[0, :448], torch.tensor([1.0, 0.0, 0.0]))          # letterbox rows
    assert torch.allclose(out[0, 448 + 128:], torch.tensor([1.0, 0.0, 0.0]))
    assert float(out_mask[0, :448].abs().max()) == 0.0 and float(out_mask[0, 576:].abs().max()) == 0.0
    assert torch.equal(out[0, :, :, 0][448:576], out_mask[0][448:576])          # red plane = the marker
    my, mx = np.unravel_index(int(out_mask[0].argmax()), (H, W))
    assert (my, mx) == tuple(np.unravel_index(int(out[0, :, :, 0][448:576].argmax()), (128, 1024)) + np.array([448, 0]))
    assert 440 < my < 590 and abs(mx - 256) <= 1


def test_a_mask_of_another_size_is_resized_first():
    img = torch.rand((2, 1080, 1920, 3))
    small = torch.zeros((1, 540, 960))
    small[0, :, :480] = 1.0                                 # left half painted
    _, out_mask, W, H, _ = BucketResize().run(img, mask=small)
    assert tuple(out_mask.shape) == (2, 960, 1664)
    assert float(out_mask[:, :, :700].min()) > 0.99 and float(out_mask[:, :, 900:].max()) < 0.01


def test_no_mask_gives_zeros_and_batch_keeps_its_length():
    out, out_mask, W, H, _ = BucketResize().run(torch.rand((3, 100, 100, 3)), 512, 64)
    assert tuple(out.shape) == (3, 512, 512, 3) and tuple(out_mask.shape) == (3, 512, 512)
    assert float(out_mask.max()) == 0.0


def test_pad_colour_parsing():
    assert parse_color("#ff8000") == (255, 128, 0)
    assert parse_color("white") == (255, 255, 255)
    assert parse_color("10, 20, 30") == (10, 20, 30)
    assert parse_color("128") == (128, 128, 128)
    for bad in ("nope", "1,2", "300,0,0"):
        with pytest.raises(ValueError, match="pad_color"):
            parse_color(bad)


def test_original_inputs_outputs_and_defaults():
    req = BucketResize.INPUT_TYPES()["required"]
    assert list(req) == ["image", "resolution", "divisible", "max_upscale"]
    assert (req["resolution"][1]["default"], req["divisible"][1]["default"], req["max_upscale"][1]["default"]) \
        == (1280, 64, 1.5)
    assert list(BucketResize.INPUT_TYPES()["optional"]) == ["mask", "mode", "pad_color", "bucket_list"]
    assert BucketResize.RETURN_TYPES == ("IMAGE", "MASK", "INT", "INT", "STRING")
    assert BucketResize.RETURN_NAMES == ("image", "mask", "width", "height", "label")
