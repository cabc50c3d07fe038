"""Dataset Summary's pure part: counts, buckets, sizes, duplicates, and the report and chart."""
import io
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from gates.core import buckets, summary, summary_chart

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def img(path, w, h, seed=0, fmt=None, **kw):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    arr = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    Image.fromarray(arr).save(path, fmt, **kw)
    return arr


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    r = str(tmp_path_factory.mktemp("dataset"))
    a = img(f"{r}/keep/a.png", 1920, 1080, seed=1)
    img(f"{r}/keep/b.png", 1000, 1000, seed=2)
    img(f"{r}/keep/c.jpg", 300, 200, seed=3)
    img(f"{r}/reject/d.webp", 1080, 1920, seed=4, lossless=True)
    Image.fromarray(a).save(f"{r}/reject/a_copy.bmp")                         # same pixels, other bytes
    near = a.copy()
    near[:10, :10] = 0                                                       # same picture, a few pixels off
    os.makedirs(f"{r}/fix")
    Image.fromarray(near).save(f"{r}/fix/a_near.png")
    for p in ("keep/a.txt", "keep/b.txt", "reject/d.txt"):
        open(f"{r}/{p}", "w").write("caption")
    Image.new("L", (1920, 1080), 255).save(f"{r}/keep/a.mask.png")
    Image.new("L", (64, 64), 255).save(f"{r}/fix/a_near.mask.png")
    open(f"{r}/fix/broken.png", "wb").write(b"\x89PNG\r\n\x1a\nnot really")
    return r


def run(root, **kw):
    items, refused = summary.scan_items(root, -1)
    return summary.summarize(root, items, buckets.generate(1280, 64), refused=refused, **kw)


def test_counts_per_folder_captions_and_masks(dataset):
    s = run(dataset)
    assert s["folders"] == {"fix": {"images": 2, "captions": 0, "masks": 1},
                            "keep": {"images": 3, "captions": 2, "masks": 1},
                            "reject": {"images": 2, "captions": 1, "masks": 0}}
    assert (s["images"], s["captions"], s["masks"]) == (7, 3, 2)            # masks are not counted as images
    assert [r for r, _ in s["unreadable"]] == ["fix/broken.png"]


def test_buckets_sizes_and_small_images(dataset):
    s = run(dataset, min_size=512)
    assert s["buckets"] == {"1664x960": 3, "1280x1280": 1, "1536x1024": 1, "960x1664": 1}
    assert s["small"] == [["keep/c.jpg", 300, 200]]
    assert s["width"] == {"min": 300, "median": 1500, "max": 1920}    # 300 1000 1080 1920 1920 1920
    assert (s["short_side"]["0-255"], s["short_side"]["768-1023"], s["short_side"]["1024-1535"]) == (1, 1, 4)
    assert sum(s["short_side"].values()) == 6


def test_exact_duplicates_are_same_pixels_whatever_the_format(dataset):
    s = run(dataset)
    assert s["exact_duplicates"] == [["keep/a.png", "reject/a_copy.bmp"]]
    assert s["near_duplicates"] == []
    s = run(dataset, duplicates="exact + near")
    assert s["near_duplicates"] == [["fix/a_near.png", "keep/a.png", "reject/a_copy.bmp"]]
    s = run(dataset, duplicates="off")
    assert s["exact_duplicates"] == [] and "not checked" in summary.report(s)


def test_identical_files_need_no_decode(tmp_path, monkeypatch):
    img(f"{tmp_path}/x.png", 64, 64, seed=5)
    open(f"{tmp_path}/y.png", "wb").write(open(f"{tmp_path}/x.png", "rb").read())
    img(f"{tmp_path}/z.png", 64, 32, seed=6)
    monkeypatch.setattr(summary, "_pixel_hash", lambda p: pytest.fail(f"decoded {p}"))
    assert run(str(tmp_path))["exact_duplicates"] == [["x.png", "y.png"]]


def test_exif_rotation_swaps_the_size(tmp_path):
    im = Image.new("RGB", (400, 200))
    exif = Image.Exif()
    exif[0x0112] = 6                                                       # rotate 90 on display
    im.save(f"{tmp_path}/r.jpg", exif=exif.tobytes())
    items, _ = summary.scan_items(str(tmp_path))
    assert (items[0].width, items[0].height) == (200, 400)


def test_depth_is_the_loaders(dataset):
    items, _ = summary.scan_items(dataset, 0)
    assert items == []
    assert len(summary.scan_items(dataset, 1)[0]) == 7


def test_refused_files_are_skipped_and_listed(dataset):
    items, refused = summary.scan_items(dataset, -1, allows=lambda p: "reject" not in p)
    s = summary.summarize(dataset, items, buckets.generate(), refused=refused)
    assert s["images"] == 5 and refused == ["reject/a_copy.bmp", "reject/d.webp"]
    assert "skipped (links out of the allowed folders): 2" in summary.report(s)


def test_report_and_chart(dataset):
    s = run(dataset)
    text = summary.report(s, " (resolution 1280, divisible 64)")
    assert "images: 7 in 3 folder(s); with caption: 3; with mask: 2" in text
    lines = text.splitlines()
    assert any(line.split() == ["keep", "3", "2", "1"] for line in lines)
    assert "aspect buckets (resolution 1280, divisible 64):" in text
    assert "below 512 px on the short side: 1" in text and "keep/c.jpg (300x200)" in text
    assert "keep/a.png = reject/a_copy.bmp" in text and "unreadable: 1" in text
    chart = summary_chart.draw(s)
    assert chart.dtype == np.uint8 and chart.ndim == 3 and chart.shape[1] == summary_chart.WIDTH
    assert len(np.unique(chart.reshape(-1, 3), axis=0)) > 4               # something was drawn


