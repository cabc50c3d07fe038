"""Regenerate the example workflows with the REAL frontend: build each graph in the page, then save
its UI format (example_workflows/<name>.json), its thumbnail for the Templates dialog
(example_workflows/<name>.jpg; without one the dialog's image request fails, and frontend 1.58 logs
it as a console error) and, when asked, its API format (what the tests queue).

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

from gates.core import names  # noqa: E402
from gates.core.files import atomic_write_bytes  # noqa: E402


@dataclass(frozen=True)
class Example:
    """One example workflow: ``build`` is the body of an async JS function that fills the
    (cleared) graph, with the helpers ``add(type, pos, size?)`` and ``set(node, widget, value)``
    in scope (``set`` refuses a value that a list widget does not offer, as the frontend and the
    server would). ``/*SAMPLE*/`` in it is the shipped sample's folder value. ``api`` names a file
    (relative to the repo) for its API format, or None."""
    build: str
    api: str | None = None


# The examples read the samples the pack ships in place (gates/core/samples.py), so they run in a
# ComfyUI where nothing was copied into input/ (tests/e2e/test_bare_install.py).
SAMPLE = json.dumps(names.SAMPLE_FOLDER)

# Sort a folder with one Run: the loader (sort mode) feeds the first undecided image to the gate,
# its caption goes through the gate's editable box; each route saves image (format "original"),
# caption (and mask).
SORT_DATASET = """
  const loader = add("FolderImageLoader", [40, 120]);
  set(loader, "folder", /*SAMPLE*/);
  set(loader, "mode", "sort");
  set(loader, "control_after_generate", "fixed");
  const gate = add("ImageGate", [420, 80]);
  set(gate, "routes", 3);
  set(gate, "labels", "keep, reject, fix");
  loader.connect(0, gate, 0);
  loader.connect(1, gate, "caption");
  const captionOut = gate.outputs.findIndex(o => o.name === "caption");
  ["keep", "reject", "fix"].forEach((r, i) => {
    const s = add("SaveImageToFolder", [900, 40 + i * 300]);
    s.title = `Save: ${r}`;
    set(s, "folder", `sorted/${r}`);
    set(s, "format", "original");
    gate.connect(i + 1, s, "image");
    loader.connect(3, s, "filename");
    gate.connect(captionOut, s, "caption");
    if (r === "fix") gate.connect(0, s, "mask");
  });
"""

# Pick the good ones from a batch: the eight sample images as one batch of 512 x 512 (Folder Image
# Batch) go to the Image Chooser Gate; "keep" saves its images, "fix" its images and their masks,
# and each route's indices show which inputs went where (the batch's files list says which is which).
PICK_FROM_BATCH = """
  const batch = add("FolderImageBatch", [40, 60]);
  set(batch, "folder", /*SAMPLE*/);
  set(batch, "start", 0);
  set(batch, "count", 8);
  set(batch, "width", 512);
  set(batch, "height", 512);
  const files = add("PreviewAny", [40, 420]);
  files.title = "batch: files";
  batch.connect(2, files, 0);
  const gate = add("ImageChooserGate", [440, 60]);
  gate.title = "Pick the good ones";
  set(gate, "routes", 2);
  set(gate, "labels", "keep, fix");
  set(gate, "default_route", "drop");
  gate.setSize([560, gate.size[1]]);
  batch.connect(0, gate, 0);
  const keep = add("SaveImage", [1060, 40], [320, 300]);
  keep.title = "Save: keep";
  set(keep, "filename_prefix", "picked/keep");
  gate.connect(0, keep, 0);
  const fix = add("SaveImage", [1060, 380], [320, 300]);
  fix.title = "Save: fix";
  set(fix, "filename_prefix", "picked/fix");
  gate.connect(3, fix, 0);
  const toImage = add("MaskToImage", [1060, 720]);
  gate.connect(4, toImage, 0);
  const masks = add("SaveImage", [1400, 720], [320, 300]);
  masks.title = "Save: fix masks";
  set(masks, "filename_prefix", "picked/fix_mask");
  toImage.connect(0, masks, 0);
  [[2, 40], [5, 380]].forEach(([slot, y]) => {
    const show = add("PreviewAny", [1400, y]);
    show.title = slot === 2 ? "keep: indices" : "fix: indices";
    gate.connect(slot, show, 0);
  });
