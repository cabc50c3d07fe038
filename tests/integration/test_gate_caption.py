"""Captions, the sticky mask and the done event of the Image Gate, on the real server."""
import io
import os
import urllib.error
import urllib.request
import uuid

import numpy as np
import pytest
from PIL import Image

from gates.core.names import EVENT_DONE, MAX_ROUTES, ROUTE_MASK
from harness.graphs import Graph, noise_image, png_bytes

CAPTION_SLOT = MAX_ROUTES + 1            # the gate's caption output on the server


@pytest.fixture(scope="module")
def image(comfy):
    return noise_image(comfy.folder("input"), 64, 48, seed=11)


def caption_graph(image, caption="a cat on a mat", routes=2, keep_mask=False, tag=None):
    """LoadImage -> gate (caption from a String node) -> a dataset saver per route, caption from the gate."""
    tag = tag or uuid.uuid4().hex[:8]
    g = Graph()
    load = g.node("LoadImage", node_id=f"{tag}_load", image=image)
    gate_in = {"caption": g.node("PrimitiveString", node_id=f"{tag}_text", value=caption).out(0)} \
        if caption is not None else {}
    gate = g.node("ImageGate", node_id=f"{tag}_gate", image=load.out(0), routes=routes, labels="keep,reject",
                  keep_mask=keep_mask, **gate_in)
    for k in range(1, routes + 1):
        g.node("SaveImageToFolder", node_id=f"{tag}_save{k}", image=gate.out(k), folder=f"cap_{tag}/r{k}",
               filename="img", format="png", on_conflict="overwrite", caption=gate.out(CAPTION_SLOT))
    return g, gate, f"cap_{tag}"


def files_in(comfy, folder):
    root = comfy.folder(f"output/{folder}")
    return {os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs}


def read(comfy, folder, rel):
    with open(comfy.folder(f"output/{folder}/{rel}"), encoding="utf-8") as f:
        return f.read()


@pytest.mark.parametrize("route", [1, 2])
def test_an_edited_caption_goes_out_on_caption_whichever_route(comfy, client, image, route):
    g, gate, out = caption_graph(image)
    pid = client.queue(g.prompt())
    show = client.wait_gate(gate.id)
    assert show["caption"] == "a cat on a mat"
    assert client.answer(show, message=route, caption="a grey cat,\nsitting") == (200, {"ok": True, "taken": route})
    assert client.wait_end(pid)["type"] == "execution_success"
    assert files_in(comfy, out) == {f"r{route}/img.png", f"r{route}/img.txt"}
    assert read(comfy, out, f"r{route}/img.txt") == "a grey cat,\nsitting"
    hist = client.wait_history(pid)
    assert hist["outputs"][gate.id]["caption_changed"] == [True]


def test_an_unedited_caption_passes_unchanged_and_is_recorded_so(comfy, client, image):
    g, gate, out = caption_graph(image, caption="unchanged words")
    pid = client.queue(g.prompt())
    show = client.wait_gate(gate.id)
    assert client.answer(show, message=1)[0] == 200
    assert client.wait_end(pid)["type"] == "execution_success"
    assert read(comfy, out, "r1/img.txt") == "unchanged words"
    assert client.wait_history(pid)["outputs"][gate.id]["caption_changed"] == [False]


def test_without_a_caption_input_the_typed_caption_still_comes_out(comfy, client, image):
    g, gate, out = caption_graph(image, caption=None)
    pid = client.queue(g.prompt())
    show = client.wait_gate(gate.id)
    assert show["caption"] is None                                   # the page shows no box unless wired
    assert client.answer(show, message=2, caption="typed at the gate")[0] == 200
    assert client.wait_end(pid)["type"] == "execution_success"
    assert read(comfy, out, "r2/img.txt") == "typed at the gate"


