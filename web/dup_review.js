// @ts-check
// The Duplicate Review (Folder) node: one near-duplicate group per pause, its images side by side
// with size, file size and sharpness badges. Keys 1-9 (or clicks) toggle which images are kept,
// Enter confirms (the others are copied to the reject folder by the server), Backspace/Z undoes
// the last group, F shows the group over the whole window, Esc stops. The pause board
// (pauses.js) shows it on the node; answers go through its answer().

import { app } from "../../scripts/app.js";
import { CANCEL, CSS_PREFIX, EXTENSION } from "./names.js";
import { activeGate, answer, panelOf, registerView, renderAll } from "./pauses.js";
import { button, panelCss, showStatus } from "./panel_parts.js";
import { viewUrl } from "./mask_editor.js";
import { chain, el, typing } from "./util.js";

const NODE_TYPE = "DuplicateReview";
const P = `${CSS_PREFIX}dup-`;
const STYLE_ID = `${P}style`;
const WAITING_HEIGHT = 520;
const IDLE_HEIGHT = 40;

const CSS = `${panelCss(P)}
.${P}confirm{border-color:#4a8!important;font-weight:bold!important}
.${P}stop{border-color:#c44!important}
.${P}row{flex:1 1 auto;min-height:0;display:flex;gap:6px}
.${P}cell{position:relative;flex:1 1 0;min-width:0;border:3px solid #a33;border-radius:6px;background:#1b1b1b;
  cursor:pointer;overflow:hidden;user-select:none}
.${P}cell.${P}keep{border-color:#2f9e5b}
.${P}cell img{position:absolute;inset:0;width:100%;height:100%;object-fit:contain;pointer-events:none}
.${P}badges{position:absolute;left:3px;right:3px;bottom:3px;display:flex;flex-wrap:wrap;gap:3px;pointer-events:none}
.${P}badges span,.${P}num,.${P}verdict{padding:0 4px;border-radius:3px;font-size:11px;line-height:16px;color:#fff;
  background:rgba(0,0,0,.72);white-space:nowrap}
.${P}num{position:absolute;top:3px;left:3px;font-weight:bold}
.${P}verdict{position:absolute;top:3px;right:3px;background:#a33}
.${P}keep .${P}verdict{background:#2f9e5b}
.${P}status{opacity:.85;min-height:14px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.${P}idle{opacity:.6;text-align:center;padding:6px}
.${P}host{position:fixed;inset:0;z-index:9000;background:#111;display:flex}
`;

function ensureStyle() {
  if (document.getElementById(STYLE_ID)) return;
  document.head.appendChild(el("style", { id: STYLE_ID, textContent: CSS }));
}

