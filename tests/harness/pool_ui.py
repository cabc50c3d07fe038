"""Page object of the Image Pool (Grid) and Pool Profile nodes: every selector of them lives here."""
from __future__ import annotations

from gates.core.names import CSS_PREFIX

P = CSS_PREFIX
POOL = f".{P}pool"
CELL = f".{P}pool-cell"
PROFILE_SELECT = f".{P}profile select"

BUILD_POOL_GRAPH = """
({prefix, profile}) => {
  app.graph.clear();
  const add = (type, pos) => { const n = LiteGraph.createNode(type); n.pos = pos; app.graph.add(n); return n; };
  const pool = add("GridImagePool", [300, 40]);
  const save = add("SaveImage", [900, 40]);
  save.widgets.find(w => w.name === "filename_prefix").value = `${prefix}_img`;
  pool.connect(0, save, 0);
  const m2i = add("MaskToImage", [900, 420]);
  pool.connect(1, m2i, 0);
  const ms = add("SaveImage", [1150, 420]);
  ms.widgets.find(w => w.name === "filename_prefix").value = `${prefix}_mask`;
  m2i.connect(0, ms, 0);
  let prof = null;
  if (profile) { prof = add("PoolProfile", [20, 40]); prof.connect(0, pool, pool.findInputSlot("profile")); }
  app.canvas.ds.offset = [0, 0]; app.canvas.ds.scale = 1;
  app.graph.setDirtyCanvas(true, true);
  return {pool: pool.id, profile: prof ? prof.id : null};
}
"""

# A graph of one LoadImage (node id 1) showing an input image, as a restored draft of another test can be:
# the frontend keeps that image as node 1's output (until app.clean, which BUILD_POOL_GRAPH's graph.clear is
# not) and, on 1.32 .. 1.58 with canvas nodes, copies it into node.images of whichever node next has id 1.
LOAD_IMAGE_GRAPH = """
async (name) => {
  await app.loadGraphData({last_node_id: 1, last_link_id: 0, links: [], groups: [], config: {}, extra: {},
    version: 0.4, nodes: [{id: 1, type: "LoadImage", pos: [300, 40], size: [315, 314], flags: {}, order: 0,
      mode: 0, inputs: [], properties: {}, widgets_values: [name, "image"],
      outputs: [{name: "IMAGE", type: "IMAGE", links: null}, {name: "MASK", type: "MASK", links: null}]}]});
  app.graph.setDirtyCanvas(true, true);
}
"""

# Drop PNG files of these colours on the pool's grid, as a person drops files from the desktop.
DROP = f"""
async (colors) => {{
  const dt = new DataTransfer();
  for (const [i, c] of colors.entries()) {{
    const cv = document.createElement('canvas'); cv.width = 64; cv.height = 48;
    const x = cv.getContext('2d'); x.fillStyle = `rgb(${{c[0]}},${{c[1]}},${{c[2]}})`; x.fillRect(0, 0, 64, 48);
    const blob = await new Promise(r => cv.toBlob(r, 'image/png'));
    dt.items.add(new File([blob], `drop_${{i}}.png`, {{type: 'image/png'}}));
  }}
  const root = [...document.querySelectorAll('{POOL}')].find(e => e.offsetParent);
  for (const type of ['dragenter', 'dragover', 'drop'])
    root.dispatchEvent(new DragEvent(type, {{dataTransfer: dt, bubbles: true, cancelable: true}}));
}}
"""


# Paste one PNG of this colour with the pool node selected, as Ctrl+V with an image on the clipboard.
PASTE = """
async ({node, color}) => {
  const cv = document.createElement('canvas'); cv.width = 20; cv.height = 20;
  const x = cv.getContext('2d'); x.fillStyle = `rgb(${color[0]},${color[1]},${color[2]})`; x.fillRect(0, 0, 20, 20);
  const blob = await new Promise(r => cv.toBlob(r, 'image/png'));
  const dt = new DataTransfer();
  dt.items.add(new File([blob], 'paste.png', {type: 'image/png'}));
  app.canvas.deselectAll?.(); app.canvas.selectNode(app.graph.getNodeById(node));
  document.dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true}));
}
"""


class PoolNode:
    def __init__(self, page):
        self.page = page                      # harness.fixtures.Page

    def load_image_first(self, name, timeout=30000):
        """Show input image ``name`` on a LoadImage with node id 1 and wait until its preview is on it."""
        self.page.js(LOAD_IMAGE_GRAPH, name)
        self.page.page.wait_for_function("() => app.graph.getNodeById(1)?.imgs?.length > 0", timeout=timeout)

    def build(self, prefix, profile=False):
        return self.page.js(BUILD_POOL_GRAPH, {"prefix": prefix, "profile": profile})

    def drop(self, colors):
        self.page.page.wait_for_selector(f"{POOL}:visible", timeout=30000)
        self.page.js(DROP, [list(c) for c in colors])

    def cells(self) -> list:
        return self.page.js(f"""() => [...document.querySelectorAll('{CELL}')].filter(c => c.offsetParent)
            .map(c => ({{index: +c.dataset.index, active: c.dataset.active === 'true', mask: c.dataset.mask === 'true',
                         src: c.querySelector('img').getAttribute('src')}}))""")

    def wait_cells(self, n, timeout=30000):
        self.page.page.wait_for_function(
            f"n => [...document.querySelectorAll('{CELL}')].filter(c => c.offsetParent).length === n",
            arg=n, timeout=timeout)

    def wait_cell(self, index, what, timeout=30000):
        self.page.page.wait_for_selector(f"{CELL}[data-index='{index}'][data-{what}='true']", timeout=timeout)

    def click_thumb(self, index):
        self.page.page.locator(f"{CELL}[data-index='{index}'] img").first.click()

    def click_mask(self, index):
        self.page.page.locator(f"{CELL}[data-index='{index}'] .{P}pool-mask").first.click()

    def pick_profile(self, profile_id):
        self.page.page.locator(f"{PROFILE_SELECT}:visible").first.select_option(profile_id)

    def wait_profile_option(self, profile_id, timeout=30000):
        self.page.page.wait_for_selector(f"{PROFILE_SELECT} option[value='{profile_id}']", state="attached",
                                         timeout=timeout)

    def upload(self, path):
        self.page.page.locator(f"{POOL} input[type=file]").first.set_input_files(path)

    def paste(self, node_id, color):
        self.page.js(PASTE, {"node": node_id, "color": list(color)})

    def set_label(self, index, text):
        box = self.page.page.locator(f"{CELL}[data-index='{index}'] .{P}pool-label").first
        box.fill(text)
        box.press("Enter")
        box.evaluate("e => e.blur()")

    def remove(self, index):
        self.page.page.locator(f"{CELL}[data-index='{index}'] .{P}pool-remove").first.click()
