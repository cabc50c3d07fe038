"""Quality signals (gates/core/quality.py): sharpness, exposure, size, dHash, and their cache."""
import io
import json
import os

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from gates.core import buckets, quality, summary


def photo(w: int, h: int, seed: int = 0) -> Image.Image:
    """Something like a photo at any size: soft gradients, shapes with hard edges, a little grain."""
    rng = np.random.default_rng(seed)
    small = Image.fromarray((rng.random((6, 8, 3)) * 255).astype(np.uint8)).resize((w, h), Image.BICUBIC)
    im = small.copy()
    d = ImageDraw.Draw(im)
    for _ in range(12):
        x, y = rng.random(2) * (w, h)
        r = (0.05 + rng.random() * 0.15) * min(w, h)
        d.ellipse((x - r, y - r, x + r, y + r), fill=tuple(int(c) for c in rng.integers(0, 255, 3)))
        d.line((x, y, x + r * 2, y - r), fill=(255, 255, 255), width=max(1, min(w, h) // 200))
    arr = np.asarray(im, np.float32) + rng.normal(0, 3, (h, w, 3))
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def save(im: Image.Image, path, **kw) -> str:
    im.save(path, **kw)
    return str(path)


SIZES = [(64, 64), (200, 150), (640, 480), (1024, 1024), (3000, 2000)]


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_a_blurred_copy_is_less_sharp_than_its_source_at_every_size(tmp_path, size, fmt):
    w, h = size
    src = photo(w, h, seed=w)
    blurred = src.filter(ImageFilter.GaussianBlur(radius=max(1.5, min(w, h) / 150)))
    ext = ".jpg" if fmt == "JPEG" else ".png"
    a = quality.measure(save(src, tmp_path / f"src{ext}", format=fmt, quality=92))
    b = quality.measure(save(blurred, tmp_path / f"blur{ext}", format=fmt, quality=92))
    assert b.sharpness < a.sharpness * 0.6, (a.sharpness, b.sharpness)
    assert (a.width, a.height) == (w, h) and (b.width, b.height) == (w, h)


def test_sharpness_hardly_depends_on_the_file_size(tmp_path):
    big = photo(2048, 2048, seed=3)
    values = [quality.measure(save(big.resize((s, s), Image.LANCZOS), tmp_path / f"{s}.png")).sharpness
              for s in (512, 1024, 2048)]
    assert max(values) < 1.6 * min(values), values          # a 4x larger file: about the same number


def test_exposure_of_an_all_white_and_a_half_clipped_image(tmp_path):
    white = quality.measure(save(Image.new("RGB", (300, 200), (255, 255, 255)), tmp_path / "white.png"))
    assert (white.white, white.black) == (1.0, 0.0)
    assert white.clipped == 1.0 and white.sharpness == 0.0
    half = np.full((200, 400, 3), 128, np.uint8)
    half[:, :200] = 0                                           # left half clipped black
    s = quality.measure(save(Image.fromarray(half), tmp_path / "half.png"))
    assert abs(s.black - 0.5) < 0.01 and s.white == 0.0
    s = quality.measure(save(Image.fromarray(255 - half), tmp_path / "half.jpg", quality=95))
    assert abs(s.white - 0.5) < 0.02 and s.black == 0.0
    mid = quality.measure(save(Image.new("RGB", (64, 64), (128, 128, 128)), tmp_path / "mid.png"))
    assert mid.clipped == 0.0


def test_16_bit_alpha_and_palette_images_are_measured(tmp_path):
    white16 = Image.fromarray(np.full((64, 80), 65535, np.uint16))
    s = quality.measure(save(white16, tmp_path / "w16.png"))
    assert s.white == 1.0 and (s.width, s.height) == (80, 64)
    dark16 = Image.fromarray(np.full((64, 80), 300, np.uint16))     # 300/65535: black in 8 bits
    assert quality.measure(save(dark16, tmp_path / "d16.png")).black == 1.0
    rgba = photo(120, 90).convert("RGBA")
    assert quality.measure(save(rgba, tmp_path / "a.png")).sharpness > 0
    assert quality.measure(save(photo(120, 90).convert("P"), tmp_path / "p.png")).sharpness > 0


def test_width_and_height_are_the_upright_files_and_so_is_the_hash(tmp_path):
    im = photo(300, 200, seed=5)
    upright = quality.measure(save(im, tmp_path / "upright.jpg", quality=95))
    exif = Image.Exif()
    exif[0x0112] = 6                                            # stored rotated: shown turned 90° clockwise
    stored = im.transpose(Image.Transpose.ROTATE_90)            # 200x300 on disk
    s = quality.measure(save(stored, tmp_path / "rot.jpg", quality=95, exif=exif.tobytes()))
    assert (s.width, s.height) == (300, 200) == (upright.width, upright.height)
    assert bin(s.dhash ^ upright.dhash).count("1") <= 4
    assert bin(quality.measure(save(stored, tmp_path / "plain.jpg", quality=95)).dhash ^ upright.dhash).count("1") > 10


def test_small_means_fewer_pixels_than_the_smallest_default_bucket(tmp_path):
    from gates.nodes.bucket_resize import BucketResize

    req = BucketResize.INPUT_TYPES()["required"]
    assert (req["resolution"][1]["default"], req["divisible"][1]["default"]) == \
        (quality.BUCKET_RESOLUTION, quality.BUCKET_DIVISIBLE)
    areas = [w * h for w, h in buckets.generate(quality.BUCKET_RESOLUTION, quality.BUCKET_DIVISIBLE)]
    assert min(areas) == quality.SMALLEST_BUCKET_AREA
    assert quality.measure(save(photo(900, 900), tmp_path / "s.png")).small
    assert not quality.measure(save(photo(1024, 1024), tmp_path / "b.jpg")).small


def test_one_dhash_for_the_pack(tmp_path):
    p = save(photo(256, 256), tmp_path / "a.png")
    assert summary.dhash is quality.dhash
    assert quality.dhash(p) == quality.measure(p).dhash


def test_an_unreadable_file_is_a_clear_error_and_has_no_signals(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="bad.png"):
        quality.measure(str(tmp_path / "bad.png"))
    save(photo(64, 64), tmp_path / "ok.png")
    out = quality.signals_for(str(tmp_path), ["bad.png", "ok.png", "gone.png"], str(tmp_path / "c.json"))
    assert list(out) == ["ok.png"]


def count_measures(monkeypatch) -> list:
    seen = []
    real = quality.measure

    def counting(path):
        seen.append(os.path.basename(path))
        return real(path)
    monkeypatch.setattr(quality, "measure", counting)
    return seen


def test_the_cache_is_reused_for_unchanged_files_and_invalidated_by_a_changed_one(tmp_path, monkeypatch):
    root, cache = tmp_path / "ds", str(tmp_path / "logs" / "ds.quality.json")
    root.mkdir()
    for i in range(3):
        save(photo(128, 96, seed=i), root / f"{i}.png")
    rels = ["0.png", "1.png", "2.png"]
    seen = count_measures(monkeypatch)
    first = quality.signals_for(str(root), rels, cache)
    assert sorted(seen) == rels and os.path.exists(cache)
    assert [p for p in os.listdir(os.path.dirname(cache)) if p != os.path.basename(cache)] == []   # no temp left

    seen.clear()
    assert quality.signals_for(str(root), rels, cache) == first and seen == []          # unchanged: no decode

    st = os.stat(root / "1.png")
    save(photo(128, 96, seed=1).filter(ImageFilter.GaussianBlur(3)), root / "1.png")
    os.utime(root / "1.png", ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    third = quality.signals_for(str(root), rels, cache)
    assert seen == ["1.png"]                                                             # only the changed file
    assert third["1.png"].sharpness < first["1.png"].sharpness and third["0.png"] == first["0.png"]

    seen.clear()
    assert quality.signals_for(str(root), rels, cache) == third and seen == []


def test_a_torn_or_foreign_cache_is_measured_again(tmp_path, monkeypatch):
    save(photo(64, 64), tmp_path / "a.png")
    cache = tmp_path / "c.json"
    cache.write_text("{not json")
    seen = count_measures(monkeypatch)
    quality.signals_for(str(tmp_path), ["a.png"], str(cache))
    assert seen == ["a.png"]
    data = json.loads(cache.read_text())
    data["version"] = -1
    cache.write_text(json.dumps(data))
    quality.signals_for(str(tmp_path), ["a.png"], str(cache))
    assert seen == ["a.png", "a.png"]


def test_cache_entries_of_other_files_that_still_exist_are_kept(tmp_path):
    (tmp_path / "sub").mkdir()
    save(photo(64, 64), tmp_path / "a.png")
    save(photo(64, 64, 1), tmp_path / "sub" / "b.png")
    cache = str(tmp_path / "c.json")
    quality.signals_for(str(tmp_path), ["a.png", "sub/b.png"], cache)
    quality.signals_for(str(tmp_path), ["a.png"], cache)                  # depth 0 only
    assert set(quality.read_cache(cache)) == {"a.png", "sub/b.png"}
    os.remove(tmp_path / "sub" / "b.png")
    save(photo(64, 64, 2), tmp_path / "c.png")
    quality.signals_for(str(tmp_path), ["a.png", "c.png"], cache)      # a rewrite drops what is gone
    assert set(quality.read_cache(cache)) == {"a.png", "c.png"}


def test_the_worker_processes_measure_what_this_process_does(tmp_path):
    paths = [save(photo(96, 64, seed=i), tmp_path / f"{i}.jpg") for i in range(5)]
    (tmp_path / "bad.jpg").write_bytes(b"nope")
    paths.append(str(tmp_path / "bad.jpg"))
    done = []
    out = quality._pool_run(paths, 2, lambda d, t: done.append((d, t)), fallback=False)
    assert out[:5] == [quality.measure(p) for p in paths[:5]] and out[5] is None
    assert done[-1] == (6, 6)


def test_as_dict_is_json_for_the_page(tmp_path):
    d = quality.measure(save(photo(64, 64), tmp_path / "a.png")).as_dict()
    assert json.loads(json.dumps(d))["width"] == 64 and len(d["dhash"]) == 16 and d["small"] is True


def test_an_image_in_memory_measures_like_its_file(tmp_path):
    buf = io.BytesIO()
    photo(100, 80).save(buf, "PNG")
    (tmp_path / "a.png").write_bytes(buf.getvalue())
    assert quality.measure(str(tmp_path / "a.png")).width == 100


def test_order_files_puts_the_worst_first_ties_in_natural_order():
    S = quality.Signals
    sig = {"a": S(50.0, 0.0, 0.0, 100, 100, True, 0), "b": S(10.0, 0.1, 0.2, 300, 300, True, 0),
           "c": S(50.0, 0.5, 0.0, 50, 50, True, 0), "d": S(90.0, 0.0, 0.0, 100, 100, True, 0)}
    files = ["a", "b", "c", "broken", "d"]
    assert quality.order_files(files, sig, "name") == files
    assert quality.order_files(files, sig, "sharpness") == ["b", "a", "c", "d", "broken"]
    assert quality.order_files(files, sig, "exposure") == ["c", "b", "a", "d", "broken"]
    assert quality.order_files(files, sig, "size") == ["c", "a", "d", "b", "broken"]
    with pytest.raises(ValueError, match="order must be one of name, sharpness, exposure, size"):
        quality.order_files(files, sig, "blur")


def test_signals_from_a_preview_are_close_to_the_files(tmp_path):
    src = photo(2400, 1600, seed=11)
    p = save(src, tmp_path / "big.jpg", quality=92)
    exact = quality.measure(p)
    preview = src.resize((1024, 683), Image.BILINEAR, reducing_gap=2.0)
    near = quality.from_image(preview, (2400, 1600))
    assert (near.width, near.height, near.small) == (exact.width, exact.height, exact.small)
    assert abs(near.sharpness - exact.sharpness) < 0.15 * exact.sharpness, (near, exact)
    assert bin(near.dhash ^ exact.dhash).count("1") <= 4


def test_a_progress_that_raises_stops_the_workers(tmp_path):
    paths = [save(photo(64, 64, seed=i), tmp_path / f"{i}.png") for i in range(200)]

    def cancel(done, total):
        raise KeyboardInterrupt("cancelled")
    with pytest.raises(KeyboardInterrupt):
        quality._pool_run(paths, 2, cancel)
