// @ts-check
// The in-node panel of an Image Chooser Gate: a scrollable grid of thumbnails
// (number, route badge, mask badge), route buttons, selection tools, Edit mask,
// Done and Stop. Pure DOM and selection state; chooser_gate.js wires the actions.

import { CSS_PREFIX } from "./names.js";
import { panelCss, showStatus } from "./panel_parts.js";
import { el } from "./util.js";

const P = `${CSS_PREFIX}ch-`;
const STYLE_ID = `${P}style`;
// The enlarged image uses the Image Gate's class, so keys of either gate leave it alone while it is open.
const BIG = `${CSS_PREFIX}big`;
const WAITING_HEIGHT = 460;
const IDLE_HEIGHT = 40;
const ROW = 100;                     // a thumbnail row, about
const GRID_MAX = 3.5 * ROW;          // beyond three and a half rows the grid scrolls (Nodes 2.0 sizes by content)
export const ROUTE_COLORS = ["#2f9e5b", "#d9822b", "#3b7dd8", "#b04fc4", "#c2a72a",
  "#23a6a6", "#d6455d", "#7a8c2f", "#9a6a44", "#6b6bd6"];
const DROP_COLOR = "#666";

const CSS = `${panelCss(P)}
.${P}route{border-left-width:6px!important}
.${P}done{border-color:#4a8!important;font-weight:bold!important}
.${P}stop{border-color:#c44!important}
.${P}grid{flex:1 1 auto;min-height:0;max-height:${GRID_MAX}px;overflow-y:auto;display:grid;gap:4px;padding:2px;
  grid-template-columns:repeat(auto-fill,minmax(88px,1fr));grid-auto-rows:max-content;align-content:start}
.${P}cell{position:relative;aspect-ratio:1;border:2px solid transparent;border-radius:5px;background:#1b1b1b;
  cursor:pointer;overflow:hidden;user-select:none}
.${P}cell img{position:absolute;inset:0;width:100%;height:100%;object-fit:contain;pointer-events:none}
.${P}cell.${P}selected{border-color:#f5d142;box-shadow:0 0 0 1px #f5d142}
.${P}cell.${P}focus{outline:2px dashed #fff;outline-offset:-5px}
.${P}num,.${P}badge,.${P}maskmark{position:absolute;padding:0 4px;border-radius:3px;font-size:11px;line-height:16px;
  color:#fff;pointer-events:none;max-width:calc(100% - 8px);overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.${P}num{top:3px;left:3px;background:rgba(0,0,0,.7)}
.${P}badge{bottom:3px;left:3px}
.${P}maskmark{top:3px;right:3px;background:#8a2be2}
.${P}quality{position:absolute;bottom:3px;right:3px;padding:0 3px;border-radius:3px;font-size:10px;line-height:14px;
  color:#fff;background:rgba(0,0,0,.65);pointer-events:none;white-space:nowrap}
.${P}quality.${P}low{background:rgba(183,28,28,.85)}
.${P}status{opacity:.85;min-height:14px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.${P}idle{opacity:.6;text-align:center;padding:6px}
.${BIG}{position:fixed;inset:0;z-index:10000;background:rgba(0,0,0,.85);display:flex;align-items:center;
  justify-content:center;cursor:zoom-out}
.${BIG} img{max-width:95vw;max-height:95vh}
`;

/** Class names the page objects of the tests use too. */
export const CLASSES = {
  panel: `${P}panel`, route: `${P}route`, drop: `${P}drop`, all: `${P}all`, none: `${P}none`,
  invert: `${P}invert`, mask: `${P}mask`, done: `${P}done`, stop: `${P}stop`, grid: `${P}grid`,
  cell: `${P}cell`, selected: `${P}selected`, focus: `${P}focus`, badge: `${P}badge`, maskmark: `${P}maskmark`,
  status: `${P}status`, big: BIG, quality: `${P}quality`, low: `${P}low`,
};

function ensureStyle() {
  if (document.getElementById(STYLE_ID)) return;
  document.head.appendChild(el("style", { id: STYLE_ID, textContent: CSS }));
}

/** Is an enlarged image of a chooser open? */
export function bigOpen() {
  return !!document.querySelector(`.${BIG}`);
}

function closeBig() {
  document.querySelector(`.${BIG}`)?.remove();
}

/** "keep, fix" -> one label per route; blanks show the number, a blank first one is "pass" (as the server).
 * @param {string} text @param {number} routes */
export function chooserLabels(text, routes) {
  const parts = String(text ?? "").replace(/\n/g, ",").split(",").map((s) => s.trim());
  return Array.from({ length: routes }, (_, i) => (parts[i] || (i === 0 ? "pass" : String(i + 1))).slice(0, 64));
}

