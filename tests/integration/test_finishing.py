"""Dataset finishing on the real server: Bucket Resize + sidecars in the original project's format,
and Dataset Summary on a sorted dataset and on 10,000 images."""
import io
import json
import os
import shutil
import time
import uuid

import numpy as np
from PIL import Image

from gates.comfy.sort_session import LOG_SUBFOLDER
from gates.core import buckets, quality
from harness.comfy import REPO

SAMPLE = os.path.join(REPO, "example_data", "sample_dataset")
IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


def add(prompt: dict, class_type: str, **inputs) -> str:
    """Add a node to an API-format prompt; links are [node id, output slot]."""
    nid = str(len(prompt) + 1)
    prompt[nid] = {"class_type": class_type, "inputs": inputs}
    return nid


def run(client, prompt, timeout=120):
    mark = client.mark()
    pid = client.queue(prompt)
    end = client.wait_end(pid, timeout=timeout, since=mark)
    if end["type"] != "execution_success":
        return end, client.history(pid)
    return end, client.wait_history(pid)          # /history may lag the success event by a moment


def original_workflow(image_name, prefix, sidecar2=("{}", "_meta", ".json")):
    """LoadImage -> BucketResize -> SaveImageSidecars with two chained Sidecars, using only the
    original project's node ids and inputs (none of ours)."""
    p = {}
    load = add(p, "LoadImage", image=image_name)
    bucket = add(p, "BucketResize", image=[load, 0], resolution=1280, divisible=64, max_upscale=1.5,
                 mask=[load, 1])
    text = add(p, "PrimitiveString", value=sidecar2[0])
    sc1 = add(p, "Sidecar", content=[bucket, 4], name="", extension=".txt")          # the label: "WxH"
    sc2 = add(p, "Sidecar", content=[text, 0], name=sidecar2[1], extension=sidecar2[2], sidecar=[sc1, 0])
    save = add(p, "SaveImageSidecars", images=[bucket, 0], filename_prefix=prefix, output_folder="output",
               sidecar=[sc2, 0])
    return p, {"text": text, "save": save}


def written(comfy, prefix):
    return sorted(f for f in os.listdir(comfy.folder("output")) if f.startswith(prefix))


def test_original_workflow_writes_the_bucketed_image_and_both_sidecars(comfy, client):
    name = f"bk_{uuid.uuid4().hex[:6]}.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (1080, 1920, 3), dtype=np.uint8)).save(
        comfy.folder(f"input/{name}"))
    prefix = "bk" + uuid.uuid4().hex[:8]
    prompt, ids = original_workflow(name, prefix, ('{"route": "keep"}', "_meta", ".json"))
    end, hist = run(client, prompt)
    assert end["type"] == "execution_success", end
    assert written(comfy, prefix) == [f"{prefix}_00001_.png", f"{prefix}_00001_.txt", f"{prefix}_00001__meta.json"]
    out = comfy.folder("output")
    assert Image.open(os.path.join(out, f"{prefix}_00001_.png")).size == (1664, 960)
    assert open(os.path.join(out, f"{prefix}_00001_.txt")).read() == "1664x960"
    assert json.load(open(os.path.join(out, f"{prefix}_00001__meta.json"))) == {"route": "keep"}
    assert hist["outputs"][ids["save"]]["images"] == [{"filename": f"{prefix}_00001_.png", "subfolder": "",
                                                "type": "output"}]
    # the counter goes on, as in the original
    prompt[ids["text"]]["inputs"]["value"] = '{"route": "fix"}'            # a change, so the save runs again
    assert run(client, prompt)[0]["type"] == "execution_success"
    assert f"{prefix}_00002__meta.json" in written(comfy, prefix)


def test_a_duplicate_sidecar_or_an_exe_writes_nothing_and_names_the_problem(comfy, client):
    name = f"bk_{uuid.uuid4().hex[:6]}.png"
    Image.new("RGB", (640, 480), (200, 10, 10)).save(comfy.folder(f"input/{name}"))
    for sidecar2, problem in ((("again", "", ".txt"), "same file '<image>.txt'"),
                              (("#!/bin/sh", "", ".exe"), "'.exe' is not allowed")):
        prefix = "bad" + uuid.uuid4().hex[:8]
        end, _ = run(client, original_workflow(name, prefix, sidecar2)[0])
        assert end["type"] == "execution_error", end
        assert problem in end["data"]["exception_message"]
        assert written(comfy, prefix) == []
    prefix = "esc" + uuid.uuid4().hex[:8]                                   # path traversal in the prefix
    end, _ = run(client, original_workflow(name, f"../{prefix}")[0])
    assert end["type"] == "execution_error" and "leaves the folder" in end["data"]["exception_message"]
    assert not [f for f in os.listdir(comfy.base) if f.startswith(prefix)]


