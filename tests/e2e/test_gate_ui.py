"""The gate in the real frontend (headless Chromium), on the e2e variants (tests/harness/matrix.py)."""
import time

import pytest

from gates.core.names import EXTENSION, ROUTE_PENDING
from harness.fixtures import CHROMIUM_ARGS, Page, chromium_path
from harness.graphs import kinds, noise_image, saved
from harness.ui import (
    GatePanel,
    build_gate_graph,
    buttons,
    click_route,
    queue,
    run_to_pause,
    wait_buttons,
    wait_no_buttons,
)


@pytest.fixture
def image(server):
    return noise_image(server.folder("input"), 96, 64, name="e2e_gate.png", seed=3)


def outputs(page):
    """The outputs the gate SHOWS, in order: [name, label, links]. All twelve stay on the node (caption is
    output 11, as on the server); routes past `routes` are hidden: on the canvas their slot lies outside the
    node, with Nodes 2.0 their row is not displayed."""
    return page.js("""() => { const n = app.graph._nodes.find(n => n.type === 'ImageGate');
        const el = document.querySelector(`[data-node-id="${n.id}"]`);
        const rows = el ? [...el.querySelectorAll('.lg-slot--output')] : null;
        const shown = (o, i) => {
          if (rows && rows.length === n.outputs.length) return !!rows[i].offsetParent;
          const [x, y] = n.getOutputPos(i);
          return y >= n.pos[1] && y <= n.pos[1] + n.size[1] && Math.abs(x - (n.pos[0] + n.size[0])) < 30;
        };
        return n.outputs.filter(shown).map(o => [o.name, o.label ?? null, (o.links ?? []).length]); }""")


def all_outputs(page):
    return page.js("""() => app.graph._nodes.find(n => n.type === 'ImageGate').outputs.map(o => o.name)""")


def wait_vue_panel(page):
    page.page.wait_for_function("() => [...document.querySelectorAll('[data-node-id]')]"
                                f".some(e => e.querySelector('{GatePanel.panel}'))", timeout=15000)


@pytest.mark.smoke
def test_extension_loads_and_outputs_follow_routes_and_labels(server, new_page, frontend):
    page = new_page(server)
    vue = page.js("() => !!app.extensionManager?.setting?.get?.('Comfy.VueNodes.Enabled')")
    assert vue == frontend.endswith("+vue")
    assert page.js("() => app.extensions.some(e => e.name === '" + EXTENSION + "')")
    assert page.js("() => LiteGraph.registered_node_types.ImageGate.nodeData.output.length") == 12   # + caption
    page.js("""() => { app.graph.clear(); const n = LiteGraph.createNode('ImageGate'); n.pos = [300, 60];
              app.graph.add(n); const s = LiteGraph.createNode('SaveImage'); s.pos = [700, 60]; app.graph.add(s); }""")
    if vue:                                          # Nodes 2.0 renders the node (and our panel) as DOM
        wait_vue_panel(page)
    assert [o[0] for o in outputs(page)] == ["mask", "route_1", "route_2", "caption"]   # caption after the routes
    assert all_outputs(page)[11] == "caption"                                          # ... and output 11
    assert [o[1] for o in outputs(page)][1:3] == ["1", "2"]
    page.js("""() => { const n = app.graph._nodes.find(n => n.type === 'ImageGate');
              const w = n.widgets.find(w => w.name === 'routes'); w.value = 4; w.callback(4);
              const l = n.widgets.find(w => w.name === 'labels');
              l.value = 'keep, reject, fix, later'; l.callback(l.value);
              n.connect(4, app.graph._nodes.find(n => n.type === 'SaveImage'), 0); }""")
    assert outputs(page) == [["mask", None, 0], ["route_1", "keep", 0], ["route_2", "reject", 0],
                             ["route_3", "fix", 0], ["route_4", "later", 1], ["caption", None, 0]]
    page.js("""() => { const n = app.graph._nodes.find(n => n.type === 'ImageGate');
              const w = n.widgets.find(w => w.name === 'routes'); w.value = 2; w.callback(2); }""")
    assert outputs(page) == [["mask", None, 0], ["route_1", "keep", 0], ["route_2", "reject", 0], ["caption", None, 0]]
    assert page.js("() => Object.keys(app.graph.links ?? {}).length === 0 || "
                   "[...(app.graph.links instanceof Map ? app.graph.links.values() : Object.values(app.graph.links))]"
                   ".filter(Boolean).length === 0")
    # back to 3 and save; load the workflow into a fresh page
    page.js("""() => { const n = app.graph._nodes.find(n => n.type === 'ImageGate');
              const w = n.widgets.find(w => w.name === 'routes'); w.value = 3; w.callback(3); }""")
    wf = page.js("() => app.graph.serialize()")
    fresh = new_page(server)
    fresh.js("(wf) => app.loadGraphData(wf)", wf)
    if vue:
        wait_vue_panel(fresh)
    assert outputs(fresh) == [["mask", None, 0], ["route_1", "keep", 0], ["route_2", "reject", 0],
                              ["route_3", "fix", 0], ["caption", None, 0]]
    assert all_outputs(fresh)[11] == "caption"
    assert page.real_errors() == [] and fresh.real_errors() == []


