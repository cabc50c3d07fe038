"""Mode conversions of the Folder Image Loader, on images generated here (numpy + Pillow, no torch)."""
import numpy as np
import pytest
from PIL import Image

from gates.nodes.loader import decode_compact, expand_arrays, load_file, pil_to_arrays


def save(tmp_path, im, name, **kw):
    p = str(tmp_path / name)
    im.save(p, **kw)
    return p


def test_rgb_and_rgba(tmp_path):
    im = Image.new("RGBA", (4, 3), (255, 0, 0, 255))
    im.putpixel((1, 1), (0, 0, 255, 0))
    rgb, mask = load_file(save(tmp_path, im, "a.png"))
    assert rgb.shape == (3, 4, 3) and mask.shape == (3, 4)
    assert np.allclose(rgb[0, 0], [1, 0, 0]) and mask[1, 1] == 1.0 and mask[0, 0] == 0.0


def test_16_bit_gray(tmp_path):
    arr = np.array([[0, 32768, 65535]], dtype=np.uint16)
    rgb, mask = load_file(save(tmp_path, Image.fromarray(arr), "g16.png"))
    assert rgb.shape == (1, 3, 3)
    assert np.allclose(rgb[0, :, 0], [0, 32768 / 65535, 1], atol=1e-4) and mask.max() == 0


def test_palette_with_transparency(tmp_path):
    im = Image.new("P", (2, 2))
    im.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    im.putpixel((0, 0), 1)
    im.info["transparency"] = 0
    rgb, mask = load_file(save(tmp_path, im, "p.png", transparency=0))
    assert np.allclose(rgb[0, 0], [1, 1, 1]) and mask[0, 0] == 0 and mask[1, 1] == 1


def test_la(tmp_path):
    im = Image.new("LA", (2, 1), (128, 255))
    im.putpixel((1, 0), (10, 0))
    rgb, mask = load_file(save(tmp_path, im, "la.png"))
    assert np.allclose(rgb[0, 0], 128 / 255) and list(mask[0]) == [0.0, 1.0]


def test_cmyk(tmp_path):
    im = Image.new("CMYK", (2, 2), (0, 255, 255, 0))    # pure red in CMYK
    rgb, _ = load_file(save(tmp_path, im, "c.jpg", quality=100))
    assert rgb[0, 0, 0] > 0.9 and rgb[0, 0, 1] < 0.1 and rgb[0, 0, 2] < 0.1


def test_exif_rotation(tmp_path):
    im = Image.new("RGB", (4, 2), (0, 0, 0))
    im.putpixel((0, 0), (255, 255, 255))
    exif = Image.Exif()
    exif[0x0112] = 6                                      # rotate 90 CW on display
    rgb, _ = load_file(save(tmp_path, im, "r.jpg", exif=exif, quality=100))
    assert rgb.shape[:2] == (4, 2)                       # width and height swapped
    assert rgb[0, 1].mean() > 0.8                         # the white corner moved to the top right


def test_unreadable_file_names_the_path(tmp_path):
    p = tmp_path / "broken.png"
    p.write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    with pytest.raises(ValueError, match="broken.png"):
        load_file(str(p))


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "P", "I;16"])
def test_an_image_decoded_ahead_is_small_and_expands_to_the_same_arrays(mode):
    rng = np.random.default_rng(3)
    im = Image.fromarray(rng.integers(0, 255, (24, 40, 4), dtype=np.uint8), "RGBA")
    im = im.convert("L").convert(mode) if mode == "I;16" else im.convert(mode)
    rgb, mask = decode_compact(im)
    if mode != "I;16":
        assert rgb.dtype == np.uint8                    # a quarter of the float32 it becomes
    assert (mask is None) == (mode != "RGBA")           # no mask kept for an image without alpha
    want = pil_to_arrays(im)
    got = expand_arrays(rgb, mask)
    assert all(g.dtype == np.float32 and np.array_equal(g, w) for g, w in zip(got, want))
    assert np.array_equal(got[0], np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0) or mode == "I;16"


def test_order_is_appended_after_filter_with_a_tooltip_and_counts_in_is_changed():
    from gates.core.quality import ORDERS
    from gates.nodes.loader import FolderImageLoader

    inputs = FolderImageLoader.INPUT_TYPES()
    assert list(inputs["optional"]) == ["mode", "filter", "order"]
    choices, opts = inputs["optional"]["order"]
    assert list(choices) == list(ORDERS) == ["name", "sharpness", "exposure", "size"]
    assert opts["default"] == "name" and "least sharp first" in opts["tooltip"]
    a = FolderImageLoader.IS_CHANGED("", 0, 0, "index", "", "name")
    assert a != FolderImageLoader.IS_CHANGED("", 0, 0, "index", "", "sharpness")
