// @ts-check
// Registration layer: the Image Gate's view, its commands and keys (as data),
// and the hooks that keep the page in step with the server. The pause board
// lives in pauses.js, outputs in gate_outputs.js, the panel in gate_panel.js,
// the MaskEditor adapter in mask_editor.js.

import { app } from "../../scripts/app.js";
import { COMMAND_PREFIX, CANCEL, EXTENSION, MAX_ROUTES, ROUTES } from "./names.js";
import { activeGate, answer, panelOf, registerView, renderAll, startBoard, whenReady } from "./pauses.js";
import { CAPTION, compactSize, defineOutputs, hideRows, syncOutputs, widget } from "./gate_outputs.js";
import { GatePanel, enlargedOpen } from "./gate_panel.js";
import { editMask, editorOpen, maskEditorAvailable, viewUrl } from "./mask_editor.js";
import { SortingGatePanel, sortAct, sortInFront, startSort } from "./sort_view.js";
import { chain, post, queueWorkflow, typing, warn } from "./util.js";

const NODE_TYPE = "ImageGate";

/** token -> the MaskEditor file saved for that pause (re-opening shows the mask painted so far) */
const savedMasks = new Map();
/** token -> the red overlay (a data URL) of the mask painted at that pause */
const paintedOverlays = new Map();
/** tokens whose mask was cleared (Clear mask) */
const cleared = new Set();
/** token -> the caption as edited so far (a redrawn panel keeps the edit) */
const drafts = new Map();

/** @param {any} pause */
function overlayOf(pause) {
  if (cleared.has(pause.token)) return null;
  if (paintedOverlays.has(pause.token)) return paintedOverlays.get(pause.token);
  return pause.mask_retained && pause.overlay ? viewUrl(pause.overlay) : null;
}

/** Will this gate put out a mask at the next pause (keep_mask on, a mask painted or retained, not cleared)? */
function retained(/** @type {any} */ pause) {
  if (!pause.keep_mask || cleared.has(pause.token)) return false;
  return savedMasks.has(pause.token) || !!pause.mask_retained;
}

/** The caption field of an answer: only an edited caption is sent (the input passes unchanged otherwise).
 * @param {GatePanel} panel */
function captionField(panel) {
  const box = panel.captionBox;
  if (!box || !panel.pause) return {};
  return box.value === (panel.pause.caption ?? "") ? {} : { caption: box.value };
}

/** Ctrl+1…9 / Ctrl+0 (also Alt, Cmd) route while the caption box has focus; Ctrl+Enter = route 1.
 * @param {KeyboardEvent} ev @returns {number} */
function captionKey(ev) {
  if (ev.repeat || !(ev.ctrlKey || ev.metaKey || ev.altKey)) return 0;
  if (ev.key === "Enter") return ev.ctrlKey || ev.metaKey ? 1 : 0;
  const m = /^(?:Digit|Numpad)(\d)$/.exec(ev.code ?? "") ?? /^(\d)$/.exec(ev.key);
  if (!m) return 0;
  const d = Number(m[1]);
  return d === 0 ? 10 : d;
}

/** Does the node's caption output lead anywhere? @param {any} node */
function captionLinked(node) {
  return !!node.outputs?.find((/** @type {any} */ o) => o.name === CAPTION)?.links?.length;
}

registerView({
  nodeType: NODE_TYPE,
  createPanel(node) {
    const panel = new SortingGatePanel({
      onRoute: (n) => routeTo(panel, n),
      onStop: () => answer(panel, { message: CANCEL }),
      onMask: () => openMask(node),
      onClear: () => clearMask(node),
      onRunAgain: () => runAgain(panel),
      url: viewUrl,
      maskAvailable: maskEditorAvailable,
      hasMask: (pause) => savedMasks.has(pause.token),
      overlayOf,
      retained,
      captionShown: (pause) => typeof pause.caption === "string" || captionLinked(node),
      caption: (pause) => drafts.get(pause.token) ?? pause.caption ?? "",
      onCaption: (pause, text) => drafts.set(pause.token, text),
      captionKey,
      onEnded: (done) => {
        savedMasks.delete(done.token);
        paintedOverlays.delete(done.token);
        cleared.delete(done.token);
        drafts.delete(done.token);
      },
    }, { url: viewUrl, onMask: () => openMask(node), editAhead: (ref) => editMask(node, ref) });
    return panel;
  },
});

