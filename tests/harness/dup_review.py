"""The Duplicate Review (Folder) in the browser: the node built in the page and the page object of
its panel (every selector of the panel lives here)."""
from __future__ import annotations

from gates.core.names import CSS_PREFIX

P = f"{CSS_PREFIX}dup-"

BUILD_REVIEW_GRAPH = """
({folder, output}) => {
  app.graph.clear();
  const n = LiteGraph.createNode("DuplicateReview");
  n.pos = [60, 60];
  app.graph.add(n);
  const set = (name, v) => { const w = n.widgets.find(x => x.name === name); w.value = v; w.callback?.(v); };
  set("folder", folder); set("output", output); set("threshold", 8);
  n.setSize([Math.max(n.size[0], 1000), n.size[1]]);
  app.canvas.ds.offset = [0, 0]; app.canvas.ds.scale = 1;
  app.graph.setDirtyCanvas(true, true);
  return n.id;
}
"""


def build_review_graph(page, folder: str, output: str) -> str:
    """A Duplicate Review node on an empty graph, as a person would add it; its node id."""
    return str(page.js(BUILD_REVIEW_GRAPH, {"folder": folder, "output": output}))


class DupReviewPanel:
    panel = f".{P}panel"
    cell = f".{P}panel .{P}cell"
    confirm = f".{P}panel button.{CSS_PREFIX}dup-confirm"
    undo = f".{P}panel button.{CSS_PREFIX}dup-undo"
    stop = f".{P}panel button.{CSS_PREFIX}dup-stop"
    status = f".{P}panel .{P}status"

    def __init__(self, page):
        self.page = page                      # harness.fixtures.Page

    def wait_group(self, group: int, count: int, timeout=30000):
        """Wait until the panel shows group ``group`` ("group N / M") with ``count`` loaded images."""
        self.page.page.wait_for_function(
            """([sel, status, g, n]) => {
                 const s = [...document.querySelectorAll(status)].find(x => x.offsetParent);
                 const cells = [...document.querySelectorAll(sel)].filter(c => c.offsetParent);
                 const loaded = (c) => { const i = c.querySelector('img'); return i?.complete && i.naturalWidth > 0; };
                 return !!s && s.textContent.includes(`group ${g} /`) && cells.length === n
                   && cells.every(loaded); }""",
            arg=[self.cell, self.status, group, count], timeout=timeout)

    def wait_gone(self, timeout=15000):
        self.page.page.wait_for_function(
            "(sel) => ![...document.querySelectorAll(sel)].some(c => c.offsetParent)", arg=self.cell, timeout=timeout)

    def cells(self) -> list:
        """Per visible cell: its box on screen, kept or not, and its badges' texts."""
        return self.page.js(
            f"""() => [...document.querySelectorAll('{self.cell}')].filter(c => c.offsetParent).map(c => {{
                const r = c.getBoundingClientRect();
                return {{ index: Number(c.dataset.index), keep: c.dataset.keep === '1',
                         left: r.left, top: r.top, width: r.width, height: r.height,
                         size: c.querySelector('.{P}size').textContent, bytes: c.querySelector('.{P}bytes').textContent,
                         sharp: c.querySelector('.{P}sharp').textContent,
                         verdict: c.querySelector('.{P}verdict').textContent }}; }})""")

    def kept(self) -> list:
        return [c["index"] for c in self.cells() if c["keep"]]

    def status_text(self) -> str:
        return self.page.js(f"() => [...document.querySelectorAll('{self.status}')].find(s => s.offsetParent)"
                            "?.textContent ?? ''")

    def press(self, *keys):
        for k in keys:
            self.page.page.keyboard.press(k)