@pytest.mark.parametrize("which", ["first", "last"])
def test_pause_shows_preview_and_buttons_and_a_click_routes(server, api, new_page, image, which):
    page = new_page(server)
    prefix = f"ui_{which}_{int(time.time() * 1000)}"
    build_gate_graph(page, image, routes=3, labels="keep,reject,fix", prefix=prefix)
    queue(page)
    wait_buttons(page)
    assert buttons(page) == ["keep", "reject", "fix", "Crop", "Edit mask", "Stop"]
    assert GatePanel(page).preview_loaded(96)
    pid = api.pending()[0]["prompt_id"]
    label, k = ("keep", 1) if which == "first" else ("fix", 3)
    click_route(page, label)
    wait_no_buttons(page)
    h = api.wait_history(pid)
    assert [d["route"] for o in h["outputs"].values() for d in o.get("gate_decision", [])] == [k]
    assert kinds(server.folder("output"), prefix) == sorted(["mask", f"route{k}"])
    assert page.real_errors() == []


@pytest.mark.smoke
def test_keys_route_and_stop(server, api, new_page, image):
    page = new_page(server)
    prefix = f"keys_{int(time.time() * 1000)}"
    build_gate_graph(page, image, routes=3, prefix=prefix)
    pid = run_to_pause(page, api)
    page.page.mouse.click(5, 450)                    # focus the canvas, nothing typed into
    page.page.keyboard.press("2")
    wait_no_buttons(page)
    assert api.wait_history(pid)["status"]["status_str"] == "success"
    assert kinds(server.folder("output"), prefix) == ["mask", "route2"]
    pid = run_to_pause(page, api)
    page.page.keyboard.press("Escape")
    wait_no_buttons(page)
    assert api.wait_history(pid)["status"]["status_str"] == "error"   # interrupted
    assert api.get(ROUTE_PENDING)[1] == {"pending": []}


def test_route_keys_are_rebindable_keybindings(server, api, new_page, image):
    """Route 2 moved from '2' to 'x' with the frontend's own keybinding settings."""
    new = [{"commandId": "Datasete.Gate.Route2", "combo": {"key": "x", "ctrl": False, "alt": False, "shift": False}}]
    unset = [{"commandId": "Datasete.Gate.Route2", "combo": {"key": "2", "ctrl": False, "alt": False, "shift": False}}]
    assert api.post("/settings/Comfy.Keybinding.NewBindings", new)[0] == 200
    assert api.post("/settings/Comfy.Keybinding.UnsetBindings", unset)[0] == 200
    try:
        page = new_page(server)
        page.page.wait_for_function(                  # user keybindings are applied once the page is idle
            "() => app.extensionManager.command.commands.find(c => c.id === 'Datasete.Gate.Route2')"
            "?.keybinding?.combo?.key === 'x'", timeout=30000)
        prefix = f"rebind_{int(time.time() * 1000)}"
        build_gate_graph(page, image, routes=3, prefix=prefix)
        pid = run_to_pause(page, api)
        page.page.mouse.click(5, 450)
        page.page.keyboard.press("2")                 # unbound now: nothing happens
        time.sleep(0.5)
        assert len(api.pending()) == 1
        page.page.keyboard.press("x")
        wait_no_buttons(page)
        assert api.wait_history(pid)["status"]["status_str"] == "success"
        assert kinds(server.folder("output"), prefix) == ["mask", "route2"]
    finally:
        api.post("/settings/Comfy.Keybinding.NewBindings", [])
        api.post("/settings/Comfy.Keybinding.UnsetBindings", [])


@pytest.mark.parametrize("how", ["stop-button", "comfy-interrupt"])
def test_stop_and_comfyui_cancel_end_the_run_and_clear_the_buttons(server, api, new_page, image, how):
    page = new_page(server)
    prefix = f"stop_{how}_{int(time.time() * 1000)}"
    build_gate_graph(page, image, routes=2, prefix=prefix)
    pid = run_to_pause(page, api)
    if how == "stop-button":
        GatePanel(page).click_stop()
    else:
        page.js("() => window.comfyAPI.api.api.interrupt ? window.comfyAPI.api.api.interrupt() : "
                "fetch('/api/interrupt', {method: 'POST'})")
    wait_no_buttons(page)
    assert api.wait_history(pid)["status"]["status_str"] == "error"
    assert saved(server.folder("output"), prefix) == []


