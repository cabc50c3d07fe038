// @ts-check
// The in-node panel of a Text Gate: the text in an editable box (the image
// beside it when one is wired), Pass, Stop, a countdown; protected, the box
// edits the stored text; after a pause, what happened and Run from here. Pure
// DOM; text_gate.js wires its actions.

import { CSS_PREFIX as P } from "./names.js";
import { ensureStyle } from "./gate_panel.js";
import { el } from "./util.js";
import { showStatus } from "./panel_parts.js";
import { attachTagComplete } from "./tag_complete.js";

const STYLE_ID = `${P}text-style`;
const WAITING_HEIGHT = 230;
const PROTECTED_HEIGHT = 130;
const RESOLVED_HEIGHT = 70;
const IDLE_HEIGHT = 40;
const CSS = `
.${P}tpanel{display:flex;flex-direction:column;gap:6px;padding:4px;box-sizing:border-box;width:100%;height:100%;
  font:12px sans-serif;color:var(--input-text,#ddd);overflow:hidden}
.${P}tpanel.${P}waiting{outline:2px solid #f5a623;border-radius:6px}
.${P}trow{display:flex;gap:6px;flex:1 1 auto;min-height:80px}
.${P}tframe{position:relative;flex:0 0 40%;min-width:0}
.${P}tframe img{position:absolute;inset:0;width:100%;height:100%;object-fit:contain;cursor:zoom-in}
.${P}text{flex:1 1 auto;min-width:0;min-height:0;resize:none;box-sizing:border-box;font:12px/1.4 ui-monospace,monospace;
  padding:6px;border-radius:4px;border:1px solid #666;background:var(--comfy-input-bg,#222);color:inherit}
.${P}pass{border-color:#4a8!important}
`;

function ensureTextStyle() {
  ensureStyle();
  if (document.getElementById(STYLE_ID)) return;
  document.head.appendChild(el("style", { id: STYLE_ID, textContent: CSS }));
}

/** What the node says after a text pause ended (the done event). @param {any} done */
export function describeTextEnd(done) {
  if (done.outcome === "answered") return "\u2713 passed";
  if (done.outcome === "timeout") return done.passed ? "timed out \u2192 passed unchanged" : "timed out \u2192 stopped";
  return "\u25a0 stopped";
}

/**
 * @typedef {{onPass:(text:string)=>void, onStop:()=>void, onRunAgain:()=>void, url:(ref:any)=>string,
 *            enlarge:(src:string)=>void, isProtected:()=>boolean, stored:()=>string, setStored:(text:string)=>void,
 *            initial:(pause:any)=>string, onEdit:(pause:any, text:string)=>void, onEnded:(done:any)=>void}} TextActions
 */

export class TextPanel {
  /** @param {TextActions} actions */
  constructor(actions) {
    ensureTextStyle();
    this.actions = actions;
    this.root = el("div", { className: `${P}tpanel` });
    /** @type {any} */
    this.pause = null;
    /** @type {string|null} what the last pause ended with, until the next pause */
    this.resolved = null;
    /** @type {HTMLTextAreaElement|null} */
    this.box = null;
    this.timer = 0;
    this.message = "";
    this.idle();
  }

  height() {
    if (this.pause) return WAITING_HEIGHT;
    if (this.actions.isProtected()) return PROTECTED_HEIGHT;
    return this.resolved ? RESOLVED_HEIGHT : IDLE_HEIGHT;
  }

  /** @param {string} value @param {string} placeholder */
  textBox(value, placeholder) {
    const box = /** @type {HTMLTextAreaElement} */ (el("textarea", { className: `${P}text`, value, placeholder,
      spellcheck: false }));
    this.box = attachTagComplete(box);
    return box;
  }

  idle(text = "Waits here during a run: edit the text, then Pass (Ctrl+Enter).") {
    clearTimeout(this.timer);
    this.pause = null;
    this.message = "";
    this.box = null;
    this.root.classList.remove(`${P}waiting`);
    delete this.root.dataset.token;
    if (this.actions.isProtected()) {
      const box = this.textBox(this.actions.stored(), "type the text this node outputs\u2026");
      box.addEventListener("input", () => this.actions.setStored(box.value));
      this.root.replaceChildren(el("div", { className: `${P}trow` }, [box]),
        el("div", { className: `${P}status`, textContent: "Protected \u2014 outputs this text, upstream ignored" }));
      return;
    }
    if (this.resolved) {
      const run = el("button", { className: `${P}run`, textContent: "\u25b6 Run from here",
        title: "Queue this workflow again; the text you passed comes back at the next pause" });
      run.addEventListener("click", () => this.actions.onRunAgain());
      this.root.replaceChildren(el("div", { className: `${P}resolved`, textContent: this.resolved }),
        el("div", { className: `${P}buttons` }, [run]));
      return;
    }
    this.root.replaceChildren(el("div", { className: `${P}idle ${P}status`, textContent: text }));
  }

  /** @param {any} pause the show event / pending entry */
  show(pause) {
    clearTimeout(this.timer);
    this.pause = pause;
    this.resolved = null;
    this.message = "";
    this.root.classList.add(`${P}waiting`);
    this.root.dataset.token = pause.token;
    const row = el("div", { className: `${P}trow` });
    const ref = pause.previews?.[0];
    if (ref) {
      const img = el("img", { src: this.actions.url(ref), className: `${P}tpreview`, alt: "text gate image" });
      img.addEventListener("click", () => this.actions.enlarge(this.actions.url(ref)));
      row.append(el("div", { className: `${P}tframe` }, [img]));
    }
    const box = this.textBox(this.actions.initial(pause), "");
    box.addEventListener("input", () => this.actions.onEdit(pause, box.value));
    row.append(box);
    const pass = el("button", { className: `${P}pass`, textContent: "\u25b6 Pass",
      title: "Send the text on (Ctrl+Enter)" });
    pass.addEventListener("click", () => this.actions.onPass(box.value));
    const stop = el("button", { className: `${P}tstop`, textContent: "Stop", title: "End the run (Esc)" });
    stop.addEventListener("click", () => this.actions.onStop());
    this.status = el("div", { className: `${P}status` });
    this.root.replaceChildren(row, el("div", { className: `${P}buttons` }, [pass, stop]), this.status);
    this.tick();
  }

  tick() {
    showStatus(this, "Waiting \u00b7 edit, then Pass (Ctrl+Enter)", () => this.tick());
  }

  /** @param {any} done */
  ended(done) {
    this.resolved = describeTextEnd(done);
    this.actions.onEnded(done);
  }

  /** @param {string} text */
  say(text) {
    this.message = text;
    this.tick();
  }

  /** @param {boolean} on */
  busy(on) {
    this.root.querySelectorAll("button").forEach((b) => { /** @type {HTMLButtonElement} */ (b).disabled = on; });
  }
}
