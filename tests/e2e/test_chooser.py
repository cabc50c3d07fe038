"""The Image Chooser Gate in the real frontend, on every full e2e variant: the grid, mouse and keys,
Done, Edit mask on one image, reload, Stop and Cancel, and a workflow saved by the original project."""
import json
import os
import shutil
import time

import numpy as np
import pytest

from harness.chooser import ChooserPanel, build_chooser_graph, rgb
from harness.comfy import REPO
from harness.mask_editor import MaskEditor
from harness.sample import sample_images
from harness.ui import queue


def stamp(what):
    return f"{what}_{int(time.time() * 1000)}"


def run_to_grid(page, api, count):
    queue(page)
    ChooserPanel(page).wait_grid(count)
    return api.pending()[0]


def wait_files(server, cg, what, n, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline and len(cg.files(server.folder("output"), what)) < n:
        time.sleep(0.2)
    return cg.files(server.folder("output"), what)


def focus_nothing(page):
    """Keys go to the page with no text field focused (as after a click on the empty canvas)."""
    page.js("() => document.activeElement?.blur?.()")


def test_grid_shows_the_batch_and_outputs_come_in_threes(server, api, new_page, frontend):
    page = new_page(server)
    cg = build_chooser_graph(page, count=6, routes=3, labels="keep,fix,later", prefix=stamp("grid"))
    outs = page.js(f"() => app.graph.getNodeById({cg.gate.id}).outputs.map(o => [o.name, o.type, o.label])")
    assert outs == [["images", "IMAGE", "keep"], ["masks", "MASK", "keep masks"],
                    ["indices", "STRING", "keep indices"], ["images_2", "IMAGE", "fix"],
                    ["masks_2", "MASK", "fix masks"], ["indices_2", "STRING", "fix indices"],
                    ["images_3", "IMAGE", "later"], ["masks_3", "MASK", "later masks"],
                    ["indices_3", "STRING", "later indices"]]
    pause = run_to_grid(page, api, 6)
    panel = ChooserPanel(page)
    cells = panel.cells()
    assert [c["index"] for c in cells] == list(range(6)) and all(c["thumb"] == 64 for c in cells)
    assert all(c["quality"] == "0 \u00b7 0% \u00b7 small" and c["quality_low"] for c in cells), cells   # flat, small
    assert panel.buttons() == ["keep", "fix", "later", "Drop", "Select all", "None", "Invert", "Edit mask",
                               "Done", "Stop"]
    assert "6 images" in panel.status_text()
    # the thumbnail shows that image: sample the pixels of cell 4 in the page
    px = page.js(f"""() => {{ const img = [...document.querySelectorAll("{panel.cell}[data-index='4'] img")]
        .find(i => i.offsetParent);
        const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
        const x = c.getContext('2d'); x.drawImage(img, 0, 0); return [...x.getImageData(32, 24, 1, 1).data]; }}""")
    assert np.abs(np.array(px[:3]) - rgb(cg.colors[4])).max() < 12
    panel.click(panel.stop)
    panel.wait_gone()
    assert api.wait_history(pause["prompt_id"])["status"]["status_str"] == "error"
    assert page.real_errors() == []


def test_a_batch_of_64_scrolls_and_select_all_invert_none(server, api, new_page):
    page = new_page(server)
    build_chooser_graph(page, count=1, routes=2, labels="a,b", prefix=stamp("s64"), repeat=64)
    pause = run_to_grid(page, api, 64)
    panel = ChooserPanel(page)
    assert panel.grid_scrolls()
    panel.click(panel.select_all)
    assert panel.selected() == list(range(64))
    panel.click_cell(5, ["Control"])                  # Ctrl-click takes one out
    panel.click(panel.invert)
    assert panel.selected() == [5]
    panel.click(panel.select_none)
    assert panel.selected() == []
    panel.click_cell(63)
    assert panel.selected() == [63]
    api.answer(pause, message="__cancel__")
    panel.wait_gone()


def test_shift_click_range_and_route_keys_then_done_routes(server, api, new_page):
    page = new_page(server)
    cg = build_chooser_graph(page, count=6, routes=3, labels="keep,fix,later", prefix=stamp("route"))
    pause = run_to_grid(page, api, 6)
    panel = ChooserPanel(page)
    panel.click_cell(1)
    panel.click_cell(3, ["Shift"])
    assert panel.selected() == [1, 2, 3]
    page.page.keyboard.press("2")
    assert panel.routes() == ["", "2", "2", "2", "", ""]
    panel.click_cell(0)
    panel.click_cell(5, ["Control"])
    assert panel.selected() == [0, 5]
    panel.click(panel.route, "later")
    panel.click_cell(2)
    panel.click(panel.drop)
    assert panel.routes() == ["3", "2", "0", "2", "", "3"]
    assert [c["badge"] for c in panel.cells()] == ["later", "fix", "drop", "fix", "", "later"]
    # keys: arrows move the focus, Space toggles, a digit assigns the route
    focus_nothing(page)
    page.page.keyboard.press("ArrowRight")            # focus 2 -> 3
    page.page.keyboard.press("ArrowRight")            # -> 4
    assert [c["index"] for c in panel.cells() if c["focus"]] == [4]
    page.page.keyboard.press("Space")
    assert panel.selected() == [2, 4]
    page.page.keyboard.press("Space")                 # toggles 4 off again
    page.page.keyboard.press("ArrowLeft")
    page.page.keyboard.press("ArrowLeft")             # back on 2
    page.page.keyboard.press("1")                     # selection {2}: route 1
    assert panel.routes() == ["3", "2", "1", "2", "", "3"]
    page.page.keyboard.press("Enter")                 # Done: image 4 is unassigned -> drop (the default)
    panel.wait_gone()
    assert api.wait_history(pause["prompt_id"])["status"]["status_str"] == "success"
    c = cg.colors
    assert [cg.pixels(server.folder("output"), f"img{k}") for k in (1, 2, 3)] == [
        [rgb(c[2])], [rgb(c[1]), rgb(c[3])], [rgb(c[0]), rgb(c[5])]]
    assert page.real_errors() == []


@pytest.mark.smoke
def test_edit_mask_on_image_3_only(server, api, new_page):
    page = new_page(server)
    cg = build_chooser_graph(page, count=6, routes=1, labels="keep", prefix=stamp("mask"), size=(200, 100))
    pause = run_to_grid(page, api, 6)
    panel = ChooserPanel(page)
    panel.click_cell(3)
    focus_nothing(page)
    page.page.keyboard.press("m")                     # M = Edit mask on the focused image
    editor = MaskEditor(page)
    editor.wait_open()
    assert editor.canvas_size() == [200, 100]        # full resolution, not the thumbnail
    editor.paint_stroke()
    editor.save()
    panel.wait_masked(3)
    editor.wait_closed()
    assert [c["masked"] for c in panel.cells()] == [False, False, False, True, False, False]
    panel.click(panel.select_all)
    panel.click(panel.route, "keep")
    panel.click(panel.done)
    panel.wait_gone()
    assert api.wait_history(pause["prompt_id"])["status"]["status_str"] == "success"
    assert len(wait_files(server, cg, "mask1", 6)) == 6
    masks = cg.masks(server.folder("output"), "mask1")
    assert [int(a.max()) > 200 for a in masks] == [False, False, False, True, False, False]
    assert masks[3][50, 30:55].min() > 200 and masks[3][:, 120:].max() == 0
    assert page.real_errors() == []


def test_reload_brings_the_grid_back_with_the_assignments(server, api, new_page):
    page = new_page(server)
    cg = build_chooser_graph(page, count=4, routes=2, labels="yes,no", prefix=stamp("reload"))
    page.persist_draft(cg.prefix)                     # the savers' unique prefix names this graph
    pause = run_to_grid(page, api, 4)
    panel = ChooserPanel(page)
    panel.click_cell(0)
    panel.click_cell(1, ["Shift"])
    panel.click(panel.route, "no")
    deadline = time.time() + 10                       # the assignments are kept on the server
    while time.time() < deadline and api.pending()[0].get("decisions") != [2, 2, None, None]:
        time.sleep(0.1)
    assert api.pending()[0]["decisions"] == [2, 2, None, None]
    page.reload()
    panel.wait_grid(4)
    panel.wait_routes(["2", "2", "", ""])
    panel.click_cell(3)
    panel.click(panel.route, "yes")
    panel.click(panel.done)
    panel.wait_gone()
    assert api.wait_history(pause["prompt_id"])["status"]["status_str"] == "success"
    c = cg.colors
    assert cg.pixels(server.folder("output"), "img1") == [rgb(c[3])]
    assert cg.pixels(server.folder("output"), "img2") == [rgb(c[0]), rgb(c[1])]


@pytest.mark.parametrize("how", ["esc-key", "comfy-cancel"])
def test_stop_key_and_comfyui_cancel_end_the_pause(server, api, new_page, how):
    page = new_page(server)
    cg = build_chooser_graph(page, count=3, routes=2, labels="a,b", prefix=stamp(how))
    pause = run_to_grid(page, api, 3)
    if how == "esc-key":
        focus_nothing(page)
        page.page.keyboard.press("Escape")
    else:
        page.js("() => window.comfyAPI.api.api.interrupt ? window.comfyAPI.api.api.interrupt() : "
                "fetch('/api/interrupt', {method: 'POST'})")
    ChooserPanel(page).wait_gone()
    assert api.wait_history(pause["prompt_id"])["status"]["status_str"] == "error"
    assert api.pending() == []
    assert cg.files(server.folder("output"), "img1") == []
    assert page.real_errors() == []


# The original project's node as its workflows saved it: one input, one output, no widgets.
ORIGINAL_WORKFLOW = {
    "last_node_id": 3, "last_link_id": 2, "version": 0.4, "config": {}, "extra": {}, "groups": [],
    "nodes": [
        {"id": 1, "type": "EmptyImage", "pos": [-500, 60], "size": [315, 130], "flags": {}, "order": 0, "mode": 0,
         "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": [1], "slot_index": 0}],
         "properties": {"Node name for S&R": "EmptyImage"}, "widgets_values": [32, 32, 3, 0x3CB44B]},
        {"id": 2, "type": "ImageChooserGate", "pos": [90, 90], "size": [640, 520], "flags": {}, "order": 1, "mode": 0,
         "inputs": [{"name": "images", "type": "IMAGE", "link": 1}],
         "outputs": [{"name": "images", "type": "IMAGE", "links": [2], "slot_index": 0}],
         "properties": {"Node name for S&R": "ImageChooserGate"}, "widgets_values": []},
        {"id": 3, "type": "SaveImage", "pos": [1500, 60], "size": [315, 270], "flags": {}, "order": 2, "mode": 0,
         "inputs": [{"name": "images", "type": "IMAGE", "link": 2}],
         "properties": {"Node name for S&R": "SaveImage"}, "widgets_values": ["PREFIX"]},
    ],
    "links": [[1, 1, 0, 2, 0, "IMAGE"], [2, 2, 0, 3, 0, "IMAGE"]],
}