def test_bad_captions_get_4xx_and_the_pause_still_answers(comfy, client, image):
    g, gate, out = caption_graph(image)
    pid = client.queue(g.prompt())
    show = client.wait_gate(gate.id)
    # not a string; over 64 KB (in UTF-8: 2 bytes per e-acute); a lone surrogate (valid JSON, not text)
    for bad in [5, ["a"], {"t": 1}, True, "x" * (64 * 1024 + 1), "\u00e9" * (32 * 1024 + 1), "a\ud800"]:
        status, data = client.answer(show, message=1, caption=bad)
        assert status == 400, (repr(bad)[:40], status, data)
        assert "caption" in data["error"]
    assert [p["token"] for p in client.pending()] == [show["token"]]      # still waiting
    assert client.answer(show, message=2, caption="fine")[0] == 200
    assert client.wait_end(pid)["type"] == "execution_success"
    assert read(comfy, out, "r2/img.txt") == "fine"


def test_the_done_event_says_which_route_was_taken(comfy, client, image):
    g, gate, _ = caption_graph(image)
    mark = client.mark()
    pid = client.queue(g.prompt())
    show = client.wait_gate(gate.id, since=mark)
    client.answer(show, message=2)
    done = client.wait_for(lambda e: e.get("type") == EVENT_DONE and e["data"]["token"] == show["token"],
                           since=mark)["data"]
    assert (done["outcome"], done["route"], done["label"]) == ("answered", 2, "reject")
    client.wait_end(pid, since=mark)
    # a timeout says where it sent the image
    g, gate, _ = caption_graph(image)
    g.nodes[gate.id].set(timeout_seconds=1, on_timeout="route 1")
    mark = client.mark()
    pid = client.queue(g.prompt())
    show = client.wait_gate(gate.id, since=mark)
    done = client.wait_for(lambda e: e.get("type") == EVENT_DONE and e["data"]["token"] == show["token"],
                           timeout=10, since=mark)["data"]
    assert (done["outcome"], done["route"], done["label"]) == ("timeout", 1, "keep")
    assert client.wait_end(pid, since=mark)["type"] == "execution_success"


# ---- keep_mask: the sticky mask ----

def mask_graph(image, tag, keep_mask=True):
    """LoadImage -> gate -> route 1 saved; the mask output -> MaskToImage -> SaveImage '<tag>_mask'."""
    g = Graph()
    load = g.node("LoadImage", node_id=f"{tag}_l", image=image)
    gate = g.node("ImageGate", node_id=f"{tag}_g", image=load.out(0), routes=2, keep_mask=keep_mask)
    g.node("SaveImage", node_id=f"{tag}_s", images=gate.out(1), filename_prefix=f"{tag}_route1")
    m = g.node("MaskToImage", node_id=f"{tag}_m", mask=gate.out(0))
    g.node("SaveImage", node_id=f"{tag}_ms", images=m.out(0), filename_prefix=f"{tag}_mask")
    return g, gate


def run_once(comfy, client, g, gate, paint=None, clear=False):
    """Queue, wait for the pause, optionally paint or clear, route 1; return (show, the saved mask as an array)."""
    mark = client.mark()
    pid = client.queue(g.prompt())
    show = client.wait_gate(gate.id, since=mark)
    if paint is not None:
        assert client.post_mask(show, png_bytes(paint))[0] == 200
    if clear:
        assert client.post(ROUTE_MASK, {"id": show["id"], "token": show["token"], "clear": True}) == \
            (200, {"ok": True, "cleared": True})
    assert client.choose(show, 1)[0] == 200
    assert client.wait_end(pid, since=mark)["type"] == "execution_success"
    hist = client.wait_history(pid)
    (img,) = [i for n, o in hist["outputs"].items() if n.endswith("_ms") for i in o["images"]]
    return show, np.asarray(Image.open(comfy.folder(os.path.join("output", img["subfolder"], img["filename"]))))


