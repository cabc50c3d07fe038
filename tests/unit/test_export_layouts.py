"""Dataset Export's pure part: layouts, captions, masks, conflicts, dry run, manifest, bad input."""
import hashlib
import json
import os

import numpy as np
import pytest
from PIL import Image

from gates.core import export_layouts as ex


def img(path, w=24, h=16, seed=0, fmt=None, **kw):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    arr = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    Image.fromarray(arr).save(path, fmt, **kw)
    return arr


@pytest.fixture
def src(tmp_path):
    """keep/: a, b (png), c (jpg) captioned; d.png without caption; a has a mask (left half painted)."""
    s = tmp_path / "keep"
    for i, n in enumerate(("a.png", "b.png", "c.jpg")):
        img(str(s / n), seed=i)
        (s / (os.path.splitext(n)[0] + ".txt")).write_text(f"  caption of {n}\n")
    img(str(s / "d.png"), seed=9)
    m = np.zeros((16, 24), np.uint8)
    m[:, :12] = 255
    Image.fromarray(m).save(s / "a.mask.png")
    return str(s)


def tree(root):
    out = []
    for d, _, fs in os.walk(root):
        out += [os.path.relpath(os.path.join(d, f), root) for f in fs]
    return sorted(out)


def sha(p):
    return hashlib.sha256(open(p, "rb").read()).hexdigest()


def test_kohya_layout_copies_bytes_and_writes_captions(src, tmp_path):
    t = str(tmp_path / "out")
    s, text = ex.export(src, t, ex.Options(layout="kohya", name="cat", repeats=3), dry_run=False)
    assert tree(t) == ["3_cat/a.png", "3_cat/a.txt", "3_cat/b.png", "3_cat/b.txt", "3_cat/c.jpg", "3_cat/c.txt",
                       "3_cat/d.png", "3_cat/d.txt", "manifest.jsonl"]
    for n in ("a.png", "b.png", "c.jpg", "d.png"):
        assert open(f"{t}/3_cat/{n}", "rb").read() == open(f"{src}/{n}", "rb").read()
    assert open(f"{t}/3_cat/a.txt").read() == "caption of a.png"
    assert open(f"{t}/3_cat/d.txt").read() == ""                                # uncaptioned: include
    assert s["folder"] == os.path.join(t, "3_cat") and s["write"]["image"] == 4
    assert "a.png: its mask is not exported" in text


def test_caption_ext_and_uncaptioned_skip_and_error(src, tmp_path):
    t = str(tmp_path / "out")
    s, text = ex.export(src, t, ex.Options(name="x", repeats=1, caption_ext=".caption", uncaptioned="skip"), False)
    assert "1_x/a.caption" in tree(t) and "1_x/d.png" not in tree(t)
    assert s["skipped"] == [[os.path.join(src, "d.png"), "no caption (uncaptioned: skip)"]]
    assert "d.png: no caption (uncaptioned: skip)" in text
    t2 = str(tmp_path / "out2")
    with pytest.raises(ValueError, match=r"1 image\(s\) have no caption .*d\.png"):
        ex.export(src, t2, ex.Options(uncaptioned="error"), False)
    assert not os.path.exists(t2)


def test_dry_run_writes_nothing_and_says_what_it_would_do(src, tmp_path):
    t = str(tmp_path / "out")
    s, text = ex.export(src, t, ex.Options(layout="onetrainer"), dry_run=True)
    assert not os.path.exists(t)
    assert "DRY RUN" in text and "would write 4 image(s)" in text and "1 mask(s)" in text
    assert s["write"] == {"image": 4, "caption": 4, "mask": 1}


def test_onetrainer_masklabel_is_the_mask_at_the_image_size(src, tmp_path):
    # a mask of another size is resized to the image
    Image.fromarray(np.full((8, 12), 255, np.uint8)).save(os.path.join(src, "b.mask.png"))
    t = str(tmp_path / "out")
    ex.export(src, t, ex.Options(layout="onetrainer"), False)
    assert {"a-masklabel.png", "b-masklabel.png", "a.txt"} <= set(tree(t))
    m = np.asarray(Image.open(f"{t}/a-masklabel.png"))
    assert m.shape == (16, 24) and (m[:, :12] == 255).all() and (m[:, 12:] == 0).all()
    assert Image.open(f"{t}/b-masklabel.png").size == (24, 16)
    t2 = str(tmp_path / "inv")
    ex.export(src, t2, ex.Options(layout="onetrainer", painted="ignore"), False)
    assert (np.asarray(Image.open(f"{t2}/a-masklabel.png")) == 255 - m).all()


