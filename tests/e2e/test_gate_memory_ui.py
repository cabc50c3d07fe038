"""A gate that remembers, in the real frontend: keep_mask across runs, the red overlay, Clear mask."""
import os
import time
import uuid

import numpy as np
from PIL import Image

from gates.core.names import CSS_PREFIX
from harness.graphs import noise_image
from harness.mask_editor import MaskEditor
from harness.ui import GatePanel, build_gate_graph, queue


def paint_a_stroke(page):
    """Open the MaskEditor from the gate, paint a horizontal stroke over x = 10%..30% at mid height, save."""
    editor = MaskEditor(page)
    GatePanel(page).click_mask()
    editor.wait_open()
    editor.paint_stroke()
    editor.save()
    GatePanel(page).wait_mask_marked(timeout=30000)
    editor.wait_closed()


def mask_of_run(server, api, pid, prefix):
    """The mask the gate put out in prompt ``pid`` (saved by the graph's mask saver) as an array."""
    hist = api.wait_history(pid)
    assert hist["status"]["status_str"] == "success"
    (img,) = [i for o in hist["outputs"].values() for i in o.get("images", []) if i["filename"].startswith(
        f"{prefix}_mask")]
    return np.asarray(Image.open(os.path.join(server.folder("output"), img["subfolder"], img["filename"])).convert("L"))


def test_keep_mask_reuses_the_painted_mask_on_the_next_run_until_clear_mask(server, api, new_page):
    img = noise_image(server.folder("input"), 200, 100, name="keep_src.png", seed=51)
    page = new_page(server)
    panel = GatePanel(page)
    prefix = f"keep_{uuid.uuid4().hex[:8]}"
    build_gate_graph(page, img, routes=2, labels="a,b", prefix=prefix)
    page.js("() => { const n = app.graph._nodes.find(n => n.type === 'ImageGate');"
            " const w = n.widgets.find(w => w.name === 'keep_mask'); w.value = true; w.callback?.(true); }")
    # run 1: paint; the overlay shows on the preview and the node says the mask is retained
    queue(page)
    panel.wait_buttons()
    pid1 = api.pending()[0]["prompt_id"]
    assert not panel.overlay_shown() and not panel.badge_shown()
    paint_a_stroke(page)
    panel.wait_overlay(True)
    assert panel.badge_shown()
    panel.enlarge_first()                                # the enlarged view shows it too
    assert panel.preview_loaded(selector=f"{GatePanel.big} img.{CSS_PREFIX}overlay")
    panel.close_enlarged()
    panel.click_route("a")
    panel.wait_resolved("routed to a")
    assert panel.badge_shown()                           # still retained after the answer
    m1 = mask_of_run(server, api, pid1, prefix)
    assert m1[50, 30:55].min() > 200 and m1[:, 120:].max() == 0
    # run 2 (Run from here): nothing painted, the same mask comes out; the overlay shows it
    panel.click_run_again()
    panel.wait_buttons()
    pid2 = api.pending()[0]["prompt_id"]
    assert pid2 != pid1
    panel.wait_overlay(True)
    assert panel.badge_shown() and panel.mask_text() == "Edit mask"      # nothing painted at this pause
    panel.click_route("a")
    panel.wait_resolved("routed to a")
    m2 = mask_of_run(server, api, pid2, prefix)
    assert m2[50, 30:55].min() > 200 and m2[:, 120:].max() == 0 and m2[:25, :].max() == 0
    # run 3: Clear mask -> no overlay, zeros, and nothing retained afterwards
    queue(page)
    panel.wait_buttons()
    pid3 = api.pending()[0]["prompt_id"]
    panel.wait_overlay(True)
    panel.click_clear()
    panel.wait_overlay(False)
    assert not panel.badge_shown()
    panel.click_route("b")
    panel.wait_resolved("routed to b")
    assert mask_of_run(server, api, pid3, prefix).max() == 0
    queue(page)
    panel.wait_buttons()
    pid4 = api.pending()[0]["prompt_id"]
    time.sleep(0.5)
    assert not panel.overlay_shown() and not panel.badge_shown()
    panel.click_route("a")
    assert mask_of_run(server, api, pid4, prefix).max() == 0
    assert page.real_errors() == []


def test_without_keep_mask_a_painted_mask_overlays_this_pause_only(server, api, new_page):
    img = noise_image(server.folder("input"), 200, 100, name="once_src.png", seed=52)
    page = new_page(server)
    panel = GatePanel(page)
    prefix = f"once_{uuid.uuid4().hex[:8]}"
    build_gate_graph(page, img, routes=2, labels="a,b", prefix=prefix)
    queue(page)
    panel.wait_buttons()
    pid1 = api.pending()[0]["prompt_id"]
    paint_a_stroke(page)
    panel.wait_overlay(True)
    assert not panel.badge_shown()                       # painted, but not kept for later pauses
    panel.click_route("b")
    panel.wait_resolved("routed to b")
    assert mask_of_run(server, api, pid1, prefix)[50, 30:55].min() > 200
    queue(page)
    panel.wait_buttons()
    pid2 = api.pending()[0]["prompt_id"]
    time.sleep(0.5)
    assert not panel.overlay_shown()
    panel.click_route("a")
    assert mask_of_run(server, api, pid2, prefix).max() == 0
