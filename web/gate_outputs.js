// @ts-check
// Dynamic, labeled route outputs of the Image Gate. Slot 0 is `mask`; slots
// 1..routes are `route_1..route_N`. Outputs are only added or removed at the
// END, because a prompt links outputs by slot index, which must match
// RETURN_TYPES on the backend. Labels live in the `labels` widget, so they are
// saved with the workflow AND sent to the backend.

import { MAX_ROUTES } from "./names.js";

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

/** Make the node show `mask` + exactly `routes` labeled outputs; resize it.
 * @param {any} node */
export function syncOutputs(node) {
  if (!node.outputs) return;
  const routes = routeCount(node);
  const want = 1 + routes;
  while (node.outputs.length > want) node.removeOutput(node.outputs.length - 1); // drops its links
  while (node.outputs.length < want) node.addOutput(`route_${node.outputs.length}`, "IMAGE");
  const labels = parseLabels(widget(node, "labels")?.value ?? "", routes);
  for (let i = 1; i <= routes; i++) {
    const out = node.outputs[i];
    out.label = labels[i - 1];
    if ("localized_name" in out) out.localized_name = labels[i - 1];
  }
  fitSize(node);
}

/** Grow (never shrink the width of) the node to fit its slots and widgets.
 * @param {any} node */
export function fitSize(node) {
  const min = node.computeSize?.();
  if (!min) return;
  node.setSize?.([Math.max(node.size?.[0] ?? 0, min[0]), Math.max(min[1], 60)]);
  node.setDirtyCanvas?.(true, true);
}
