"""Bad input never breaks a waiting gate; masks of any size come out right; small show events."""
import os
import time
import uuid

import numpy as np
import pytest
from PIL import Image

from gates.core.names import (
    EVENT_READY,
    EVENT_SHOW,
    ROUTE_CHOICE,
    ROUTE_FULL,
    ROUTE_MASK,
    ROUTE_PENDING,
    ROUTE_PREFIX,
    TEMP_SUBFOLDER,
)
from harness.graphs import gate_graph, noise_image, png_bytes, saved


def post_mask(client, show, data: bytes, token=None):
    return client.post_mask(show, data, token)



@pytest.fixture(scope="module")
def image(comfy):
    return noise_image(comfy.folder("input"), 80, 60)


def test_bad_requests_get_4xx_json_and_the_gate_keeps_waiting(comfy, client, image):
    log_start = len(comfy.log_text())           # the shared server's log may hold other tests' node errors
    prompt, prefix = gate_graph(image, routes=3)
    pid = client.queue(prompt)
    show = client.wait_gate()
    tok, nid = show["token"], show["id"]
    outside = os.path.join(comfy.base, "secret.png")
    Image.new("RGBA", (4, 4)).save(outside)
    os.symlink(outside, comfy.folder("input/link-out.png"))
    bad = [
        ("choice", {"id": "999", "token": tok, "message": 1}, 404),            # unknown node
        ("choice", {"id": nid, "token": "nope", "message": 1}, 409),          # unknown token
        ("choice", {"id": nid, "message": 1}, 400),                          # missing token
        ("choice", {"token": tok, "message": 1}, 400),                       # missing id
        ("choice", {"id": nid, "token": tok}, 400),                          # missing message
        ("choice", {"id": nid, "token": tok, "message": "two"}, 400),        # non-integer route
        ("choice", {"id": nid, "token": tok, "message": 0}, 400),            # route 0
        ("choice", {"id": nid, "token": tok, "message": 4}, 400),            # route > routes
        ("choice", {"id": nid, "token": tok, "message": 10**30}, 400),       # huge
        ("choice", [1, 2], 400),                                             # not an object
        ("mask", {"id": nid, "token": tok, "ref": {"filename": "../secret.png", "subfolder": ""}}, 403),
        ("mask", {"id": nid, "token": tok, "ref": {"filename": "secret.png", "subfolder": ".."}}, 403),
        ("mask", {"id": nid, "token": tok, "ref": {"filename": outside}}, 403),  # absolute path
        ("mask", {"id": nid, "token": tok, "ref": {"filename": "link-out.png"}}, 403),  # symlink out
        ("mask", {"id": nid, "token": tok, "ref": {"filename": "missing.png"}}, 404),
        ("mask", {"id": nid, "token": tok, "ref": {"filename": "x.png", "type": "output"}}, 400),
        ("mask", {"id": nid, "token": tok}, 400),                            # neither mask nor ref
    ]
    for route, body, want in bad:
        status, data = client.post(f"{ROUTE_PREFIX}/{route}", body)
        assert status == want, (route, body, status, data)
        assert isinstance(data, dict) and data.get("error"), (route, body, data)
    status, data = client.request("POST", ROUTE_CHOICE, raw=b"{not json",
                                  headers={"Content-Type": "application/json"})
    assert status == 400 and "JSON" in data["error"]
    assert post_mask(client, show, b"this is not an image")[0] == 400        # not an image
    assert post_mask(client, show, png_bytes(Image.new("L", (9000, 9000))))[0] == 400  # pixel cap
    assert post_mask(client, show, png_bytes(Image.new("L", (4, 4))), token="stale")[0] == 409
    big = os.urandom(65 * 2**20)
    status, data = post_mask(client, show, big)
    assert status in (400, 413) and data.get("error")                        # oversized
    # still waiting, and still answerable
    assert [p["token"] for p in client.pending()] == [tok]
    assert client.choose(show, 3)[0] == 200
    assert client.wait_end(pid)["type"] == "execution_success"
    assert [f.split("_")[1] for f in saved(comfy.folder("output"), prefix)] == ["mask", "route3"]
    log = comfy.log_text()[log_start:]
    assert "Traceback" not in log.replace(
        "ModuleNotFoundError: No module named 'torchaudio'", "")


def painted_area(comfy, prefix):
    files = [f for f in saved(comfy.folder("output"), prefix) if "_mask_" in f]
    return [np.asarray(Image.open(os.path.join(comfy.folder("output"), f)).convert("L")) for f in files]


