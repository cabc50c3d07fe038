"""The Folder Image Loader's order: a sort with ``order: sharpness`` visits a planted blurred image first,
its prepared previews carry the quality signals, and index mode counts in the same order."""
import os
import uuid

import numpy as np
from PIL import Image, ImageFilter

from gates.core import names
from harness.graphs import Graph, SortGraph


def make(comfy) -> str:
    name = f"order_{uuid.uuid4().hex[:6]}"
    folder = comfy.folder(f"input/{name}")
    os.makedirs(folder)
    rng = np.random.default_rng(7)
    for i in range(1, 5):
        im = Image.fromarray((rng.random((48, 64, 3)) * 255).astype(np.uint8)).resize((96, 72), Image.BICUBIC)
        im.save(os.path.join(folder, f"img{i}.png"))
        if i == 3:
            im.filter(ImageFilter.GaussianBlur(4)).save(os.path.join(folder, "img3_soft.png"))
    return name


def test_order_sharpness_visits_the_blurred_image_first_and_previews_carry_signals(comfy, client):
    folder = make(comfy)
    g = SortGraph(folder, f"order_out_{uuid.uuid4().hex[:6]}")
    g.loader.set(order="sharpness")
    mark = client.mark()
    client.queue(g.prompt())
    show = client.wait_gate(since=mark, timeout=60)
    assert show["sort"]["file"] == "img3_soft.png" and show["sort"]["count"] == 5
    ahead = client.wait_for(lambda e: e.get("type") == names.EVENT_SORT and e["data"]["state"] == "ahead"
                            and len(e["data"]["ahead"]) >= 2, since=mark, timeout=30)["data"]["ahead"]
    assert ahead[0]["file"] == "img3_soft.png"
    first, second = ahead[0]["signals"], ahead[1]["signals"]
    assert first["sharpness"] < second["sharpness"] and (first["width"], first["height"]) == (96, 72)
    assert first["small"] is True and 0 <= first["white"] <= 1
    mark = client.mark()
    client.choose(show, names.CANCEL)
    client.wait_for(lambda e: e.get("type") == "execution_interrupted", since=mark, timeout=30)

    out = f"order_idx_{uuid.uuid4().hex[:6]}"             # index mode: index 0 of the same order
    gi = Graph()
    load = gi.node("FolderImageLoader", folder=folder, index=0, depth=0, order="sharpness")
    gi.node("SaveImageToFolder", image=load.out(0), folder=out, filename=load.out(3), format="png",
            on_conflict="overwrite")
    mark = client.mark()
    pid = client.queue(gi.prompt())
    end = client.wait_end(pid, since=mark)
    assert end["type"] == "execution_success", end
    assert sorted(os.listdir(comfy.folder(f"output/{out}"))) == ["img3_soft.png"]
    client.reset()
