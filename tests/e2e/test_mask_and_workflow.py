"""Edit mask with the core MaskEditor, and the example workflow, in the real frontend."""
import json
import os
import shutil
import time

import numpy as np
import pytest
from PIL import Image

from harness.comfy import REPO
from harness.graphs import kinds, noise_image, saved
from harness.mask_editor import MaskEditor
from harness.ui import (
    GatePanel,
    SortPanel,
    build_gate_graph,
    click_route,
    run_to_pause,
    wait_no_buttons,
)


def mask_file(server, prefix):
    (f,) = [f for f in saved(server.folder("output"), prefix) if "_mask_" in f]
    return np.asarray(Image.open(os.path.join(server.folder("output"), f)).convert("L"))


@pytest.mark.smoke
def test_edit_mask_paints_a_stroke_that_comes_out_on_mask(server, api, new_page):
    img = noise_image(server.folder("input"), 200, 100, name="mask_src.png", seed=5)
    page = new_page(server)
    prefix = f"paint_{int(time.time() * 1000)}"
    build_gate_graph(page, img, routes=2, labels="a,b", prefix=prefix)
    pid = run_to_pause(page, api)
    editor = MaskEditor(page)
    GatePanel(page).click_mask()
    editor.wait_open()
    assert editor.canvas_size() == [200, 100]          # the full-resolution image, not the preview
    editor.paint_stroke()
    editor.save()
    GatePanel(page).wait_mask_marked(timeout=30000)
    editor.wait_closed()
    # Re-opening at once shows the mask painted so far: the editor's mask layer holds the stroke
    # (the first session's delayed clean-up leaves the second one alone).
    GatePanel(page).click_mask()
    editor.wait_open()
    editor.wait_mask_at(40, 50, (200, 100))
    assert editor.no_mask_at(170, 10, (200, 100))      # and nothing where nothing was painted
    page.page.keyboard.press("Escape")                 # close without saving: the saved mask stays
    editor.close()
    editor.wait_closed()
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
    pid = run_to_pause(page, api)
    click_route(page, "b")
    wait_no_buttons(page)
    assert api.wait_history(pid)["status"]["status_str"] == "success"   # SaveImage has written the mask
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
    assert not MaskEditor(page).is_open()
    click_route(page, "b")
    wait_no_buttons(page)
    assert api.wait_history(pid)["status"]["status_str"] == "success"
    assert kinds(server.folder("output"), prefix) == ["mask", "route2"]
    errs = page.real_errors()
    assert errs == [], "\n".join(errs)
