// @ts-check
// A crop box over a gate's preview that snaps to the training buckets: the
// person frames the image, a route key sends the crop (source pixels) with the
// answer, and the server cuts the full-resolution image (and its mask).
//
// The box keeps the aspect of one bucket; it starts as the largest box of the
// bucket nearest the image's aspect, centred. Mouse: drag inside moves, drag a
// corner resizes (aspect kept). Keys: arrows move (Shift = 10x), [ and ]
// switch to the previous / next bucket aspect, C or Esc cancel the crop.

import { CSS_PREFIX as P } from "./names.js";
import { el } from "./util.js";

const STYLE_ID = `${P}crop-style`;
const MIN_SIDE = 64;                                   // the server refuses a smaller crop
const CROP_CSS = `
.${P}cropbox{position:absolute;box-sizing:border-box;border:2px solid #f5a623;cursor:move;z-index:2;
  box-shadow:0 0 0 9999px rgba(0,0,0,.55);touch-action:none}
.${P}cropbox span{position:absolute;left:2px;top:2px;font:bold 11px sans-serif;color:#000;background:#f5a623;
  padding:0 4px;border-radius:3px;pointer-events:none}
.${P}crophandle{position:absolute;width:12px;height:12px;background:#f5a623;border-radius:2px}
.${P}cropping{overflow:hidden}
`;

/** Distinct bucket aspects, narrowest first: [{w, h, a}]. @param {number[][]} buckets */
export function aspects(buckets) {
  const seen = new Map();
  for (const [w, h] of buckets) {
    const a = w / h;
    const key = a.toFixed(4);
    if (!seen.has(key) || seen.get(key).w * seen.get(key).h < w * h) seen.set(key, { w, h, a });
  }
  return [...seen.values()].sort((p, q) => p.a - q.a);
}

/** The largest box of aspect `a` inside W x H, centred on (cx, cy) and kept inside.
 * @param {number} W @param {number} H @param {number} a @param {number} [cx] @param {number} [cy] */
export function largestBox(W, H, a, cx = W / 2, cy = H / 2) {
  const w = W / H > a ? H * a : W;
  const h = w / a;
  return clampBox({ x: cx - w / 2, y: cy - h / 2, w, h }, W, H);
}

/** @param {{x:number,y:number,w:number,h:number}} b @param {number} W @param {number} H */
function clampBox(b, W, H) {
  return { ...b, x: Math.min(Math.max(0, b.x), W - b.w), y: Math.min(Math.max(0, b.y), H - b.h) };
}

export class CropBox {
  /**
   * @param {HTMLElement} frame the positioned element holding the preview
   * @param {() => HTMLImageElement} img the preview on screen (object-fit: contain)
   * @param {{width:number, height:number, buckets:number[][], onClose?:() => void}} opts
   */
  constructor(frame, img, opts) {
    ensureStyle();
    this.frame = frame;
    this.img = img;
    this.W = opts.width;
    this.H = opts.height;
    this.onClose = opts.onClose;
    this.aspects = aspects(opts.buckets.filter(([w, h]) => w > 0 && h > 0));
    const own = Math.log(this.W / this.H);
    this.index = this.aspects.reduce((best, x, i) =>
      (Math.abs(Math.log(x.a) - own) < Math.abs(Math.log(this.aspects[best].a) - own) ? i : best), 0);
    this.box = largestBox(this.W, this.H, this.aspects[this.index].a);
    this.label = el("span");
    this.el = el("div", { className: `${P}cropbox`, title: "Drag to move, corners to resize; arrows move "
      + "(Shift: faster), [ and ] change the bucket, C or Esc cancel; a route key sends the crop" }, [this.label]);
    for (const corner of ["nw", "ne", "sw", "se"]) {
      const hnd = el("div", { className: `${P}crophandle` });
      hnd.dataset.corner = corner;
      hnd.style[corner.includes("n") ? "top" : "bottom"] = "-6px";
      hnd.style[corner.includes("w") ? "left" : "right"] = "-6px";
      hnd.style.cursor = `${corner}-resize`;
      this.el.append(hnd);
    }
    this.el.addEventListener("pointerdown", (ev) => this.grab(ev));
    frame.classList.add(`${P}cropping`);
    frame.append(this.el);
    this.observer = new ResizeObserver(() => this.draw());
    this.observer.observe(frame);
    this.draw();
  }

  get bucket() {
    return this.aspects[this.index];
  }

  /** The preview's drawn rectangle in the frame, and source pixels per screen pixel. */
  view() {
    const img = this.img();
    const ew = img.clientWidth || this.frame.clientWidth;
    const eh = img.clientHeight || this.frame.clientHeight;
    const s = Math.min(ew / this.W, eh / this.H);
    return { s, ox: img.offsetLeft + (ew - this.W * s) / 2, oy: img.offsetTop + (eh - this.H * s) / 2 };
  }

