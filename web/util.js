// @ts-check
// Small helpers shared by the page modules.

import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import { PACK } from "./names.js";

/**
 * Wrap `obj[name]` so `after` runs after the original with the same arguments;
 * the original's return value is kept.
 * @param {any} obj @param {string} name @param {(this: any, ...args: any[]) => void} after
 */
export function chain(obj, name, after) {
  const original = obj[name];
  obj[name] = function (/** @type {any[]} */ ...args) {
    const r = original?.apply(this, args);
    after.apply(this, args);
    return r;
  };
}

/** @param {string} tag @param {Record<string, any>} [props] @param {any[]} [children] */
export function el(tag, props = {}, children = []) {
  const e = document.createElement(tag);
  Object.assign(e, props);
  for (const c of children) e.append(c);
  return e;
}

/** POST JSON; never throws on an HTTP error. @param {string} path @param {any} body */
export async function post(path, body) {
  const r = await api.fetchApi(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  let data = null;
  try { data = await r.json(); } catch { /* not JSON */ }
  return { ok: r.ok, status: r.status, data };
}

/** Is the person typing into this element? @param {EventTarget|null} t */
export function typing(t) {
  const e = /** @type {any} */ (t);
  if (!e) return false;
  const tag = (e.tagName ?? "").toLowerCase();
  return tag === "input" || tag === "textarea" || tag === "select" || !!e.isContentEditable;
}

/** @param {string} what @param {unknown} e */
export function warn(what, e) {
  console.warn(`[${PACK}] ${what}`, e);
}

/** The frontend's own Run command (its queue settings, its run set-up). */
export const QUEUE_COMMAND = "Comfy.QueuePrompt";

/** Queue the workflow again as the Run button does; an old frontend without commands queues directly. */
export async function queueWorkflow() {
  const a = /** @type {any} */ (app);
  const cmd = a.extensionManager?.command;
  if (cmd?.execute && (!Array.isArray(cmd.commands) || cmd.commands.some((/** @type {any} */ c) => c.id === QUEUE_COMMAND))) {
    try {
      await cmd.execute(QUEUE_COMMAND);
      return;
    } catch (e) {
      warn("the Run command failed; queueing directly", e);
    }
  }
  await a.queuePrompt(0, 1);
}

/** Tell the frontend the workflow changed (a widget set from code), so it is saved and persisted. */
export function noteGraphChanged() {
  const a = /** @type {any} */ (app);
  try {
    a.extensionManager?.workflow?.activeWorkflow?.changeTracker?.checkState?.();
  } catch (e) {
    warn("could not mark the workflow changed", e);
  }
  a.graph?.setDirtyCanvas?.(true, true);
}