def test_a_workflow_saved_by_the_original_project_loads_and_passes_the_selection(server, api, new_page):
    prefix = stamp("orig")
    wf = json.loads(json.dumps(ORIGINAL_WORKFLOW).replace("PREFIX", prefix))
    page = new_page(server)
    page.js("(wf) => app.loadGraphData(wf)", wf)
    time.sleep(0.5)
    outs = page.js("() => app.graph.getNodeById(2).outputs.map(o => [o.name, o.label, (o.links ?? []).length])")
    assert outs == [["images", "pass", 1], ["masks", "pass masks", 0], ["indices", "pass indices", 0]]
    pause = run_to_grid(page, api, 3)
    assert (pause["routes"], pause["labels"], pause["default_route"]) == (1, ["pass"], 0)
    panel = ChooserPanel(page)
    panel.click_cell(0)
    panel.click_cell(2, ["Control"])
    panel.click(panel.route, "pass")
    panel.click(panel.done)
    panel.wait_gone()
    assert api.wait_history(pause["prompt_id"])["status"]["status_str"] == "success"
    files = [f for f in os.listdir(server.folder("output")) if f.startswith(prefix)]
    assert len(files) == 2
    assert page.real_errors() == []


def test_example_workflow_pick_from_a_batch_keeps_the_picked_ones(server, api, new_page):
    shutil.rmtree(server.folder("output/picked"), ignore_errors=True)
    with open(os.path.join(REPO, "example_workflows", "pick_from_batch.json")) as f:
        wf = json.load(f)
    page = new_page(server)
    page.js("(wf) => app.loadGraphData(wf)", wf)
    time.sleep(0.5)
    page.js("() => app.extensionManager?.command?.execute ? app.extensionManager.command.execute('Comfy.QueuePrompt')"
            " : app.queuePrompt(0, 1)")
    panel = ChooserPanel(page)
    panel.wait_grid(8)                                 # the shipped sample's eight images, read in place
    pause = api.pending()[0]
    assert (pause["labels"], pause["count"], pause["width"], pause["height"]) == (["keep", "fix"], 8, 512, 512)
    panel.click_cell(0)
    panel.click_cell(2, ["Control"])
    panel.click(panel.route, "keep")
    panel.click_cell(3)
    panel.click(panel.route, "fix")
    panel.click(panel.done)
    panel.wait_gone()
    hist = api.wait_history(pause["prompt_id"])
    assert hist["status"]["status_str"] == "success"
    titled = {n.get("title"): str(n["id"]) for n in wf["nodes"]}
    shown = {t: hist["outputs"][titled[t]]["text"][0] for t in ("keep: indices", "fix: indices", "batch: files")}
    assert (shown["keep: indices"], shown["fix: indices"]) == ("0,2", "3")
    assert shown["batch: files"].split("\n") == sample_images()          # which file each index is
    picked = sorted(os.listdir(server.folder("output/picked")))
    assert picked == ["fix_00001_.png", "fix_mask_00001_.png", "keep_00001_.png", "keep_00002_.png"]
    assert page.real_errors() == []