/** 1234567 -> "1.2 MB" @param {number} n */
export function fileSize(n) {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KB`;
  return `${n} B`;
}

export class DupPanel {
  constructor() {
    ensureStyle();
    this.root = el("div", { className: `${P}panel` });
    /** @type {any} */
    this.pause = null;
    /** @type {Set<number>} the images kept */
    this.keep = new Set();
    /** @type {HTMLElement[]} */
    this.cells = [];
    /** @type {HTMLElement|null} the full-window host while the group is shown there */
    this.host = null;
    /** @type {Comment|null} */
    this.placeholder = null;
    /** @type {HTMLElement|null} */
    this.status = null;
    this.timer = 0;
    this.message = "";
    this.idle();
  }

  height() {
    return this.pause ? WAITING_HEIGHT : IDLE_HEIGHT;
  }

  idle(text = "Waits here during a run: each group of near-duplicates in turn; keep the best, Enter.") {
    clearTimeout(this.timer);
    this.leaveFull();
    this.pause = null;
    this.cells = [];
    this.status = null;
    this.message = "";
    this.root.classList.remove(`${P}waiting`);
    delete this.root.dataset.token;
    this.root.replaceChildren(el("div", { className: `${P}idle`, textContent: text }));
  }

  /** @param {any} pause */
  show(pause) {
    this.pause = pause;
    this.message = "";
    this.keep = new Set(pause.preselected ?? [0]);
    this.root.classList.add(`${P}waiting`);
    this.root.dataset.token = pause.token;
    /** @type {any[]} */
    const items = pause.items ?? [];
    this.cells = items.map((it, i) => {
      const cell = el("div", { className: `${P}cell`, title: `${it.file} (key ${i + 1})` }, [
        el("img", { src: viewUrl(it.preview), alt: it.file, draggable: false }),
        el("span", { className: `${P}num`, textContent: String(i + 1) }),
        el("span", { className: `${P}verdict` }),
        el("div", { className: `${P}badges` }, [
          el("span", { className: `${P}size`, textContent: `${it.width}\u00d7${it.height}` }),
          el("span", { className: `${P}bytes`, textContent: fileSize(it.bytes) }),
          el("span", { className: `${P}sharp`, textContent: `sharp ${Math.round(it.sharpness)}` }),
          el("span", { className: `${P}file`, textContent: it.file }),
        ]),
      ]);
      cell.dataset.index = String(i);
      cell.addEventListener("click", () => this.toggle(i));
      return cell;
    });
    this.undoButton = button("dup-undo", "\u21b6 Undo", "Take the last group back: its copies are removed and "
      + "it is shown again (Backspace or Z)", () => this.undo());
    /** @type {HTMLButtonElement} */ (this.undoButton).disabled = !pause.can_undo;
    this.fullButton = button("dup-full", "Full view", "Show the group over the whole window (F; Esc or F leaves)",
      () => this.toggleFull());
    const bar = el("div", { className: `${P}bar` }, [
      button("dup-confirm", "Keep selected \u23ce", "Keep the green images; the red ones are copied to the "
        + "reject folder (Enter)", () => this.confirm()),
      this.undoButton, this.fullButton,
      button("dup-stop", "Stop", "End the review; Run again resumes here (Esc)", () => this.stop()),
    ]);
    const row = el("div", { className: `${P}row` }, this.cells);
    this.status = el("div", { className: `${P}status` });
    this.root.replaceChildren(bar, row, this.status);
    this.paint();
  }

  paint() {
    this.cells.forEach((cell, i) => {
      const kept = this.keep.has(i);
      cell.classList.toggle(`${P}keep`, kept);
      cell.dataset.keep = kept ? "1" : "0";
      /** @type {HTMLElement} */ (cell.querySelector(`.${P}verdict`)).textContent = kept ? "keep" : "reject";
    });
    this.tick();
  }

  tick() {
    if (!this.pause) return;
    const p = this.pause;
    const rejects = this.cells.length - this.keep.size;
    showStatus(this, `group ${p.group} / ${p.groups} \u00b7 keep ${this.keep.size}, reject ${rejects}`
      + ` \u2192 ${p.reject_folder}`, () => this.tick());
  }

  /** @param {number} i */
  toggle(i) {
    if (!this.pause || i < 0 || i >= this.cells.length) return;
    if (this.keep.has(i)) this.keep.delete(i);
    else this.keep.add(i);
    this.message = "";
    this.paint();
  }

  confirm() {
    if (!this.pause) return;
    if (!this.keep.size) return this.say("Keep at least one image of the group");
    answer(this, { keep: [...this.keep].sort((a, b) => a - b) });
  }

  undo() {
    if (!this.pause) return;
    if (!this.pause.can_undo) return this.say("Nothing to undo yet");
    answer(this, { undo: true });
  }

  stop() {
    if (this.pause) answer(this, { message: CANCEL });
  }

  // ---- the full-window view: the same panel, moved into a host over the page ----------------
  toggleFull() {
    if (this.host) return this.leaveFull();
    this.placeholder = document.createComment("dataset gates: the duplicate review is in the full view");
    this.root.replaceWith(this.placeholder);
    this.host = el("div", { className: `${P}host` }, [this.root]);
    document.body.append(this.host);
    if (this.fullButton) this.fullButton.textContent = "Leave full view (Esc)";
  }

  leaveFull() {
    if (!this.host) return;
    this.placeholder?.replaceWith(this.root);
    this.host.remove();
    this.host = null;
    if (this.fullButton) this.fullButton.textContent = "Full view";
  }

  /**
   * A key while this pause waits. Returns true when it was used.
   * @param {string} key @param {boolean} [repeat]
   */
  key(key, repeat = false) {
    if (!this.pause || repeat) return false;
    if (/^[1-9]$/.test(key)) {
      if (Number(key) > this.cells.length) return false;
      this.toggle(Number(key) - 1);
      return true;
    }
    if (key === "Enter") { this.confirm(); return true; }
    if (key === "Backspace" || key === "z" || key === "Z") { this.undo(); return true; }
    if (key === "f" || key === "F") { this.toggleFull(); return true; }
    if (key === "Escape") {
      if (this.host) this.leaveFull();
      else this.stop();
      return true;
    }
    return false;
  }

  /** A gate command aimed at whichever gate waits ("stop", or route n = toggle image n). @param {number|string} what */
  act(what) {
    if (!this.pause) return false;
    if (what === "stop") this.stop();
    else if (Number(what) >= 1 && Number(what) <= this.cells.length) this.toggle(Number(what) - 1);
    else return false;
    return true;
  }

  /** @param {any} _done */
  ended(_done) {
    this.leaveFull();
  }

  /** @param {string} text */
  say(text) {
    this.message = text;
    this.tick();
  }

  /** @param {boolean} on */
  busy(on) {
    this.root.querySelectorAll("button").forEach((b) => {
      /** @type {HTMLButtonElement} */ (b).disabled = on || (b === this.undoButton && !this.pause?.can_undo);
    });
  }
}

registerView({ nodeType: NODE_TYPE, createPanel: () => new DupPanel() });

// Digits, Enter, Backspace/Z, F and Esc act on the group only while a review waits and nothing
// text-like has focus; taken in the capture phase, so the canvas and ComfyUI's keys see them
// again as soon as the review is over.
window.addEventListener("keydown", (ev) => {
  if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) return;
  const node = activeGate();
  const panel = node && panelOf(node);
  if (!(panel instanceof DupPanel) || !panel.pause) return;
  if (panel.key(ev.key, ev.repeat)) {
    ev.preventDefault();
    ev.stopImmediatePropagation();
  }
}, true);

app.registerExtension({
  name: `${EXTENSION}.DuplicateReview`,
  async beforeRegisterNodeDef(nodeType, nodeData) {
    if (nodeData?.name !== NODE_TYPE) return;
    chain(nodeType.prototype, "onAdded", () => queueMicrotask(renderAll));
  },
  nodeCreated(node) {
    if (node?.comfyClass !== NODE_TYPE && node?.type !== NODE_TYPE) return;
    panelOf(node);
    const min = node.computeSize?.();
    if (min) node.setSize?.([Math.max(node.size?.[0] ?? 0, min[0], 720), Math.max(node.size?.[1] ?? 0, min[1])]);
  },
});
