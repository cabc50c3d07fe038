"""Page-side helpers for the e2e tests: build graphs with LiteGraph, queue, and the gate panel's page object."""
from __future__ import annotations

from gates.core.names import CSS_PREFIX

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
    return api.pending()[0]["prompt_id"]


P = CSS_PREFIX
PANEL = f".{P}panel"


class GatePanel:
    """Page object of the gates' in-node panels: every selector of the panel lives here."""

    panel = PANEL
    button = f"{PANEL} button"
    route = f"{PANEL} button.{P}route"
    mask = f"{PANEL} button.{P}mask"
    stop = f"{PANEL} button.{P}stop"
    preview = f"{PANEL} img.{P}preview"
    status = f"{PANEL} .{P}status"
    big = f".{P}big"
    caption = f"{PANEL} textarea.{P}caption"
    overlay = f"{PANEL} img.{P}overlay"
    clear = f"{PANEL} button.{P}clear"
    badge = f"{PANEL} .{P}badge"
    resolved = f"{PANEL} .{P}resolved"
    run_again = f"{PANEL} button.{P}run"
    crop_box = f"{PANEL} .{P}cropbox"
    crop_button = f"{PANEL} button.{P}cropbutton"

    def crop_shown(self) -> bool:
        return self.page.js(f"() => !!document.querySelector('{self.crop_box}')")

    def crop_value(self):
        """The crop box as the answer would carry it ({x, y, width, height} in source pixels), or None."""
        return self.page.js(f"() => {{ const b = document.querySelector('{self.crop_box}');"
                            " return b ? JSON.parse(b.dataset.box) : null; }")

    def crop_bucket(self) -> str:
        return self.page.js(f"() => document.querySelector('{self.crop_box} span')?.textContent ?? ''")

    def __init__(self, page):
        self.page = page                      # harness.fixtures.Page

    def buttons(self) -> list:
        return self.page.js(f"() => [...document.querySelectorAll('{self.button}')].filter(b => b.offsetParent)"
                            ".map(b => b.textContent)")

    def wait_buttons(self, timeout=30000):
        self.page.page.wait_for_function(
            f"() => [...document.querySelectorAll('{self.route}')].some(b => b.offsetParent)", timeout=timeout)

    def wait_no_buttons(self, timeout=15000):
        self.page.page.wait_for_function(
            f"() => ![...document.querySelectorAll('{self.route}')].some(b => b.offsetParent)", timeout=timeout)

    def wait_labels(self, labels, timeout=30000):
        """Wait until the visible route buttons start with ``labels``; on timeout, assert what they show."""
        try:
            self.page.page.wait_for_function(
                "([sel, want]) => [...document.querySelectorAll(sel)].filter(b => b.offsetParent)"
                ".map(b => b.textContent).slice(0, want.length).join('|') === want.join('|')",
                arg=[self.route, list(labels)], timeout=timeout)
        except Exception:  # noqa: BLE001 - Playwright's TimeoutError: the assert says what differs
            pass
        assert self.buttons()[:len(labels)] == list(labels)

    def click_route(self, label):
        self.page.page.locator(self.route, has_text=label).first.click()

    def click_mask(self):
        self.page.page.locator(self.mask).first.click()

    def click_stop(self):
        self.page.page.locator(self.stop).first.click()

    def mask_text(self) -> str:
        return self.page.js(f"() => document.querySelector('{self.mask}')?.textContent ?? ''")

    def wait_mask_marked(self, timeout=15000):
        self.page.page.wait_for_function(
            f"() => document.querySelector('{self.mask}')?.textContent.includes('\u2713')", timeout=timeout)

    def preview_count(self) -> int:
        return self.page.js(f"() => document.querySelectorAll('{self.preview}').length")

    def preview_loaded(self, width=None, timeout=10000, selector=None) -> bool:
        """True once a shown preview (of that width) has decoded; the buttons can show before it does."""
        try:
            self.page.page.wait_for_function(
                "([sel, w]) => [...document.querySelectorAll(sel)].some(i => i.offsetParent && i.complete"
                " && i.naturalWidth > 0 && (w === null || i.naturalWidth === w))",
                arg=[selector or self.preview, width], timeout=timeout)
            return True
        except Exception:  # noqa: BLE001 - Playwright's TimeoutError: report False, the test asserts
            return False

    def status_text(self) -> str:
        return self.page.js(f"() => document.querySelector('{self.status}')?.textContent ?? ''")

    def enlarge_first(self):
        self.page.page.locator(self.preview).first.click()
        self.page.page.wait_for_selector(f"{self.big} img", timeout=5000)

    def close_enlarged(self):
        self.page.page.locator(self.big).click()

    def enlarged_open(self) -> bool:
        return self.page.js(f"() => !!document.querySelector('{self.big}')")

    def any_shown(self) -> bool:
        return self.page.js(f"() => !!document.querySelector('{self.panel}')")

    # ---- the caption box, the mask overlay, the resolved state
    def caption_value(self):
        return self.page.js(f"() => document.querySelector('{self.caption}')?.value ?? null")

    def fill_caption(self, text):
        self.page.page.locator(self.caption).first.fill(text)

    def type_in_caption(self, text):
        """Click into the caption box and type ``text`` key by key."""
        self.page.page.locator(self.caption).first.click()
        self.page.page.keyboard.type(text)

    def press_in_caption(self, key):
        self.page.page.locator(self.caption).first.press(key)

    def overlay_shown(self) -> bool:
        """Is a loaded mask overlay displayed over some preview?"""
        return self.page.js(f"() => [...document.querySelectorAll('{self.overlay}')]"
                            ".some(i => i.offsetParent && i.complete && i.naturalWidth > 0)")

    def wait_overlay(self, shown=True, timeout=15000):
        self.page.page.wait_for_function(
            f"(s) => [...document.querySelectorAll('{self.overlay}')]"
            ".some(i => i.offsetParent && i.complete && i.naturalWidth > 0) === s", arg=shown, timeout=timeout)

    def badge_shown(self) -> bool:
        return self.page.js(f"() => [...document.querySelectorAll('{self.badge}')].some(b => b.offsetParent)")

    def click_clear(self):
        self.page.page.locator(self.clear).first.click()

    def resolved_text(self) -> str:
        return self.page.js(f"() => document.querySelector('{self.resolved}')?.textContent ?? ''")

    def wait_resolved(self, words, timeout=15000):
        self.page.page.wait_for_function(
            f"(w) => (document.querySelector('{self.resolved}')?.textContent ?? '').includes(w)",
            arg=words, timeout=timeout)

    def click_run_again(self):
        self.page.page.locator(self.run_again).first.click()

    def token_on(self, path):
        """The pause token shown on a node (None when idle). ``path`` = [id] or [host id, inner id]."""
        return self.page.js(
            """(path) => { let g = app.rootGraph ?? app.graph, node = null;
               for (const id of path) { node = g?.getNodeById(id); g = node?.subgraph; }
               const w = node?.widgets?.find(w => w.name === 'gate_panel');
               return w?.element?.dataset?.token ?? null; }""", path)