  draw() {
    const { s, ox, oy } = this.view();
    const b = this.box;
    Object.assign(this.el.style, { left: `${ox + b.x * s}px`, top: `${oy + b.y * s}px`,
      width: `${b.w * s}px`, height: `${b.h * s}px` });
    this.label.textContent = `${this.bucket.w}\u00d7${this.bucket.h}`;
    this.el.dataset.box = JSON.stringify(this.value().crop);
  }

  /** @param {number} dx @param {number} dy source pixels */
  move(dx, dy) {
    this.box = clampBox({ ...this.box, x: this.box.x + dx, y: this.box.y + dy }, this.W, this.H);
    this.draw();
  }

  /** The previous (-1) or next (+1) bucket aspect, the box centred where it was. @param {number} step */
  switchBucket(step) {
    this.index = (this.index + step + this.aspects.length) % this.aspects.length;
    const b = this.box;
    this.box = largestBox(this.W, this.H, this.bucket.a, b.x + b.w / 2, b.y + b.h / 2);
    this.draw();
  }

  /** A mouse drag: inside moves the box, a corner resizes it with the bucket's aspect. @param {PointerEvent} ev */
  grab(ev) {
    ev.preventDefault();
    ev.stopPropagation();
    const corner = /** @type {HTMLElement} */ (ev.target).dataset?.corner;
    const start = { x: ev.clientX, y: ev.clientY, box: { ...this.box } };
    const { s } = this.view();
    const onMove = (/** @type {PointerEvent} */ e) => {
      const dx = (e.clientX - start.x) / s;
      const dy = (e.clientY - start.y) / s;
      if (!corner) {
        this.box = clampBox({ ...start.box, x: start.box.x + dx, y: start.box.y + dy }, this.W, this.H);
      } else this.resize(corner, start.box, dx);
      this.draw();
    };
    const onUp = () => {
      window.removeEventListener("pointermove", onMove, true);
      window.removeEventListener("pointerup", onUp, true);
    };
    window.addEventListener("pointermove", onMove, true);
    window.addEventListener("pointerup", onUp, true);
  }

  /** Resize from `corner`, the opposite corner fixed, the aspect kept, inside the image.
   * @param {string} corner @param {{x:number,y:number,w:number,h:number}} b @param {number} dx */
  resize(corner, b, dx) {
    const a = this.bucket.a;
    const west = corner.includes("w");
    const north = corner.includes("n");
    const fx = west ? b.x + b.w : b.x;                 // the fixed corner
    const fy = north ? b.y + b.h : b.y;
    let w = b.w + (west ? -dx : dx);
    const room = Math.min(west ? fx : this.W - fx, (north ? fy : this.H - fy) * a);
    w = Math.max(Math.max(MIN_SIDE, MIN_SIDE * a), Math.min(w, room));
    const h = w / a;
    this.box = { x: west ? fx - w : fx, y: north ? fy - h : fy, w, h };
  }

  /** What the answer carries: the crop in whole source pixels, with the bucket's aspect, and the bucket. */
  value() {
    const a = this.bucket.a;
    let w = Math.min(this.W, Math.max(MIN_SIDE, Math.round(this.box.w)));
    let h = Math.round(w / a);
    if (h > this.H) { h = this.H; w = Math.round(h * a); }
    const x = Math.min(Math.max(0, Math.round(this.box.x)), this.W - w);
    const y = Math.min(Math.max(0, Math.round(this.box.y)), this.H - h);
    return { crop: { x, y, width: w, height: h }, bucket: `${this.bucket.w}x${this.bucket.h}` };
  }

  /** The crop box's keys; true when the key was its own. @param {KeyboardEvent} ev */
  key(ev) {
    const fast = ev.shiftKey ? 10 : 1;
    const step = Math.max(1, Math.round(Math.min(this.W, this.H) / 100)) * fast;
    const moves = /** @type {Record<string, number[]>} */ ({ ArrowLeft: [-1, 0], ArrowRight: [1, 0],
      ArrowUp: [0, -1], ArrowDown: [0, 1] });
    if (moves[ev.key]) this.move(moves[ev.key][0] * step, moves[ev.key][1] * step);
    else if (ev.key === "[" || ev.key === "]") this.switchBucket(ev.key === "]" ? 1 : -1);
    else if (ev.key === "Escape" || ev.key === "c" || ev.key === "C") this.close();
    else return false;
    return true;
  }

  close() {
    this.observer.disconnect();
    this.el.remove();
    this.frame.classList.remove(`${P}cropping`);
    this.onClose?.();
  }
}

function ensureStyle() {
  if (document.getElementById(STYLE_ID)) return;
  document.head.appendChild(el("style", { id: STYLE_ID, textContent: CROP_CSS }));
}
