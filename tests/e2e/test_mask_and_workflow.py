"""Edit mask with the core MaskEditor, and the example workflow, in the real frontend."""
import json
import os
import shutil
import time

import numpy as np
from PIL import Image

from harness.comfy import REPO
from harness.graphs import kinds, noise_image, saved
from harness.ui import (
    GatePanel,
    SortPanel,
    build_gate_graph,
    click_route,
    editor_canvas_size,
    queue,
    run_to_pause,
    wait_buttons,
    wait_no_buttons,
)


def mask_file(server, prefix):
    (f,) = [f for f in saved(server.folder("output"), prefix) if "_mask_" in f]
    return np.asarray(Image.open(os.path.join(server.folder("output"), f)).convert("L"))


# True when some 2D canvas of the editor has (painted) or lacks (not painted) mask
# alpha at image pixel (x, y), ignoring the opaque image layer.
MASK_LAYER_AT = """([x, y, painted]) => {
  const cs = [...document.querySelectorAll('#maskEditorCanvasContainer canvas')];
  const alphas = [];
  for (const c of cs) {
    let ctx = null;
    try { ctx = c.getContext('2d'); } catch { continue; }
    if (!ctx || !c.width) continue;
    const sx = Math.floor(x * c.width / 200), sy = Math.floor(y * c.height / 100);
    const a = ctx.getImageData(sx, sy, 1, 1).data[3];
    const opaque = ctx.getImageData(0, 0, c.width, c.height).data.every((v, i) => i % 4 !== 3 || v === 255);
    if (!opaque) alphas.push(a);
  }
  return painted ? alphas.some(a => a > 0) : alphas.length > 0 && alphas.every(a => a === 0);
}"""

CLOSE_EDITOR = """() => { const b = [...document.querySelectorAll('button')].filter(b => b.offsetParent)
  .find(b => ['Cancel', 'Close'].includes(b.textContent.trim())); b?.click(); return !!b; }"""


def test_edit_mask_paints_a_stroke_that_comes_out_on_mask(server, api, new_page):
    img = noise_image(server.folder("input"), 200, 100, name="mask_src.png", seed=5)
    page = new_page(server)
    prefix = f"paint_{int(time.time() * 1000)}"
    build_gate_graph(page, img, routes=2, labels="a,b", prefix=prefix)
    pid = run_to_pause(page, api)
    GatePanel(page).click_mask()
    page.page.wait_for_selector("#maskEditorCanvasContainer", timeout=30000)
    assert editor_canvas_size(page) == [200, 100]       # the full-resolution image, not the preview
    time.sleep(1)
    box = page.page.locator("#maskEditorCanvasContainer").bounding_box()
    y = box["y"] + box["height"] * 0.5
    m = page.page.mouse
    m.move(box["x"] + box["width"] * 0.10, y)
    m.down()
    for i in range(1, 21):
        m.move(box["x"] + box["width"] * (0.10 + 0.20 * i / 20), y)
    m.up()
    clicked = page.js("""() => { const b = [...document.querySelectorAll('button')].filter(b => b.offsetParent)
        .find(b => ['Save', 'Save to node'].includes(b.textContent.trim())); b?.click(); return !!b; }""")
    assert clicked, "no Save button in the MaskEditor"
    GatePanel(page).wait_mask_marked(timeout=30000)
    page.page.wait_for_function("() => !document.getElementById('maskEditorCanvasContainer')", timeout=10000)
    time.sleep(1.6)                                    # the adapter lets go of the node after a save
    # Re-opening shows the mask painted so far: the editor's mask layer holds the stroke.
    GatePanel(page).click_mask()
    page.page.wait_for_selector("#maskEditorCanvasContainer", timeout=30000)
    page.page.wait_for_function(MASK_LAYER_AT, arg=[40, 50, True], timeout=15000)
    assert page.js(MASK_LAYER_AT, [170, 10, False])    # and nothing where nothing was painted
    page.page.keyboard.press("Escape")                 # close without saving: the saved mask stays
    page.js(CLOSE_EDITOR)
    page.page.wait_for_function("() => !document.getElementById('maskEditorCanvasContainer')", timeout=10000)
    click_route(page, "a")
    wait_no_buttons(page)
    assert api.wait_history(pid)["status"]["status_str"] == "success"
    a = mask_file(server, prefix)
    assert a.shape == (100, 200)
    assert a[50, 30:55].min() > 200                    # painted along the stroke
    assert a[:, 120:].max() == 0 and a[:25, :].max() == 0   # nothing elsewhere