/** Send the shown image down route `n`. @param {GatePanel} panel @param {number} n */
function routeTo(panel, n) {
  if (panel.pause) answer(panel, { message: n, ...captionField(panel), ...panel.cropField() });
}

/** @param {GatePanel} panel */
async function runAgain(panel) {
  try {
    await queueWorkflow();
  } catch (e) {
    warn("Run from here failed", e);
    panel.idle(`Run from here failed: ${e instanceof Error ? e.message : e}`);
  }
}

/** @param {string} src @returns {Promise<HTMLImageElement>} */
function loadImage(src) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error(`could not load ${src}`));
    img.src = src;
  });
}

/**
 * The red overlay of a MaskEditor file (painted = transparent there) at the preview's size.
 * @param {any} ref @param {number} width @param {number} height
 */
async function overlayFromEditorFile(ref, width, height) {
  const img = await loadImage(viewUrl(ref));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, width);
  canvas.height = Math.max(1, height);
  const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d"));
  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  const data = ctx.getImageData(0, 0, canvas.width, canvas.height);
  const px = data.data;
  for (let i = 0; i < px.length; i += 4) {
    const painted = 255 - px[i + 3];
    px[i] = 230; px[i + 1] = 32; px[i + 2] = 32; px[i + 3] = Math.round(painted * 0.5);
  }
  ctx.putImageData(data, 0, 0);
  return canvas.toDataURL("image/png");
}

/**
 * The full-size PNG of the pause's image for the MaskEditor: written only now that it is
 * asked for (most images are never painted). @param {GatePanel} panel @param {any} pause
 */
async function fullImage(panel, pause) {
  if (pause.full_ready && pause.full?.[0]) return pause.full[0];
  panel.say("Preparing the full-size image\u2026");
  const r = await post(ROUTES.full, { id: pause.id, token: pause.token, index: 0 });
  if (!r.ok) {
    panel.say(r.data?.error ?? `full-size image refused (${r.status})`);
    return null;
  }
  if (r.data.ready) return r.data.ref;
  return (await whenReady(pause))?.full?.[0] ?? null;
}

/** @param {any} node */
async function openMask(node) {
  const panel = /** @type {GatePanel} */ (panelOf(node));
  const pause = panel?.pause;
  if (!pause) return;
  if (!maskEditorAvailable()) return panel.say("No MaskEditor in this frontend");
  try {
    const full = await fullImage(panel, pause);
    if (!full || panel.pause?.token !== pause.token) return;
    panel.say("");
    const source = savedMasks.get(pause.token) ?? full;
    const saved = await editMask(node, source);
    if (!saved) return;                            // closed without saving: no mask
    const ref = { filename: saved.filename, subfolder: saved.subfolder ?? "", type: saved.type ?? "input" };
    const r = await post(ROUTES.mask, { id: pause.id, token: pause.token, ref });
    if (!r.ok) return panel.say(r.data?.error ?? `mask refused (${r.status})`);
    savedMasks.set(pause.token, ref);
    cleared.delete(pause.token);
    const p0 = pause.previews?.[0] ?? { width: pause.width, height: pause.height };
    try {
      paintedOverlays.set(pause.token, await overlayFromEditorFile(ref, p0.width, p0.height));
    } catch (e) {
      warn("could not draw the mask overlay", e);
    }
    if (panel.pause?.token === pause.token) {
      panel.markMask(true);
      panel.say("Mask saved");
    }
  } catch (e) {
    warn("MaskEditor failed", e);
    panel.say(`MaskEditor failed: ${e instanceof Error ? e.message : e}`);
  }
}

