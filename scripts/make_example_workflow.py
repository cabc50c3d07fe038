"""Regenerate the example workflows with the REAL frontend: build each graph in the page, then save
its UI format (example_workflows/<name>.json) and, when asked, its API format (what the tests queue).

    .venv/bin/python scripts/make_example_workflow.py              # every example
    .venv/bin/python scripts/make_example_workflow.py sort_dataset # just that one

The page hands back ``JSON.stringify(...)`` of what it would save, never the object itself:
Playwright turns the page's ``undefined`` into ``null``, and the pinned frontend's schema rejects
such a file ("Invalid workflow against zod schema ... null at floatingLinks").
"""
import argparse
import json
import os
import sys
from dataclasses import dataclass

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "tests"))

from gates import names  # noqa: E402
from gates.files import atomic_write_bytes  # noqa: E402


@dataclass(frozen=True)
class Example:
    """One example workflow: ``build`` is the body of an async JS function that fills the
    (cleared) graph, with the helpers ``add(type, pos, size?)`` and ``set(node, widget, value)``
    in scope. ``api`` names a file (relative to the repo) for its API format, or None."""
    build: str
    api: str | None = None


# Sort a folder: the loader feeds one image per run to the gate; each route saves into its folder.
SORT_DATASET = """
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
"""

# name -> example; the file is example_workflows/<name>.json (the name ComfyUI's Templates show).
EXAMPLES = {
    "sort_dataset": Example(SORT_DATASET, api="tests/data/sort_dataset.api.json"),
    # Next: "pick the good ones from a batch" (ImageChooserGate) as its own entry here.
}

# Clears the graph, runs one builder, and returns what the frontend itself would save.
PAGE = """
async () => {
  app.graph.clear();
  const add = (type, pos, size) => {
    const n = LiteGraph.createNode(type);
    if (!n) throw new Error(`no node type ${type}`);
    n.pos = pos; app.graph.add(n);
    if (size) n.setSize(size);
    return n;
  };
  const set = (n, name, v) => {
    const w = n.widgets?.find(w => w.name === name);
    if (!w) throw new Error(`${n.type} has no widget ${name}`);
    w.value = v; w.callback?.(v);
  };
  /*BUILD*/
  app.graph.setDirtyCanvas(true, true);
  const p = await app.graphToPrompt();
  return { ui: JSON.stringify(p.workflow), api: JSON.stringify(p.output) };
}
"""


def workflow_path(name: str) -> str:
    return os.path.join(REPO, "example_workflows", f"{name}.json")


def write_json(path: str, text: str) -> None:
    """Re-indent the page's JSON string (no values added or changed) and write it atomically."""
    data = json.loads(text)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    atomic_write_bytes(path, (json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode())


def generate(chosen: list) -> None:
    from playwright.sync_api import sync_playwright

    from harness.comfy import ComfyServer
    from harness.fixtures import CHROMIUM_ARGS, chromium_path

    with ComfyServer() as srv, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(srv.url)
        page.wait_for_function("() => window.app && app.graph && app.canvas"
                               f" && app.extensions.some(e => e.name === '{names.EXTENSION}')",
                               timeout=60000)
        for name in chosen:
            ex = EXAMPLES[name]
            out = page.evaluate(PAGE.replace("/*BUILD*/", ex.build))
            write_json(workflow_path(name), out["ui"])
            print(f"wrote {os.path.relpath(workflow_path(name), REPO)}")
            if ex.api:
                write_json(os.path.join(REPO, ex.api), out["api"])
                print(f"wrote {ex.api}")
        browser.close()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", metavar="name", help=f"examples to write (default all: {', '.join(EXAMPLES)})")
    args = ap.parse_args(argv)
    unknown = [n for n in args.names if n not in EXAMPLES]
    if unknown:
        raise SystemExit(f"unknown example {', '.join(unknown)}: known are {', '.join(EXAMPLES)}")
    generate(args.names or list(EXAMPLES))


if __name__ == "__main__":
    main()
