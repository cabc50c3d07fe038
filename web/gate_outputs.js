// @ts-check
// Dynamic, labeled route outputs of the Image Gate. Slot 0 is `mask`; slots
// 1..10 are `route_1..route_10`; slot 11 is `caption`. A prompt links outputs
// by slot index, which must match RETURN_TYPES on the backend, and the
// frontend restores each saved output's name and type by index too, so the
// node keeps all twelve outputs and HIDES the routes past `routes`: on the
// canvas a hidden output gets a position far outside the node (LiteGraph lays
// out only slots without one) and the node's size leaves its row out; with
// Nodes 2.0 a style rule hides its DOM row. A hidden route has no links.
// Labels live in the `labels` widget, so they are saved with the workflow AND
// sent to the backend.

import { app } from "../../scripts/app.js";
import { CSS_PREFIX, MAX_ROUTES } from "./names.js";

/** The caption output's name (RETURN_NAMES); it is output MAX_ROUTES + 1. */
export const CAPTION = "caption";
const HIDDEN_Y = -100000;                    // a hidden output's y, relative to its node
const RULES_ID = `${CSS_PREFIX}hidden-outputs`;
/** the outputs of the node definition: [{name, type}] (RETURN_NAMES / RETURN_TYPES) */
let definition = /** @type {{name: string, type: string}[]} */ ([]);
let rowsQueued = false;

/** Remember the node definition's outputs (from beforeRegisterNodeDef). @param {any} nodeData */
export function defineOutputs(nodeData) {
  const names = nodeData?.output_name ?? [];
  definition = (nodeData?.output ?? []).map((/** @type {string} */ type, /** @type {number} */ i) =>
    ({ name: names[i], type }));
}

/** Does the page hide this output? @param {any} out */
export function isHidden(out) {
  return Array.isArray(out?.pos) && out.pos[1] === HIDDEN_Y;
}

/** @param {any} node @param {string} name */
export function widget(node, name) {
  return node.widgets?.find((/** @type {any} */ w) => w.name === name);
}

/** @param {any} node */
export function routeCount(node) {
  const n = Number(widget(node, "routes")?.value ?? 2);
  return Math.max(1, Math.min(MAX_ROUTES, Number.isFinite(n) ? Math.round(n) : 2));
}

/** "keep, reject" -> one label per route, blanks default to the number (same rule as the backend).
 * @param {string} text @param {number} routes */
export function parseLabels(text, routes) {
  const parts = String(text ?? "").replace(/\n/g, ",").split(",").map((s) => s.trim());
  return Array.from({ length: routes }, (_, i) => (parts[i] || String(i + 1)).slice(0, 64));
}

/** Make the node show `mask` + exactly `routes` labeled outputs + `caption`; resize it.
 * @param {any} node */
export function syncOutputs(node) {
  if (!node.outputs) return;
  // A workflow saved before `caption` existed (or by the original project) has 1 + routes
  // outputs: add the rest as the definition has them, so caption is output 11 as on the server.
  while (node.outputs.length < definition.length) {
    const def = definition[node.outputs.length];
    node.addOutput(def.name, def.type);
  }
  const routes = routeCount(node);
  const labels = parseLabels(widget(node, "labels")?.value ?? "", routes);
  for (let i = 1; i <= MAX_ROUTES && i < node.outputs.length; i++) {
    const out = node.outputs[i];
    if (i <= routes) {
      if (isHidden(out)) out.pos = undefined;
      out.label = labels[i - 1];
      if ("localized_name" in out) out.localized_name = labels[i - 1];
    } else {
      if (out.links?.length) node.disconnectOutput(i);      // a hidden route leads nowhere
      if (!isHidden(out)) out.pos = [0, HIDDEN_Y];
    }
  }
  hideRows();
  fitSize(node);
}

/**
 * Nodes 2.0 draws every output as a DOM row: style rules, by node id, hide the
 * hidden routes' rows of the gates in the graph on screen. Rebuilt (once per
 * task) after outputs change, a node is added, or another graph is shown.
 */
export function hideRows() {
  if (rowsQueued) return;
  rowsQueued = true;
  queueMicrotask(() => {
    rowsQueued = false;
    const a = /** @type {any} */ (app);
    const graph = a.canvas?.graph ?? a.graph;
    const rules = [];
    for (const node of graph?._nodes ?? graph?.nodes ?? []) {
      const outs = node.outputs ?? [];
      if (!outs.some(isHidden)) continue;
      let shown = 0;
      while (shown < MAX_ROUTES && outs[shown + 1] && !isHidden(outs[shown + 1])) shown++;
      // rows: 1 = mask, 2..11 = the routes, 12 = caption
      rules.push(`[data-node-id="${CSS.escape(String(node.id))}"] .lg-slot--output`
        + `:nth-child(n+${shown + 2}):nth-child(-n+${MAX_ROUTES + 1}){display:none!important}`);
    }
    let style = document.getElementById(RULES_ID);
    if (!style) {
      style = document.createElement("style");
      style.id = RULES_ID;
      document.head.append(style);
    }
    style.textContent = rules.join("\n");
  });
}

/**
 * Leave the hidden outputs' rows out of the node's size (LiteGraph counts every output).
 * @param {any} nodeType the node class (beforeRegisterNodeDef)
 */
export function compactSize(nodeType) {
  const compute = nodeType.prototype.computeSize;
  nodeType.prototype.computeSize = function (/** @type {any} */ out) {
    const size = compute.call(this, out);
    const outputs = this.outputs ?? [];
    const hidden = outputs.filter(isHidden).length;
    if (!hidden || !size) return size;
    const inputs = (this.inputs ?? []).filter((/** @type {any} */ i) => !i.widget).length;
    const rows = Math.max(inputs, outputs.length, 1) - Math.max(inputs, outputs.length - hidden, 1);
    const slot = /** @type {any} */ (window).LiteGraph?.NODE_SLOT_HEIGHT ?? 20;
    size[1] = Math.max(60, size[1] - rows * slot);
    return size;
  };
}

/** Grow (never shrink the width of) the node to fit its slots and widgets.
 * @param {any} node */
export function fitSize(node) {
  const min = node.computeSize?.();
  if (!min) return;
  node.setSize?.([Math.max(node.size?.[0] ?? 0, min[0]), Math.max(min[1], 60)]);
  node.setDirtyCanvas?.(true, true);
}
