"""Save Image To Folder, format 'original', on the real server: sorted files are their sources byte for byte.

The example sort workflow's API form (tests/data/sort_dataset.api.json) with its
three savers set to 'original' sorts a folder of a JPEG with EXIF and an ICC
profile, a 16-bit grayscale PNG, an RGBA PNG and a WebP: every sorted file has
its source's sha256 and extension. With a Bucket Resize before the savers the
pixels change, and each file is its source's format written losslessly (16-bit
gray stays 16-bit gray); an image from core Load Image is written as PNG. The
node says which in its ui text (the ``executed`` event).
"""
import hashlib
import json
import os
import shutil
import struct
import time
import uuid

import numpy as np
import pytest
from PIL import Image, ImageCms

from gates.core import names
from harness.comfy import REPO
from harness.graphs import Graph

API = os.path.join(REPO, "tests", "data", "sort_dataset.api.json")
SAVERS = {"3": "keep", "4": "reject", "5": "fix"}          # saver node -> its route's folder
FILES = ["a_photo.jpg", "b_gray16.png", "c_alpha.png", "d_leaf.webp"]   # natural order
ROUTES = [1, 2, 3, 1]                                      # route taken per file, in order
ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def make_sources(folder):
    """The four test files (and a caption) in ``folder``."""
    os.makedirs(folder)
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:120, 0:160]
    photo = np.stack([x * 1.5, y * 2.0, (x + y) * 0.9], axis=-1) + rng.normal(0, 12, (120, 160, 3))
    exif = Image.Exif()
    exif[0x010F] = "Dataset Gates test camera"            # Make
    exif[0x0112] = 6                                       # Orientation: rotated; the loader turns it upright
    Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8)).save(
        os.path.join(folder, FILES[0]), quality=88, exif=exif.tobytes(), icc_profile=ICC)
    gray16 = (x * 300 + y * 150 + rng.integers(0, 97, (120, 160))).astype(np.uint16)   # uses all 16 bits
    Image.fromarray(gray16).save(os.path.join(folder, FILES[1]))
    rgba = np.dstack([photo[..., ::-1].clip(0, 255), (x * 1.59).clip(0, 255)]).astype(np.uint8)
    Image.fromarray(rgba, "RGBA").save(os.path.join(folder, FILES[2]))
    Image.fromarray(np.clip(photo[::-1], 0, 255).astype(np.uint8)).save(os.path.join(folder, FILES[3]), quality=80)
    with open(os.path.join(folder, "a_photo.txt"), "w") as f:
        f.write("a photo with EXIF and an ICC profile")


def new_dataset(comfy):
    uid = uuid.uuid4().hex[:6]
    make_sources(comfy.folder(f"input/orig_{uid}"))
    return f"orig_{uid}", f"orig_sorted_{uid}"


def sort_prompt(folder, out, mode, bucket=False):
    """The example sort workflow, its savers on format 'original' (and a Bucket Resize before each)."""
    prompt = json.load(open(API))
    prompt["1"]["inputs"].update(folder=folder, mode=mode)
    for saver, label in SAVERS.items():
        inputs = prompt[saver]["inputs"]
        inputs.update(folder=f"{out}/{label}", format="original", on_conflict="overwrite")
        if bucket:
            prompt[f"br{saver}"] = {"class_type": "BucketResize", "inputs": {
                "image": inputs["image"], "resolution": 96, "divisible": 16, "max_upscale": 1.5}}
            inputs["image"] = [f"br{saver}", 0]
    return prompt


def run_sort(client, prompt, mode, routes):
    """Answer one gate per file (one Run in sort mode, one Run per index in index mode); return the
    saver's ui texts, in order."""
    first = client.mark()
    if mode == "sort":
        mark = first
        client.queue(prompt)
        for route in routes:
            show = client.wait_gate(since=mark, timeout=90)
            mark = client.mark()
            assert client.choose(show, route)[0] == 200
        client.wait_for(lambda e: e.get("type") == names.EVENT_SORT and e["data"]["state"] == "done",
                        since=mark, timeout=90)
    else:
        for i, route in enumerate(routes):
            prompt["1"]["inputs"]["index"] = i
            mark = client.mark()
            pid = client.queue(prompt)
            assert client.choose(client.wait_gate(since=mark, timeout=90), route)[0] == 200
            assert client.wait_end(pid, since=mark, timeout=90)["type"] == "execution_success"
    time.sleep(0.3)
    with client._cond:
        events = list(client.events[first:])
    return [t for e in events if e.get("type") == "executed" and str(e["data"].get("node")) in SAVERS
            for t in ((e["data"].get("output") or {}).get("text") or [])]


def png_header(path):
    """(bit depth, colour type) from a PNG's IHDR."""
    with open(path, "rb") as f:
        head = f.read(29)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">BB", head[24:26])


