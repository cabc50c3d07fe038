"""Crop at a gate pause in the real page: C shows a box on a bucket aspect, arrows move it, ] changes the
bucket, a route key sends the crop of the full-resolution image; Esc in the box cancels only the crop."""
import os
import time

import numpy as np
from PIL import Image

from harness.graphs import noise_image, saved
from harness.ui import GatePanel, build_gate_graph, run_to_pause, wait_no_buttons


def aspect_buckets():
    from gates.core import buckets
    return buckets.candidates(1280, 64, "")


def test_c_arrows_and_bracket_frame_a_crop_that_a_route_key_sends(server, api, new_page):
    name = noise_image(server.folder("input"), 600, 400, name=f"crop_{time.time_ns()}.png", seed=31)
    source = np.asarray(Image.open(server.folder(f"input/{name}")).convert("RGB"))
    page = new_page(server)
    prefix = f"crop{time.time_ns()}"
    build_gate_graph(page, name, routes=2, labels="keep,reject", prefix=prefix)
    pid = run_to_pause(page, api)
    panel = GatePanel(page)
    page.page.mouse.click(5, 450)
    page.page.keyboard.press("c")
    page.page.wait_for_selector(panel.crop_box)
    first = panel.crop_value()
    assert first["width"] == 600 or first["height"] == 400             # the largest box of the nearest aspect
    page.page.keyboard.press("]")                                        # the next bucket aspect: wider
    after_bracket = panel.crop_value()
    assert after_bracket != first and panel.crop_bucket()
    page.page.keyboard.press("Shift+ArrowUp")                          # 40 px up (4 px steps, Shift = 10x)
    for _ in range(2):
        page.page.keyboard.press("ArrowLeft")
    box = panel.crop_value()
    assert box["y"] == max(0, after_bracket["y"] - 40) and box["x"] == max(0, after_bracket["x"] - 8)
    bw, bh = (int(v) for v in panel.crop_bucket().split("\u00d7"))
    assert (bw, bh) in [tuple(b) for b in aspect_buckets()]
    page.page.keyboard.press("1")                                        # the route carries the crop
    wait_no_buttons(page)
    assert api.wait_history(pid)["status"]["status_str"] == "success"
    (out,) = [f for f in saved(server.folder("output"), prefix) if "_route1_" in f]
    got = np.asarray(Image.open(os.path.join(server.folder("output"), out)).convert("RGB"))
    assert got.shape == (box["height"], box["width"], 3)
    assert abs(box["width"] / box["height"] - bw / bh) < 2 / box["height"]   # the bucket's aspect
    assert np.array_equal(got, source[box["y"]:box["y"] + box["height"], box["x"]:box["x"] + box["width"]])
    errs = page.real_errors()
    assert errs == [], "\n".join(errs)


def test_esc_in_the_crop_box_cancels_the_crop_and_the_gate_still_waits(server, api, new_page):
    name = noise_image(server.folder("input"), 300, 200, name=f"crop_{time.time_ns()}.png", seed=32)
    page = new_page(server)
    prefix = f"crop{time.time_ns()}"
    build_gate_graph(page, name, routes=2, labels="keep,reject", prefix=prefix)
    pid = run_to_pause(page, api)
    panel = GatePanel(page)
    page.page.locator(panel.crop_button).first.click()                 # the button opens it too
    page.page.wait_for_selector(panel.crop_box)
    page.page.mouse.click(5, 450)
    page.page.keyboard.press("Escape")
    page.page.wait_for_selector(panel.crop_box, state="detached")
    time.sleep(0.3)
    assert [p["prompt_id"] for p in api.pending()] == [pid]            # Esc did not stop the gate
    page.page.keyboard.press("2")
    wait_no_buttons(page)
    assert api.wait_history(pid)["status"]["status_str"] == "success"
    (out,) = [f for f in saved(server.folder("output"), prefix) if "_route2_" in f]
    assert Image.open(os.path.join(server.folder("output"), out)).size == (300, 200)   # no crop
    errs = page.real_errors()
    assert errs == [], "\n".join(errs)