def check_left_half(arrays, h, w):
    assert len(arrays) == 2                          # [2, H, W] -> two saved MaskToImage frames
    for a in arrays:
        assert a.shape == (h, w)
        assert a[:, : w // 2 - 4].min() > 240 and a[:, w // 2 + 4:].max() < 15


def test_grayscale_mask_of_another_size_fits_a_batch_of_two(comfy, client, image):
    prompt, prefix = gate_graph(image, routes=2, batch=2)
    pid = client.queue(prompt)
    show = client.wait_gate()
    assert show["batch"] == 2 and len(show["previews"]) == 2
    m = Image.new("L", (40, 30), 0)
    m.paste(255, (0, 0, 20, 30))                     # left half painted (white)
    status, data = post_mask(client, show, png_bytes(m))
    assert status == 200, data
    client.choose(show, 1)
    assert client.wait_end(pid)["type"] == "execution_success"
    check_left_half(painted_area(comfy, prefix), 60, 80)


def test_editor_file_ref_of_another_size_fits_a_batch_of_two(comfy, client, image):
    prompt, prefix = gate_graph(image, routes=2, batch=2)
    pid = client.queue(prompt)
    show = client.wait_gate()
    os.makedirs(comfy.folder("input/clipspace"), exist_ok=True)
    ed = Image.new("RGBA", (160, 120), (9, 9, 9, 255))
    ed.paste((9, 9, 9, 0), (0, 0, 80, 120))          # painted = transparent, left half
    name = f"clipspace-painted-masked-{uuid.uuid4().hex[:6]}.png"
    ed.save(comfy.folder(f"input/clipspace/{name}"))
    status, data = client.post(ROUTE_MASK, {"id": show["id"], "token": show["token"],
                                                       "ref": {"filename": name, "subfolder": "clipspace",
                                                               "type": "input"}})
    assert status == 200, data
    client.choose(show, 2)
    assert client.wait_end(pid)["type"] == "execution_success"
    check_left_half(painted_area(comfy, prefix), 60, 80)


def test_no_mask_gives_zeros(comfy, client, image):
    prompt, prefix = gate_graph(image, routes=2)
    pid = client.queue(prompt)
    client.choose(client.wait_gate(), 1)
    client.wait_end(pid)
    (a,) = painted_area(comfy, prefix)
    assert a.shape == (60, 80) and a.max() == 0


def test_show_message_is_small_for_4096_and_pending_tracks_the_pause(comfy, client):
    big = noise_image(comfy.folder("input"), 4096, 4096, seed=4)
    prompt, prefix = gate_graph(big, routes=10, labels=",".join(f"label number {i}" for i in range(10)))
    mark = client.mark()
    pid = client.queue(prompt)
    ev = client.wait_for(lambda e: e.get("type") == EVENT_SHOW, since=mark, timeout=120)
    assert ev["_size"] < 2048, ev["_size"]
    show = ev["data"]
    assert show["width"] == 4096 and max(show["previews"][0]["width"], show["previews"][0]["height"]) <= 1024
    pending = client.pending()
    assert [p["token"] for p in pending] == [show["token"]]
    # the preview is served by ComfyUI's /view; the full PNG is written only when the page asks for it
    ref = show["previews"][0]
    status, _ = client.request("GET", f"/view?filename={ref['filename']}&subfolder={ref['subfolder']}&type=temp")
    assert status == 200
    time.sleep(1.0)
    tmp = os.path.join(comfy.folder("temp"), TEMP_SUBFOLDER)
    assert not [f for f in os.listdir(tmp) if f.startswith(show["token"]) and "_full" in f]
    assert not client.pending()[0]["full_ready"]
    status, asked = client.post(ROUTE_FULL, {"id": show["id"], "token": show["token"], "index": 0})
    assert status == 200 and asked["ref"]["filename"].endswith("_full.png"), asked
    for bad in (1, -1, "x", True):                       # one image: only index 0
        assert client.post(ROUTE_FULL, {"id": show["id"], "token": show["token"], "index": bad})[0] == 400
    client.wait_for(lambda e: e.get("type") == EVENT_READY, since=mark, timeout=60)
    p = client.pending()[0]
    assert p["full_ready"] and os.path.exists(os.path.join(comfy.folder("temp"), p["full"][0]["subfolder"],
                                                           p["full"][0]["filename"]))
    client.choose(show, 1)
    assert client.wait_end(pid, timeout=120)["type"] == "execution_success"
    assert client.get(ROUTE_PENDING)[1] == {"pending": []}
    # the pause's preview files are cleaned up
    tmp = os.path.join(comfy.folder("temp"), TEMP_SUBFOLDER)
    assert not [f for f in os.listdir(tmp) if f.startswith(show["token"])]