BUILD_CAPTION_GRAPH = """
({image, caption, labels, out}) => {
  app.graph.clear();
  const add = (type, pos) => { const n = LiteGraph.createNode(type); n.pos = pos; app.graph.add(n); return n; };
  const set = (n, name, v) => { const w = n.widgets.find(w => w.name === name); w.value = v; w.callback?.(v); };
  const load = add("LoadImage", [20, 60]);
  const img = load.widgets.find(w => w.name === "image");
  if (!img.options.values.includes(image)) img.options.values.push(image);
  img.value = image;
  const text = add("PrimitiveString", [20, 420]);
  set(text, "value", caption);
  const gate = add("ImageGate", [360, 40]);
  set(gate, "routes", labels.length);
  set(gate, "labels", labels.join(","));
  load.connect(0, gate, "image");
  text.connect(0, gate, "caption");
  labels.forEach((label, i) => {
    const s = add("SaveImageToFolder", [1150, 40 + i * 300]);
    set(s, "folder", `${out}/${label}`);
    set(s, "filename", "img");
    set(s, "on_conflict", "overwrite");
    gate.connect(i + 1, s, "image");
    gate.connect(gate.findOutputSlot("caption"), s, "caption");
  });
  app.canvas.ds.offset = [0, 0]; app.canvas.ds.scale = 1;
  app.graph.setDirtyCanvas(true, true);
  return gate.id;
}
"""


def build_caption_graph(page, image, caption, out, labels=("keep", "reject", "fix")):
    """LoadImage + a String caption -> Image Gate -> a dataset saver per route (``<out>/<label>/img.png`` and
    ``img.txt``) whose caption comes from the gate's caption output."""
    return page.js(BUILD_CAPTION_GRAPH, {"image": image, "caption": caption, "labels": list(labels), "out": out})