"""

# name -> example; the file is example_workflows/<name>.json (the name ComfyUI's Templates show).
EXAMPLES = {
    "sort_dataset": Example(SORT_DATASET.replace("/*SAMPLE*/", SAMPLE), api="tests/data/sort_dataset.api.json"),
    "pick_from_batch": Example(PICK_FROM_BATCH.replace("/*SAMPLE*/", SAMPLE)),
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
    const offered = w.options?.values;
    if (Array.isArray(offered) && !offered.includes(v))
      throw new Error(`${n.type}'s ${name} does not offer ${JSON.stringify(v)} (only ${offered.join(", ")})`);
    w.value = v; w.callback?.(v);
  };
  /*BUILD*/
  app.graph.setDirtyCanvas(true, true);
  const p = await app.graphToPrompt();
  return { ui: JSON.stringify(p.workflow), api: JSON.stringify(p.output) };
}
"""


# A square picture of the whole graph, drawn by the page's own canvas (no DOM overlays): fit the
# nodes into the centre square of the canvas, draw, and crop that square.
THUMBNAIL = """
() => {
  const c = app.canvas, el = c.canvas, title = LiteGraph.NODE_TITLE_HEIGHT;
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const n of app.graph._nodes) {
    x0 = Math.min(x0, n.pos[0]); y0 = Math.min(y0, n.pos[1] - title);
    x1 = Math.max(x1, n.pos[0] + n.size[0]); y1 = Math.max(y1, n.pos[1] + n.size[1]);
  }
  const side = Math.min(el.width, el.height), pad = 24;
  const s = Math.min((side - 2 * pad) / (x1 - x0), (side - 2 * pad) / (y1 - y0));
  c.ds.scale = s;
  c.ds.offset = [el.width / (2 * s) - (x0 + x1) / 2, el.height / (2 * s) - (y0 + y1) / 2];
  c.setDirty(true, true);
  c.draw(true, true);
  const out = document.createElement("canvas");
  out.width = out.height = side;
  out.getContext("2d").drawImage(el, (el.width - side) / 2, (el.height - side) / 2, side, side, 0, 0, side, side);
  return out.toDataURL("image/png");
}
"""
THUMBNAIL_SIZE = 512


def write_thumbnail(path: str, data_url: str) -> None:
    import base64
    import io

    from PIL import Image

    img = Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))).convert("RGB")
    img = img.resize((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    atomic_write_bytes(path, buf.getvalue())
    os.chmod(path, 0o644)                       # a temp file's 0600 would stay otherwise


def workflow_path(name: str) -> str:
    return os.path.join(REPO, "example_workflows", f"{name}.json")


def write_json(path: str, text: str) -> None:
    """Re-indent the page's JSON string (no values added or changed) and write it atomically."""
    data = json.loads(text)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    atomic_write_bytes(path, (json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode())
    os.chmod(path, 0o644)


def generate(chosen: list) -> None:
    from playwright.sync_api import sync_playwright

    from harness.comfy import ComfyServer
    from harness.fixtures import CHROMIUM_ARGS, chromium_path

    with ComfyServer() as srv, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(srv.url)
        page.wait_for_function("() => window.app && app.graph && app.canvas"
                               f" && app.extensions.some(e => e.name === '{names.EXTENSION}')",
                               timeout=60000)
        for name in chosen:
            ex = EXAMPLES[name]
            out = page.evaluate(PAGE.replace("/*BUILD*/", ex.build))
            write_json(workflow_path(name), out["ui"])
            print(f"wrote {os.path.relpath(workflow_path(name), REPO)}")
            thumb = workflow_path(name)[:-len(".json")] + ".jpg"
            write_thumbnail(thumb, page.evaluate(THUMBNAIL))     # after saving: it moves the view
            print(f"wrote {os.path.relpath(thumb, REPO)}")
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
