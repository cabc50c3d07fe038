"""Dataset Export on the real server, each layout proven by its own reader: ComfyUI's Load Image-Text
(from Folder) for kohya, Hugging Face datasets' imagefolder, and the mask conventions of OneTrainer and
kohya's alpha_mask read back from the files."""
import hashlib
import json
import os
import uuid

import numpy as np
from PIL import Image

from harness.graphs import Graph


def run(client, prompt, timeout=120):
    mark = client.mark()
    pid = client.queue(prompt)
    end = client.wait_end(pid, timeout=timeout, since=mark)
    if end["type"] != "execution_success":
        return end, client.history(pid)
    return end, client.wait_history(pid)          # /history may lag the success event by a moment


def make_source(root, n=7, uncaptioned=(), masks=()):
    """``n`` small images of mixed formats (PNG, lossless WebP, JPEG) with captions; pixels by stem."""
    os.makedirs(root, exist_ok=True)
    pixels, captions = {}, {}
    for i in range(n):
        stem = f"img{i:02d}"
        arr = np.random.default_rng(i).integers(0, 256, (12 + i, 20, 3), dtype=np.uint8)
        fmt = ("png", "webp", "jpg")[i % 3]
        path = os.path.join(root, f"{stem}.{fmt}")
        if fmt == "webp":
            Image.fromarray(arr).save(path, "WEBP", lossless=True)
        else:
            Image.fromarray(arr).save(path, quality=90) if fmt == "jpg" else Image.fromarray(arr).save(path)
        pixels[stem] = np.asarray(Image.open(path).convert("RGB"))       # what any decoder gives
        if i not in uncaptioned:
            captions[stem] = f"a photo of thing {i}, tag_{i}"
            with open(os.path.join(root, stem + ".txt"), "w", encoding="utf-8") as f:
                f.write(captions[stem] + "\n")
        if i in masks:
            m = np.zeros(arr.shape[:2], np.uint8)
            m[:, : arr.shape[1] // 2] = 255                               # left half painted
            Image.fromarray(m).save(os.path.join(root, stem + ".mask.png"))
    return pixels, captions


def export_prompt(source, target, **options):
    g = Graph()
    inputs = dict(layout="kohya", name="thing", repeats=3, caption_ext=".txt", uncaptioned="include", masks="auto",
                  on_conflict="error", dry_run=False)
    inputs.update(options)
    node = g.node("DatasetExport", source=source, target=target, **inputs)
    return g.prompt(), node.id


def export(client, source, target, **options):
    prompt, nid = export_prompt(source, target, **options)
    end, hist = run(client, prompt)
    return end, (hist or {}).get("outputs", {}).get(nid, {})       # no history yet after an error


def tree(root):
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)


def test_kohya_export_loads_in_comfyuis_own_dataset_loader(comfy, client):
    tag = uuid.uuid4().hex[:6]
    src = comfy.folder(f"output/sorted_{tag}/keep")
    pixels, captions = make_source(src)
    assert len(captions) == 7
    target_rel = f"kohya_{tag}"                                        # under ComfyUI's input folder
    end, out = export(client, f"sorted_{tag}/keep", comfy.folder(f"input/{target_rel}"), repeats=3)
    assert end["type"] == "execution_success", end
    assert out["dataset_export"][0]["folder"] == comfy.folder(f"input/{target_rel}/3_thing")
    g = Graph()
    load = g.node("LoadImageTextDataSetFromFolder", folder=target_rel)
    texts = g.node("PreviewAny", source=load.out(1))
    images = g.node("PreviewImage", images=load.out(0))
    end, hist = run(client, g.prompt())
    assert end["type"] == "execution_success", end
    got_texts = hist["outputs"][texts.id]["text"]
    got_images = hist["outputs"][images.id]["images"]
    assert len(got_images) == len(got_texts) == 21                       # 7 images x 3 repeats
    seen = {}
    for text, ref in zip(got_texts, got_images):
        arr = np.asarray(Image.open(os.path.join(comfy.folder(ref["type"]), ref["subfolder"], ref["filename"])))
        # which source this is: the one whose pixels it has (PreviewImage rounds floats down: within 1)
        match = [s for s, p in pixels.items() if p.shape == arr.shape
                 and np.abs(p.astype(int) - arr.astype(int)).max() <= 1]
        assert len(match) == 1, "the loader's image is not exactly one source's pixels"
        assert text == captions[match[0]]
        seen[match[0]] = seen.get(match[0], 0) + 1
    assert seen == {s: 3 for s in pixels}