/**
 * @typedef {{ onDone(decisions: number[]): void, onStop(): void, onMask(index: number): void,
 *   onProgress(): void, onFull(index: number): Promise<any>, url(ref: any): string,
 *   maskAvailable(): boolean, onEnded(done: any): void }} ChooserActions
 */

export class ChooserPanel {
  /** @param {ChooserActions} actions */
  constructor(actions) {
    ensureStyle();
    this.actions = actions;
    this.root = el("div", { className: CLASSES.panel });
    /** @type {any} */
    this.pause = null;
    /** @type {(number|null)[]} route per image: null = not assigned yet, 0 = dropped */
    this.assign = [];
    /** @type {Set<number>} */
    this.selected = new Set();
    /** @type {Set<number>} images with a saved mask */
    this.masked = new Set();
    this.focus = 0;
    this.anchor = 0;
    /** @type {HTMLElement[]} */
    this.cells = [];
    this.timer = 0;
    this.message = "";
    this.idle();
  }

  height() {
    if (!this.pause) return IDLE_HEIGHT;
    // bars and status, then up to three and a half rows of thumbnails (the grid scrolls beyond)
    const rows = Math.ceil((this.pause.count ?? 1) / 5);
    return Math.min(WAITING_HEIGHT, 96 + Math.min(GRID_MAX, rows * ROW));
  }

  idle(text = "Waits here during a run: give each image of the batch a route, then Done.") {
    clearTimeout(this.timer);
    closeBig();
    this.pause = null;
    this.cells = [];
    this.message = "";
    this.root.classList.remove(`${P}waiting`);
    delete this.root.dataset.token;
    this.root.replaceChildren(el("div", { className: `${P}idle ${CLASSES.status}`, textContent: text }));
  }

  /** @param {any} pause the show event / pending entry of a "choose" pause */
  show(pause) {
    clearTimeout(this.timer);
    this.pause = pause;
    this.message = "";
    const n = pause.count;
    const kept = Array.isArray(pause.decisions) && pause.decisions.length === n ? pause.decisions : null;
    this.assign = kept ? [...kept] : Array(n).fill(null);
    this.masked = new Set(pause.masked ?? []);
    this.selected = new Set();
    this.focus = 0;
    this.anchor = 0;
    this.root.classList.add(`${P}waiting`);
    this.root.dataset.token = pause.token;

    const routes = el("div", { className: `${P}bar` });
    (pause.labels ?? []).forEach((/** @type {string} */ label, /** @type {number} */ i) => {
      const b = this.button(CLASSES.route, `${label}`, `Give the selected images route ${i + 1} (key ${(i + 1) % 10})`,
        () => this.assignSelected(i + 1));
      b.dataset.route = String(i + 1);
      b.style.borderLeftColor = ROUTE_COLORS[i];
      routes.append(b);
    });
    routes.append(this.button(CLASSES.drop, "Drop", "The selected images go nowhere", () => this.assignSelected(0)));
    const available = this.actions.maskAvailable();
    this.maskButton = this.button(CLASSES.mask, available ? "Edit mask" : "Edit mask (unavailable)",
      available ? "Paint a mask on the focused image in ComfyUI's MaskEditor (key M)"
        : "This ComfyUI frontend has no MaskEditor command; routing still works",
      () => this.actions.onMask(this.focus));
    /** @type {HTMLButtonElement} */ (this.maskButton).disabled = !available;
    const tools = el("div", { className: `${P}bar` }, [
      this.button(CLASSES.all, "Select all", "Select every image", () => this.setSelection(this.range(0, n - 1))),
      this.button(CLASSES.none, "None", "Select no image", () => this.setSelection([])),
      this.button(CLASSES.invert, "Invert", "Select the others",
        () => this.setSelection(this.range(0, n - 1).filter((i) => !this.selected.has(i)))),
      this.maskButton,
      this.button(CLASSES.done, "Done", "Send every image down its route; unassigned ones get the default (Enter)",
        () => this.done()),
      this.button(CLASSES.stop, "Stop", "End the run (Esc)", () => this.actions.onStop()),
    ]);

    const grid = el("div", { className: CLASSES.grid });
    this.cells = this.range(0, n - 1).map((i) => {
      const cell = el("div", { className: CLASSES.cell, title: `Image ${i}` }, [
        el("img", { src: this.actions.url(this.thumb(i)), alt: `image ${i}`, draggable: false }),
        el("span", { className: `${P}num`, textContent: String(i) }),
        el("span", { className: CLASSES.badge }),
        el("span", { className: CLASSES.maskmark, textContent: "mask" }),
        ...this.qualityBadge(i),
      ]);
      cell.dataset.index = String(i);
      cell.addEventListener("click", (ev) => this.click(i, ev));
      cell.addEventListener("dblclick", () => this.enlarge(i));
      return cell;
    });
    grid.append(...this.cells);
    // The grid scrolls; the canvas must not zoom under it.
    grid.addEventListener("wheel", (ev) => ev.stopPropagation(), { passive: true });
    this.status = el("div", { className: CLASSES.status });
    this.root.replaceChildren(routes, tools, grid, this.status);
    this.cells.forEach((_, i) => this.paint(i));
    this.tick();
  }

