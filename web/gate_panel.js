// @ts-check
// The in-node panel of an Image Gate: preview strip, one button per route,
// Edit mask, Stop, a countdown and a status line. Pure DOM; the view in
// image_gate.js wires its actions.

import { CSS_PREFIX as P } from "./names.js";
import { el } from "./util.js";

const STYLE_ID = `${P}style`;
const WAITING_HEIGHT = 280;
const IDLE_HEIGHT = 40;
const CSS = `
.${P}panel{display:flex;flex-direction:column;gap:6px;padding:4px;box-sizing:border-box;width:100%;height:100%;
  font:12px sans-serif;color:var(--input-text,#ddd);overflow:hidden}
.${P}panel.${P}waiting{outline:2px solid #f5a623;border-radius:6px}
.${P}strip{display:flex;gap:4px;flex:1 1 auto;min-height:0;justify-content:center;align-items:center}
.${P}strip img{max-width:100%;max-height:100%;object-fit:contain;cursor:zoom-in;min-width:0;min-height:0;flex:1 1 0}
.${P}strip.${P}batch img{max-width:calc(100%/4)}
.${P}big{position:fixed;inset:0;z-index:10000;background:rgba(0,0,0,.85);display:flex;align-items:center;
  justify-content:center;cursor:zoom-out}
.${P}big img{max-width:95vw;max-height:95vh}
.${P}buttons{display:flex;flex-wrap:wrap;gap:4px}
.${P}buttons button{flex:1 1 60px;padding:5px 6px;border-radius:5px;border:1px solid #666;cursor:pointer;
  background:var(--comfy-input-bg,#333);color:inherit;font:inherit}
.${P}buttons button:hover{filter:brightness(1.3)}
.${P}buttons button:disabled{opacity:.5;cursor:default}
.${P}route{border-color:#4a8!important}
.${P}stop{border-color:#c44!important}
.${P}status{opacity:.8;min-height:14px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.${P}idle{opacity:.6;text-align:center;padding:6px}
`;

export function ensureStyle() {
  if (document.getElementById(STYLE_ID)) return;
  document.head.appendChild(el("style", { id: STYLE_ID, textContent: CSS }));
}

/** Is an enlarged preview open (keys must not act under it)? */
export function enlargedOpen() {
  return !!document.querySelector(`.${P}big`);
}

/** @param {string} src */
export function enlarge(src) {
  const big = el("div", { className: `${P}big` }, [el("img", { src })]);
  big.addEventListener("click", () => big.remove());
  document.body.append(big);
}

export class GatePanel {
  /**
   * @param {{onRoute:(n:number)=>void, onStop:()=>void, onMask:()=>void, url:(ref:any)=>string,
   *          maskAvailable:()=>boolean, hasMask:(pause:any)=>boolean, onEnded:(done:any)=>void}} actions
   */
  constructor(actions) {
    ensureStyle();
    this.actions = actions;
    this.root = el("div", { className: `${P}panel` });
    /** @type {any} */
    this.pause = null;
    this.timer = 0;
    this.message = "";
    this.hasMask = false;
    this.idle();
  }

  height() {
    return this.pause ? WAITING_HEIGHT : IDLE_HEIGHT;
  }

  idle(text = "Waits here during a run: click a route to send the image on.") {
    clearTimeout(this.timer);
    this.pause = null;
    this.message = "";
    this.hasMask = false;
    this.root.classList.remove(`${P}waiting`);
    delete this.root.dataset.token;
    this.root.replaceChildren(el("div", { className: `${P}idle ${P}status`, textContent: text }));
  }

  /** @param {any} pause the show event / pending entry */
  show(pause) {
    clearTimeout(this.timer);
    this.pause = pause;
    this.message = "";
    this.root.classList.add(`${P}waiting`);
    this.root.dataset.token = pause.token;
    const url = this.actions.url;
    const previews = pause.previews ?? [];
    const strip = el("div", { className: `${P}strip` + (previews.length > 1 ? ` ${P}batch` : "") });
    previews.forEach((/** @type {any} */ ref, /** @type {number} */ i) => {
      const img = el("img", { src: url(ref), alt: `gate preview ${i + 1}`, className: `${P}preview` });
      img.addEventListener("click", () => enlarge(url(pause.full_ready ? pause.full[i] : ref)));
      strip.append(img);
    });
    const buttons = el("div", { className: `${P}buttons` });
    (pause.labels ?? []).forEach((/** @type {string} */ label, /** @type {number} */ i) => {
      const b = el("button", { className: `${P}route`, textContent: label, title: `Route ${i + 1} (key ${(i + 1) % 10})` });
      b.dataset.route = String(i + 1);
      b.addEventListener("click", () => this.actions.onRoute(i + 1));
      buttons.append(b);
    });
    const available = this.actions.maskAvailable();
    this.maskButton = el("button", {
      className: `${P}mask`,
      title: available ? "Paint a mask in ComfyUI's MaskEditor (key M)"
        : "This ComfyUI frontend has no MaskEditor command; routing still works",
      disabled: !available,
    });
    this.maskButton.addEventListener("click", () => this.actions.onMask());
    this.markMask(this.actions.hasMask(pause));
    const stop = el("button", { className: `${P}stop`, textContent: "Stop", title: "End the run (key Esc)" });
    stop.addEventListener("click", () => this.actions.onStop());
    buttons.append(this.maskButton, stop);
    this.status = el("div", { className: `${P}status` });
    this.root.replaceChildren(strip, buttons, this.status);
    const b = pause.batch > 1 ? `batch of ${pause.batch}, ` : "";
    this.info = `${b}${pause.width}\u00d7${pause.height}`;
    this.tick();
  }

  /** The status line; with a deadline it counts down, once a second. */
  tick() {
    clearTimeout(this.timer);
    if (!this.pause || !this.status) return;
    let t = `Waiting \u00b7 ${this.info}`;
    if (this.pause.deadline) {
      const left = Math.max(0, Math.ceil(this.pause.deadline - Date.now() / 1000));
      t += ` \u00b7 ${left}s left`;
      this.timer = window.setTimeout(() => this.tick(), 250);
    }
    if (this.message) t = `${this.message} \u00b7 ${t}`;
    this.status.textContent = t;
  }

  /** The pause shown here has ended. @param {any} done */
  ended(done) {
    this.actions.onEnded(done);
  }

  /** @param {boolean} has */
  markMask(has) {
    this.hasMask = has;
    if (!this.maskButton) return;
    this.maskButton.textContent = this.actions.maskAvailable()
      ? (has ? "Edit mask \u2713" : "Edit mask") : "Edit mask (unavailable)";
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
