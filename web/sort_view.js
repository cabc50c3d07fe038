// @ts-check
// A folder sort on the Image Gate's panel: progress, Undo, the folder-done
// message, and the next image on screen the instant a key is pressed.
//
// While the person looks at image i, the server decodes image i+1 and writes
// its preview (the sort event "next"); this module loads and decodes it then.
// A route key swaps it in at once; the server's own pause for i+1 follows a
// moment later (after image i is saved) and takes over the same, already
// decoded picture. A key pressed in between is kept and sent to that pause.

import { api } from "../../scripts/api.js";
import { CSS_PREFIX as P, EVENTS } from "./names.js";
import { el, typing } from "./util.js";

export const UNDO = "__undo__";
const UNDO_KEYS = new Set(["Backspace", "z", "Z"]);
const STYLE_ID = `${P}sort-style`;
const CSS = `
.${P}sortbar{display:flex;gap:6px;align-items:center;justify-content:space-between}
.${P}progress{font-weight:bold;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.${P}sortbar button{padding:2px 8px;border-radius:5px;border:1px solid #888;cursor:pointer;
  background:var(--comfy-input-bg,#333);color:inherit;font:inherit}
.${P}sortbar button:disabled{opacity:.5;cursor:default}
.${P}advancing .${P}strip.${P}dim{opacity:1;filter:none}
.${P}advancing .${P}run{display:none}
`;

/**
 * @typedef {{ route(panel: any, n: number): void, undo(panel: any): void, stop(panel: any): void,
 *             activePanel(): any }} SortActions
 */

/** folder -> Map(file -> {img, decoded}) of the images prepared ahead, as the server announced them */
const upcoming = new Map();
const KEEP_AHEAD = 4;
/** panels that showed a sort: they get the folder-done message */
const sortPanels = new Set();
/** @type {SortActions|null} */
let actions = null;

/** @param {any} pause */
export function sortOf(pause) {
  return pause?.sort ?? null;
}

/** "5 / 8 · keep 3 · reject 1" @param {any} sort */
export function progressText(sort) {
  const counts = Object.entries(sort.counts ?? {}).map(([k, v]) => `${k} ${v}`);
  return [`${sort.index} / ${sort.count}`, ...counts].join(" \u00b7 ");
}

/** @param {any} detail @param {(ref:any)=>string} url */
async function onSortEvent(detail, url) {
  if (!detail) return;
  if (detail.state === "next" && detail.preview) {
    const img = new Image();
    img.className = `${P}preview`;
    img.alt = "gate preview 1";
    img.dataset.file = detail.file;
    img.src = url(detail.preview);
    const entry = { file: detail.file, img, decoded: false };
    if (!upcoming.has(detail.folder)) upcoming.set(detail.folder, new Map());
    const ahead = upcoming.get(detail.folder);
    ahead.set(detail.file, entry);
    while (ahead.size > KEEP_AHEAD) ahead.delete(ahead.keys().next().value);
    try {
      await img.decode();
      entry.decoded = true;
    } catch { /* shown anyway once swapped in; the browser decodes it then */ }
    return;
  }
  if (detail.message) for (const panel of sortPanels) sortEnded(panel, detail);
}

/** The sort ended (folder done, empty, missing): say so on the panel. @param {any} panel @param {any} detail */
function sortEnded(panel, detail) {
  if (panel.pause) return;                       // a new pause is shown: it says more
  panel.sortAdvancing = null;
  panel.root.classList.remove(`${P}advancing`);
  if (panel.resolved) {
    panel.resolved.text = detail.message;
    panel.showResolved();
  } else panel.idle(detail.message);
  panel.root.dataset.sortState = detail.state;
}

/** The prepared image of `file` in `folder`, if the server announced it. @param {string} folder @param {string} file */
function prepared(folder, file) {
  return file ? upcoming.get(folder)?.get(file) ?? null : null;
}

/** The next image after the one a pause shows, prepared ahead. @param {any} pause */
function nextImage(pause) {
  const sort = sortOf(pause);
  return sort ? prepared(sort.folder, sort.next?.[0]) : null;
}

/**
 * Called after the panel drew a pause: for a sort, the progress row with Undo,
 * the preloaded picture of this image, and a key pressed while it was coming.
 * @param {any} panel @param {any} pause
 */