def test_no_painting_gives_an_all_zero_mask(server, api, new_page):
    img = noise_image(server.folder("input"), 64, 64, name="nomask.png", seed=6)
    page = new_page(server)
    prefix = f"nopaint_{int(time.time() * 1000)}"
    build_gate_graph(page, img, routes=2, labels="a,b", prefix=prefix)
    queue(page)
    wait_buttons(page)
    click_route(page, "b")
    wait_no_buttons(page)
    deadline = time.time() + 30
    while time.time() < deadline and not [f for f in saved(server.folder("output"), prefix) if "_mask_" in f]:
        time.sleep(0.2)
    assert mask_file(server, prefix).max() == 0


def test_example_workflow_pauses_on_the_first_sample_and_keep_saves_it(server, api, new_page):
    """The example sorts with one Run: keep saves image 1 (with its caption) and image 2 shows by itself."""
    uid = f"example_{int(time.time() * 1000)}"
    sample = server.folder(f"input/{uid}")
    shutil.copytree(os.path.join(REPO, "example_data", "sample_dataset"), sample)
    page = new_page(server)
    panel = SortPanel(page)
    wf = json.load(open(os.path.join(REPO, "example_workflows", "sort_dataset.json")))
    for node in wf["nodes"]:                          # a fresh copy of the sample: nothing decided yet
        if node["type"] == "FolderImageLoader":
            node["widgets_values"][0] = uid
        if node["type"] == "SaveImageToFolder":
            node["widgets_values"][0] = node["widgets_values"][0].replace("sorted/", f"{uid}_sorted/")
    page.js("(wf) => app.loadGraphData(wf)", wf)
    time.sleep(0.5)
    page.js("() => app.extensionManager?.command?.execute ? app.extensionManager.command.execute('Comfy.QueuePrompt')"
            " : app.queuePrompt(0, 1)")
    panel.wait_progress("1 / 8")
    pending = api.pending()[0]
    assert pending["labels"] == ["keep", "reject", "fix"]
    assert (pending["width"], pending["height"]) == (512, 512)      # cat_01.png, the first in natural order
    click_route(page, "keep")
    panel.wait_progress("2 / 8")                     # the next image, without another Run
    assert api.wait_history(pending["prompt_id"])["status"]["status_str"] == "success"
    keep = server.folder(f"output/{uid}_sorted/keep")
    assert sorted(os.listdir(keep)) == ["cat_01.png", "cat_01.txt"]
    assert open(os.path.join(keep, "cat_01.txt")).read() == open(os.path.join(sample, "cat_01.txt")).read().strip()
    assert not os.path.exists(server.folder(f"output/{uid}_sorted/reject"))
    api.reset()


# A frontend without the command (older, or a future one that renames it): the
# real page, with the command hidden from the store before the pause is shown.
HIDE_MASK_COMMAND = """() => {
  const store = app.extensionManager.command;
  const all = store.commands;
  const run = store.execute.bind(store);
  Object.defineProperty(store, "commands", { configurable: true,
    get: () => all.filter(c => c.id !== "Comfy.MaskEditor.OpenMaskEditor") });
  Object.defineProperty(store, "execute", { configurable: true, value: (id, o) =>
    id === "Comfy.MaskEditor.OpenMaskEditor" ? Promise.reject(new Error(`Command ${id} not found`)) : run(id, o) });
}"""


def test_without_the_core_maskeditor_the_button_says_so_and_routing_works(server, api, new_page):
    img = noise_image(server.folder("input"), 64, 64, name="noeditor.png", seed=7)
    page = new_page(server)
    page.js(HIDE_MASK_COMMAND)
    prefix = f"noeditor_{int(time.time() * 1000)}"
    build_gate_graph(page, img, routes=2, labels="a,b", prefix=prefix)
    pid = run_to_pause(page, api)
    mask_btn = page.page.locator(GatePanel.mask)
    assert mask_btn.text_content() == "Edit mask (unavailable)"
    assert mask_btn.is_disabled()
    page.page.keyboard.press("m")                      # the key opens nothing either, and breaks nothing
    time.sleep(0.5)
    assert page.js("() => !document.getElementById('maskEditorCanvasContainer')")
    click_route(page, "b")
    wait_no_buttons(page)
    assert api.wait_history(pid)["status"]["status_str"] == "success"
    assert kinds(server.folder("output"), prefix) == ["mask", "route2"]
    errs = page.real_errors()
    assert errs == [], "\n".join(errs)
