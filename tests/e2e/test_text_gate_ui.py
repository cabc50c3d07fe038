"""The Text Gate in the real frontend: pause, edit, Pass; protected mode; the kept text across a reload;
a workflow in the original project's shape."""
import os
import time
import uuid

import pytest

from gates.core.names import EVENT_SHOW
from harness.graphs import noise_image
from harness.text_gate_ui import TextGatePanel, build_text_gate_graph
from harness.ui import queue


@pytest.fixture
def image(server):
    return noise_image(server.folder("input"), 120, 80, name="e2e_text.png", seed=71)


def saved_text(server, out, timeout=20):
    path = server.folder(f"output/{out}/img.txt")
    deadline = time.time() + timeout
    while time.time() < deadline and not os.path.exists(path):
        time.sleep(0.1)
    with open(path, encoding="utf-8") as f:
        return f.read()


def run_to_text_pause(page, api):
    queue(page)
    TextGatePanel(page).wait_waiting()
    (p,) = api.pending()
    assert p["kind"] == "text"
    return p


@pytest.mark.smoke
def test_the_text_gate_pauses_the_edited_text_passes_downstream(server, api, new_page, image):
    page = new_page(server)
    panel = TextGatePanel(page)
    out = f"tg_{uuid.uuid4().hex[:8]}"
    ids = build_text_gate_graph(page, image, "a photo of a cat", out)
    pause = run_to_text_pause(page, api)
    assert pause["text"] == "a photo of a cat"
    assert panel.text() == "a photo of a cat"
    page.page.wait_for_function(f"() => [...document.querySelectorAll('{TextGatePanel.image}')]"
                                ".some(i => i.complete && i.naturalWidth > 0)", timeout=10000)   # the image beside
    panel.fill("a photo of a grey cat\nsitting 1 2 3")            # digits typed here do nothing else
    time.sleep(0.3)
    assert len(api.pending()) == 1
    panel.press("Control+Enter")                                  # Pass
    panel.wait_resolved("passed")
    assert api.wait_history(pause["prompt_id"])["status"]["status_str"] == "success"
    assert saved_text(server, out) == "a photo of a grey cat\nsitting 1 2 3"
    assert os.path.exists(server.folder(f"output/{out}/img.png"))     # `signal` carried the image through
    # the node keeps the passed text once the server's reply to Pass has come back
    panel.wait_widget(ids["gate"], "stored_text", "a photo of a grey cat\nsitting 1 2 3")
    time.sleep(1.0)                                # Ctrl+Enter was Pass, not the frontend's Queue as well
    q = api.get("/queue")[1]
    assert not q["queue_running"] and not q["queue_pending"]
    assert page.real_errors() == []


def test_protected_never_pauses_and_outputs_the_stored_text(server, api, new_page, image):
    page = new_page(server)
    panel = TextGatePanel(page)
    out = f"tgp_{uuid.uuid4().hex[:8]}"
    ids = build_text_gate_graph(page, image, "upstream text", out, protected_text="")
    page.page.locator(TextGatePanel.box).first.fill("typed while protected")   # the box edits stored_text
    assert panel.widget(ids["gate"], "stored_text") == "typed while protected"
    mark = api.mark()
    queue(page)
    assert saved_text(server, out) == "typed while protected"     # ran through without a pause
    assert api.pending() == [] and not [e for e in api.events[mark:] if e.get("type") == EVENT_SHOW]
    assert panel.text() == "typed while protected"                # the box still edits the stored text
    assert page.real_errors() == []


def test_the_passed_text_survives_a_reload_and_comes_back_until_the_upstream_text_changes(server, api, new_page,
                                                                                          image):
    page = new_page(server)
    panel = TextGatePanel(page)
    out = f"tgr_{uuid.uuid4().hex[:8]}"
    ids = build_text_gate_graph(page, image, "original words", out)
    run_to_text_pause(page, api)
    panel.fill("my better words")
    panel.click_pass()
    panel.wait_resolved("passed")
    assert saved_text(server, out) == "my better words"
    panel.wait_widget(ids["gate"], "stored_text", "my better words")
    page.persist_draft(out, "my better words")        # the draft a reload restores holds the kept text
    page.reload()
    gate = page.js("() => app.graph._nodes.find(n => n.type === 'TextGate')?.id")
    assert gate is not None
    assert panel.widget(gate, "stored_text") == "my better words"
    # a re-run with the same incoming text shows the kept text again
    os.remove(server.folder(f"output/{out}/img.txt"))
    pause = run_to_text_pause(page, api)
    assert pause["text"] == "original words" and panel.text() == "my better words"
    panel.click_pass()
    panel.wait_resolved("passed")
    assert saved_text(server, out) == "my better words"
    # a different incoming text replaces it
    page.js("() => { const n = app.graph._nodes.find(n => n.type === 'PrimitiveString');"
            " const w = n.widgets.find(w => w.name === 'value'); w.value = 'new words'; w.callback?.(w.value); }")
    run_to_text_pause(page, api)
    assert panel.text() == "new words"
    page.page.locator(TextGatePanel.box).first.press("Escape")    # Esc in the box stops the run
    panel.wait_resolved("stopped")
    assert api.pending() == []
    assert page.real_errors() == []


def test_a_workflow_in_the_original_projects_shape_loads_and_runs(server, api, new_page, image):
    """The original saved a TextGate with two widgets (protected, stored_text) and two inputs (text, signal)."""
    page = new_page(server)
    out = f"tgo_{uuid.uuid4().hex[:8]}"
    build_text_gate_graph(page, image, "from the original", out)
    wf = page.js("() => app.graph.serialize()")
    (node,) = [n for n in wf["nodes"] if n["type"] == "TextGate"]
    image_link = next(i["link"] for i in node["inputs"] if i["name"] == "image")
    node["inputs"] = [i for i in node["inputs"] if i["name"] in ("text", "signal")]
    node["widgets_values"] = [False, ""]
    node["properties"] = {"Node name for S&R": "TextGate"}
    wf["links"] = [lk for lk in wf["links"] if (lk[0] if isinstance(lk, list) else lk["id"]) != image_link]
    for n in wf["nodes"]:
        for o in n.get("outputs") or []:
            if o.get("links"):
                o["links"] = [x for x in o["links"] if x != image_link]
    fresh = new_page(server)
    fresh.js("(wf) => app.loadGraphData(wf)", wf)
    time.sleep(0.5)
    panel = TextGatePanel(fresh)
    pause = run_to_text_pause(fresh, api)
    assert pause["text"] == "from the original" and "previews" not in pause
    panel.fill("passed on")
    panel.click_pass()
    panel.wait_resolved("passed")
    assert api.wait_history(pause["prompt_id"])["status"]["status_str"] == "success"
    assert saved_text(server, out) == "passed on"
    assert fresh.real_errors() == []
