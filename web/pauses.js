// @ts-check
// The page side of the pause core: which pauses wait now, and which nodes show them.
//
// Every kind of gate registers a *view* (its node type and a panel factory). A
// pause comes from the show event or from one /pending read (page load,
// reconnect); it is shown on the gate's node and, while the canvas shows an
// outer graph, on the subgraph node that holds the gate. Rendering is driven by
// events only: the show/done/ready events, the frontend's graph hooks (a
// workflow loaded or switched, a node created) and the canvas's set-graph event
// (a subgraph opened or left).

import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import { EVENTS, ROUTES } from "./names.js";
import { post, warn } from "./util.js";

/**
 * @typedef {{ root: HTMLElement, pause: any, show(pause: any): void, idle(): void,
 *             height(): number, act?(what: any): boolean }} Panel
 * @typedef {{ nodeType: string, createPanel(node: any): Panel }} View
 */

/** node type -> view */
const views = new Map();
/** node id as the backend sees it ("12", or "3:12" inside subgraph node 3) -> pause */
export const pauses = new Map();
/** LiteGraph node -> { panel, colors } (never fields on the node itself) */
const nodeState = new WeakMap();
/** token -> Set of nodes showing that pause */
const shownOn = new Map();
/** token -> callbacks waiting for the ready event */
const readyWaiters = new Map();

const WAITING_COLORS = ["#a66f00", "#4d3a10"];

/** @param {View} view */
export function registerView(view) {
  views.set(view.nodeType, view);
}

/** @param {any} node */
function viewOf(node) {
  return views.get(node?.comfyClass) ?? views.get(node?.type);
}

/**
 * The panel of a node, made (and added as a DOM widget) on first use with
 * `view`: the node's own, or for a subgraph node the view of the gate inside.
 * @param {any} node @param {View} [view]
 */
export function panelOf(node, view = viewOf(node)) {
  const state = nodeState.get(node);
  if (state) return state.panel;
  if (!view) return null;
  const panel = view.createPanel(node);
  nodeState.set(node, { panel, colors: null });
  if (typeof node.addDOMWidget === "function") {
    const w = node.addDOMWidget("gate_panel", "div", panel.root, {
      serialize: false,
      hideOnZoom: false,
      getMinHeight: () => panel.height(),
      getHeight: () => panel.height(),
    });
    if (w) w.serialize = false;
  }
  return panel;
}

/** The waiting pause a node shows now, if any. @param {any} node */
export function pauseOn(node) {
  return nodeState.get(node)?.panel?.pause ?? null;
}

/** @param {any} node */
function fit(node) {
  const min = node.computeSize?.();
  if (min) node.setSize?.([Math.max(node.size?.[0] ?? 0, min[0], 340), Math.max(min[1], 60)]);
  node.setDirtyCanvas?.(true, true);
}

/**
 * The nodes a pause shows on: the gate itself, and, when the canvas shows an
 * outer graph, the subgraph node there that holds the gate.
 * @param {string} id
 */
export function displayNodes(id) {
  const a = /** @type {any} */ (app);
  const shown = a.canvas?.graph;
  let graph = a.rootGraph ?? a.graph;
  const parts = String(id).split(":");
  const out = [];
  for (let i = 0; i < parts.length; i++) {
    const node = graph?.getNodeById?.(Number(parts[i])) ?? graph?.getNodeById?.(parts[i]);
    if (!node) return out;
    if (i === parts.length - 1) { if (viewOf(node)) out.push(node); }
    else if (graph === shown) out.push(node);
    graph = node.subgraph;
  }
  return out;
}

/** @param {any} node @param {any} pause */
function renderOn(node, pause) {
  const panel = panelOf(node, viewOf(node) ?? viewOf(gateNode(pause.id)));
  if (!panel) return;
  if (panel.pause?.token !== pause.token) {
    panel.show(pause);
    const state = nodeState.get(node);
    state.colors ??= [node.color, node.bgcolor];
    [node.color, node.bgcolor] = WAITING_COLORS;
    fit(node);
  }
  if (!shownOn.has(pause.token)) shownOn.set(pause.token, new Set());
  shownOn.get(pause.token).add(node);
}

/** The gate node itself of a pause id, wherever it lives. @param {string} id */
function gateNode(id) {
  const a = /** @type {any} */ (app);
  let graph = a.rootGraph ?? a.graph;
  let node = null;
  for (const part of String(id).split(":")) {
    node = graph?.getNodeById?.(Number(part)) ?? graph?.getNodeById?.(part);
    if (!node) return null;
    graph = node.subgraph;
  }
  return node;
}

