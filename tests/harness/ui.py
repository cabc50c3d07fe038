"""Page-side helpers for the e2e tests: build graphs with LiteGraph, queue, read the gate's DOM."""
from __future__ import annotations

BUILD_GATE_GRAPH = """
({image, routes, labels, prefix, batch, timeout}) => {
  app.graph.clear();
  const add = (type, pos) => { const n = LiteGraph.createNode(type); n.pos = pos; app.graph.add(n); return n; };
  const load = add("LoadImage", [20, 60]);
  const img = load.widgets.find(w => w.name === "image");
  if (!img.options.values.includes(image)) img.options.values.push(image);
  img.value = image;
  const gate = add("ImageGate", [360, 40]);
  gate.widgets.find(w => w.name === "routes").value = routes;
  gate.widgets.find(w => w.name === "routes").callback?.(routes);
  gate.widgets.find(w => w.name === "labels").value = labels;
  gate.widgets.find(w => w.name === "labels").callback?.(labels);
  if (timeout) gate.widgets.find(w => w.name === "timeout_seconds").value = timeout;
  if (batch > 1) {
    const rep = add("RepeatImageBatch", [20, 480]);
    rep.widgets.find(w => w.name === "amount").value = batch;
    load.connect(0, rep, 0); rep.connect(0, gate, 0);
  } else load.connect(0, gate, 0);
  for (let k = 1; k <= routes; k++) {
    const s = add("SaveImage", [1150, 40 + (k - 1) * 120]);
    s.widgets.find(w => w.name === "filename_prefix").value = `${prefix}_route${k}`;
    gate.connect(k, s, 0);
  }
  const m2i = add("MaskToImage", [1150, 40 + routes * 120]);
  gate.connect(0, m2i, 0);
  const ms = add("SaveImage", [1400, 40 + routes * 120]);
  ms.widgets.find(w => w.name === "filename_prefix").value = `${prefix}_mask`;
  m2i.connect(0, ms, 0);
  app.canvas.ds.offset = [0, 0]; app.canvas.ds.scale = 1;
  app.graph.setDirtyCanvas(true, true);
  return gate.id;
}
"""


def build_gate_graph(page, image, routes=3, labels="keep,reject,fix", prefix="e2e", batch=1, timeout=0):
    return page.js(BUILD_GATE_GRAPH, {"image": image, "routes": routes, "labels": labels, "prefix": prefix,
                                      "batch": batch, "timeout": timeout})


def queue(page):
    page.js("() => app.queuePrompt(0, 1)")


def run_to_pause(page, api):
    """Queue the page's graph, wait for the gate's buttons; return the paused prompt's id."""
    queue(page)
    wait_buttons(page)
    return api.get("/datasete_gate/pending")[1]["pending"][0]["prompt_id"]


def buttons(page):
    return page.js("() => [...document.querySelectorAll('.dsg-panel button')].filter(b => b.offsetParent)"
                   ".map(b => b.textContent)")


def wait_buttons(page, timeout=30000):
    page.page.wait_for_function(
        "() => [...document.querySelectorAll('.dsg-panel button.dsg-route')].some(b => b.offsetParent)",
        timeout=timeout)


def wait_no_buttons(page, timeout=15000):
    page.page.wait_for_function(
        "() => ![...document.querySelectorAll('.dsg-panel button.dsg-route')].some(b => b.offsetParent)",
        timeout=timeout)


def click_route(page, label):
    page.page.locator(".dsg-panel button.dsg-route", has_text=label).first.click()