  /** @param {string} className @param {string} text @param {string} title @param {() => void} onClick */
  button(className, text, title, onClick) {
    const b = el("button", { className, textContent: text, title, tabIndex: -1 });
    // Never keep the focus on a button: Space and Enter belong to the grid while it waits.
    b.addEventListener("click", () => { b.blur(); onClick(); });
    return b;
  }

  /** @param {number} a @param {number} b */
  range(a, b) {
    const [lo, hi] = a <= b ? [a, b] : [b, a];
    return Array.from({ length: Math.max(0, hi - lo + 1) }, (_, k) => lo + k);
  }

  /** The thumbnail ref of image i (one ref template for the whole batch). @param {number} i */
  thumb(i) {
    const t = this.pause.thumbs;
    return { ...t, filename: String(t.filename).replace("{index}", String(i)) };
  }

  /** The image's sharpness and clipped share (gates/core/quality.py, from its thumbnail), as one small
   * badge; red when soft (< 50), over 5 % clipped or smaller than the smallest training bucket.
   * @param {number} i */
  qualityBadge(i) {
    const t = this.pause.thumbs ?? {};
    const sharp = t.sharpness?.[i];
    if (sharp == null) return [];
    const clipped = t.clipped?.[i] ?? 0;
    const low = sharp < 50 || clipped > 5 || !!t.small;
    return [el("span", { className: `${CLASSES.quality}${low ? ` ${CLASSES.low}` : ""}`,
      textContent: `${sharp} \u00b7 ${clipped}%${t.small ? " \u00b7 small" : ""}`,
      title: `Sharpness ${sharp} (variance of the Laplacian at 256 px; blurred is low), ${clipped} % of the `
        + `pixels clipped to black or white${t.small ? ", smaller than the smallest training bucket" : ""}` })];
  }

  /** @param {number} i */
  paint(i) {
    const cell = this.cells[i];
    if (!cell) return;
    const r = this.assign[i];
    cell.classList.toggle(CLASSES.selected, this.selected.has(i));
    cell.classList.toggle(CLASSES.focus, this.focus === i);
    cell.dataset.route = r == null ? "" : String(r);
    const badge = /** @type {HTMLElement} */ (cell.querySelector(`.${CLASSES.badge}`));
    badge.textContent = r == null ? "" : r === 0 ? "drop" : this.pause.labels[r - 1];
    badge.style.background = r == null ? "transparent" : r === 0 ? DROP_COLOR : ROUTE_COLORS[r - 1];
    cell.style.borderColor = this.selected.has(i) ? "" : r ? ROUTE_COLORS[r - 1] : "";
    const mark = /** @type {HTMLElement} */ (cell.querySelector(`.${CLASSES.maskmark}`));
    mark.style.display = this.masked.has(i) ? "" : "none";
  }

  paintAll() {
    this.cells.forEach((_, i) => this.paint(i));
    this.tick();
  }

  /** @param {number} i @param {MouseEvent} ev */
  click(i, ev) {
    if (!this.pause) return;
    if (ev.shiftKey) this.selected = new Set(this.range(this.anchor, i));
    else if (ev.ctrlKey || ev.metaKey) {
      if (this.selected.has(i)) this.selected.delete(i);
      else this.selected.add(i);
      this.anchor = i;
    } else {
      this.selected = new Set([i]);
      this.anchor = i;
    }
    this.focus = i;
    this.paintAll();
  }

  /** @param {number[]} indices */
  setSelection(indices) {
    this.selected = new Set(indices);
    this.paintAll();
  }

  /** The images an action applies to: the selection, else the focused image. */
  targets() {
    return this.selected.size ? [...this.selected].sort((a, b) => a - b) : [this.focus];
  }

  /** @param {number} route 1..routes, 0 = drop */
  assignSelected(route) {
    if (!this.pause) return;
    for (const i of this.targets()) this.assign[i] = route;
    this.paintAll();
    this.actions.onProgress();
  }

