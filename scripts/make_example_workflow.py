"""Regenerate example_workflows/ with the REAL frontend: build the sort graph in the page,
then save its UI format and its API format (what the tests queue).

    .venv/bin/python scripts/make_example_workflow.py
"""
import json
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests"))

from playwright.sync_api import sync_playwright  # noqa: E402

from gates import names  # noqa: E402
from harness.comfy import ComfyServer  # noqa: E402

BUILD = """
async () => {
  app.graph.clear();
  const add = (type, pos, size) => { const n = LiteGraph.createNode(type); n.pos = pos; app.graph.add(n);
                                    if (size) n.setSize(size); return n; };
  const set = (n, name, v) => { const w = n.widgets.find(w => w.name === name); w.value = v; w.callback?.(v); };
  const loader = add("FolderImageLoader", [40, 120]);
  set(loader, "folder", "dataset_gates_sample");
  set(loader, "control_after_generate", "increment");
  const gate = add("ImageGate", [420, 80]);
  set(gate, "routes", 3);
  set(gate, "labels", "keep, reject, fix");
  loader.connect(0, gate, 0);
  ["keep", "reject", "fix"].forEach((r, i) => {
    const s = add("SaveImageToFolder", [900, 40 + i * 300]);
    s.title = `Save: ${r}`;
    set(s, "folder", `sorted/${r}`);
    gate.connect(i + 1, s, "image");
    loader.connect(3, s, "filename");
    loader.connect(1, s, "caption");
    if (r === "fix") gate.connect(0, s, "mask");
  });
  app.graph.setDirtyCanvas(true, true);
  const p = await app.graphToPrompt();
  return { ui: p.workflow, api: p.output };
}
"""

with ComfyServer() as srv, sync_playwright() as pw:
    b = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox", "--disable-gpu"])
    page = b.new_page()
    page.goto(srv.url)
    page.wait_for_function("() => window.app && app.graph && app.canvas"
                           f" && app.extensions.some(e => e.name === '{names.EXTENSION}')",
                           timeout=60000)
    out = page.evaluate(BUILD)
    b.close()
os.makedirs(os.path.join(REPO, "example_workflows"), exist_ok=True)
with open(os.path.join(REPO, "example_workflows", "sort_dataset.json"), "w") as f:
    json.dump(out["ui"], f, indent=1)
with open(os.path.join(REPO, "tests", "data", "sort_dataset.api.json"), "w") as f:
    json.dump(out["api"], f, indent=1)
print(json.dumps(out["api"], indent=1))
