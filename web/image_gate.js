// @ts-check
// Registration layer: the Image Gate's view, its commands and keys (as data),
// and the hooks that keep the page in step with the server. The pause board
// lives in pauses.js, outputs in gate_outputs.js, the panel in gate_panel.js,
// the MaskEditor adapter in mask_editor.js.

import { app } from "../../scripts/app.js";
import { COMMAND_PREFIX, CANCEL, EXTENSION, MAX_ROUTES, ROUTES } from "./names.js";
import { activeGate, answer, panelOf, registerView, renderAll, startBoard, whenReady } from "./pauses.js";
import { syncOutputs, widget } from "./gate_outputs.js";
import { GatePanel, enlargedOpen } from "./gate_panel.js";
import { editMask, editorOpen, maskEditorAvailable, viewUrl } from "./mask_editor.js";
import { chain, post, typing, warn } from "./util.js";

const NODE_TYPE = "ImageGate";

/** token -> the MaskEditor file saved for that pause (re-opening shows the mask painted so far) */
const savedMasks = new Map();

registerView({
  nodeType: NODE_TYPE,
  createPanel(node) {
    const panel = new GatePanel({
      onRoute: (n) => answer(panel, { message: n }),
      onStop: () => answer(panel, { message: CANCEL }),
      onMask: () => openMask(node),
      url: viewUrl,
      maskAvailable: maskEditorAvailable,
      hasMask: (pause) => savedMasks.has(pause.token),
      onEnded: (done) => savedMasks.delete(done.token),
    });
    return panel;
  },
});

/** @param {any} node */
async function openMask(node) {
  const panel = /** @type {GatePanel} */ (panelOf(node));
  const pause = panel?.pause;
  if (!pause) return;
  if (!maskEditorAvailable()) return panel.say("No MaskEditor in this frontend");
  try {
    if (!pause.full_ready) panel.say("Preparing the full-size image\u2026");
    const ready = await whenReady(pause);          // the full PNG is written in the background
    if (!ready || panel.pause?.token !== pause.token) return;
    panel.say("");
    const source = savedMasks.get(pause.token) ?? ready.full[0];
    const saved = await editMask(node, source);
    if (!saved) return;                            // closed without saving: no mask
    const ref = { filename: saved.filename, subfolder: saved.subfolder ?? "", type: saved.type ?? "input" };
    const r = await post(ROUTES.mask, { id: pause.id, token: pause.token, ref });
    if (!r.ok) return panel.say(r.data?.error ?? `mask refused (${r.status})`);
    savedMasks.set(pause.token, ref);
    panel.markMask(true);
    panel.say("Mask saved");
  } catch (e) {
    warn("MaskEditor failed", e);
    panel.say(`MaskEditor failed: ${e instanceof Error ? e.message : e}`);
  }
}

// ---- keys and commands ---------------------------------------------------------

/** Act on the waiting gate: a route number, "stop" or "mask". @param {number|string} what */
function act(what) {
  // Keys reach here through the frontend's keybindings too: never act under the
  // MaskEditor or the enlarged preview.
  if (editorOpen() || enlargedOpen()) return false;
  const node = activeGate();
  const panel = node && /** @type {GatePanel} */ (panelOf(node));
  if (!panel?.pause) return false;
  if (what === "mask") openMask(node);
  else if (what === "stop") answer(panel, { message: CANCEL });
  else {
    if (Number(what) > (panel.pause.routes ?? 0)) return false;
    answer(panel, { message: Number(what) });
  }
  return true;
}

const COMMANDS = [
  ...Array.from({ length: MAX_ROUTES }, (_, i) => ({
    id: `${COMMAND_PREFIX}Route${i + 1}`, label: `Image Gate: send to route ${i + 1}`,
    what: i + 1, key: String((i + 1) % 10),                // 1..9, then 0 = route 10
  })),
  { id: `${COMMAND_PREFIX}Stop`, label: "Image Gate: Stop", what: "stop", key: null },
  { id: `${COMMAND_PREFIX}EditMask`, label: "Image Gate: Edit mask", what: "mask", key: null },
];

// Esc and M are core keys (exit subgraph, model library), so they are taken
// here, in the capture phase, only while a gate waits; the Stop and Edit-mask
// commands can be bound to any other key as well.
const CORE_KEYS = { Escape: "stop", m: "mask", M: "mask" };

window.addEventListener("keydown", (ev) => {
  if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.repeat || typing(ev.target)) return;
  const what = /** @type {any} */ (CORE_KEYS)[ev.key];
  if (what !== undefined && activeGate() && act(what)) {
    ev.preventDefault();
    ev.stopImmediatePropagation();
  }
}, true);

// ---- nodes -------------------------------------------------------------------

/**
 * Workflows saved by the original Dataset Gates project keep the route labels
 * in `properties.routeLabels`: they become the `labels` widget once, and the
 * widget is the truth afterwards.
 * @param {any} node
 */
function adoptRouteLabels(node) {
  const old = node.properties?.routeLabels;
  if (!Array.isArray(old) || !old.length) return;
  const labels = widget(node, "labels");
  const routes = widget(node, "routes");
  if (labels && !String(labels.value ?? "").trim()) labels.value = old.map(String).join(", ");
  if (routes && Number(routes.value) < old.length) routes.value = Math.min(old.length, MAX_ROUTES);
  delete node.properties.routeLabels;
}

/** widgets whose callback already re-syncs the outputs */
const hooked = new WeakSet();

/** @param {any} node */
function setupNode(node) {
  for (const name of ["routes", "labels"]) {
    const w = widget(node, name);
    if (!w || hooked.has(w)) continue;
    chain(w, "callback", () => syncOutputs(node));
    hooked.add(w);
  }
  panelOf(node);
  syncOutputs(node);
}

/** @param {any} node */
function isGate(node) {
  return node?.comfyClass === NODE_TYPE || node?.type === NODE_TYPE;
}

app.registerExtension({
  name: EXTENSION,
  commands: COMMANDS.map((c) => ({ id: c.id, label: c.label, function: () => { act(c.what); } })),
  keybindings: COMMANDS.filter((c) => c.key).map((c) => ({ combo: { key: c.key }, commandId: c.id })),
  async beforeRegisterNodeDef(nodeType, nodeData) {
    if (nodeData?.name !== NODE_TYPE) return;
    chain(nodeType.prototype, "onConfigure", function () {
      adoptRouteLabels(this);
      // After a workflow load the saved outputs are already the first 1+routes: relabel them.
      queueMicrotask(() => setupNode(this));
    });
    // Added to a graph (built by hand or pasted) while its pause waits: show it now.
    chain(nodeType.prototype, "onAdded", () => queueMicrotask(renderAll));
  },
  nodeCreated(node) {
    if (isGate(node)) setupNode(node);
  },
  // A workflow was loaded, switched to or reloaded: its nodes are new objects.
  afterConfigureGraph() {
    renderAll();
  },
  async setup() {
    await startBoard();
  },
});