  /** Every image's route; an unassigned one gets the pause's default. */
  decisions() {
    return this.assign.map((r) => (r == null ? this.pause.default_route ?? 0 : r));
  }

  done() {
    if (this.pause) this.actions.onDone(this.decisions());
  }

  /** @param {number} i */
  markMask(i) {
    this.masked.add(i);
    this.paint(i);
  }

  /** @param {number} i */
  async enlarge(i) {
    if (!this.pause) return;
    closeBig();
    const img = /** @type {HTMLImageElement} */ (el("img", { src: this.actions.url(this.thumb(i)), alt: `image ${i}` }));
    const big = el("div", { className: CLASSES.big }, [img]);
    big.dataset.index = String(i);
    big.addEventListener("click", () => big.remove());
    document.body.append(big);
    const ref = await this.actions.onFull(i);      // the full-resolution file, once written
    if (ref && big.isConnected) img.src = this.actions.url(ref);
  }

  /** @param {number} to */
  moveFocus(to) {
    const n = this.cells.length;
    this.focus = Math.max(0, Math.min(n - 1, to));
    this.paintAll();
    this.cells[this.focus]?.scrollIntoView?.({ block: "nearest" });
  }

  /** Thumbnails per grid row, as laid out now. */
  columns() {
    const top = this.cells[0]?.offsetTop;
    const n = this.cells.findIndex((c) => c.offsetTop !== top);
    return n > 0 ? n : Math.max(1, this.cells.length);
  }

  /**
   * A key while this pause waits (chooser_gate.js calls it in the capture phase).
   * Returns true when the key was used.
   * @param {string} key @param {boolean} [repeat]
   */
  key(key, repeat = false) {
    if (!this.pause) return false;
    if (bigOpen()) {
      if (key !== "Escape") return false;
      closeBig();
      return true;
    }
    const moves = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -this.columns(), ArrowDown: this.columns() };
    if (key in moves) {
      this.moveFocus(this.focus + /** @type {any} */ (moves)[key]);
      return true;
    }
    if (repeat) return false;
    if (key === " ") {
      if (this.selected.has(this.focus)) this.selected.delete(this.focus);
      else this.selected.add(this.focus);
      this.anchor = this.focus;
      this.paintAll();
      return true;
    }
    if (/^[0-9]$/.test(key)) {
      const route = key === "0" ? 10 : Number(key);
      if (route > this.pause.routes) return false;
      this.assignSelected(route);
      return true;
    }
    if (key === "Enter") { this.done(); return true; }
    if (key === "Escape") { this.actions.onStop(); return true; }
    if (key === "m" || key === "M") {
      if (!this.actions.maskAvailable()) return false;
      this.actions.onMask(this.focus);
      return true;
    }
    return false;
  }

  /**
   * A gate command (route number, "stop" or "mask") aimed at this pause, for
   * callers that act on whichever gate waits.
   * @param {number|string} what
   */
  act(what) {
    if (!this.pause || bigOpen()) return false;
    if (what === "stop") this.actions.onStop();
    else if (what === "mask") this.actions.onMask(this.focus);
    else if (Number(what) >= 1 && Number(what) <= this.pause.routes) this.assignSelected(Number(what));
    else return false;
    return true;
  }

  /** The status line; with a deadline it counts down, four times a second. */
  tick() {
    if (!this.pause) return;
    const counts = new Map();
    for (const r of this.assign) if (r != null) counts.set(r, (counts.get(r) ?? 0) + 1);
    const per = [...counts.entries()].sort((a, b) => a[0] - b[0])
      .map(([r, c]) => `${r === 0 ? "drop" : this.pause.labels[r - 1]} ${c}`);
    const open = this.assign.filter((r) => r == null).length;
    const dflt = this.pause.default_route ? this.pause.labels[this.pause.default_route - 1] : "drop";
    let t = `${this.cells.length} images \u00b7 ${this.selected.size} selected`;
    if (per.length) t += ` \u00b7 ${per.join(", ")}`;
    if (open) t += ` \u00b7 ${open} unassigned \u2192 ${dflt}`;
    showStatus(this, t, () => this.tick());
  }

  /** The pause shown here has ended. @param {any} done */
  ended(done) {
    closeBig();
    this.actions.onEnded(done);
  }

  /** @param {string} text */
  say(text) {
    this.message = text;
    this.tick();
  }

  /** @param {boolean} on */
  busy(on) {
    this.root.querySelectorAll("button").forEach((b) => {
      /** @type {HTMLButtonElement} */ (b).disabled = on || (b === this.maskButton && !this.actions.maskAvailable());
    });
  }
}