def buttons(page):
    return GatePanel(page).buttons()


def wait_buttons(page, timeout=30000):
    GatePanel(page).wait_buttons(timeout)


def wait_no_buttons(page, timeout=15000):
    GatePanel(page).wait_no_buttons(timeout)


def click_route(page, label):
    GatePanel(page).click_route(label)


BUILD_SORT_GRAPH = """
({folder, out, labels}) => {
  app.graph.clear();
  const add = (type, pos) => { const n = LiteGraph.createNode(type); n.pos = pos; app.graph.add(n); return n; };
  const set = (n, name, v) => { const w = n.widgets.find(w => w.name === name); w.value = v; w.callback?.(v); };
  const loader = add("FolderImageLoader", [20, 60]);
  set(loader, "folder", folder);
  set(loader, "mode", "sort");
  const gate = add("ImageGate", [360, 40]);
  set(gate, "routes", labels.length);
  set(gate, "labels", labels.join(","));
  loader.connect(0, gate, 0);
  labels.forEach((label, i) => {
    const s = add("SaveImageToFolder", [1150, 40 + i * 260]);
    set(s, "folder", `${out}/${label}`);
    set(s, "on_conflict", "overwrite");
    gate.connect(i + 1, s, "image");
    loader.connect(3, s, "filename");
    loader.connect(1, s, "caption");
    gate.connect(0, s, "mask");
  });
  app.canvas.ds.offset = [0, 0]; app.canvas.ds.scale = 1;
  app.graph.setDirtyCanvas(true, true);
  return gate.id;
}
"""


def build_sort_graph(page, folder, out, labels=("keep", "reject", "fix")):
    return page.js(BUILD_SORT_GRAPH, {"folder": folder, "out": out, "labels": list(labels)})


def wire_sort_caption(page):
    """The sort graph's loader caption (text) into the gate's caption: the caption box shows."""
    page.js("""() => { const ns = app.graph._nodes; const loader = ns.find(n => n.type === "FolderImageLoader");
      const gate = ns.find(n => n.type === "ImageGate"); loader.connect(1, gate, "caption");
      app.graph.setDirtyCanvas(true, true); }""")