def test_kohya_alpha_puts_the_mask_into_alpha_and_keeps_rgb(src, tmp_path):
    t = str(tmp_path / "out")
    s, _ = ex.export(src, t, ex.Options(name="x", repeats=2, masks="alpha"), False)
    im = Image.open(f"{t}/2_x/a.png")
    assert im.mode == "RGBA"
    arr = np.asarray(im)
    assert (arr[..., :3] == np.asarray(Image.open(f"{src}/a.png").convert("RGB"))).all()
    assert (arr[:, :12, 3] == 255).all() and (arr[:, 12:, 3] == 0).all()
    assert open(f"{t}/2_x/b.png", "rb").read() == open(f"{src}/b.png", "rb").read()   # no mask: bytes
    assert s["reencoded"] == 1


def test_imagefolder_metadata(src, tmp_path):
    t = str(tmp_path / "out")
    ex.export(src, t, ex.Options(layout="imagefolder"), False)
    rows = [json.loads(x) for x in open(f"{t}/metadata.jsonl")]
    assert rows == [{"file_name": "a.png", "text": "caption of a.png"},
                    {"file_name": "b.png", "text": "caption of b.png"},
                    {"file_name": "c.jpg", "text": "caption of c.jpg"}, {"file_name": "d.png", "text": ""}]
    assert not [f for f in tree(t) if f.endswith(".txt")]


def test_manifest_sha256_matches_the_files(src, tmp_path):
    t = str(tmp_path / "out")
    ex.export(src, t, ex.Options(layout="onetrainer"), False)
    rows = [json.loads(x) for x in open(f"{t}/manifest.jsonl")]
    assert len(rows) == 4 + 4 + 1
    for r in rows:
        assert sha(os.path.join(t, r["target"])) == r["sha256"]
    img_row = next(r for r in rows if r["target"] == "c.jpg")
    assert img_row["source"] == os.path.join(src, "c.jpg") and img_row["kind"] == "image"


def test_conflicts_error_skip_overwrite_suffix_and_same_bytes(src, tmp_path):
    t = str(tmp_path / "out")
    opt = ex.Options(layout="onetrainer")
    ex.export(src, t, opt, False)
    s, text = ex.export(src, t, opt, False)                  # again: everything already there
    assert s["write"] == {"image": 0, "caption": 0, "mask": 0} and s["same"]["image"] == 4
    with open(f"{t}/b.txt", "w") as f:
        f.write("edited by hand")
    with pytest.raises(ValueError, match=r"on_conflict is 'error', so nothing was written: b\.txt \(from b\.png\)"):
        ex.export(src, t, opt, False)
    assert open(f"{t}/b.txt").read() == "edited by hand"
    s, text = ex.export(src, t, ex.Options(layout="onetrainer", on_conflict="skip"), False)
    assert open(f"{t}/b.txt").read() == "edited by hand"
    assert "b.png: b.txt exists in the target and differs; left alone (on_conflict: skip)" in text
    s, _ = ex.export(src, t, ex.Options(layout="onetrainer", on_conflict="suffix"), False)
    assert open(f"{t}/b_1.txt").read() == "caption of b.png"
    assert open(f"{t}/b_1.png", "rb").read() == open(f"{src}/b.png", "rb").read()
    assert open(f"{t}/b.txt").read() == "edited by hand"
    ex.export(src, t, ex.Options(layout="onetrainer", on_conflict="overwrite"), False)
    assert open(f"{t}/b.txt").read() == "caption of b.png"