def make_sorted_copy(root):
    """keep/ and reject/ from the sample dataset, with its captions, plus one mask."""
    files = sorted(f for f in os.listdir(SAMPLE) if f.lower().endswith(IMAGE_EXTS))
    for i, f in enumerate(files):
        route = "keep" if i % 3 else "reject"
        os.makedirs(os.path.join(root, route), exist_ok=True)
        shutil.copy(os.path.join(SAMPLE, f), os.path.join(root, route, f))
        cap = os.path.splitext(f)[0] + ".txt"
        if os.path.exists(os.path.join(SAMPLE, cap)):
            shutil.copy(os.path.join(SAMPLE, cap), os.path.join(root, route, cap))
    first_keep = sorted(os.listdir(os.path.join(root, "keep")))[0]
    w, h = Image.open(os.path.join(root, "keep", first_keep)).size
    Image.new("L", (w, h), 255).save(os.path.join(root, "keep", os.path.splitext(first_keep)[0] + ".mask.png"))


def expected_counts(root):
    """Counted here from the files, independently of the node."""
    out = {}
    for route in sorted(os.listdir(root)):
        names = os.listdir(os.path.join(root, route))
        images = [f for f in names if f.lower().endswith(IMAGE_EXTS) and not f.endswith(".mask.png")]
        stems = [os.path.splitext(f)[0] for f in images]
        out[route] = {"images": len(images), "captions": sum(s + ".txt" in names for s in stems),
                      "masks": sum(s + ".mask.png" in names for s in stems)}
    return out


def test_dataset_summary_of_a_sorted_sample_dataset(comfy, client):
    rel = f"sorted_{uuid.uuid4().hex[:6]}"
    root = comfy.folder(f"output/{rel}")
    make_sorted_copy(root)
    want = expected_counts(root)
    assert want["keep"]["masks"] == 1 and want["keep"]["captions"] > 0 and want["reject"]["images"] > 0
    p = {}
    node = add(p, "DatasetSummary", folder=rel, depth=-1, relative_to="output", min_size=512, duplicates="exact")
    end, hist = run(client, p)
    assert end["type"] == "execution_success", end
    out = hist["outputs"][node]
    s = out["dataset_summary"][0]
    assert s["folders"] == want
    assert s["images"] == sum(v["images"] for v in want.values()) == 8
    assert s["captions"] == sum(v["captions"] for v in want.values()) and s["masks"] == 1
    sizes = [Image.open(os.path.join(root, r, f)).size for r in want for f in os.listdir(os.path.join(root, r))
             if f.lower().endswith(IMAGE_EXTS) and not f.endswith(".mask.png")]
    cands = buckets.generate(1280, 64)
    want_buckets = {}
    for w, h in sizes:
        b = "{}x{}".format(*buckets.pick(w, h, cands))
        want_buckets[b] = want_buckets.get(b, 0) + 1
    assert s["buckets"] == want_buckets
    assert sorted(r for r, _, _ in s["small"]) == sorted(
        f"{r}/{f}" for r in want for f in os.listdir(os.path.join(root, r))
        if f.lower().endswith(IMAGE_EXTS) and not f.endswith(".mask.png")
        and min(Image.open(os.path.join(root, r, f)).size) < 512)
    assert sum(s["sharpness_hist"].values()) == 8 and len(s["least_sharp"]) == 8      # quality is on by default
    assert [v for _, v in s["least_sharp"]] == sorted(v for _, v in s["least_sharp"])
    assert os.path.exists(os.path.join(comfy.folder("output"), LOG_SUBFOLDER, quality.cache_name(root)))
    text = out["text"][0]
    assert "the 8 least sharp:" in text
    for route, c in want.items():
        assert any(line.split() == [route, str(c["images"]), str(c["captions"]), str(c["masks"])]
                   for line in text.splitlines())
    img = out["images"][0]
    assert img["type"] == "temp" and os.path.exists(comfy.folder(f"temp/{img['filename']}"))
    status, _ = client.request("GET", f"/view?filename={img['filename']}&type=temp&subfolder=")
    assert status == 200


def test_dataset_summary_reads_ten_thousand_headers_within_five_seconds(comfy, client, tmp_path):
    root = tmp_path / "big"
    root.mkdir()
    rng = np.random.default_rng(0)
    blobs = []
    for k in range(50):                                          # 50 distinct small images, each 200 times
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (24 + k, 32 + k, 3), dtype=np.uint8)).save(buf, "PNG")
        blobs.append(buf.getvalue())
    for i in range(10000):
        with open(root / f"img_{i:05d}.png", "wb") as f:
            f.write(blobs[i % 50])
    times = {}
    for dup in ("off", "exact"):
        p = {}
        node = add(p, "DatasetSummary", folder=str(root), depth=0, relative_to="output", min_size=16,
                   duplicates=dup, quality="off")
        t = time.perf_counter()
        end, hist = run(client, p)
        times[dup] = time.perf_counter() - t
        assert end["type"] == "execution_success", end
        s = hist["outputs"][node]["dataset_summary"][0]
        assert s["images"] == 10000 and sum(s["buckets"].values()) == 10000
    assert len(s["exact_duplicates"]) == 50 and all(len(g) == 200 for g in s["exact_duplicates"])
    print(f"\nDataset Summary of 10,000 images: {times['off']:.2f} s headers only, "
          f"{times['exact']:.2f} s with exact duplicates (queue to execution_success)")
    assert times["off"] <= 5.0