def test_reload_brings_the_buttons_back_and_two_pages_stay_in_step(server, api, new_page, image):
    page = new_page(server)
    prefix = f"reload_{int(time.time() * 1000)}"
    build_gate_graph(page, image, routes=2, labels="yes,no", prefix=prefix)
    page.persist_draft(prefix)
    pid = run_to_pause(page, api)
    page.reload()
    GatePanel(page).wait_labels(["yes", "no"])
    other = new_page(server)
    wait_buttons(other)
    click_route(other, "no")
    wait_no_buttons(other)
    wait_no_buttons(page)                             # answered in one, cleared in the other
    assert api.wait_history(pid)["status"]["status_str"] == "success"
    assert kinds(server.folder("output"), prefix) == ["mask", "route2"]


def test_batch_strip_enlarge_and_countdown(server, api, new_page, image):
    page = new_page(server)
    prefix = f"batch_{int(time.time() * 1000)}"
    build_gate_graph(page, image, routes=2, labels="a,b", prefix=prefix, batch=3, timeout=60)
    queue(page)
    wait_buttons(page)
    panel = GatePanel(page)
    assert panel.preview_count() == 3
    status = panel.status_text()
    assert "batch of 3" in status and "s left" in status
    left = int(status.split("s left")[0].split()[-1])
    assert 30 <= left <= 60                           # 60 s, less what a slow page took to show it
    panel.enlarge_first()
    page.page.keyboard.press("1")                     # keys do nothing while the enlarged view is open
    time.sleep(0.3)
    assert len(api.pending()) == 1
    panel.close_enlarged()
    assert not panel.enlarged_open()
    click_route(page, "b")
    wait_no_buttons(page)
    deadline = time.time() + 20
    while time.time() < deadline and len(saved(server.folder("output"), prefix)) < 6:
        time.sleep(0.2)
    assert kinds(server.folder("output"), prefix) == ["mask"] * 3 + ["route2"] * 3


def test_closing_the_browser_during_a_pause_keeps_the_gate_waiting(server, api, new_page, playwright, image):
    """A second Chromium process pauses the run and is closed; a new page picks the pause up via pending."""
    other = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
    try:
        page = Page(other.new_page(viewport={"width": 1400, "height": 900}), server).open()
        prefix = f"closed_{int(time.time() * 1000)}"
        gate_id = build_gate_graph(page, image, routes=2, labels="keep,drop", prefix=prefix)
        pid = run_to_pause(page, api)
        token = api.pending()[0]["token"]
        assert api.pending()[0]["id"] == str(gate_id)
    finally:
        other.close()                                 # the whole browser goes away mid-pause
    time.sleep(2)
    assert [p["token"] for p in api.pending()] == [token]
    assert api.get("/queue")[1]["queue_running"], "the paused prompt stopped running"
    again = new_page(server)                          # another browser opens the workflow again
    assert build_gate_graph(again, image, routes=2, labels="keep,drop", prefix=prefix) == gate_id
    wait_buttons(again)
    click_route(again, "drop")
    wait_no_buttons(again)
    assert api.wait_history(pid)["status"]["status_str"] == "success"
    assert kinds(server.folder("output"), prefix) == ["mask", "route2"]


def test_switching_workflows_during_a_pause_brings_the_panel_back_at_once(server, api, new_page, image):
    """Load another workflow while a gate waits, then the gate's workflow again: no timer, the hooks redraw it."""
    page = new_page(server)
    panel = GatePanel(page)
    prefix = f"switch_{int(time.time() * 1000)}"
    build_gate_graph(page, image, routes=2, labels="keep,drop", prefix=prefix)
    workflow = page.js("() => JSON.stringify(app.graph.serialize())")
    pid = run_to_pause(page, api)
    page.js("() => app.loadGraphData()")              # the frontend's default workflow: no gate in it
    panel.wait_no_buttons(timeout=5000)
    # Timed inside the page (no test-driver round trips): within 1 s of loading the workflow, and
    # within 3 animation frames of the load's end (a panel brought back by a timer misses those).
    back = page.js("""async ([wf, sel]) => {
        const t0 = performance.now();
        await app.loadGraphData(JSON.parse(wf));
        for (let f = 0; f < 60; f++) {
          if ([...document.querySelectorAll(sel)].some(b => b.offsetParent)) return { f, ms: performance.now() - t0 };
          await new Promise(requestAnimationFrame);
        }
        return { f: -1, ms: performance.now() - t0 }; }""", [workflow, GatePanel.route])
    assert 0 <= back["f"] <= 3, f"the panel came back {back['f']} frames after the load (-1: not within 60)"
    assert back["ms"] < 1000, f"the panel came back after {back['ms']:.0f} ms"
    assert panel.buttons()[:2] == ["keep", "drop"]
    panel.click_route("drop")
    panel.wait_no_buttons()
    assert api.wait_history(pid)["status"]["status_str"] == "success"
    assert kinds(server.folder("output"), prefix) == ["mask", "route2"]
    assert page.real_errors() == []
