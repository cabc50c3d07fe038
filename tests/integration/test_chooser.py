"""The Image Chooser Gate on the real server: per-image routes with pixels, masks and indices checked,
the original project's subset answer and workflow, bad input, Stop, Cancel, timeout, full-size on demand."""
import io
import json
import os
import time
import urllib.parse
import urllib.request

import numpy as np
import pytest
from PIL import Image

from gates.core.names import (
    CANCEL,
    EVENT_READY,
    EVENT_SHOW,
    ROUTE_CHOICE,
    ROUTE_FULL,
    ROUTE_MASK,
    ROUTE_PROGRESS,
    TEMP_SUBFOLDER,
)
from harness.chooser import ChooserGraph, rgb
from harness.graphs import png_bytes


def half_mask(w, h, side):
    """A grayscale PNG, white (= painted) on the left or the top half."""
    a = np.zeros((h, w), np.uint8)
    if side == "left":
        a[:, : w // 2] = 255
    else:
        a[: h // 2, :] = 255
    return png_bytes(Image.fromarray(a))


def view(client, ref, **extra) -> Image.Image:
    q = urllib.parse.urlencode({k: ref[k] for k in ("filename", "subfolder", "type")} | extra)
    with urllib.request.urlopen(f"{client.url}/view?{q}", timeout=30) as r:
        return Image.open(io.BytesIO(r.read()))


def thumb_ref(show, i):
    t = show["thumbs"]
    return {**t, "filename": t["filename"].replace("{index}", str(i))}


def indices_text(hist, node):
    return hist["outputs"][node.id]["text"][0]


def test_decisions_route_each_image_with_its_mask_and_indices(comfy, client):
    cg = ChooserGraph(count=6, routes=3, labels="keep, fix, later", wire=4)
    out = comfy.folder("output")
    pid = client.queue(cg.prompt())
    show = client.wait_gate(cg.gate.id)
    assert (show["kind"], show["count"], show["routes"], show["default_route"]) == ("choose", 6, 3, 0)
    assert show["labels"] == ["keep", "fix", "later"]
    t = show["thumbs"]                     # quality badges from the thumbnails: flat colours, mid-gray, 40x24
    assert (t["sharpness"], t["clipped"], t["small"]) == ([0] * 6, [0.0] * 6, True)
    # thumbnails are files, one ref template for the batch; each one is that image, small
    for i in range(6):
        im = view(client, thumb_ref(show, i))
        assert im.format == "JPEG" and max(im.size) <= 256
        assert np.abs(np.asarray(im.convert("RGB"), int)[12, 20] - rgb(cg.colors[i])).max() < 12
    assert client.post_mask(show, half_mask(40, 24, "left"), index=2)[0] == 200
    assert client.post_mask(show, half_mask(20, 12, "top"), index="4")[0] == 200   # another size: resized
    assert client.answer(show, decisions=[1, 2, 1, 3, 2, 0]) == (200, {"ok": True, "taken": [1, 2, 1, 3, 2, 0]})
    assert client.wait_end(pid)["type"] == "execution_success"
    c = cg.colors
    assert cg.pixels(out, "img1") == [rgb(c[0]), rgb(c[2])]          # route 1: images 0 and 2, in that order
    assert cg.pixels(out, "img2") == [rgb(c[1]), rgb(c[4])]
    assert cg.pixels(out, "img3") == [rgb(c[3])]
    assert cg.files(out, "img4") == [] and cg.files(out, "mask4") == []   # the 4th route is blocked
    m1, m2, m3 = cg.masks(out, "mask1"), cg.masks(out, "mask2"), cg.masks(out, "mask3")
    assert [m.shape for m in m1 + m2 + m3] == [(24, 40)] * 5
    assert m1[0].max() == 0 and m1[1][:, :18].min() == 255 and m1[1][:, 22:].max() == 0    # image 2: left half
    assert m2[0].max() == 0 and m2[1][:10].min() > 240 and m2[1][14:].max() < 15           # image 4: top half
    assert m3[0].max() == 0
    hist = client.wait_history(pid)
    assert [indices_text(hist, cg.indices[k]) for k in (1, 2, 3)] == ["0,2", "1,4", "3"]
    assert cg.indices[4].id not in hist["outputs"]
    assert hist["outputs"][cg.gate.id]["chooser_decision"] == [{
        "decisions": [1, 2, 1, 3, 2, 0], "labels": ["keep", "fix", "later"], "default_route": 0,
        "how": "routed", "masked": [2, 4]}]


def test_selection_in_the_original_workflow_gives_images_1_and_3_in_batch_order(comfy, client):
    """The original project's node: only ``images`` wired, its one output ``images`` (slot 0) used."""
    cg = ChooserGraph(count=5, original=True)
    assert cg.prompt()[cg.gate.id]["inputs"].keys() == {"images"}
    pid = client.queue(cg.prompt())
    show = client.wait_gate(cg.gate.id)
    assert (show["routes"], show["labels"], show["default_route"]) == (1, ["pass"], 0)
    assert client.answer(show, selection=[3, 1])[0] == 200
    assert client.wait_end(pid)["type"] == "execution_success"
    assert cg.pixels(comfy.folder("output"), "img1") == [rgb(cg.colors[1]), rgb(cg.colors[3])]
    assert client.wait_history(pid)["outputs"][cg.gate.id]["chooser_decision"][0]["decisions"] == [0, 1, 0, 1, 0]


def test_the_original_form_post_of_a_selection_also_routes(comfy, client):
    cg = ChooserGraph(count=3, original=True)
    pid = client.queue(cg.prompt())
    show = client.wait_gate(cg.gate.id)
    body = urllib.parse.urlencode({"id": show["id"], "token": show["token"], "selection": "[2]"}).encode()
    status, _ = client.request("POST", ROUTE_CHOICE, raw=body,
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200
    assert client.wait_end(pid)["type"] == "execution_success"
    assert cg.pixels(comfy.folder("output"), "img1") == [rgb(cg.colors[2])]


def test_every_bad_input_gets_4xx_and_the_pause_still_routes(comfy, client):
    log_start = len(comfy.log_text())
    cg = ChooserGraph(count=6, routes=3)
    pid = client.queue(cg.prompt())
    show = client.wait_gate(cg.gate.id)
    ask = {"id": show["id"], "token": show["token"]}
    bad = [
        (ROUTE_CHOICE, {"decisions": [1, 2, 1]}, 400),                        # wrong length
        (ROUTE_CHOICE, {"decisions": [1, 2, 1, 3, 2, 0, 1]}, 400),
        (ROUTE_CHOICE, {"decisions": [1, 2, 1, 4, 2, 0]}, 400),               # route out of range
        (ROUTE_CHOICE, {"decisions": [1, 2, 1, -1, 2, 0]}, 400),
        (ROUTE_CHOICE, {"decisions": [1, 2, 1.5, 3, 2, 0]}, 400),             # non-integers
        (ROUTE_CHOICE, {"decisions": [1, "2", 1, 3, 2, 0]}, 400),
        (ROUTE_CHOICE, {"decisions": [1, True, 1, 3, 2, 0]}, 400),
        (ROUTE_CHOICE, {"decisions": "1,2,1,3,2,0"}, 400),
        (ROUTE_CHOICE, {"selection": [1, 1]}, 400),                           # duplicate indices
        (ROUTE_CHOICE, {"selection": [6]}, 400),                              # out of range
        (ROUTE_CHOICE, {"selection": [-1]}, 400),
        (ROUTE_CHOICE, {"selection": [0.0]}, 400),
        (ROUTE_CHOICE, {"decisions": [0] * 6, "selection": [1]}, 400),        # both
        (ROUTE_CHOICE, {"message": 1}, 400),                                  # the Image Gate's answer
        (ROUTE_MASK, {"index": 6, "ref": {"filename": "x.png"}}, 400),       # mask index out of range
        (ROUTE_MASK, {"index": -1, "ref": {"filename": "x.png"}}, 400),
        (ROUTE_FULL, {"index": 6}, 400),
        (ROUTE_FULL, {"index": "two"}, 400),
        (ROUTE_PROGRESS, {"decisions": [1, 2]}, 400),
        (ROUTE_PROGRESS, {"decisions": [9] * 6}, 400),
        (ROUTE_CHOICE, {"decisions": [1] * 6, "token": "stale"}, 409),
        (ROUTE_CHOICE, {"decisions": [1] * 6, "id": "999"}, 404),
    ]
    for route, fields, want in bad:
        status, data = client.post(route, {**ask, **fields})
        assert status == want, (route, fields, status, data)
        assert isinstance(data, dict) and data.get("error"), (route, fields, data)
    png = half_mask(40, 24, "left")
    for index in ("6", "x", "-2"):
        assert client.post_mask(show, png, index=index)[0] == 400, index
    assert [p["token"] for p in client.pending()] == [show["token"]]     # still waiting
    assert client.answer(show, decisions=[3, 3, 0, 0, 1, 2])[0] == 200
    assert client.wait_end(pid)["type"] == "execution_success"
    c = cg.colors
    out = comfy.folder("output")
    assert (cg.pixels(out, "img1"), cg.pixels(out, "img2"), cg.pixels(out, "img3")) == (
        [rgb(c[4])], [rgb(c[5])], [rgb(c[0]), rgb(c[1])])
    assert "Traceback" not in comfy.log_text()[log_start:].replace(
        "ModuleNotFoundError: No module named 'torchaudio'", "")


def test_stop_interrupts_and_comfyui_cancel_ends_the_wait_within_250_ms(comfy, client):
    cg = ChooserGraph(count=4, routes=2)
    pid = client.queue(cg.prompt())
    show = client.wait_gate(cg.gate.id)
    assert client.answer(show, message=CANCEL)[0] == 200
    assert client.wait_end(pid)["type"] == "execution_interrupted"
    assert cg.files(comfy.folder("output"), "img1") == [] and client.pending() == []
    m = client.mark()
    pid = client.queue(ChooserGraph(count=4, routes=2).prompt())
    show = client.wait_gate(since=m)          # this prompt's pause (the first one's show is in the events too)
    m = client.mark()
    t0 = time.perf_counter()
    client.post("/interrupt", {"prompt_id": pid})
    end = client.wait_end(pid, timeout=5, since=m)
    assert end["type"] == "execution_interrupted"
    assert end["_t"] - t0 < 0.25, f"Cancel took {(end['_t'] - t0) * 1e3:.0f} ms"
    assert client.answer(show, decisions=[1] * 4)[0] == 409            # that pause is over
    # the pause's files are gone
    d = comfy.folder(f"temp/{TEMP_SUBFOLDER}")
    assert not [f for f in os.listdir(d) if f.startswith(show["token"])]


def test_progress_survives_in_pending_and_a_timeout_keeps_it(comfy, client):
    cg = ChooserGraph(count=4, routes=2, default_route="route 1", timeout_seconds=2, on_timeout="default")
    pid = client.queue(cg.prompt())
    show = client.wait_gate(cg.gate.id)
    assert client.post(ROUTE_PROGRESS, {"id": show["id"], "token": show["token"],
                                        "decisions": [2, None, 0, None], "masked": [1]})[0] == 200
    (pending,) = client.pending()
    assert (pending["decisions"], pending["masked"]) == ([2, None, 0, None], [1])   # what a reload shows
    assert pending["deadline"] > pending["started_at"]
    assert client.wait_end(pid, timeout=15)["type"] == "execution_success"
    out = comfy.folder("output")
    c = cg.colors
    assert cg.pixels(out, "img1") == [rgb(c[1]), rgb(c[3])]      # untouched: the default route
    assert cg.pixels(out, "img2") == [rgb(c[0])]                 # kept from the progress; image 2 dropped
    rec = client.wait_history(pid)["outputs"][cg.gate.id]["chooser_decision"][0]
    assert (rec["decisions"], rec["how"]) == ([2, 1, 0, 1], "timeout-routed")


def test_timeout_with_stop_interrupts(comfy, client):
    cg = ChooserGraph(count=2, routes=1, timeout_seconds=1, on_timeout="stop")
    pid = client.queue(cg.prompt())
    assert client.wait_end(pid, timeout=15)["type"] == "execution_interrupted"
    assert cg.files(comfy.folder("output"), "img1") == []


def test_full_resolution_is_written_on_demand_for_that_image_only(comfy, client):
    cg = ChooserGraph(count=4, routes=1, size=(300, 200))
    pid = client.queue(cg.prompt())
    show = client.wait_gate(cg.gate.id)
    d = comfy.folder(f"temp/{TEMP_SUBFOLDER}")
    assert not [f for f in os.listdir(d) if f.startswith(show["token"]) and f.endswith(".png")]
    m = client.mark()
    status, data = client.post(ROUTE_FULL, {"id": show["id"], "token": show["token"], "index": 2})
    assert status == 200 and data["index"] == 2
    ready = client.wait_for(lambda e: e.get("type") == EVENT_READY and e["data"].get("token") == show["token"],
                            10, m)["data"]
    assert ready["index"] == 2 and ready["full"] == [data["ref"]]
    im = view(client, data["ref"])
    assert im.size == (300, 200) and im.convert("RGB").getpixel((150, 100)) == rgb(cg.colors[2])
    again = client.post(ROUTE_FULL, {"id": show["id"], "token": show["token"], "index": 2})[1]
    assert again["ready"] is True and again["ref"] == data["ref"]       # written once
    fulls = [f for f in os.listdir(d) if f.startswith(show["token"]) and f.endswith("_full.png")]
    assert fulls == [data["ref"]["filename"]]
    client.answer(show, selection=[0])
    assert client.wait_end(pid)["type"] == "execution_success"


def test_a_batch_of_64_has_a_small_show_event_and_every_thumbnail(comfy, client):
    cg = ChooserGraph(count=1, routes=2)
    rep = cg.graph.node("RepeatImageBatch", image=cg.gate.inputs["images"], amount=64)
    cg.gate.set(images=rep.out(0))
    m = client.mark()
    pid = client.queue(cg.prompt())
    ev = client.wait_for(lambda e: e.get("type") == EVENT_SHOW, 60, m)
    show = ev["data"]
    assert show["count"] == 64 and ev["_size"] < 4096, ev["_size"]
    assert len(json.dumps(show)) < 4096
    for i in (0, 31, 63):
        assert max(view(client, thumb_ref(show, i)).size) <= 256
    client.answer(show, decisions=[2] * 63 + [1])
    assert client.wait_end(pid)["type"] == "execution_success"
    assert len(cg.files(comfy.folder("output"), "img2")) == 63


@pytest.mark.parametrize("bad", [{"default_route": "route 3"}, {"on_timeout": "route 5"}])
def test_a_default_route_past_the_routes_is_a_clear_node_error(comfy, client, bad):
    cg = ChooserGraph(count=2, routes=2, **bad)
    pid = client.queue(cg.prompt())
    end = client.wait_end(pid)
    assert end["type"] == "execution_error"
    assert "routes = 2" in end["data"]["exception_message"]
    assert client.pending() == []
