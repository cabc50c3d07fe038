// @ts-check
// Registration of the Image Chooser Gate: its view on the pause board, its
// outputs (three per route), its keys, the full-resolution image on demand and
// the MaskEditor per image. The panel's DOM is in chooser_panel.js.

import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import { CANCEL, EVENTS, EXTENSION, MAX_ROUTES, ROUTES } from "./names.js";
import { activeGate, answer, panelOf, registerView, renderAll } from "./pauses.js";
import { ChooserPanel, chooserLabels } from "./chooser_panel.js";
import { editMask, editorOpen, maskEditorAvailable, viewUrl } from "./mask_editor.js";
import { chain, post, typing, warn } from "./util.js";

const NODE_TYPE = "ImageChooserGate";
const PER_ROUTE = 3;                 // images, masks, indices
const SUFFIXES = ["", " masks", " indices"];

/** `${token}:${index}` -> the MaskEditor file saved for that image (re-opening shows it) */
const savedMasks = new Map();
/** `${token}:${index}` -> callbacks waiting for that image's full-resolution file */
const fullWaiters = new Map();
/** the node definition's outputs, [{name, type}] in slot order */
let outputDefs = /** @type {{name: string, type: string}[]} */ ([]);

registerView({
  nodeType: NODE_TYPE,
  createPanel(node) {
    const panel = new ChooserPanel({
      onDone: (decisions) => answer(panel, { decisions }),
      onStop: () => answer(panel, { message: CANCEL }),
      onMask: (index) => openMask(node, index),
      onProgress: () => saveProgress(panel),
      onFull: (index) => fullRef(panel, index),
      url: viewUrl,
      maskAvailable: maskEditorAvailable,
      onEnded: (done) => forget(done.token),
    });
    return panel;
  },
});

/** @param {string} token */
function forget(token) {
  for (const key of [...savedMasks.keys()]) if (key.startsWith(`${token}:`)) savedMasks.delete(key);
  for (const [key, waiters] of [...fullWaiters]) {
    if (!key.startsWith(`${token}:`)) continue;
    fullWaiters.delete(key);
    for (const resolve of waiters) resolve(null);
  }
}

/**
 * The full-resolution file of image `index` of the panel's pause: asked for
 * once (POST full), then ready at once or after its ready event. null when the
 * pause ends first or the server refuses.
 * @param {ChooserPanel} panel @param {number} index @returns {Promise<any>}
 */
async function fullRef(panel, index) {
  const pause = panel.pause;
  if (!pause) return null;
  const key = `${pause.token}:${index}`;
  // Listen before asking: the ready event may come before the answer.
  const ready = new Promise((resolve) => {
    if (!fullWaiters.has(key)) fullWaiters.set(key, []);
    fullWaiters.get(key).push(resolve);
  });
  const r = await post(ROUTES.full, { id: pause.id, token: pause.token, index });
  if (!r.ok) {
    panel.say(r.data?.error ?? `the server said ${r.status}`);
    forgetWaiter(key);
    return null;
  }
  if (r.data.ready) {
    forgetWaiter(key);
    return r.data.ref;
  }
  return ready;
}

/** @param {string} key */
function forgetWaiter(key) {
  const waiters = fullWaiters.get(key) ?? [];
  fullWaiters.delete(key);
  for (const resolve of waiters) resolve(null);
}

/** @param {any} ready the ready event of one image of a batch pause */
function onReady(ready) {
  if (ready?.index == null) return;               // the Image Gate's event: not ours
  const key = `${ready.token}:${ready.index}`;
  const waiters = fullWaiters.get(key) ?? [];
  fullWaiters.delete(key);
  for (const resolve of waiters) resolve(ready.full?.[0] ?? null);
}

/**
 * Keep the assignments made so far on the server (a reload shows them again).
 * One request at a time, always with the latest state.
 * @param {ChooserPanel & {saving?: boolean, again?: boolean}} panel
 */
async function saveProgress(panel) {
  if (panel.saving) {
    panel.again = true;
    return;
  }
  panel.saving = true;
  try {
    do {
      panel.again = false;
      const pause = panel.pause;
      if (!pause) break;
      const r = await post(ROUTES.progress, {
        id: pause.id, token: pause.token, decisions: panel.assign, masked: [...panel.masked],
      });
      if (!r.ok && r.status !== 409 && r.status !== 404) panel.say(r.data?.error ?? `progress not kept (${r.status})`);
    } while (panel.again);
  } catch (e) {
    warn("could not keep the chooser's progress", e);
  } finally {
    panel.saving = false;
  }
}

