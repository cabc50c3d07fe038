// @ts-check
// Adapter over the frontend's own MaskEditor (the only place that knows how it
// is driven). Public surface used: the command Comfy.MaskEditor.OpenMaskEditor
// acting on the single selected node whose node.images / node.imgs hold the
// image. Save ends by assigning node.images = [ref of the saved file]; cancel
// closes #maskEditorCanvasContainer without such an assignment.
//
// node.images is assigned by others too: the frontend's preview code copies
// the node's entry of its node-output store into node.images whenever the two
// differ (1.32 .. 1.58 on every canvas draw of the node; in Nodes 2.0 when a
// preview loads). That entry can hold any earlier image: a mask saved before
// on this node, or what another node with the same id showed (a graph cleared
// without app.clean keeps the old entries). So a save is recognised by the
// file only a save writes: clipspace-painted-masked-<Date.now() at the save>.png
// (the name in every frontend seen, 1.32 .. 1.58), stamped during this session.

import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";

export const OPEN_COMMAND = "Comfy.MaskEditor.OpenMaskEditor";
/** the widget the frontend adds to draw node.imgs (1.32 .. 1.58) */
const PREVIEW_WIDGET = "$$canvas-image-preview";

/** Is the core MaskEditor command there? */
export function maskEditorAvailable() {
  const cmd = /** @type {any} */ (app).extensionManager?.command;
  if (!cmd?.execute) return false;
  const list = cmd.commands;
  if (Array.isArray(list)) return list.some((/** @type {any} */ c) => c.id === OPEN_COMMAND);
  return true; // older stores do not list commands; trust execute
}

/** @param {{filename:string, subfolder?:string, type?:string}} ref */
export function viewUrl(ref) {
  const q = new URLSearchParams({ filename: ref.filename, subfolder: ref.subfolder ?? "", type: ref.type ?? "input" });
  return api.apiURL(`/view?${q}`);
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
 * While the editor had the image on the node, the frontend gave the node its
 * image-preview widget; with the image gone it would draw nothing (or fail on
 * the next draw), so it goes too.
 * @param {any} node
 */
function dropImagePreview(node) {
  const i = node.widgets?.findIndex((/** @type {any} */ w) => w.name === PREVIEW_WIDGET) ?? -1;
  if (i < 0) return;
  node.widgets[i].onRemove?.();
  node.widgets.splice(i, 1);
}

/** the file a MaskEditor save writes and assigns, with the save's Date.now() */
const SAVED_FILE = /^clipspace-painted-masked-(\d+)\b/;

/**
 * Is `ref` the file of a MaskEditor save made at or after `since` (ms)?
 * Anything else assigned to node.images (the frontend copying an older
 * output of the node) is not this session's save.
 * @param {any} ref @param {number} since
 */
export function isSaveSince(ref, since) {
  const m = typeof ref?.filename === "string" ? SAVED_FILE.exec(ref.filename) : null;
  return !!m && Number(m[1]) >= since;
}

/** node -> its latest editing session; an older session's clean-up leaves a newer one alone */
const sessions = new WeakMap();

export function editorOpen() {
  return !!document.getElementById("maskEditorCanvasContainer");
}

/**
 * Open the core MaskEditor on `node` showing `ref`. Resolves with the saved
 * file's ref, or null when the editor is closed without saving.
 * @param {any} node
 * @param {{filename:string, subfolder?:string, type?:string}} ref
 * @returns {Promise<any>}
 */
export async function editMask(node, ref) {
  if (!maskEditorAvailable()) throw new Error("this ComfyUI frontend has no MaskEditor command");
  const since = Date.now();
  const img = await loadImage(viewUrl(ref));
  const canvas = /** @type {any} */ (app).canvas;
  const session = {};
  sessions.set(node, session);
  return new Promise((resolve, reject) => {
    let images = [ref];
    let done = false;
    let seenOpen = false;
    const finish = (/** @type {any} */ value) => {
      if (done) return;
      done = true;
      watcher.disconnect();
      resolve(value);
      // Later editors assign node.images twice: detach only after that, and
      // not at all once the node is being edited again (a quick re-open).
      setTimeout(() => {
        if (sessions.get(node) !== session) return;
        sessions.delete(node);
        delete node.images;
        node.imgs = undefined;
        node.imageIndex = null;
        dropImagePreview(node);
        node.setDirtyCanvas?.(true, true);
      }, 1500);
    };
    Object.defineProperty(node, "images", {
      configurable: true,
      get: () => images,
      set: (v) => {
        images = v;           // kept, so the frontend's copy of its output store settles
        const saved = Array.isArray(v) ? v[0] : null;
        if (isSaveSince(saved, since)) finish(saved);
      },
    });
    node.imgs = [img];
    node.imageIndex = 0;
    // The editor's DOM comes and goes: closed without a save = cancel (a save lands first).
    const watcher = new MutationObserver(() => {
      if (editorOpen()) seenOpen = true;
      else if (seenOpen) setTimeout(() => finish(null), 300);
    });
    watcher.observe(document.body, { childList: true, subtree: true });
    try {
      canvas.deselectAll?.();
      canvas.selectNode(node);
      Promise.resolve(/** @type {any} */ (app).extensionManager.command.execute(OPEN_COMMAND)).catch((e) => {
        finish(null);
        reject(e);
      });
    } catch (e) {
      finish(null);
      reject(e);
    }
  });
}
