"""A workflow saved by the original Dataset Gates project keeps its route labels.

That project stored them in the Image Gate's ``properties.routeLabels`` (its node had only the
``image`` input and the ``routes`` widget, so ``widgets_values`` is ``[routes]``, and its outputs
were ``mask`` and ``route_1..route_N``). tests/data/original_image_gate.json is such a workflow:
LoadImage -> ImageGate (2 routes, routeLabels keep/reject) -> a SaveImage per route."""
import json
import os
import time

from harness.comfy import PACK_NAME, REPO
from harness.graphs import noise_image, saved
from harness.ui import GatePanel, queue
from harness.workflows_ui import WorkflowOpener

ORIGINAL = os.path.join(REPO, "tests", "data", "original_image_gate.json")

GATE = """() => { const n = (app.rootGraph ?? app.graph)._nodes.find(n => n.type === 'ImageGate');
  const w = (name) => n.widgets.find(w => w.name === name)?.value;
  const shown = n.outputs.filter(o => !(Array.isArray(o.pos) && o.pos[1] === -100000));
  return { routes: w('routes'), labels: w('labels'), properties: n.properties,
           outputs: shown.map(o => [o.name, o.label ?? null]) }; }"""

SAVED_GATE = """() => (app.rootGraph ?? app.graph).serialize().nodes.find(n => n.type === 'ImageGate')"""


def original_workflow(prefix):
    wf = json.load(open(ORIGINAL))
    for node in wf["nodes"]:
        if node["type"] == "SaveImage":
            node["widgets_values"][0] = node["widgets_values"][0].replace("original", prefix)
    return wf


def route_buttons(page) -> list:
    return page.page.locator(GatePanel.route).all_text_contents()


def test_route_labels_of_the_original_project_become_the_labels(server, api, new_page):
    noise_image(server.folder("input"), 80, 60, name="dg_original_gate.png", seed=12)
    prefix = f"orig_{int(time.time() * 1000)}"
    title = f"original project workflow {prefix}"
    folder = server.folder("user/default/workflows")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"{title}.json"), "w") as f:
        json.dump(original_workflow(prefix), f)
    page = new_page(server)
    opener = WorkflowOpener(page, ours=PACK_NAME)
    opener.open_from_sidebar(title)
    opener.wait_loaded(json.load(open(ORIGINAL)))
    time.sleep(0.5)
    assert opener.trouble() == []
    gate = page.js(GATE)
    assert gate["outputs"] == [["mask", None], ["route_1", "keep"], ["route_2", "reject"], ["caption", None]]
    assert (gate["routes"], gate["labels"]) == (2, "keep, reject")
    assert "routeLabels" not in gate["properties"]          # adopted once: the widget is the truth now
    saved_gate = page.js(SAVED_GATE)
    assert "keep, reject" in saved_gate["widgets_values"] and "routeLabels" not in saved_gate["properties"]

    queue(page)
    panel = GatePanel(page)
    panel.wait_buttons()
    assert route_buttons(page) == ["keep", "reject"]
    pause = api.pending()[0]
    assert pause["labels"] == ["keep", "reject"]
    panel.click_route("reject")
    panel.wait_no_buttons()
    h = api.wait_history(pause["prompt_id"])
    assert [(d["route"], d["label"]) for o in h["outputs"].values() for d in o.get("gate_decision", [])] == \
        [(2, "reject")]
    out = server.folder("output")
    assert saved(out, f"{prefix}_reject") and not saved(out, f"{prefix}_keep")
    assert opener.trouble() == []


def test_route_labels_are_adopted_once_into_an_empty_labels_widget(server, new_page):
    """The saved routes count stays (that project kept the labels of routes removed later); an
    unset label shows the route number; a comma stays inside its label; a set widget wins."""
    wf = original_workflow("unused")
    gate = next(n for n in wf["nodes"] if n["type"] == "ImageGate")
    gate["properties"]["routeLabels"] = [None, "reject, later", "fix"]
    page = new_page(server)
    page.js("(wf) => app.loadGraphData(wf)", wf)
    time.sleep(0.5)
    got = page.js(GATE)
    assert (got["routes"], got["labels"]) == (2, ", reject  later, fix")
    assert got["outputs"] == [["mask", None], ["route_1", "1"], ["route_2", "reject  later"], ["caption", None]]
    gate["properties"]["routeLabels"] = ["keep", "reject"]
    gate["widgets_values"] = [2, "yes, no", 0, "stop", False]
    page.js("(wf) => app.loadGraphData(wf)", wf)
    time.sleep(0.5)
    got = page.js(GATE)
    assert (got["routes"], got["labels"]) == (2, "yes, no")
    assert got["outputs"] == [["mask", None], ["route_1", "yes"], ["route_2", "no"], ["caption", None]]
    assert "routeLabels" not in got["properties"]
    assert page.real_errors() == []