@pytest.mark.parametrize("mode", ["sort", "index"])
def test_sorted_files_are_their_sources_byte_for_byte(comfy, client, mode):
    folder, out = new_dataset(comfy)
    src = comfy.folder(f"input/{folder}")
    texts = run_sort(client, sort_prompt(folder, out, mode), mode, ROUTES)

    want = {label: [] for label in SAVERS.values()}
    for name, route in zip(FILES, ROUTES):
        want[list(SAVERS.values())[route - 1]].append(name)
    want["keep"].append("a_photo.txt")                         # the caption beside it, as with any format
    got = {label: sorted(os.listdir(comfy.folder(f"output/{out}/{label}"))) for label in SAVERS.values()}
    assert got == {k: sorted(v) for k, v in want.items()}      # the sources' extensions; nothing else
    for name, route in zip(FILES, ROUTES):
        copy = comfy.folder(f"output/{out}/{list(SAVERS.values())[route - 1]}/{name}")
        assert sha(copy) == sha(os.path.join(src, name)), name
    photo = comfy.folder(f"output/{out}/keep/a_photo.jpg")
    with Image.open(photo) as im:                              # said by the sha256 already; spelled out
        assert im.info.get("icc_profile") == ICC and im.getexif()[0x010F] == "Dataset Gates test camera"
    assert open(comfy.folder(f"output/{out}/keep/a_photo.txt")).read() == "a photo with EXIF and an ICC profile"
    assert len(texts) == len(FILES), texts
    for name, text in zip(FILES, texts):
        assert text == f"{name}: byte-for-byte copy of {name} (unchanged since it was loaded)"


def test_after_a_bucket_resize_each_file_is_its_source_format_written_losslessly(comfy, client):
    folder, out = new_dataset(comfy)
    src = comfy.folder(f"input/{folder}")
    texts = run_sort(client, sort_prompt(folder, out, "sort", bucket=True), "sort", [1, 1, 1, 1])
    keep = comfy.folder(f"output/{out}/keep")
    assert sorted(os.listdir(keep)) == ["a_photo.png", "a_photo.txt", "b_gray16.png", "c_alpha.png", "d_leaf.webp"]
    said = dict(zip(["a_photo.png", "b_gray16.png", "c_alpha.png", "d_leaf.webp"], texts))
    assert len(texts) == 4, texts
    changed = "{}: pixels changed on the way (a new image made from the loader's); source {}, so written as "

    # 16-bit grayscale PNG in, 16-bit grayscale PNG out: mode I;16, IHDR depth 16, colour type 0 (gray)
    assert png_header(os.path.join(keep, "b_gray16.png")) == (16, 0)
    with Image.open(os.path.join(keep, "b_gray16.png")) as im:
        assert im.mode == "I;16" and im.size[0] % 16 == 0 and im.size != Image.open(os.path.join(src, FILES[1])).size
        values = np.asarray(im).astype(np.int64)
    assert (values % 257 != 0).any()                           # real 16-bit values, not 8-bit ones widened
    assert said["b_gray16.png"] == changed.format("b_gray16.png", "b_gray16.png") + "16-bit grayscale PNG"

    # JPEG -> PNG (RGB, 8-bit), upright (the EXIF orientation was applied by the loader)
    assert png_header(os.path.join(keep, "a_photo.png")) == (8, 2)
    with Image.open(os.path.join(keep, "a_photo.png")) as im:
        assert im.mode == "RGB" and im.height > im.width       # 160x120 stored, rotated by EXIF
    assert said["a_photo.png"] == changed.format("a_photo.png", "a_photo.jpg") + "8-bit RGB PNG"

    # RGBA PNG -> RGB PNG: an IMAGE has no alpha, and the node says so
    assert png_header(os.path.join(keep, "c_alpha.png")) == (8, 2)
    assert said["c_alpha.png"].startswith(changed.format("c_alpha.png", "c_alpha.png")
                                          + "8-bit RGB PNG; alpha not kept")

    # WebP -> lossless WebP (the VP8L bitstream)
    data = open(os.path.join(keep, "d_leaf.webp"), "rb").read()
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP" and b"VP8L" in data[12:40]
    assert said["d_leaf.webp"] == changed.format("d_leaf.webp", "d_leaf.webp") + "lossless WebP"


def test_an_image_from_core_load_image_is_written_as_png_and_the_node_says_so(comfy, client):
    folder, out = new_dataset(comfy)
    name = f"core_{uuid.uuid4().hex[:6]}.jpg"
    shutil.copyfile(comfy.folder(f"input/{folder}/{FILES[0]}"), comfy.folder(f"input/{name}"))
    g = Graph()
    loader = g.node("FolderImageLoader", folder=folder, index=0, depth=0, mode="index")
    core = g.node("LoadImage", image=name)
    # the filename (a_photo) is the Folder Image Loader's, which runs too; the image is not its
    saver = g.node("SaveImageToFolder", image=core.out(0), folder=out, filename=loader.out(3), format="original",
                   on_conflict="overwrite")
    mark = client.mark()
    pid = client.queue(g.prompt())
    assert client.wait_end(pid, since=mark, timeout=90)["type"] == "execution_success"
    done = client.wait_event("executed", prompt_id=pid, since=mark, node=saver.id)
    assert done["data"]["output"]["text"] == ["a_photo.png: not from the Folder Image Loader, so written as "
                                              "8-bit RGB PNG"]
    assert os.listdir(comfy.folder(f"output/{out}")) == ["a_photo.png"]
    with Image.open(comfy.folder(f"output/{out}/a_photo.png")) as im:
        assert im.format == "PNG" and im.mode == "RGB"
    assert "not from the Folder Image Loader" in comfy.log_text()             # and one line in the log