TO_SUBGRAPH = """
(gateId) => {
  const gate = app.graph.getNodeById(gateId);
  app.canvas.deselectAll?.();
  app.canvas.selectNode(gate);
  return Promise.resolve(app.extensionManager.command.execute("Comfy.Graph.ConvertToSubgraph")).then(() => {
    const host = app.graph.nodes.find(n => n.subgraph && n.subgraph.nodes.some(x => x.type === "ImageChooserGate"));
    if (!host) return null;
    host.pos = [90, 90];
    host.setSize([640, host.size[1]]);
    app.graph.setDirtyCanvas(true, true);
    return [host.id, host.subgraph.nodes.find(x => x.type === "ImageChooserGate").id];
  });
}
"""


def test_a_chooser_in_a_subgraph_shows_its_grid_on_the_subgraph_node_and_routes(server, api, new_page):
    page = new_page(server)
    cg = build_chooser_graph(page, count=4, routes=2, labels="in,out", prefix=stamp("sub"))
    ids = page.js(TO_SUBGRAPH, int(cg.gate.id))
    assert ids, "Comfy.Graph.ConvertToSubgraph did not put the chooser in a subgraph"
    pause = run_to_grid(page, api, 4)
    assert pause["id"] == f"{ids[0]}:{ids[1]}"        # the backend's execution id of the inner gate
    assert page.js(f"() => app.graph.getNodeById({ids[0]}).widgets.find(w => w.name === 'gate_panel')"
                   "?.element?.dataset?.token") == pause["token"]
    panel = ChooserPanel(page)
    panel.click_cell(1)
    panel.click_cell(3, ["Shift"])
    panel.click(panel.route, "out")
    panel.click(panel.done)
    panel.wait_gone()
    assert api.wait_history(pause["prompt_id"])["status"]["status_str"] == "success"
    c = cg.colors
    assert cg.pixels(server.folder("output"), "img2") == [rgb(c[1]), rgb(c[2]), rgb(c[3])]
    assert cg.files(server.folder("output"), "img1") == []           # image 0 dropped: route 1 blocked
    assert page.real_errors() == []