/** Put every waiting pause on the nodes the canvas shows now. */
export function renderAll() {
  let any = false;
  for (const pause of pauses.values()) {
    for (const node of displayNodes(pause.id)) {
      renderOn(node, pause);
      any = true;
    }
  }
  if (any) /** @type {any} */ (app).canvas?.setDirty?.(true, true);
}

/** @param {any} node */
function idleNode(node) {
  const state = nodeState.get(node);
  if (!state) return;
  state.panel.idle();
  if (state.colors) {
    [node.color, node.bgcolor] = state.colors;
    state.colors = null;
  }
  fit(node);
}

/** @param {any} pause */
function onShow(pause) {
  pauses.set(pause.id, pause);
  renderAll();
}

/** @param {any} done */
function onDone(done) {
  const p = pauses.get(done.id);
  if (p && p.token === done.token) pauses.delete(done.id);
  readyWaiters.delete(done.token);
  const nodes = shownOn.get(done.token) ?? [];
  shownOn.delete(done.token);
  for (const node of nodes) {
    const panel = nodeState.get(node)?.panel;
    if (panel && (!panel.pause || panel.pause.token === done.token)) {
      panel.ended?.(done);
      idleNode(node);
    }
  }
}

/** @param {any} ready */
function onReady(ready) {
  const p = pauses.get(ready.id);
  if (!p || p.token !== ready.token) return;
  Object.assign(p, { full_ready: true, full: ready.full });
  for (const resolve of readyWaiters.get(ready.token) ?? []) resolve(p);
  readyWaiters.delete(ready.token);
}

/**
 * Resolves when the pause's full-resolution files exist (the ready event, or
 * already ready); null when the pause ends first.
 * @param {any} pause @returns {Promise<any>}
 */
export function whenReady(pause) {
  if (pause.full_ready) return Promise.resolve(pause);
  return new Promise((resolve) => {
    if (!readyWaiters.has(pause.token)) readyWaiters.set(pause.token, []);
    readyWaiters.get(pause.token).push(resolve);
  });
}

/** Read which pauses wait now (page load, reconnect), and show them. */
export async function refreshPending() {
  try {
    const r = await api.fetchApi(ROUTES.pending);
    if (!r.ok) return;
    const { pending } = await r.json();
    const live = new Set(pending.map((/** @type {any} */ p) => p.token));
    for (const p of [...pauses.values()]) if (!live.has(p.token)) onDone(p);
    for (const p of pending) {
      const known = pauses.get(p.id);
      if (known?.token === p.token) {
        if (p.full_ready && !known.full_ready) onReady({ id: p.id, token: p.token, full: p.full });
      } else onShow(p);
    }
    renderAll();
  } catch (e) {
    warn("could not read pending gates", e);
  }
}

/** The waiting gate a key or command acts on: the selected one, else the first shown. */
export function activeGate() {
  const selected = Object.values(/** @type {any} */ (app).canvas?.selected_nodes ?? {});
  for (const node of selected) if (pauseOn(node)) return node;
  for (const p of pauses.values()) {
    const node = displayNodes(p.id).find((n) => pauseOn(n));
    if (node) return node;
  }
  return null;
}

/** Hook the board to the server's events and the canvas. Call once, from `setup`. */
export async function startBoard() {
  const events = /** @type {any} */ (api);   // custom events are not in ApiCalls
  events.addEventListener(EVENTS.show, (/** @type {any} */ e) => onShow(e.detail));
  events.addEventListener(EVENTS.done, (/** @type {any} */ e) => onDone(e.detail));
  events.addEventListener(EVENTS.ready, (/** @type {any} */ e) => onReady(e.detail));
  api.addEventListener("reconnected", () => refreshPending());
  // A subgraph opened or left: the nodes on screen changed.
  /** @type {any} */ (app).canvas?.canvas?.addEventListener?.("litegraph:set-graph", () => {
    queueMicrotask(renderAll);
  });
  await refreshPending();
}

/**
 * Answer the pause a panel shows: `fields` are the kind's answer fields
 * (e.g. {message: 2}). On a refusal the panel says why; a pause that ended
 * meanwhile is dropped after one /pending read.
 * @param {Panel & {busy?(on: boolean): void, say?(text: string): void}} panel @param {Record<string, any>} fields
 */
export async function answer(panel, fields) {
  const pause = panel.pause;
  if (!pause) return false;
  panel.busy?.(true);
  const r = await post(ROUTES.choice, { id: pause.id, token: pause.token, ...fields });
  if (!r.ok) {
    panel.busy?.(false);
    panel.say?.(r.data?.error ?? `the server said ${r.status}`);
    if (r.status === 404 || r.status === 409) refreshPending();
  }
  return r.ok;
}