/** Clear mask: no mask on this pause, and a gate with keep_mask forgets the one it kept. @param {any} node */
async function clearMask(node) {
  const panel = /** @type {GatePanel} */ (panelOf(node));
  const pause = panel?.pause;
  if (!pause) return;
  const r = await post(ROUTES.mask, { id: pause.id, token: pause.token, clear: true });
  if (!r.ok) return panel.say(r.data?.error ?? `clear refused (${r.status})`);
  savedMasks.delete(pause.token);
  paintedOverlays.delete(pause.token);
  cleared.add(pause.token);
  if (panel.pause?.token === pause.token) {
    panel.markMask(false);
    panel.say("Mask cleared");
  }
}

// ---- keys and commands ---------------------------------------------------------

/** Act on the waiting gate: a route number, "stop" or "mask". @param {number|string} what */
function act(what) {
  // Keys reach here through the frontend's keybindings too: never act under the
  // MaskEditor or the enlarged preview.
  if (editorOpen() || enlargedOpen()) return false;
  if (sortInFront()) return sortAct(what);          // a folder sort takes its keys (once per key press)
  const node = activeGate();
  const panel = node && panelOf(node);
  if (!(panel instanceof GatePanel) || !panel.pause) return false;
  if (what === "mask") openMask(node);
  else if (what === "crop") panel.toggleCrop();
  else if (what === "stop") answer(panel, { message: CANCEL });
  else {
    if (Number(what) > (panel.pause.routes ?? 0)) return false;
    routeTo(panel, Number(what));
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
  { id: `${COMMAND_PREFIX}Crop`, label: "Image Gate: Crop to a bucket", what: "crop", key: null },
];

// Esc and M are core keys (exit subgraph, model library), so they are taken
// here, in the capture phase, only while a gate waits; the Stop and Edit-mask
// commands can be bound to any other key as well.
const CORE_KEYS = { Escape: "stop", m: "mask", M: "mask", c: "crop", C: "crop" };

window.addEventListener("keydown", (ev) => {
  if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) return;
  const gate = activeGate();
  const panel = gate && !sortInFront() && !editorOpen() ? panelOf(gate) : null;
  if (panel instanceof GatePanel && panel.crop?.key(ev)) {   // a crop box takes arrows, [ ], C and Esc
    ev.preventDefault();
    ev.stopImmediatePropagation();
    return;
  }
  if (ev.repeat) return;
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
  // The saved `routes` stays: that project kept the labels of routes removed later. An unset
  // label (null) showed the route number, as a blank one does here; a comma would split one.
  const text = (/** @type {any} */ l) => String(l ?? "").replace(/[,\n]/g, " ").trim();
  if (labels && !String(labels.value ?? "").trim()) labels.value = old.map(text).join(", ");
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
    defineOutputs(nodeData);
    compactSize(nodeType);
    chain(nodeType.prototype, "onConfigure", function () {
      adoptRouteLabels(this);
      // After a workflow load: hide the routes past `routes`, relabel, add `caption` to an older workflow.
      queueMicrotask(() => setupNode(this));
    });
    // Added to a graph (built by hand or pasted) while its pause waits: show it now.
    chain(nodeType.prototype, "onAdded", () => {
      queueMicrotask(renderAll);
      hideRows();                          // its id is known now
    });
  },
  nodeCreated(node) {
    if (isGate(node)) setupNode(node);
  },
  // A workflow was loaded, switched to or reloaded: its nodes are new objects.
  afterConfigureGraph() {
    renderAll();
    hideRows();
  },
  async setup() {
    // A subgraph opened or left: other gates are on screen.
    /** @type {any} */ (app).canvas?.canvas?.addEventListener?.("litegraph:set-graph", () => hideRows());
    startSort(editorOpen);
    await startBoard();
  },
});