class SortPanel(GatePanel):
    """The Image Gate's panel during a folder sort: progress, saving, Undo, the strip, the culling view."""

    progress = f"{PANEL} .{P}progress"
    undo = f"{PANEL} button.{P}undo"
    sort_view = f"{PANEL}.{P}sortview"
    decision = f"{PANEL} .{P}decision"
    cull_host = f".{P}cullhost"
    cull_button = f"{PANEL} button.{P}cullbutton"
    resolved = f"{PANEL} .{P}resolved"

    def progress_text(self) -> str:
        return self.page.js(f"() => document.querySelector('{self.progress}')?.textContent ?? ''")

    def wait_progress(self, starts_with, timeout=30000):
        """Wait until a live sort shows progress starting with ``starts_with`` (e.g. "7 / 8")."""
        self.page.page.wait_for_function(
            f"(t) => document.querySelector('{PANEL}.{P}waiting .{P}progress')?.textContent.startsWith(t)",
            arg=starts_with, timeout=timeout)

    def shown_file(self):
        """The file whose picture is on screen (None while nothing prepared is left to show)."""
        return self.page.js(f"() => {{ const r = document.querySelector('{self.sort_view}');"
                            " return r && r.dataset.sortState !== 'preparing' ? r.dataset.sortFile ?? null : null; }")

    def wait_shown(self, file, timeout=30000):
        self.page.page.wait_for_function(
            f"(f) => {{ const r = document.querySelector('{self.sort_view}');"
            " return !!r && r.dataset.sortFile === f && r.dataset.sortState !== 'preparing'; }",
            arg=file, timeout=timeout)

    def wait_ready_to_key(self, timeout=30000):
        """The sort view is on screen with an image a key can be pressed for."""
        self.page.page.wait_for_function(
            f"() => {{ const r = document.querySelector('{self.sort_view}');"
            " return !!r && ['showing'].includes(r.dataset.sortState); }", timeout=timeout)

    def wait_prepared(self, n, timeout=30000):
        """Wait until the page has ``n`` images prepared (decoded, not decided), the one on screen included."""
        self.page.page.wait_for_function(
            f"(n) => Number(document.querySelector('{self.sort_view}')?.dataset.sortPrepared ?? 0) >= n",
            arg=n, timeout=timeout)

    badges = f"{PANEL} .{P}badges"

    def wait_badges(self, file, timeout=30000) -> dict:
        """Wait until the quality badges on the gate are ``file``'s; {"texts": [...], "low": [...]}."""
        try:
            self.page.page.wait_for_function(
                f"(f) => document.querySelector('{self.badges}')?.dataset.file === f", arg=file, timeout=timeout)
        except Exception as e:
            state = self.page.js(f"() => {{ const b = document.querySelector('{self.badges}');"
                                 " return b ? JSON.stringify({...b.dataset, html: b.outerHTML}) : 'no badges'; }")
            raise AssertionError(f"no badges for {file}: {state}") from e
        return self.page.js(f"() => {{ const b = [...document.querySelectorAll('{self.badges} .{P}badge')];"
                            " return { texts: b.map(x => x.textContent),"
                            f" low: b.filter(x => x.classList.contains('{P}low')).map(x => x.textContent) }}; }}")

    def saving(self) -> int:
        return int(self.page.js(f"() => document.querySelector('{self.sort_view}')?.dataset.sortSaving ?? '0'"))

    def wait_all_saved(self, timeout=60000):
        self.page.page.wait_for_function(
            f"() => document.querySelector('{self.sort_view}')?.dataset.sortSaving === '0'", timeout=timeout)

    def strip_files(self) -> list:
        return self.page.js(f"() => [...document.querySelectorAll('{self.decision}')]"
                            ".map(d => [d.dataset.file, Number(d.dataset.route)])")

    def click_decision(self, file):
        self.page.page.locator(f"{self.decision}[data-file=\"{file}\"]").first.click()

    def click_undo(self):
        self.page.page.locator(self.undo).first.click()

    def cull_open(self) -> bool:
        return self.page.js(f"() => !!document.querySelector('{self.cull_host} .{P}panel')")

    def image_box(self):
        """Width and height of the picture on screen, and of the window."""
        return self.page.js(f"() => {{ const i = document.querySelector('{PANEL} img.{P}preview');"
                            " const b = i.getBoundingClientRect();"
                            " return [b.width, b.height, innerWidth, innerHeight]; }")

    def wait_message(self, words, timeout=30000):
        self.page.page.wait_for_function(
            f"(w) => [...document.querySelectorAll('{PANEL}')].some(p => p.textContent.includes(w))",
            arg=words, timeout=timeout)


class TagBox:
    """The caption box's autocomplete list, tag chips and token count (web/tag_complete.js)."""

    item = f".{P}ac div"
    chip = f"{PANEL} .{P}chip"
    count = f"{PANEL} .{P}tc"

    def __init__(self, page):
        self.page = page

    def items(self) -> list:
        """(tag, count) of the open list, in order; [] when it is closed."""
        return self.page.js(f"() => [...document.querySelectorAll('{self.item}')]"
                            ".map(d => [d.children[0].textContent, Number(d.children[1].textContent)])")

    def wait_items(self, timeout=15000):
        self.page.page.wait_for_function(f"() => document.querySelectorAll('{self.item}').length > 0",
                                         timeout=timeout)
        return self.items()

    def wait_first(self, tag, timeout=15000):
        """Wait until the list's first entry is ``tag`` (the answer for the last key typed); the list."""
        self.page.page.wait_for_function(
            f"(t) => document.querySelector('{self.item}')?.children[0].textContent === t", arg=tag, timeout=timeout)
        return self.items()

    def wait_closed(self, timeout=5000):
        self.page.page.wait_for_function(f"() => !document.querySelector('{self.item}')", timeout=timeout)

    def chips(self) -> list:
        return self.page.js(f"() => [...document.querySelectorAll('{self.chip}')].map(c => c.firstChild.textContent)")

    def wait_tokens(self, n, timeout=15000):
        """Wait until the token count shows ``n``; returns (text, warning class on, colour)."""
        self.page.page.wait_for_function(
            f"(n) => document.querySelector('{self.count}')?.dataset.tokens === String(n)", arg=n, timeout=timeout)
        return self.page.js(f"() => {{ const e = document.querySelector('{self.count}');"
                            f" return [e.textContent, e.classList.contains('{P}warn'), getComputedStyle(e).color]; }}")