/** Edit the mask of image `index` at full resolution. @param {any} node @param {number} index */
async function openMask(node, index) {
  const panel = /** @type {ChooserPanel} */ (panelOf(node));
  const pause = panel?.pause;
  if (!pause) return;
  if (!maskEditorAvailable()) return panel.say("No MaskEditor in this frontend");
  try {
    panel.say(`Preparing image ${index} at full size\u2026`);
    const full = await fullRef(panel, index);
    if (!full || panel.pause?.token !== pause.token) return;
    panel.say("");
    const key = `${pause.token}:${index}`;
    const saved = await editMask(node, savedMasks.get(key) ?? full);
    if (!saved) return;                            // closed without saving: no mask
    const ref = { filename: saved.filename, subfolder: saved.subfolder ?? "", type: saved.type ?? "input" };
    const r = await post(ROUTES.mask, { id: pause.id, token: pause.token, index, ref });
    if (!r.ok) return panel.say(r.data?.error ?? `mask refused (${r.status})`);
    savedMasks.set(key, ref);
    panel.markMask(index);
    panel.say(`Mask saved on image ${index}`);
    saveProgress(panel);
  } catch (e) {
    warn("MaskEditor failed", e);
    panel.say(`MaskEditor failed: ${e instanceof Error ? e.message : e}`);
  }
}

// ---- keys ----------------------------------------------------------------------

// Arrows, Space, digits, Enter, Esc and M act on the grid only while a chooser
// waits (the gate keys act on is the selected waiting gate, else the first one
// shown) and nothing text-like or the MaskEditor has focus; taken in the capture
// phase so neither the canvas nor the frontend's keybindings see them then.
window.addEventListener("keydown", (ev) => {
  if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target) || editorOpen()) return;
  const node = activeGate();
  const panel = node && panelOf(node);
  if (!(panel instanceof ChooserPanel) || !panel.pause) return;
  if (panel.key(ev.key, ev.repeat)) {
    ev.preventDefault();
    ev.stopImmediatePropagation();
  }
}, true);

// ---- nodes -------------------------------------------------------------------

/** @param {any} node @param {string} name */
function widget(node, name) {
  return node.widgets?.find((/** @type {any} */ w) => w.name === name);
}

/** @param {any} node */
function routeCount(node) {
  const n = Number(widget(node, "routes")?.value ?? 1);
  return Math.max(1, Math.min(MAX_ROUTES, Number.isFinite(n) ? Math.round(n) : 1));
}

/**
 * Show exactly the outputs of the chosen number of routes (three each), labelled.
 * Outputs are only added or removed at the END: a prompt links them by slot.
 * A workflow of the original project (one `images` output) grows to three.
 * @param {any} node
 */
function syncOutputs(node) {
  if (!node.outputs || !outputDefs.length) return;
  const routes = routeCount(node);
  const want = PER_ROUTE * routes;
  while (node.outputs.length > want) node.removeOutput(node.outputs.length - 1);
  while (node.outputs.length < want) {
    const def = outputDefs[node.outputs.length];
    node.addOutput(def.name, def.type);
  }
  const labels = chooserLabels(widget(node, "labels")?.value ?? "", routes);
  for (let i = 0; i < want; i++) {
    const out = node.outputs[i];
    out.label = labels[Math.floor(i / PER_ROUTE)] + SUFFIXES[i % PER_ROUTE];
    if ("localized_name" in out) out.localized_name = out.label;
  }
  const min = node.computeSize?.();
  if (min) node.setSize?.([Math.max(node.size?.[0] ?? 0, min[0], 420), Math.max(node.size?.[1] ?? 0, min[1])]);
  node.setDirtyCanvas?.(true, true);
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

app.registerExtension({
  name: `${EXTENSION}.Chooser`,
  async beforeRegisterNodeDef(nodeType, nodeData) {
    if (nodeData?.name !== NODE_TYPE) return;
    const types = /** @type {any} */ (nodeData).output ?? [];
    const names = /** @type {any} */ (nodeData).output_name ?? [];
    outputDefs = types.map((/** @type {string} */ type, /** @type {number} */ i) => ({ name: names[i], type }));
    chain(nodeType.prototype, "onConfigure", function () {
      queueMicrotask(() => setupNode(this));
    });
    // Added to a graph (built by hand or pasted) while its pause waits: show it now.
    chain(nodeType.prototype, "onAdded", () => queueMicrotask(renderAll));
  },
  nodeCreated(node) {
    if (node?.comfyClass === NODE_TYPE || node?.type === NODE_TYPE) setupNode(node);
  },
  async setup() {
    /** @type {any} */ (api).addEventListener(EVENTS.ready, (/** @type {any} */ e) => onReady(e.detail));
  },
});
