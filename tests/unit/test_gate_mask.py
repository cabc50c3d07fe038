import io
import os

import numpy as np
import pytest
from PIL import Image

from gates.core import imaging
from harness.graphs import png_bytes

torch = pytest.importorskip("torch", reason="mask tensors need torch (scripts/setup-comfyui installs it)")


def mask_for(data, image):
    """What the gate puts on its mask output for an attached ``data``."""
    return imaging.fit_mask(data, *image.shape[:3])


# ---- a missing or painted mask ----

def test_mask_from_stash_none_is_zeros():
    img = torch.zeros((1, 6, 4, 3))
    m = mask_for(None, img)
    assert m.shape == (1, 6, 4) and float(m.max()) == 0.0

def test_mask_from_stash_decodes_png():
    buf = io.BytesIO()
    Image.new("L", (4, 6), 255).save(buf, "PNG")
    img = torch.zeros((1, 6, 4, 3))
    m = mask_for(buf.getvalue(), img)
    assert m.shape == (1, 6, 4) and float(m.min()) > 0.99

# ---- resize and batch expansion ----

def test_mask_is_resized_to_the_image_and_expanded_to_the_batch():
    m = Image.new("L", (20, 10), 0)
    m.paste(255, (0, 0, 10, 10))             # left half painted
    out = mask_for(png_bytes(m), torch.zeros((2, 40, 80, 3)))
    assert out.shape == (2, 40, 80) and out.dtype == torch.float32
    assert float(out[:, :, :35].min()) > 0.99 and float(out[:, :, 45:].max()) < 0.01
    assert torch.equal(out[0], out[1])


def test_editor_file_alpha_polarity(tmp_path):
    im = Image.new("RGBA", (8, 8), (10, 20, 30, 255))
    im.putpixel((2, 3), (10, 20, 30, 0))      # painted = transparent
    p = tmp_path / "clipspace-painted-masked-1.png"
    im.save(p)
    m = imaging.decode_editor_file(str(p))
    assert m.shape == (8, 8) and m[3, 2] == 1.0 and m.sum() == 1.0


def test_editor_file_without_alpha_is_refused(tmp_path):
    p = tmp_path / "rgb.png"
    Image.new("RGB", (4, 4)).save(p)
    with pytest.raises(imaging.BadImage, match="no alpha"):
        imaging.decode_editor_file(str(p))


@pytest.mark.parametrize("data", [b"not an image", b"\x89PNG\r\n\x1a\n\x00\x00", b""])
def test_bad_mask_bytes_are_refused(data):
    with pytest.raises(imaging.BadImage):
        imaging.decode_gray_mask(data)


def test_pixel_cap(monkeypatch):
    monkeypatch.setattr(imaging, "MAX_MASK_PIXELS", 100)
    with pytest.raises(imaging.BadImage, match="cap"):
        imaging.decode_gray_mask(png_bytes(Image.new("L", (20, 20))))


def test_preview_downscale_caps_the_long_side():
    x = torch.rand((2, 1000, 3000, 3))
    y = imaging.downscale(x, cap=768)
    assert y.shape == (2, 256, 768, 3)
    assert imaging.preview_size(100, 50) == (100, 50)


def test_background_png_is_a_true_png_and_stops_between_bands(tmp_path):
    """The full-size PNG writer: exact pixels when left alone, gives up early once its pause ended."""
    for shape in ((300, 200, 3), (50, 40, 4), (64, 64, 1)):
        img = torch.rand(*shape)
        path = tmp_path / f"full_{shape[2]}.png"
        imaging.save_png_stoppable(img, str(path), should_stop=lambda: False, rows=64)
        got = np.asarray(Image.open(path))
        assert np.array_equal(got.reshape(imaging.tensor_to_uint8(img).shape), imaging.tensor_to_uint8(img))
    calls = []
    big = torch.rand(1024, 1024, 3)
    with pytest.raises(imaging.Abandoned):
        imaging.save_png_stoppable(big, str(tmp_path / "gone.png"), lambda: calls.append(1) or len(calls) > 2)
    assert len(calls) == 3                   # stopped at the third band, not after the whole image
    assert (tmp_path / "gone.png").stat().st_size < 1024 * 1024 * 3 / 4


# ---- the saver's question: is anything painted? ----

def test_has_paint_sees_one_positive_value_of_any_mask_kind():
    zeros = np.zeros((2, 30, 40), np.float32)
    assert not imaging.has_paint(zeros) and not imaging.has_paint(torch.from_numpy(zeros))
    assert not imaging.has_paint(np.full((4, 4), -1.0, np.float32))     # nothing above 0: nothing painted
    assert not imaging.has_paint(np.zeros((0, 4), np.float32))
    one = zeros.copy()
    one[1, 29, 39] = 0.004
    assert imaging.has_paint(one) and imaging.has_paint(torch.from_numpy(one))
    assert imaging.has_paint(png_bytes(Image.new("L", (4, 4), 0)))        # encoded: fit_mask decides
    assert not imaging.has_paint(torch.zeros((4, 4), dtype=torch.bfloat16))
    assert imaging.has_paint(torch.from_numpy(one).to(torch.bfloat16))


def test_the_saver_writes_a_mask_file_only_for_paint_or_when_asked(tmp_path):
    from gates.nodes.saver import SaveImageToFolder

    image = torch.rand((2, 12, 16, 3))
    zeros, painted = torch.zeros((2, 12, 16)), torch.zeros((2, 12, 16))
    painted[1, 3:6, 4:9] = 1.0
    saver = SaveImageToFolder()
    saver.save(image, str(tmp_path / "a"), "x", "png", mask=zeros)
    assert sorted(os.listdir(tmp_path / "a")) == ["x_00.png", "x_01.png"]
    saver.save(image, str(tmp_path / "b"), "x", "png", mask=painted)
    assert sorted(os.listdir(tmp_path / "b")) == ["x_00.png", "x_01.mask.png", "x_01.png"]
    with Image.open(tmp_path / "b" / "x_01.mask.png") as m:
        assert np.array(m)[3:6, 4:9].min() == 255 and int(np.array(m).sum()) == 255 * 15
    saver.save(image, str(tmp_path / "c"), "x", "png", mask=zeros, save_empty_mask=True)
    assert sorted(os.listdir(tmp_path / "c")) == ["x_00.mask.png", "x_00.png", "x_01.mask.png", "x_01.png"]
    with pytest.raises(ValueError, match="a mask must be"):         # a bad mask is refused, painted or not
        saver.save(image, str(tmp_path / "d"), "x", "png", mask=torch.zeros((1, 2, 12, 16)))