export function decorate(panel, pause) {
  const sort = sortOf(pause);
  panel.root.classList.remove(`${P}advancing`);
  const buffered = panel.sortBuffered;
  panel.sortBuffered = null;
  panel.sortAdvancing = null;
  if (!sort) return;
  ensureStyle();
  sortPanels.add(panel);
  delete panel.root.dataset.sortState;
  const undo = el("button", { className: `${P}undo`, textContent: "\u21b6 Undo",
    title: "Take the last decision back: its files leave their folder and that image comes back "
      + "(key Backspace or Z)", disabled: !sort.undo });
  undo.addEventListener("click", () => actions?.undo(panel));
  panel.root.prepend(el("div", { className: `${P}sortbar` }, [
    el("span", { className: `${P}progress`, textContent: progressText(sort),
      title: `Sorting ${sort.folder}: image ${sort.index} of ${sort.count}` }),
    undo,
  ]));
  const shown = /** @type {HTMLImageElement|null} */ (panel.root.querySelector(`img.${P}preview`));
  const pre = prepared(sort.folder, sort.file);
  if (shown) {
    shown.dataset.file = sort.file;
    if (pre?.decoded) swapIn(shown, pre.img, sort.file);   // the picture decoded ahead: no second decode
  }
  if (buffered != null) queueMicrotask(() => replay(panel, buffered));
}

/** @param {HTMLImageElement} shown @param {HTMLImageElement} source @param {string} file */
function swapIn(shown, source, file) {
  const img = /** @type {HTMLImageElement} */ (source.cloneNode());
  img.className = shown.className;
  img.alt = shown.alt;
  img.dataset.file = file;
  img.addEventListener("click", () => shown.click());   // the replaced element keeps its handlers
  shown.replaceWith(img);
  return img;
}

/** @param {any} panel @param {number|string} what */
function replay(panel, what) {
  if (!panel.pause || !actions) return;
  if (what === UNDO) actions.undo(panel);
  else if (what === "stop") actions.stop(panel);
  else actions.route(panel, Number(what));
}

/**
 * A route was pressed on a sort pause: show the next image now (when it is
 * decoded already), before the answer even leaves the page.
 * @param {any} panel @param {any} pause @param {string} label
 */
export function advance(panel, pause, label) {
  const sort = sortOf(pause);
  if (!sort) return false;
  const next = nextImage(pause);
  const shown = /** @type {HTMLImageElement|null} */ (panel.root.querySelector(`img.${P}preview`));
  panel.sortAdvancing = { file: next?.file ?? null, label, sort };
  panel.root.classList.add(`${P}advancing`);
  const p = panel.root.querySelector(`.${P}progress`);
  if (p) p.textContent = advanceText(panel.sortAdvancing);
  if (!next || !shown) return false;
  swapIn(shown, next.img, next.file);
  return true;
}

/** After the pause ended while advancing: keep the next picture up, say where the sort stands. @param {any} panel */
export function afterEnded(panel) {
  const adv = panel.sortAdvancing;
  if (!adv || !panel.resolved) return;
  panel.resolved.text = advanceText(adv);
}

/** "✓ keep · next 6 / 8", or "✓ keep · saving the last image" @param {any} adv */
function advanceText(adv) {
  const { sort, label } = adv;
  if (sort.index >= sort.count) return `\u2713 ${label} \u00b7 saving the last image\u2026`;
  return `\u2713 ${label} \u00b7 next ${sort.index + 1} / ${sort.count}`;
}

/** Is a sort panel between an answer and its next pause (a key pressed now is kept)? @param {any} panel */
function advancing(panel) {
  return !!panel?.sortAdvancing && !panel.pause;
}

/** @param {KeyboardEvent} ev @returns {number|string|null} */
function keyAction(ev) {
  if (UNDO_KEYS.has(ev.key)) return UNDO;
  if (ev.key === "Escape") return "stop";
  if (/^[0-9]$/.test(ev.key)) return ev.key === "0" ? 10 : Number(ev.key);
  return null;
}

/** Undo keys while a sort waits, and every gate key while the next image is on its way. @param {SortActions} a */
export function startSort(a, /** @type {(ref:any)=>string} */ url) {
  actions = a;
  /** @type {any} */ (api).addEventListener(EVENTS.sort, (/** @type {any} */ e) => onSortEvent(e.detail, url));
  window.addEventListener("keydown", (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.repeat || typing(ev.target)) return;
    const what = keyAction(ev);
    if (what == null) return;
    const panel = a.activePanel() ?? [...sortPanels].find(advancing);
    if (!panel) return;
    if (advancing(panel)) {
      panel.sortBuffered = what;                      // sent to the next pause as soon as it shows
    } else if (what === UNDO && sortOf(panel.pause)) {
      if (!sortOf(panel.pause).undo) return;
      a.undo(panel);
    } else return;
    ev.preventDefault();
    ev.stopImmediatePropagation();
  }, true);
}

function ensureStyle() {
  if (document.getElementById(STYLE_ID)) return;
  document.head.appendChild(el("style", { id: STYLE_ID, textContent: CSS }));
}
