"""A gate inside a subgraph: the pause shows on the subgraph node and on the gate inside it."""
import time

from harness.graphs import kinds, noise_image
from harness.ui import GatePanel, build_gate_graph, buttons, wait_buttons, wait_no_buttons

CONVERT = """
(gateId) => {
  const gate = app.graph.getNodeById(gateId);
  app.canvas.deselectAll?.();
  app.canvas.selectNode(gate);
  return Promise.resolve(app.extensionManager.command.execute("Comfy.Graph.ConvertToSubgraph")).then(() => {
    const host = app.graph.nodes.find(n => n.subgraph && n.subgraph.nodes.some(x => x.type === "ImageGate"));
    if (!host) return null;
    const inner = host.subgraph.nodes.find(x => x.type === "ImageGate");
    host.pos = [360, 40];
    app.graph.setDirtyCanvas(true, true);
    return [host.id, inner.id];
  });
}
"""

def test_gate_in_a_subgraph_shows_on_the_host_and_inside_and_routes(server, api, new_page):
    img = noise_image(server.folder("input"), 96, 64, name="subgraph_src.png", seed=9)
    page = new_page(server)
    panel = GatePanel(page)
    prefix = f"sub_{int(time.time() * 1000)}"
    gate_id = build_gate_graph(page, img, routes=2, labels="in,out", prefix=prefix)
    ids = page.js(CONVERT, gate_id)
    assert ids, "Comfy.Graph.ConvertToSubgraph did not put the gate in a subgraph"
    host_id, inner_id = ids

    m = api.mark()
    page.js("() => app.queuePrompt(0, 1)")
    show = api.wait_gate(timeout=60, since=m)
    assert show["id"] == f"{host_id}:{inner_id}"      # the backend's execution id of the inner gate

    # The root graph is shown: the subgraph node carries the preview and the buttons.
    wait_buttons(page)
    assert panel.token_on([host_id]) == show["token"]
    assert [b for b in buttons(page) if b in ("in", "out")] == ["in", "out"]
    assert panel.preview_count() >= 1

    # Open the subgraph: the gate itself shows the same pause; answer there.
    page.js("""([hostId]) => { const host = app.graph.getNodeById(hostId);
        if (app.canvas.openSubgraph) app.canvas.openSubgraph(host.subgraph, host);
        else app.canvas.setGraph(host.subgraph); }""",
            [host_id])
    page.page.wait_for_function("() => app.canvas.graph !== app.rootGraph", timeout=10000)
    deadline = time.time() + 10
    while panel.token_on([host_id, inner_id]) != show["token"] and time.time() < deadline:
        time.sleep(0.05)
    assert panel.token_on([host_id, inner_id]) == show["token"]
    wait_buttons(page)
    panel.click_route("out")
    wait_no_buttons(page)
    h = api.wait_history(show["prompt_id"])
    assert h["status"]["status_str"] == "success"
    assert kinds(server.folder("output"), prefix) == ["mask", "route2"]
    assert panel.token_on([host_id]) is None      # the host's panel cleared too
    errs = page.real_errors()
    assert errs == [], '\n'.join(errs)
