// @ts-check
// Image Gate extension: registration, server events, commands and keys.
// Outputs live in gate_outputs.js, the panel in gate_panel.js, the MaskEditor
// adapter in mask_editor.js.

import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import { syncOutputs, widget, fitSize } from "./gate_outputs.js";
import { GatePanel } from "./gate_panel.js";
import { editMask, editorOpen, maskEditorAvailable, viewUrl } from "./mask_editor.js";

const NODE_TYPE = "ImageGate";
const PANEL_HEIGHT = 280;

/** node id (as the backend sees it, "12" or "3:12" in a subgraph) -> pause */
const pauses = new Map();
/** token -> saved MaskEditor ref (so re-opening shows the mask painted so far) */
const savedMasks = new Map();

/** @param {any} node */
function isGate(node) {
  return node?.comfyClass === NODE_TYPE || node?.type === NODE_TYPE;
}

/** @param {string} path @param {any} body */
async function post(path, body) {
  const r = await api.fetchApi(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  let data = null;
  try { data = await r.json(); } catch { /* not JSON */ }
  return { ok: r.ok, status: r.status, data };
}

// ---- showing and answering ----------------------------------------------------

/** @param {any} node */
function panelOf(node) {
  if (node.__dsgPanel) return node.__dsgPanel;
  const panel = new GatePanel({
    onRoute: (n) => answer(node, n),
    onStop: () => answer(node, "__cancel__"),
    onMask: () => openMask(node),
  });
  node.__dsgPanel = panel;
  if (typeof node.addDOMWidget === "function") {
    const w = node.addDOMWidget("gate_panel", "div", panel.root, {
      serialize: false,
      hideOnZoom: false,
      getMinHeight: () => (panel.pause ? PANEL_HEIGHT : 40),
      getHeight: () => (panel.pause ? PANEL_HEIGHT : 40),
    });
    if (w) w.serialize = false;
  }
  return panel;
}

/**
 * The nodes a pause shows on, found by the backend's execution id ("12", or
 * "3:12" inside subgraph node 3): the gate itself, and, when the canvas shows an
 * outer graph, the subgraph node there that holds the gate (so a gate inside a
 * subgraph is visible and answerable without opening the subgraph).
 * @param {string} id
 */
function displayNodes(id) {
  const a = /** @type {any} */ (app);
  const shown = a.canvas?.graph;
  let graph = a.rootGraph ?? a.graph;
  const parts = String(id).split(":");
  const out = [];
  for (let i = 0; i < parts.length; i++) {
    const node = graph?.getNodeById?.(Number(parts[i])) ?? graph?.getNodeById?.(parts[i]);
    if (!node) return out;
    if (i === parts.length - 1) { if (isGate(node)) out.push(node); }
    else if (graph === shown) out.push(node);
    graph = node.subgraph;
  }
  return out;
}

/** Nodes showing a pause now: token -> Set of nodes. */
const shownOn = new Map();

/** @param {any} node @param {any} pause */
function renderOn(node, pause) {
  const panel = panelOf(node);
  if (panel.pause?.token === pause.token) return;
  panel.message = "";
  panel.show(pause, viewUrl, { maskAvailable: maskEditorAvailable(), hasMask: savedMasks.has(pause.token) });
  node.__dsgOldColor ??= [node.color, node.bgcolor];
  node.color = "#a66f00";
  node.bgcolor = "#4d3a10";
  fitSize(node);
  node.setSize?.([Math.max(node.size[0], 340), Math.max(node.size[1], node.computeSize?.()?.[1] ?? 0)]);
  if (!shownOn.has(pause.token)) shownOn.set(pause.token, new Set());
  shownOn.get(pause.token).add(node);
}

/** Show a pause on its node(s) in the graph shown now. @param {any} pause */
function render(pause) {
  const nodes = displayNodes(pause.id);
  for (const node of nodes) renderOn(node, pause);
  if (nodes.length) /** @type {any} */ (app).canvas?.setDirty?.(true, true);
  return nodes.length > 0;
}

/** @param {any} node */
function idleNode(node) {
  node.__dsgPanel?.idle();
  if (node.__dsgOldColor) {
    [node.color, node.bgcolor] = node.__dsgOldColor;
    node.__dsgOldColor = undefined;
  }
  fitSize(node);
}

/** @param {any} pause */
function clear(pause) {
  const nodes = shownOn.get(pause.token) ?? [];
  shownOn.delete(pause.token);
  for (const node of nodes) {
    const panel = node?.__dsgPanel;
    if (panel && (!panel.pause || panel.pause.token === pause.token)) idleNode(node);
  }
}

/** @param {any} pause */
function onShow(pause) {
  pauses.set(pause.id, pause);
  render(pause);
}

/** @param {any} done */
function onDone(done) {
  const p = pauses.get(done.id);
  if (p && p.token === done.token) pauses.delete(done.id);
  savedMasks.delete(done.token);
  clear(done);
}

/** Ask the server which gates wait now (page load, reload, reconnect, workflow switch). */
async function refreshPending() {
  try {
    const r = await api.fetchApi("/datasete_gate/pending");
    if (!r.ok) return;
    const { pending } = await r.json();
    const live = new Set(pending.map((/** @type {any} */ p) => p.token));
    for (const p of [...pauses.values()]) if (!live.has(p.token)) onDone(p);
    for (const p of pending) onShow(p);
  } catch (e) {
    console.warn("[Dataset Gates] could not read pending gates", e);
  }
}

/** @param {any} node @param {number|string} message */
async function answer(node, message) {
  const pause = node.__dsgPanel?.pause;
  if (!pause) return;
  const panel = panelOf(node);
  panel.busy(true);
  const r = await post("/datasete_gate/choice", { id: pause.id, token: pause.token, message });
  if (!r.ok) {
    panel.busy(false);
    panel.say(r.data?.error ?? `the server said ${r.status}`);
    if (r.status === 404 || r.status === 409) refreshPending();
  }
}

/** @param {any} node */
async function openMask(node) {
  const pause = node.__dsgPanel?.pause;
  if (!pause) return;
  const panel = panelOf(node);
  if (!maskEditorAvailable()) return panel.say("No MaskEditor in this frontend");
  try {
    for (let i = 0; !pause.full_ready && i < 200; i++) {      // the full PNG is written in the background
      await new Promise((r) => setTimeout(r, 100));
      const r = await api.fetchApi("/datasete_gate/pending");
      const p = (await r.json()).pending.find((/** @type {any} */ x) => x.token === pause.token);
      if (!p) return;
      Object.assign(pause, { full_ready: p.full_ready, full: p.full });
    }
    const source = savedMasks.get(pause.token) ?? pause.full[0];
    const saved = await editMask(node, source);
    if (!saved) return;                                        // cancelled: no mask
    const ref = { filename: saved.filename, subfolder: saved.subfolder ?? "", type: saved.type ?? "input" };
    const r = await post("/datasete_gate/mask", { id: pause.id, token: pause.token, ref });
    if (!r.ok) return panel.say(r.data?.error ?? `mask refused (${r.status})`);
    savedMasks.set(pause.token, ref);
    const b = panel.root.querySelector(".dsg-mask");
    if (b) b.textContent = "Edit mask \u2713";
    panel.say("Mask saved");
  } catch (e) {
    console.warn("[Dataset Gates] MaskEditor failed", e);
    panel.say(`MaskEditor failed: ${e instanceof Error ? e.message : e}`);
  }
}

// ---- keys and commands ---------------------------------------------------------

/** The gate a key acts on: the selected waiting gate, else the only/first one. */
function activeGateNode() {
  const selected = Object.values(/** @type {any} */ (app).canvas?.selected_nodes ?? {});
  for (const n of selected) if (n.__dsgPanel?.pause) return n;
  for (const p of pauses.values()) {
    const n = displayNodes(p.id).find((x) => x.__dsgPanel?.pause);
    if (n) return n;
  }
  return null;
}

/** @param {number|string} what */
function act(what) {
  // Keys reach here through the frontend's keybindings too: never act under the
  // MaskEditor or the enlarged preview.
  if (editorOpen() || document.querySelector(".dsg-big")) return false;
  const node = activeGateNode();
  if (!node) return false;
  if (what === "mask") openMask(node);
  else if (what === "stop") answer(node, "__cancel__");
  else {
    const n = Number(what);
    if (n > (node.__dsgPanel.pause?.routes ?? 0)) return false;
    answer(node, n);
  }
  return true;
}

/** @param {EventTarget|null} t */
function typing(t) {
  const e = /** @type {any} */ (t);
  if (!e) return false;
  const tag = (e.tagName ?? "").toLowerCase();
  return tag === "input" || tag === "textarea" || tag === "select" || e.isContentEditable;
}

// Digits are default keybindings of the Route commands (below): rebindable in
// Settings > Keybinding. Esc and M are core keys (exit subgraph, model library),
// so they are taken here, in the capture phase, only while a gate waits; the
// Stop and Edit-mask commands can be bound to any other key as well.
const CORE_KEYS = { Escape: "stop", m: "mask", M: "mask" };

window.addEventListener("keydown", (ev) => {
  if (!pauses.size || ev.ctrlKey || ev.metaKey || ev.altKey || ev.repeat || typing(ev.target)) return;
  const what = /** @type {any} */ (CORE_KEYS)[ev.key];
  if (what !== undefined && act(what)) {
    ev.preventDefault();
    ev.stopImmediatePropagation();
  }
}, true);

const commands = [
  ...Array.from({ length: 10 }, (_, i) => ({
    id: `Datasete.Gate.Route${i + 1}`,
    label: `Image Gate: send to route ${i + 1}`,
    function: () => { act(i + 1); },
  })),
  { id: "Datasete.Gate.Stop", label: "Image Gate: Stop", function: () => { act("stop"); } },
  { id: "Datasete.Gate.EditMask", label: "Image Gate: Edit mask", function: () => { act("mask"); } },
];

const keybindings = Array.from({ length: 10 }, (_, i) => ({
  combo: { key: String((i + 1) % 10) },                       // 1..9, then 0 = route 10
  commandId: `Datasete.Gate.Route${i + 1}`,
}));

// ---- registration --------------------------------------------------------------

/** @param {any} node */
function setupNode(node) {
  const routes = widget(node, "routes");
  const labels = widget(node, "labels");
  for (const w of [routes, labels]) {
    if (!w || w.__dsgHooked) continue;
    const cb = w.callback;
    w.callback = function (/** @type {any[]} */ ...args) {
      const r = cb?.apply(this, args);
      syncOutputs(node);
      return r;
    };
    w.__dsgHooked = true;
  }
  panelOf(node);
  syncOutputs(node);
  for (const p of pauses.values()) render(p);
}

app.registerExtension({
  name: "datasete.ImageGate",
  commands,
  keybindings,
  async beforeRegisterNodeDef(nodeType, nodeData) {
    if (nodeData?.name !== NODE_TYPE) return;
    const proto = /** @type {any} */ (nodeType.prototype);
    const onConfigure = proto.onConfigure;
    proto.onConfigure = function (/** @type {any[]} */ ...args) {
      const r = onConfigure?.apply(this, args);
      // After a workflow load: the saved outputs are already the first 1+routes; relabel them.
      queueMicrotask(() => setupNode(this));
      return r;
    };
  },
  nodeCreated(node) {
    if (isGate(node)) setupNode(node);
  },
  loadedGraphNode(node) {
    if (isGate(node)) setupNode(node);
  },
  async setup() {
    const events = /** @type {any} */ (api);   // custom events are not in ApiCalls
    events.addEventListener("datasete-gate-show", (/** @type {any} */ e) => onShow(e.detail));
    events.addEventListener("datasete-gate-done", (/** @type {any} */ e) => onDone(e.detail));
    events.addEventListener("datasete-gate-ready", (/** @type {any} */ e) => {
      const p = pauses.get(e.detail.id);
      if (p && p.token === e.detail.token) Object.assign(p, { full_ready: true, full: e.detail.full });
    });
    api.addEventListener("reconnected", () => refreshPending());
    api.addEventListener("status", () => { if (pauses.size) for (const p of pauses.values()) render(p); });
    await refreshPending();
    // The workflow may be (re)loaded, or a subgraph opened or left, at any time:
    // while a gate waits, keep its panel on the node(s) the canvas shows.
    setInterval(() => { for (const p of pauses.values()) render(p); }, 500);
  },
});

// For tests and power users: the page-side state, read-only.
/** @type {any} */ (window).__datasetGates = { pauses, refreshPending, displayNodes };