def test_bad_input_names_it(src, tmp_path):
    t = str(tmp_path / "out")
    with pytest.raises(ValueError, match="source folder not found: .*nope"):
        ex.export(f"{src}\n{tmp_path}/nope", t, ex.Options(), True)
    with pytest.raises(ValueError, match="is inside source folder"):
        ex.export(src, os.path.join(src, "export"), ex.Options(), True)
    with pytest.raises(ValueError, match="is inside target folder"):
        ex.export(src, str(tmp_path), ex.Options(), True)
    with pytest.raises(ValueError, match="layout must be one of"):
        ex.export(src, t, ex.Options(layout="diffusers"), True)
    with pytest.raises(ValueError, match="masks 'alpha' is kohya's"):
        ex.export(src, t, ex.Options(layout="onetrainer", masks="alpha"), True)
    with pytest.raises(ValueError, match="repeats must be"):
        ex.export(src, t, ex.Options(repeats=0), True)
    with pytest.raises(ValueError, match="contains a path separator"):
        ex.export(src, t, ex.Options(name="a/b"), True)
    with pytest.raises(ValueError, match="no source folder given"):
        ex.export(" , \n", t, ex.Options(), True)
    img(str(tmp_path / "other" / "a.webp"))
    with pytest.raises(ValueError, match="same name 'a'"):
        ex.export(f"{src}, {tmp_path}/other", t, ex.Options(), True)


def test_several_sources_relative_to_a_base_and_unread_formats_skipped(src, tmp_path):
    img(str(tmp_path / "fix" / "e.tif"), seed=5)
    img(str(tmp_path / "fix" / "f.png"), seed=6)
    s, text = ex.export("keep\nfix", "out", ex.Options(name="x", repeats=1), True, base=str(tmp_path))
    assert s["sources"] == [src, str(tmp_path / "fix")] and s["images"] == 5
    assert "e.tif: kohya does not read .tif files" in text
    s, _ = ex.export("keep, fix", "out", ex.Options(layout="imagefolder"), True, base=str(tmp_path))
    assert s["images"] == 6


def test_parse_sources():
    assert ex.parse_sources("a\n b ,c\n\na") == ["a", "b", "c"]


def test_pure_and_node_modules_import_without_torch_or_comfyui():
    import subprocess
    import sys

    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    code = ("import sys; import gates.core.export_layouts, gates.nodes.dataset_export; "
            "bad = [m for m in ('torch', 'comfy', 'comfy.cli_args', 'folder_paths', 'aiohttp') if m in sys.modules]; "
            "assert not bad, bad")
    r = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_the_node_has_a_tooltip_on_every_input_and_output(src, tmp_path):
    from gates.nodes.dataset_export import DatasetExport

    spec = DatasetExport.INPUT_TYPES()
    for group in spec.values():
        for name, (_, opts) in group.items():
            assert opts.get("tooltip"), name
    assert len(DatasetExport.OUTPUT_TOOLTIPS) == len(DatasetExport.RETURN_TYPES) == len(DatasetExport.RETURN_NAMES)
    req = spec["required"]
    assert req["dry_run"][1]["default"] is True and req["on_conflict"][1]["default"] == "error"
    out = DatasetExport().run(src, str(tmp_path / "t"), dry_run=False)      # outside ComfyUI: absolute folders
    assert out["result"][1] == str(tmp_path / "t" / "10_dataset")
    assert out["ui"]["text"] == [out["result"][0]]


def test_a_link_leading_out_of_the_allowed_folders_is_not_read(src, tmp_path):
    outside = tmp_path / "outside"
    img(str(outside / "secret.png"))
    os.symlink(outside / "secret.png", os.path.join(src, "e.png"))
    allowed = ex.access.Policy([src, str(tmp_path / "out")])
    pl = ex.plan([src], str(tmp_path / "out"), ex.Options(layout="onetrainer"), allowed.allows)
    assert [os.path.basename(it.path) for it, _ in pl.placed] == ["a.png", "b.png", "c.jpg", "d.png"]
    assert pl.skipped == [(os.path.join(src, "e.png"),
                           "it (or its caption or mask) is a link leading outside the allowed folders")]


def test_alpha_of_a_16_bit_gray_png_keeps_its_top_8_bits(tmp_path):
    s = tmp_path / "keep"
    s.mkdir()
    g16 = (np.arange(16 * 24, dtype=np.uint16).reshape(16, 24) * 170).astype(np.uint16)
    Image.fromarray(g16).save(s / "g.png")
    assert Image.open(s / "g.png").mode.startswith("I")
    Image.fromarray(np.full((16, 24), 255, np.uint8)).save(s / "g.mask.png")
    t = str(tmp_path / "out")
    ex.export(str(s), t, ex.Options(name="x", repeats=1, masks="alpha"), False)
    arr = np.asarray(Image.open(f"{t}/1_x/g.png"))
    assert (arr[..., 0] == (g16 >> 8)).all() and (arr[..., 3] == 255).all()
