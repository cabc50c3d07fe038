"""The Image Chooser Gate in tests: an API-format graph of distinct images, what it saved, and the
page object of its grid (every selector of the chooser's panel lives here)."""
from __future__ import annotations

import os
import uuid

import numpy as np
from PIL import Image

from gates.core.names import CSS_PREFIX

from .graphs import Graph, saved

# Six colours far apart, so a saved image says which input it was (JPEG-free PNGs keep them exact).
COLORS = [0xE6194B, 0x3CB44B, 0x4363D8, 0xF58231, 0x911EB4, 0x46F0F0, 0xF032E6, 0xBCF60C]


def rgb(color: int) -> tuple:
    return (color >> 16) & 0xFF, (color >> 8) & 0xFF, color & 0xFF


class ChooserGraph:
    """EmptyImage per colour -> ImageBatch chain -> ImageChooserGate; per wired route k: SaveImage of
    its images (``<prefix>_img<k>``), MaskToImage -> SaveImage of its masks (``<prefix>_mask<k>``) and
    PreviewAny of its indices. ``original=True`` gives the chooser only ``images`` (the original
    project's node), every other input at its default."""

    def __init__(self, count: int = 6, routes: int = 3, labels: str = "a,b,c", wire: int | None = None,
                 size: tuple = (40, 24), prefix: str | None = None, original: bool = False, **inputs):
        self.prefix = prefix or "ch" + uuid.uuid4().hex[:8]
        self.colors = [COLORS[i % len(COLORS)] for i in range(count)]
        self.graph = g = Graph()
        w, h = size
        src = None
        for c in self.colors:
            one = g.node("EmptyImage", width=w, height=h, batch_size=1, color=c)
            src = one if src is None else g.node("ImageBatch", image1=src.out(0), image2=one.out(0))
        opts = {} if original else {"routes": routes, "labels": labels, **inputs}
        self.gate = g.node("ImageChooserGate", images=src.out(0), **opts)
        self.savers, self.mask_savers, self.indices = {}, {}, {}
        for k in range(1, (wire or (1 if original else routes)) + 1):
            base = 3 * (k - 1)
            self.savers[k] = g.node("SaveImage", images=self.gate.out(base), filename_prefix=f"{self.prefix}_img{k}")
            if not original:
                m2i = g.node("MaskToImage", mask=self.gate.out(base + 1))
                self.mask_savers[k] = g.node("SaveImage", images=m2i.out(0), filename_prefix=f"{self.prefix}_mask{k}")
                self.indices[k] = g.node("PreviewAny", source=self.gate.out(base + 2))

    def prompt(self) -> dict:
        return self.graph.prompt()

    def files(self, output_dir: str, what: str) -> list:
        """The saved files of one output (``img2``, ``mask1``), in save order."""
        return [f for f in saved(output_dir, self.prefix) if f.startswith(f"{self.prefix}_{what}_")]

    def pixels(self, output_dir: str, what: str) -> list:
        """The centre pixel of every saved image of one output."""
        out = []
        for f in self.files(output_dir, what):
            a = np.asarray(Image.open(os.path.join(output_dir, f)).convert("RGB"))
            out.append(tuple(int(v) for v in a[a.shape[0] // 2, a.shape[1] // 2]))
        return out

    def masks(self, output_dir: str, what: str) -> list:
        return [np.asarray(Image.open(os.path.join(output_dir, f)).convert("L"))
                for f in self.files(output_dir, what)]


P = f"{CSS_PREFIX}ch-"


class ChooserPanel:
    """Page object of the chooser's in-node grid."""

    panel = f".{P}panel"
    cell = f".{P}panel .{P}cell"
    route = f".{P}panel button.{P}route"
    drop = f".{P}panel button.{P}drop"
    select_all = f".{P}panel button.{P}all"
    select_none = f".{P}panel button.{P}none"
    invert = f".{P}panel button.{P}invert"
    mask = f".{P}panel button.{P}mask"
    done = f".{P}panel button.{P}done"
    stop = f".{P}panel button.{P}stop"
    grid = f".{P}panel .{P}grid"
    status = f".{P}panel .{P}status"
    big = f".{CSS_PREFIX}big"

    def __init__(self, page):
        self.page = page                      # harness.fixtures.Page

    # A pause shows on every node that displays it; a gate inside a subgraph also has a panel while
    # the outer graph is on screen (hidden): the page object looks at the visible cells only.
    def wait_grid(self, count=None, timeout=30000):
        """Wait until the grid shows (``count``) cells whose thumbnails have loaded."""
        self.page.page.wait_for_function(
            """([sel, n]) => { const cells = [...document.querySelectorAll(sel)].filter(c => c.offsetParent);
               const loaded = (c) => { const i = c.querySelector('img'); return i?.complete && i.naturalWidth > 0; };
               return cells.length > 0 && (n == null || cells.length === n) && cells.every(loaded); }""",
            arg=[self.cell, count], timeout=timeout)

    def wait_gone(self, timeout=15000):
        self.page.page.wait_for_function(
            "(sel) => ![...document.querySelectorAll(sel)].some(c => c.offsetParent)", arg=self.cell, timeout=timeout)

    def cells(self) -> list:
        """Per cell: index, route ("" = unassigned), selected, focused, masked, badge text, quality badge text
        and whether it is red, thumbnail width."""
        return self.page.js(
            f"""() => [...document.querySelectorAll('{self.cell}')].filter(c => c.offsetParent).map(c => ({{
                index: Number(c.dataset.index), route: c.dataset.route,
                selected: c.classList.contains('{P}selected'), focus: c.classList.contains('{P}focus'),
                masked: c.querySelector('.{P}maskmark').style.display !== 'none',
                badge: c.querySelector('.{P}badge').textContent,
                quality: c.querySelector('.{P}quality')?.textContent ?? null,
                quality_low: !!c.querySelector('.{P}quality.{P}low'),
                thumb: c.querySelector('img').naturalWidth }}))""")

    def wait_masked(self, index, timeout=30000):
        """Wait until cell ``index`` shows its mask badge."""
        self.page.page.wait_for_function(
            """([sel, mark, i]) => [...document.querySelectorAll(sel)].filter(c => c.offsetParent)
               .some(c => c.dataset.index === String(i) && c.querySelector(mark).style.display !== 'none')""",
            arg=[self.cell, f".{P}maskmark", index], timeout=timeout)

    def routes(self) -> list:
        return [c["route"] for c in self.cells()]

    def wait_routes(self, routes, timeout=15000):
        """Wait until the visible cells show ``routes`` ("" = unassigned); on timeout, assert what they show."""
        try:
            self.page.page.wait_for_function(
                "([sel, want]) => [...document.querySelectorAll(sel)].filter(c => c.offsetParent)"
                ".map(c => c.dataset.route).join('|') === want", arg=[self.cell, "|".join(routes)], timeout=timeout)
        except Exception:  # noqa: BLE001 - Playwright's TimeoutError: the assert says what differs
            pass
        assert self.routes() == list(routes)

    def selected(self) -> list:
        return [c["index"] for c in self.cells() if c["selected"]]

    def click_cell(self, index, modifiers=None):
        loc = self.page.page.locator(f"{self.cell}[data-index='{index}']:visible")
        loc.scroll_into_view_if_needed()
        loc.click(modifiers=modifiers or [])

    def dblclick_cell(self, index):
        self.page.page.locator(f"{self.cell}[data-index='{index}']:visible").dblclick()

    def click(self, selector, text=None):
        loc = self.page.page.locator(f"{selector}:visible")
        (loc.filter(has_text=text) if text else loc).first.click()

    def buttons(self) -> list:
        return self.page.js(f"() => [...document.querySelectorAll('.{P}panel button')].filter(b => b.offsetParent)"
                            ".map(b => b.textContent)")

    def status_text(self) -> str:
        return self.page.js(f"() => [...document.querySelectorAll('{self.status}')].find(s => s.offsetParent)"
                            "?.textContent ?? ''")

    def grid_scrolls(self) -> bool:
        """The grid is a scroll box and its last cell can be scrolled into view."""
        return self.page.js(
            f"""() => {{ const g = [...document.querySelectorAll('{self.grid}')].find(g => g.offsetParent);
                const cells = g.querySelectorAll('.{P}cell'), last = cells[cells.length - 1];
                last.scrollIntoView({{block: 'nearest'}});
                const gr = g.getBoundingClientRect(), lr = last.getBoundingClientRect();
                return g.scrollHeight > g.clientHeight && g.scrollTop > 0
                  && lr.bottom <= gr.bottom + 1 && lr.top >= gr.top - 1; }}""")


BUILD_CHOOSER_GRAPH = """
({colors, w, h, routes, labels, prefix, repeat}) => {
  app.graph.clear();
  const add = (type, pos) => { const n = LiteGraph.createNode(type); n.pos = pos; app.graph.add(n); return n; };
  const set = (n, name, v) => { const x = n.widgets.find(x => x.name === name); x.value = v; x.callback?.(v); };
  let src = null;
  colors.forEach((c, i) => {                         // the sources sit left of the view: only the gate is seen
    const e = add("EmptyImage", [-1400, 40 + i * 160]);
    set(e, "width", w); set(e, "height", h); set(e, "batch_size", 1); set(e, "color", c);
    if (!src) { src = e; return; }
    const b = add("ImageBatch", [-900, 40 + i * 160]);
    src.connect(0, b, 0); e.connect(0, b, 1); src = b;
  });
  if (repeat > 1) {
    const r = add("RepeatImageBatch", [-500, 40]);
    set(r, "amount", repeat); src.connect(0, r, 0); src = r;
  }
  const gate = add("ImageChooserGate", [90, 90]);
  set(gate, "routes", routes); set(gate, "labels", labels);
  src.connect(0, gate, 0);
  for (let k = 1; k <= routes; k++) {
    const s = add("SaveImage", [1500, 40 + (k - 1) * 300]);
    set(s, "filename_prefix", `${prefix}_img${k}`);
    gate.connect(3 * (k - 1), s, 0);
    const m2i = add("MaskToImage", [1500, 1000 + k * 100]);
    gate.connect(3 * (k - 1) + 1, m2i, 0);
    const ms = add("SaveImage", [1800, 1000 + k * 300]);
    set(ms, "filename_prefix", `${prefix}_mask${k}`);
    m2i.connect(0, ms, 0);
  }
  gate.setSize([Math.max(gate.size[0], 640), gate.size[1]]);
  app.canvas.ds.offset = [0, 0]; app.canvas.ds.scale = 1;
  app.graph.setDirtyCanvas(true, true);
  return gate.id;
}
"""


def build_chooser_graph(page, count=6, routes=3, labels="keep,fix,later", prefix="e2e", size=(64, 48),
                        repeat=1) -> ChooserGraph:
    """The chooser graph built in the page (as a person would, with LiteGraph); returns its API twin
    for checking what it saved (same prefix and colours)."""
    cg = ChooserGraph(count=count, routes=routes, labels=labels, size=size, prefix=prefix)
    cg.gate.id = str(page.js(BUILD_CHOOSER_GRAPH, {"colors": cg.colors, "w": size[0], "h": size[1],
                                                   "routes": routes, "labels": labels, "prefix": prefix,
                                                   "repeat": repeat}))
    return cg