def view(client, ref):
    """(status, bytes) of GET /view for a file ref of the server."""
    q = f"filename={ref['filename']}&subfolder={ref['subfolder']}&type={ref['type']}"
    try:
        with urllib.request.urlopen(client.url + "/view?" + q, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, b""


def left_half(w, h):
    m = Image.new("L", (w, h), 0)
    m.paste(255, (0, 0, w // 2, h))
    return m


def test_keep_mask_reuses_the_last_painted_mask_resized_until_clear(comfy, client):
    small = noise_image(comfy.folder("input"), 64, 48, seed=21)
    big = noise_image(comfy.folder("input"), 128, 96, seed=22)
    tag = "km" + uuid.uuid4().hex[:6]
    g, gate = mask_graph(small, tag)
    show, m1 = run_once(comfy, client, g, gate, paint=left_half(64, 48))
    assert show["keep_mask"] is True and show["mask_retained"] is False and show["overlay"] is None
    assert m1[:, :30].min() > 250 and m1[:, 34:].max() < 5
    # run 2, another image size, nothing painted: the kept mask comes out, resized
    g.nodes[f"{tag}_l"].set(image=big)
    show, m2 = run_once(comfy, client, g, gate)
    assert show["mask_retained"] is True
    assert m2.shape[:2] == (96, 128)
    assert m2[:, :60].min() > 250 and m2[:, 68:].max() < 5
    assert view(client, show["overlay"])[0] == 404          # the overlay went with its pause
    # run 3: Clear mask at the pause -> zeros, and it stays forgotten
    show, m3 = run_once(comfy, client, g, gate, clear=True)
    assert show["mask_retained"] is True and m3.max() == 0
    show, m4 = run_once(comfy, client, g, gate)
    assert show["mask_retained"] is False and m4.max() == 0


def test_the_retained_overlay_is_a_red_picture_of_the_mask_while_the_gate_waits(comfy, client):
    img = noise_image(comfy.folder("input"), 200, 100, seed=23)
    tag = "ov" + uuid.uuid4().hex[:6]
    g, gate = mask_graph(img, tag)
    run_once(comfy, client, g, gate, paint=left_half(200, 100))
    mark = client.mark()
    pid = client.queue(g.prompt())
    show = client.wait_gate(gate.id, since=mark)
    ov = show["overlay"]
    assert (ov["width"], ov["height"], ov["type"]) == (200, 100, "temp")
    status, raw = view(client, ov)
    assert status == 200
    a = np.asarray(Image.open(io.BytesIO(raw)).convert("RGBA"))
    assert a[50, 20, 0] > 200 and a[50, 20, 1] < 60 and 100 < a[50, 20, 3] < 160    # translucent red
    assert a[50, 180, 3] == 0                                                      # clear where unpainted
    client.choose(show, 1)
    assert client.wait_end(pid, since=mark)["type"] == "execution_success"


def test_keep_mask_off_forgets_and_clear_needs_the_token(comfy, client):
    img = noise_image(comfy.folder("input"), 64, 48, seed=24)
    tag = "kf" + uuid.uuid4().hex[:6]
    g, gate = mask_graph(img, tag, keep_mask=False)
    _, m1 = run_once(comfy, client, g, gate, paint=left_half(64, 48))
    assert m1.max() > 250
    show, m2 = run_once(comfy, client, g, gate)
    assert show["keep_mask"] is False and show["mask_retained"] is False and m2.max() == 0
    mark = client.mark()
    pid = client.queue(g.prompt())
    show = client.wait_gate(gate.id, since=mark)
    assert client.post(ROUTE_MASK, {"id": show["id"], "token": "stale", "clear": True})[0] == 409
    assert client.post(ROUTE_MASK, {"id": show["id"], "token": show["token"], "clear": "yes"})[0] == 400
    assert client.choose(show, 1)[0] == 200
    assert client.wait_end(pid, since=mark)["type"] == "execution_success"
