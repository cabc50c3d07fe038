"""Page object of the Text Gate's panel, and a Text Gate graph built in the page."""
from __future__ import annotations

from gates.core.names import CSS_PREFIX

P = CSS_PREFIX
TPANEL = f".{P}tpanel"

BUILD_TEXT_GATE_GRAPH = """
({image, text, out, protectedText}) => {
  app.graph.clear();
  const add = (type, pos) => { const n = LiteGraph.createNode(type); n.pos = pos; app.graph.add(n); return n; };
  const set = (n, name, v) => { const w = n.widgets.find(w => w.name === name); w.value = v; w.callback?.(v); };
  const load = add("LoadImage", [20, 60]);
  const img = load.widgets.find(w => w.name === "image");
  if (!img.options.values.includes(image)) img.options.values.push(image);
  img.value = image;
  const src = add("PrimitiveString", [20, 420]);
  set(src, "value", text);
  const gate = add("TextGate", [380, 40]);
  src.connect(0, gate, "text");
  load.connect(0, gate, "signal");
  load.connect(0, gate, "image");
  if (protectedText !== null) { set(gate, "protected", true); set(gate, "stored_text", protectedText); }
  const save = add("SaveImageToFolder", [900, 40]);
  set(save, "folder", out);
  set(save, "filename", "img");
  set(save, "on_conflict", "overwrite");
  gate.connect(1, save, "image");
  gate.connect(0, save, "caption");
  app.canvas.ds.offset = [0, 0]; app.canvas.ds.scale = 1;
  app.graph.setDirtyCanvas(true, true);
  return { gate: gate.id, source: src.id };
}
"""


def build_text_gate_graph(page, image, text, out, protected_text=None):
    """String -> Text Gate (text), LoadImage -> Text Gate (signal and image); the gate's signal and text ->
    a dataset saver writing ``<out>/img.png`` and ``<out>/img.txt``. Returns {gate, source} node ids."""
    return page.js(BUILD_TEXT_GATE_GRAPH, {"image": image, "text": text, "out": out, "protectedText": protected_text})


class TextGatePanel:
    """Every selector of the Text Gate's panel."""

    panel = TPANEL
    box = f"{TPANEL} textarea.{P}text"
    pass_button = f"{TPANEL} button.{P}pass"
    stop = f"{TPANEL} button.{P}tstop"
    image = f"{TPANEL} img.{P}tpreview"
    resolved = f"{TPANEL} .{P}resolved"
    run_again = f"{TPANEL} button.{P}run"
    status = f"{TPANEL} .{P}status"

    def __init__(self, page):
        self.page = page

    def wait_waiting(self, timeout=30000):
        self.page.page.wait_for_function(
            f"() => [...document.querySelectorAll('{self.pass_button}')].some(b => b.offsetParent)", timeout=timeout)

    def wait_idle(self, timeout=15000):
        self.page.page.wait_for_function(
            f"() => ![...document.querySelectorAll('{self.pass_button}')].some(b => b.offsetParent)", timeout=timeout)

    def text(self):
        return self.page.js(f"() => document.querySelector('{self.box}')?.value ?? null")

    def fill(self, text):
        self.page.page.locator(self.box).first.fill(text)

    def press(self, key):
        self.page.page.locator(self.box).first.press(key)

    def click_pass(self):
        self.page.page.locator(self.pass_button).first.click()

    def image_loaded(self) -> bool:
        return self.page.js(f"() => [...document.querySelectorAll('{self.image}')]"
                            ".some(i => i.offsetParent && i.complete && i.naturalWidth > 0)")

    def wait_resolved(self, words, timeout=15000):
        self.page.page.wait_for_function(
            f"(w) => (document.querySelector('{self.resolved}')?.textContent ?? '').includes(w)",
            arg=words, timeout=timeout)

    def status_text(self) -> str:
        return self.page.js(f"() => document.querySelector('{self.status}')?.textContent ?? ''")

    def widget(self, node_id, name):
        return self.page.js("([id, name]) => app.graph.getNodeById(id).widgets.find(w => w.name === name)?.value",
                            [node_id, name])

    def wait_widget(self, node_id, name, value, timeout=10000):
        """Wait until a widget holds ``value`` (the page keeps a passed text when the server's reply comes)."""
        self.page.page.wait_for_function(
            "([id, name, v]) => app.graph.getNodeById(id).widgets.find(w => w.name === name)?.value === v",
            arg=[node_id, name, value], timeout=timeout)
