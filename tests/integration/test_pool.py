"""Image Pool (Grid) on the real server: its routes, its outputs for index -1 / 2 / 99, a pool laid out
as the original project writes it, re-runs on a changed mask, and refusals (bad ids and paths get 4xx)."""
import io
import json
import os
import uuid

import numpy as np
import pytest
from PIL import Image

from harness.comfy import multipart
from harness.graphs import Graph, png_bytes

P = "/datasete_gate/pool"


def colour_png(rgb, size=(40, 30), fmt="PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, rgb).save(buf, fmt)
    return buf.getvalue()


def add(client, pool_id, data, name="x.png", **fields):
    body, ctype = multipart({"pool_id": pool_id, **fields}, {"image": (name, data)})
    return client.post(f"{P}/add", raw=body, headers={"Content-Type": ctype})


def pool_graph(pool_id, index, tag):
    g = Graph()
    pool = g.node("GridImagePool", index=index, pool_id=pool_id)
    g.node("SaveImage", node_id=f"{tag}_img", images=pool.out(0), filename_prefix=f"{tag}_img")
    m = g.node("MaskToImage", mask=pool.out(1))
    g.node("SaveImage", node_id=f"{tag}_mask", images=m.out(0), filename_prefix=f"{tag}_mask")
    for i, what in ((2, "index"), (3, "count"), (4, "label")):
        g.node("PreviewAny", node_id=f"{tag}_{what}", source=pool.out(i))
    return g


def run_pool(comfy, client, pool_id, index):
    tag = "p" + uuid.uuid4().hex[:8]
    mark = client.mark()
    pid = client.queue(pool_graph(pool_id, index, tag).prompt())
    end = client.wait_end(pid, timeout=120, since=mark)
    assert end["type"] == "execution_success", (end, comfy.log_tail())
    out = client.wait_history(pid)["outputs"]
    img = np.asarray(Image.open(comfy.folder(f"output/{out[f'{tag}_img']['images'][0]['filename']}")))
    mask = np.asarray(Image.open(comfy.folder(f"output/{out[f'{tag}_mask']['images'][0]['filename']}")).convert("L"))
    text = {w: out[f"{tag}_{w}"]["text"][0] for w in ("index", "count", "label")}
    return img, mask, int(text["index"]), int(text["count"]), text["label"], out


COLOURS = [(250, 0, 0), (0, 250, 0), (0, 0, 250), (250, 250, 0)]


def test_routes_and_outputs_for_index_minus_one_two_and_99(comfy, client):
    pid = "t-" + uuid.uuid4().hex
    assert client.get(f"{P}/list?pool_id={pid}") == (200, {"active": 0, "slots": [], "next_seq": 1})
    for i, c in enumerate(COLOURS):                  # a JPEG too: stored as PNG
        st, m = add(client, pid, colour_png(c, fmt="JPEG" if i == 3 else "PNG"), ts=str(1000 + i))
        assert st == 200, m
    assert [s["image"] for s in m["slots"]] == [f"img_{i:04d}.png" for i in range(1, 5)]
    assert m["slots"][0] == {"image": "img_0001.png", "mask": None, "label": "", "added": 1000}
    folder = comfy.folder(f"input/grid_pool/{pid}")
    assert Image.open(os.path.join(folder, "img_0004.png")).format == "PNG"
    assert json.load(open(os.path.join(folder, "manifest.json"))) == m

    assert client.post(f"{P}/active", {"pool_id": pid, "index": 1})[1]["active"] == 1
    assert client.post(f"{P}/label", {"pool_id": pid, "index": 1, "label": "green one"})[1]["slots"][1]["label"] \
        == "green one"
    mask = np.zeros((30, 40), np.uint8)
    mask[:, :20] = 255
    body, ctype = multipart({"pool_id": pid, "index": "1"}, {"mask": ("m.png", png_bytes(Image.fromarray(mask)))})
    st, m = client.post(f"{P}/set_mask", raw=body, headers={"Content-Type": ctype})
    assert st == 200 and m["slots"][1]["mask"] == "img_0002.mask.png", m
    assert np.array_equal(np.asarray(Image.open(os.path.join(folder, "img_0002.mask.png"))), mask)

    img, out_mask, index, count, label, _ = run_pool(comfy, client, pid, -1)          # the clicked slot
    assert (index, count, label) == (1, 4, "green one")
    assert tuple(img[5, 5]) == COLOURS[1] and np.array_equal(out_mask, mask)
    img, out_mask, index, count, label, _ = run_pool(comfy, client, pid, 2)           # that slot
    assert (index, count, label) == (2, 4, "") and tuple(img[5, 5]) == COLOURS[2] and not out_mask.any()
    img, _, index, count, _, _ = run_pool(comfy, client, pid, 99)                    # clamped
    assert (index, count) == (3, 4) and np.abs(img[5, 5].astype(int) - COLOURS[3]).max() < 8

    # a changed mask re-runs downstream (IS_CHANGED on the files), the same prompt again
    st, m = client.post(f"{P}/set_mask", {"pool_id": pid, "index": 1, "clear": True})
    assert st == 200 and m["slots"][1]["mask"] is None and not os.path.exists(os.path.join(folder, "img_0002.mask.png"))
    _, out_mask, index, *_ = run_pool(comfy, client, pid, -1)
    assert index == 1 and not out_mask.any()

    st, m = client.post(f"{P}/remove", {"pool_id": pid, "index": 0})
    assert st == 200 and [s["image"] for s in m["slots"]] == ["img_0002.png", "img_0003.png", "img_0004.png"]
    assert m["active"] == 0 and not os.path.exists(os.path.join(folder, "img_0001.png"))   # active followed its slot
    st, m = add(client, pid, colour_png((9, 9, 9)))
    assert m["slots"][-1]["image"] == "img_0005.png"                                      # names never reused


def test_an_empty_pool_outputs_the_originals_1x1_fallback(comfy, client):
    img, mask, index, count, label, _ = run_pool(comfy, client, "t-" + uuid.uuid4().hex, -1)
    assert img.shape[:2] == (1, 1) and not img.any() and mask.shape == (1, 1) and (index, count, label) == (0, 0, "")


def test_a_pool_written_as_the_original_writes_it_loads(comfy, client):
    """The original's layout, written here by hand: a UUID folder with dashes, manifest with indent 2."""
    pid = str(uuid.uuid4())
    folder = comfy.folder(f"input/grid_pool/{pid}")
    os.makedirs(folder)
    for i, c in enumerate(COLOURS[:3], 1):
        with open(os.path.join(folder, f"img_{i:04d}.png"), "wb") as f:
            f.write(colour_png(c, (64, 48)))
    mask = np.zeros((48, 64), np.uint8)
    mask[10:20, 10:30] = 255
    Image.fromarray(np.stack([mask] * 3 + [np.full_like(mask, 255)], -1), "RGBA").save(
        os.path.join(folder, "img_0003.mask.png"))                     # the original's page uploads RGBA
    manifest = {"active": 2, "slots": [
        {"image": "img_0001.png", "mask": None, "label": "", "added": 1718960000000},
        {"image": "img_0002.png", "mask": None, "label": "two", "added": 1718960000001},
        {"image": "img_0003.png", "mask": "img_0003.mask.png", "label": "three", "added": 1718960000002}],
        "next_seq": 4}
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    assert client.get(f"{P}/list?pool_id={pid}") == (200, manifest)
    img, out_mask, index, count, label, _ = run_pool(comfy, client, pid, -1)
    assert (index, count, label) == (2, 3, "three") and tuple(img[0, 0]) == COLOURS[2]
    assert np.array_equal(out_mask, mask)
    # a corrupt manifest is rebuilt from the files, as the original does
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        f.write("{not json")
    st, m = client.get(f"{P}/list?pool_id={pid}")
    assert [s["image"] for s in m["slots"]] == ["img_0001.png", "img_0002.png", "img_0003.png"]
    assert m["slots"][2]["mask"] == "img_0003.mask.png" and m["next_seq"] == 4
    # and what we write the original reads: the same keys, plain names
    st, m = add(client, pid, colour_png((1, 2, 3)))
    on_disk = json.load(open(os.path.join(folder, "manifest.json")))
    assert set(on_disk) == {"active", "slots", "next_seq"}
    assert all(set(s) == {"image", "mask", "label", "added"} for s in on_disk["slots"])


BAD_IDS = ["..", "../x", "a/../../b", "/etc", "/tmp/x", "a/b", "a\\b", "", "x\x00y"]


@pytest.mark.parametrize("route", ["add", "active", "label", "set_mask", "remove", "list"])
def test_bad_ids_and_paths_get_4xx_and_change_nothing(comfy, client, route):
    before = sorted(os.listdir(comfy.base))
    for bad in BAD_IDS:
        if route == "list":
            from urllib.parse import quote
            st, body = client.get(f"{P}/list?pool_id={quote(bad)}")
        elif route == "add":
            st, body = add(client, bad, colour_png((1, 1, 1)))
        elif route == "set_mask":
            st, body = client.post(f"{P}/set_mask", {"pool_id": bad, "index": 0, "clear": True})
        else:
            st, body = client.post(f"{P}/{route}", {"pool_id": bad, "index": 0, "label": "x"})
        assert 400 <= st < 500 and "error" in body, (route, bad, st, body)
    assert sorted(os.listdir(comfy.base)) == before
    assert not os.path.exists(os.path.join(comfy.base, "x")) and not os.path.exists("/tmp/x/manifest.json")


def test_refusals_of_bad_input(comfy, client):
    pid = "t-" + uuid.uuid4().hex
    assert add(client, pid, b"not an image")[0] == 400
    assert add(client, pid, colour_png((5, 5, 5)))[0] == 200
    for body in ({"pool_id": pid, "index": 5}, {"pool_id": pid, "index": -1}, {"pool_id": pid, "index": True},
                 {"pool_id": pid, "index": "x"}, {"pool_id": pid}):
        assert client.post(f"{P}/active", body)[0] == 400, body
    assert client.post(f"{P}/label", {"pool_id": pid, "index": 0, "label": 5})[0] == 400
    assert client.post(f"{P}/label", {"pool_id": pid, "index": 0, "label": "x" * 2000})[0] == 400
    assert client.post(f"{P}/active", raw=b"{nope", headers={"Content-Type": "application/json"})[0] == 400
    for ref in ({"filename": "../../etc/passwd", "type": "input"}, {"filename": "/etc/passwd", "type": "input"}):
        assert client.post(f"{P}/set_mask", {"pool_id": pid, "index": 0, "ref": ref})[0] == 403, ref
    # a manifest naming a file outside the pool folder is not followed
    folder = comfy.folder(f"input/grid_pool/{pid}")
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump({"active": 0, "slots": [{"image": "../../../secret.png", "mask": None, "label": ""}]}, f)
    st, m = client.get(f"{P}/list?pool_id={pid}")
    assert st == 200 and [s["image"] for s in m["slots"]] == ["img_0001.png"]     # rebuilt from the files
    assert client.get(f"{P}/list?pool_id={pid}")[0] == 200
    mark = client.mark()
    st, body = client.post("/prompt", {"prompt": pool_graph("../evil", 0, "bad").prompt(),
                                       "client_id": client.client_id})
    if st == 200:
        end = client.wait_end(body["prompt_id"], since=mark)
        assert end["type"] == "execution_error" and "not a plain folder name" in end["data"]["exception_message"]
