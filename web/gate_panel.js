// @ts-check
// The in-node panel of an Image Gate: preview strip (with the mask's red
// overlay), the caption box, one button per route, Edit mask, Clear mask,
// Stop, a countdown and a status line; after an answer, the dimmed preview,
// what happened and Run from here. Pure DOM; the view in image_gate.js wires
// its actions.

import { CSS_PREFIX as P } from "./names.js";
import { el } from "./util.js";
import { button, routeButtons, showStatus } from "./panel_parts.js";
import { CropBox } from "./crop_box.js";
import { attachTagComplete } from "./tag_complete.js";

const STYLE_ID = `${P}style`;
const WAITING_HEIGHT = 280;
const CAPTION_HEIGHT = 74;
const RESOLVED_HEIGHT = 210;
const IDLE_HEIGHT = 40;
const CSS = `
.${P}panel{display:flex;flex-direction:column;gap:6px;padding:4px;box-sizing:border-box;width:100%;height:100%;
  font:12px sans-serif;color:var(--input-text,#ddd);overflow:hidden}
.${P}panel.${P}waiting{outline:2px solid #f5a623;border-radius:6px}
.${P}strip{display:flex;gap:4px;flex:1 1 auto;min-height:150px;justify-content:center;align-items:center}
.${P}strip .${P}frame{align-self:stretch}
.${P}frame{position:relative;flex:1 1 0;min-width:0}
.${P}strip.${P}batch .${P}frame{max-width:calc(100%/4)}
.${P}frame img{position:absolute;inset:0;width:100%;height:100%;object-fit:contain}
.${P}strip img.${P}preview{cursor:zoom-in}
img.${P}overlay{pointer-events:none}
.${P}strip.${P}dim{opacity:.45;filter:grayscale(.4);pointer-events:none;min-height:110px}
.${P}big{position:fixed;inset:0;z-index:10000;background:rgba(0,0,0,.85);display:flex;align-items:center;
  justify-content:center;cursor:zoom-out}
.${P}big .${P}frame{flex:0 0 auto;width:95vw;height:95vh}
.${P}caption{flex:0 0 auto;height:60px;resize:none;box-sizing:border-box;width:100%;font:12px/1.35 sans-serif;
  padding:4px 6px;border-radius:4px;border:1px solid #666;background:var(--comfy-input-bg,#222);color:inherit}
.${P}maskbar{display:flex;gap:6px;align-items:center}
.${P}badge{padding:1px 6px;border-radius:8px;background:#7a2020;color:#fff;font-size:11px}
.${P}buttons{display:flex;flex-wrap:wrap;gap:4px}
.${P}buttons button,.${P}maskbar button{flex:1 1 60px;padding:5px 6px;border-radius:5px;border:1px solid #666;
  cursor:pointer;background:var(--comfy-input-bg,#333);color:inherit;font:inherit}
.${P}maskbar button{flex:0 0 auto;padding:2px 8px}
.${P}buttons button:hover,.${P}maskbar button:hover{filter:brightness(1.3)}
.${P}buttons button:disabled{opacity:.5;cursor:default}
.${P}route{border-color:#4a8!important}
.${P}stop{border-color:#c44!important}
.${P}run{border-color:#48c!important}
.${P}status{opacity:.8;min-height:14px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.${P}resolved{font-weight:bold;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
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

/**
 * One picture with its (hidden until set) mask overlay, both scaled the same way.
 * @param {string} src @param {string|null} overlay
 */
function frame(src, overlay) {
  const img = el("img", { src, className: `${P}preview` });
  const over = /** @type {HTMLImageElement} */ (el("img", { className: `${P}overlay`, alt: "mask" }));
  if (overlay) over.src = overlay;
  else over.style.display = "none";
  return el("div", { className: `${P}frame` }, [img, over]);
}

/** @param {string} src @param {string|null} [overlay] */
export function enlarge(src, overlay = null) {
  const big = el("div", { className: `${P}big` }, [frame(src, overlay)]);
  big.addEventListener("click", () => big.remove());
  document.body.append(big);
}

/**
 * What the node says after a pause ended (the done event).
 * @param {any} done @returns {string}
 */
export function describeEnd(done) {
  if (done.outcome === "answered") return done.label ? `\u2713 routed to ${done.label}` : "\u2713 answered";
  if (done.outcome === "timeout") return `timed out \u2192 ${done.label ?? "stopped"}`;
  return "\u25a0 stopped";
}

/**
 * @typedef {{onRoute:(n:number)=>void, onStop:()=>void, onMask:()=>void, onClear:()=>void,
 *            onRunAgain:()=>void, url:(ref:any)=>string, maskAvailable:()=>boolean,
 *            hasMask:(pause:any)=>boolean, overlayOf:(pause:any)=>string|null, retained:(pause:any)=>boolean,
 *            captionShown:(pause:any)=>boolean, caption:(pause:any)=>string,
 *            onCaption:(pause:any, text:string)=>void, captionKey:(ev:KeyboardEvent)=>number,
 *            onEnded:(done:any)=>void}} GateActions
 */

export class GatePanel {
  /** @param {GateActions} actions */
  constructor(actions) {
    ensureStyle();
    this.actions = actions;
    this.root = el("div", { className: `${P}panel` });
    /** @type {any} */
    this.pause = null;
    /** what the last pause shown here ended with, until the next pause: {text, strip, kept} */
    /** @type {any} */
    this.resolved = null;
    this.timer = 0;
    this.message = "";
    this.hasMask = false;
    /** @type {HTMLTextAreaElement|null} */
    this.captionBox = null;
    /** @type {CropBox|null} */
    this.crop = null;
    this.idle();
  }

  height() {
    if (this.pause) return WAITING_HEIGHT + (this.captionBox ? CAPTION_HEIGHT : 0);
    return this.resolved ? RESOLVED_HEIGHT : IDLE_HEIGHT;
  }

  idle(text = "Waits here during a run: click a route to send the image on.") {
    clearTimeout(this.timer);
    this.crop?.close();
    this.pause = null;
    this.message = "";
    this.hasMask = false;
    this.captionBox = null;
    this.maskButton = null;
    this.root.classList.remove(`${P}waiting`);
    delete this.root.dataset.token;
    if (this.resolved) return this.showResolved();
    this.root.replaceChildren(el("div", { className: `${P}idle ${P}status`, textContent: text }));
  }

  /** The dimmed preview of the last pause, what happened, and Run from here. */
  showResolved() {
    const { text, strip, kept } = this.resolved;
    strip.classList.add(`${P}dim`);
    const run = el("button", { className: `${P}run`, textContent: "\u25b6 Run from here",
      title: "Queue this workflow again (the frontend's own Run)" });
    run.addEventListener("click", () => this.actions.onRunAgain());
    const line = el("div", { className: `${P}resolved`, textContent: text });
    const parts = [strip, line];
    if (kept) parts.push(el("div", { className: `${P}maskbar` }, [el("span", { className: `${P}badge`,
      textContent: "mask retained", title: "keep_mask: the next pause reuses this mask" })]));
    parts.push(el("div", { className: `${P}buttons` }, [run]));
    this.root.replaceChildren(...parts);
  }

  /** @param {any} pause the show event / pending entry */
  show(pause) {
    clearTimeout(this.timer);
    this.crop?.close();
    this.pause = pause;
    this.resolved = null;
    this.message = "";
    this.root.classList.add(`${P}waiting`);
    this.root.dataset.token = pause.token;
    const url = this.actions.url;
    const previews = pause.previews ?? [];
    this.strip = el("div", { className: `${P}strip` + (previews.length > 1 ? ` ${P}batch` : "") });
    const overlay = this.actions.overlayOf(pause);
    previews.forEach((/** @type {any} */ ref, /** @type {number} */ i) => {
      const f = frame(url(ref), overlay);
      const img = /** @type {HTMLImageElement} */ (f.firstChild);
      img.alt = `gate preview ${i + 1}`;
      img.addEventListener("click", () => enlarge(url(pause.full_ready ? pause.full[i] : ref), this.overlay));
      this.strip.append(f);
    });
    this.overlay = overlay;
    const parts = [this.strip];
    this.maskbar = el("div", { className: `${P}maskbar` });
    this.badge = el("span", { className: `${P}badge`, textContent: "mask retained",
      title: "keep_mask: the last mask painted at this gate is used again" });
    const clear = el("button", { className: `${P}clear`, textContent: "Clear mask",
      title: "No mask for this image, and forget the retained one" });
    clear.addEventListener("click", () => this.actions.onClear());
    this.maskbar.append(this.badge, clear);
    parts.push(this.maskbar);
    this.captionBox = null;
    if (this.actions.captionShown(pause)) {
      const box = /** @type {HTMLTextAreaElement} */ (el("textarea", {
        className: `${P}caption`, value: this.actions.caption(pause), spellcheck: false,
        placeholder: "caption (goes out on 'caption')",
        title: "The caption: edit it, then pick a route (Ctrl+1\u20269 or Ctrl+Enter = route 1 while typing here)",
      }));
      box.addEventListener("input", () => this.actions.onCaption(pause, box.value));
      box.addEventListener("keydown", (ev) => {
        const n = this.actions.captionKey(ev);
        if (!n || n > (pause.routes ?? 0)) return;
        ev.preventDefault();
        ev.stopPropagation();              // the frontend's Ctrl+Enter (Queue) must not see it
        this.actions.onRoute(n);
      });
      this.captionBox = attachTagComplete(box);
      parts.push(box);
    }
    const buttons = el("div", { className: `${P}buttons` }, routeButtons(pause.labels ?? [], (n) => this.actions.onRoute(n)));
    const available = this.actions.maskAvailable();
    this.maskButton = el("button", {
      className: `${P}mask`,
      title: available ? "Paint a mask in ComfyUI's MaskEditor (key M)"
        : "This ComfyUI frontend has no MaskEditor command; routing still works",
      disabled: !available,
    });
    this.maskButton.addEventListener("click", () => this.actions.onMask());
    const stop = button("stop", "Stop", "End the run (key Esc)", () => this.actions.onStop());
    if (pause.buckets?.length && (pause.batch ?? 1) <= 1) {
      buttons.append(button("cropbutton", "Crop", "Frame the image on a training bucket (key C); a route "
        + "then sends the crop of the full-resolution image", () => this.toggleCrop()));
    }
    buttons.append(this.maskButton, stop);
    this.status = el("div", { className: `${P}status` });
    parts.push(buttons, this.status);
    this.root.replaceChildren(...parts);
    this.markMask(this.actions.hasMask(pause));
    const b = pause.batch > 1 ? `batch of ${pause.batch}, ` : "";
    this.info = `${b}${pause.width}\u00d7${pause.height}`;
    this.tick();
  }

  /** Show the crop box over the preview, or take it away. */
  toggleCrop() {
    if (this.crop) return this.crop.close();
    const p = this.pause;
    const frameEl = /** @type {HTMLElement|null} */ (this.strip?.querySelector(`.${P}frame`) ?? null);
    if (!p?.buckets?.length || !frameEl) return;
    this.crop = new CropBox(frameEl, () => /** @type {HTMLImageElement} */ (frameEl.querySelector("img")),
      { width: p.width, height: p.height, buckets: p.buckets, onClose: () => { this.crop = null; } });
  }

  /** The crop an answer carries (none without a crop box). */
  cropField() {
    return this.crop ? this.crop.value() : {};
  }

  /** The status line; with a deadline it counts down, once a second. */
  tick() {
    showStatus(this, `Waiting \u00b7 ${this.info}`, () => this.tick());
  }

  /** The pause shown here has ended: keep its preview and say how, until the next pause. @param {any} done */
  ended(done) {
    if (this.pause && this.strip) {
      this.resolved = { text: describeEnd(done), strip: this.strip, kept: this.actions.retained(this.pause) };
    }
    this.actions.onEnded(done);
  }

  /**
   * Whether a mask is set on this pause (painted here, or retained), and its overlay.
   * @param {boolean} has
   */
  markMask(has) {
    this.hasMask = has;
    if (this.maskButton) {
      this.maskButton.textContent = this.actions.maskAvailable()
        ? (has ? "Edit mask \u2713" : "Edit mask") : "Edit mask (unavailable)";
    }
    if (!this.pause || !this.maskbar) return;
    const retained = this.actions.retained(this.pause);
    this.badge.style.display = retained ? "" : "none";
    this.maskbar.style.display = has || retained ? "" : "none";
    this.setOverlay(has || retained ? this.actions.overlayOf(this.pause) : null);
  }

  /** Show `src` (a red, translucent image of the mask) over every preview, or hide it. @param {string|null} src */
  setOverlay(src) {
    this.overlay = src;
    for (const over of this.root.querySelectorAll(`img.${P}overlay`)) {
      const img = /** @type {HTMLImageElement} */ (over);
      if (src) {
        if (img.src !== src) img.src = src;
        img.style.display = "";
      } else img.style.display = "none";
    }
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