def test_imagefolder_export_loads_with_hugging_face_datasets(comfy, client, tmp_path, monkeypatch):
    tag = uuid.uuid4().hex[:6]
    src = comfy.folder(f"output/sorted_{tag}/keep")
    pixels, captions = make_source(src)
    target = str(tmp_path / "hf")
    end, out = export(client, f"sorted_{tag}/keep", target, layout="imagefolder")
    assert end["type"] == "execution_success", end
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf_cache"))
    from datasets import load_dataset  # a test dependency (requirements-test.txt), imported here only

    ds = load_dataset("imagefolder", data_dir=target, split="train", cache_dir=str(tmp_path / "hf_cache"))
    assert ds.num_rows == 7 and set(ds.column_names) == {"image", "text"}
    rows = {}
    for row in ds:
        arr = np.asarray(row["image"].convert("RGB"))
        stem = [s for s, p in pixels.items() if p.shape == arr.shape and (p == arr).all()]
        assert len(stem) == 1
        rows[stem[0]] = row["text"]
    assert rows == captions


def test_mask_conventions_onetrainer_masklabel_and_kohya_alpha(comfy, client, tmp_path):
    tag = uuid.uuid4().hex[:6]
    src = comfy.folder(f"output/sorted_{tag}/keep")
    pixels, _ = make_source(src, n=3, masks=(0, 2))
    ot = str(tmp_path / "onetrainer")
    end, _ = export(client, src, ot, layout="onetrainer")
    assert end["type"] == "execution_success", end
    assert [f for f in tree(ot) if f.endswith("-masklabel.png")] == ["img00-masklabel.png", "img02-masklabel.png"]
    for stem in ("img00", "img02"):
        m = Image.open(os.path.join(ot, stem + "-masklabel.png"))
        h, w = pixels[stem].shape[:2]
        assert m.size == (w, h) and m.mode == "L"
        a = np.asarray(m)
        assert (a[:, : w // 2] == 255).all() and (a[:, w // 2:] == 0).all()   # white = painted = learned
    kohya = str(tmp_path / "kohya")
    end, out = export(client, src, kohya, masks="alpha", repeats=2)
    assert end["type"] == "execution_success", end
    for stem in ("img00", "img02"):                                   # img02 was a JPEG: now a PNG
        im = Image.open(os.path.join(kohya, "2_thing", stem + ".png"))
        assert im.format == "PNG" and im.mode == "RGBA"
        arr = np.asarray(im)
        assert (arr[..., :3] == pixels[stem]).all()
        w = arr.shape[1]
        assert (arr[:, : w // 2, 3] == 255).all() and (arr[:, w // 2:, 3] == 0).all()   # alpha 255 = learned
    assert open(os.path.join(kohya, "2_thing", "img01.webp"), "rb").read() == \
        open(os.path.join(src, "img01.webp"), "rb").read()               # no mask: the bytes
    assert out["dataset_export"][0]["reencoded"] == 2


def test_dry_run_uncaptioned_conflicts_and_manifest(comfy, client, tmp_path):
    tag = uuid.uuid4().hex[:6]
    src = comfy.folder(f"output/sorted_{tag}/keep")
    make_source(src, n=4, uncaptioned=(3,))
    target = str(tmp_path / "ds")
    end, out = export(client, src, target, dry_run=True)
    assert end["type"] == "execution_success", end
    assert not os.path.exists(target)
    assert "DRY RUN" in out["text"][0] and "would write 4 image(s)" in out["text"][0]

    end, _ = export(client, src, target, uncaptioned="error")
    assert end["type"] == "execution_error" and "img03.png" in end["data"]["exception_message"]
    assert "have no caption" in end["data"]["exception_message"] and not os.path.exists(target)

    end, out = export(client, src, target, uncaptioned="skip")
    assert end["type"] == "execution_success", end
    assert "img03.png: no caption (uncaptioned: skip)" in out["text"][0]
    assert tree(target) == ["3_thing/img00.png", "3_thing/img00.txt", "3_thing/img01.txt", "3_thing/img01.webp",
                            "3_thing/img02.jpg", "3_thing/img02.txt", "manifest.jsonl"]
    rows = [json.loads(line) for line in open(os.path.join(target, "manifest.jsonl"))]
    assert len(rows) == 6
    for r in rows:
        data = open(os.path.join(target, r["target"]), "rb").read()
        assert hashlib.sha256(data).hexdigest() == r["sha256"]
        if r["kind"] == "image":
            assert data == open(r["source"], "rb").read()

    mine = os.path.join(target, "3_thing", "img01.txt")
    with open(mine, "w") as f:
        f.write("my own caption")
    end, _ = export(client, src, target, uncaptioned="skip")           # on_conflict error (the default)
    assert end["type"] == "execution_error"
    msg = end["data"]["exception_message"]
    assert "3_thing/img01.txt (from img01.webp)" in msg and "nothing was written" in msg
    end, out = export(client, src, target, uncaptioned="skip", on_conflict="skip")
    assert end["type"] == "execution_success", end
    assert "img01.webp: 3_thing/img01.txt exists in the target and differs; left alone" in out["text"][0]
    assert open(mine).read() == "my own caption"
