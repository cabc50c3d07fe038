"""The pack's main job on the real server: the API-format example workflow sorts the sample dataset."""
import io
import json
import os
import shutil
import uuid

import numpy as np
from PIL import Image

from harness.comfy import REPO

SAMPLE = os.path.join(REPO, "example_data", "sample_dataset")
API = os.path.join(REPO, "tests", "data", "sort_dataset.api.json")
ROUTES = ["keep", "reject", "fix"]


def snapshot(folder):
    return {f: os.path.getmtime(os.path.join(folder, f)) for f in sorted(os.listdir(folder))}


def test_example_workflow_sorts_the_whole_sample_dataset(comfy, client):
    uid = uuid.uuid4().hex[:6]
    src = comfy.folder(f"input/sample_{uid}")
    shutil.copytree(SAMPLE, src)
    before = snapshot(src)
    prompt = json.load(open(API))
    prompt["1"]["inputs"]["folder"] = f"sample_{uid}"
    prompt["1"]["inputs"]["mode"] = "index"        # one image per Run here; sort mode: test_folder_sort.py
    out_root = f"sorted_{uid}"
    for nid, route in zip(("3", "4", "5"), ROUTES):
        prompt[nid]["inputs"]["folder"] = f"{out_root}/{route}"
    stems = sorted({os.path.splitext(f)[0] for f in os.listdir(SAMPLE) if not f.endswith(".txt")},
                   key=lambda s: [int(t) if t.isdigit() else t for t in __import__("re").split(r"(\d+)", s)])
    expected = {}
    for i, stem in enumerate(stems):
        prompt["1"]["inputs"]["index"] = i
        mark = client.mark()
        pid = client.queue(prompt)
        show = client.wait_gate(since=mark)
        route = i % 3 + 1
        painted = route == 3 and i % 2 == 0
        if painted:                                    # paint the top half of this one
            m = Image.new("L", (show["width"], show["height"]), 0)
            m.paste(255, (0, 0, show["width"], show["height"] // 2))
            buf = io.BytesIO()
            m.save(buf, "PNG")
            assert client.post_mask(show, buf.getvalue())[0] == 200
        assert client.choose(show, route)[0] == 200
        assert client.wait_end(pid, since=mark)["type"] == "execution_success"
        expected[stem] = (ROUTES[route - 1], painted)
    # the run after the last image ends with the loader's clear end-of-folder error
    prompt["1"]["inputs"]["index"] = len(stems)
    mark = client.mark()
    pid = client.queue(prompt)
    end = client.wait_end(pid, since=mark)
    assert end["type"] == "execution_error"
    assert "past the end" in end["data"]["exception_message"] and f"sample_{uid}" in end["data"]["exception_message"]

    out = comfy.folder(f"output/{out_root}")
    got = {r: sorted(os.listdir(os.path.join(out, r))) for r in ROUTES if os.path.isdir(os.path.join(out, r))}
    want = {r: [] for r in ROUTES}
    source = {os.path.splitext(f)[0]: f for f in os.listdir(SAMPLE) if not f.endswith(".txt")}
    for stem, (route, painted) in expected.items():
        want[route].append(source[stem])                       # format original: the file itself
        if os.path.exists(os.path.join(SAMPLE, stem + ".txt")):
            want[route].append(f"{stem}.txt")
        if painted:
            want[route].append(f"{stem}.mask.png")
    assert got == {r: sorted(v) for r, v in want.items()}     # nothing else written
    for stem, (route, painted) in expected.items():
        cap = os.path.join(SAMPLE, stem + ".txt")
        if os.path.exists(cap):
            assert open(os.path.join(out, route, stem + ".txt")).read() == open(cap).read().strip()
        if painted:
            m = np.asarray(Image.open(os.path.join(out, route, stem + ".mask.png")))
            assert m[: m.shape[0] // 2 - 2].min() == 255 and m[m.shape[0] // 2 + 2:].max() == 0
        with open(os.path.join(out, route, source[stem]), "rb") as a, \
                open(os.path.join(SAMPLE, source[stem]), "rb") as b:
            assert a.read() == b.read()                         # byte for byte
    assert snapshot(src) == before                              # the source folder is untouched