def test_empty_folder_reports_zero(tmp_path):
    os.makedirs(tmp_path / "sub")
    s = summary.summarize(str(tmp_path), [], buckets.generate())
    assert s["images"] == 0 and s["width"] == {}
    assert "images: 0" in summary.report(s)
    assert summary_chart.draw(s).shape[0] > 50


def test_ten_thousand_headers_are_fast(tmp_path):
    # the in-process part of the 5 s bound (the integration test times the real node)
    rng = np.random.default_rng(0)
    blobs = []
    for k in range(40):                                                    # 40 distinct small PNGs, reused
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (16 + k, 20 + k, 3), dtype=np.uint8)).save(buf, "PNG")
        blobs.append(buf.getvalue())
    for i in range(10000):
        with open(f"{tmp_path}/i{i}.png", "wb") as f:
            f.write(blobs[i % 40])
    import time
    t = time.perf_counter()
    items, _ = summary.scan_items(str(tmp_path))
    s = summary.summarize(str(tmp_path), items, buckets.generate(), duplicates="off")
    took = time.perf_counter() - t
    print(f"10,000 headers: {took:.2f} s")
    assert s["images"] == 10000 and took < 5


def test_pure_modules_import_without_torch_or_comfyui():
    code = ("import sys; import gates.core.buckets, gates.core.sidecars, gates.core.summary, "
            "gates.core.summary_chart, gates.core.access, gates.nodes.sidecar_nodes, gates.nodes.bucket_resize, "
            "gates.nodes.dataset_summary; "
            "bad = [m for m in ('torch', 'comfy', 'comfy.cli_args', 'folder_paths', 'aiohttp') if m in sys.modules]; "
            "assert not bad, bad")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_tag_stats_top_tags_used_once_and_captions_over_75_tokens():
    from gates.core import summary as sm

    caps = {"a.png": "cat, Blurry, cat", "b.png": "blurry ,dog", "c.png": "BLURRY, cat, " + ", ".join(
        f"t{i}" for i in range(80)), "d.png": ""}
    words = lambda text: len(tags_of(text))
    st = sm.tag_stats(caps, words, top=3)
    assert st["tags_top"] == [["Blurry", 3], ["cat", 2], ["dog", 1]]     # per caption, first spelling kept
    assert st["tags_distinct"] == 83 and st["tags_once"] == 81
    assert st["captions_over_75"] == [["c.png", 82]]
    assert sm.tag_stats(caps)["captions_over_75"] is None
    text = sm.report({**minimal_summary(), **st})
    assert "tags: 83 distinct, 81 used once; the 3 most used (captions):" in text
    assert "       3  Blurry" in text and "captions over 75 CLIP tokens: 1" in text and "c.png (82 tokens)" in text


def tags_of(text):
    from gates.core.tags import split_tags

    return split_tags(text)


def minimal_summary():
    return {"folder": "/x", "images": 0, "captions": 0, "masks": 0, "folders": {}, "buckets": {}, "width": {},
            "min_size": 512, "small": [], "duplicates": "off", "unreadable": [], "refused": []}


def test_quality_histograms_and_the_worst_images(tmp_path):
    from PIL import ImageFilter

    from gates.core import quality

    r = str(tmp_path)
    for i in range(25):
        arr = np.random.default_rng(i).integers(0, 256, (64, 64, 3), dtype=np.uint8)
        im = Image.fromarray(arr)
        if i % 5 == 0:
            im = im.filter(ImageFilter.GaussianBlur(2 + i / 5))                  # 5 blurred, blurrier with i
        im.save(f"{r}/img{i}.png")
    Image.new("RGB", (64, 64), (255, 255, 255)).save(f"{r}/white.png")
    half = np.full((64, 64, 3), 128, np.uint8)
    half[:32] = 0
    Image.fromarray(half).save(f"{r}/half_black.png")
    items, _ = summary.scan_items(r, 0)
    signals = quality.signals_for(r, [it.rel for it in items], None)
    s = summary.summarize(r, items, buckets.generate(1280, 64), duplicates="exact + near", signals=signals)
    s.update(summary.quality_stats(signals))
    assert sum(s["sharpness_hist"].values()) == 27 and sum(s["clipped_hist"].values()) == 27
    least = [rel for rel, _ in s["least_sharp"]]
    assert len(least) == summary.WORST and least[0] == "white.png"                 # flat: sharpness 0
    assert least[1:6] == ["img20.png", "img15.png", "img10.png", "img5.png", "img0.png"]    # blurriest first
    assert [r for r, _, _ in s["most_clipped"]] == ["white.png", "half_black.png"]
    assert s["most_clipped"][0][1:] == [0.0, 100.0] and abs(s["most_clipped"][1][1] - 50) < 1.5
    assert s["smaller_than_buckets"] == 27
    text = summary.report(s)
    assert "the 20 least sharp:" in text and "the 2 most clipped (black % / white %):" in text
    assert f" {s['most_clipped'][1][1]:.2f} /   0.00  half_black.png" in text
    with_quality, without = summary_chart.draw(s), summary_chart.draw(run(str(tmp_path)))
    assert with_quality.shape[0] > without.shape[0] + 300                          # two more panels and a list
    assert s["near_duplicates"] == run(r, duplicates="exact + near")["near_duplicates"]   # hashes from signals
