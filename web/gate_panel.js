// @ts-check
// The in-node panel of an Image Gate: preview strip, one button per route,
// Edit mask, Stop, a countdown and a status line. Pure DOM; the extension
// wires its callbacks.

const STYLE_ID = "datasete-gate-style";
const CSS = `
.dsg-panel{display:flex;flex-direction:column;gap:6px;padding:4px;box-sizing:border-box;width:100%;height:100%;
  font:12px sans-serif;color:var(--input-text,#ddd);overflow:hidden}
.dsg-panel.dsg-waiting{outline:2px solid #f5a623;border-radius:6px}
.dsg-strip{display:flex;gap:4px;flex:1 1 auto;min-height:0;justify-content:center;align-items:center}
.dsg-strip img{max-width:100%;max-height:100%;object-fit:contain;cursor:zoom-in;min-width:0;min-height:0;flex:1 1 0}
.dsg-strip.dsg-batch img{max-width:calc(100%/4)}
.dsg-big{position:fixed;inset:0;z-index:10000;background:rgba(0,0,0,.85);display:flex;align-items:center;
  justify-content:center;cursor:zoom-out}
.dsg-big img{max-width:95vw;max-height:95vh}
.dsg-buttons{display:flex;flex-wrap:wrap;gap:4px}
.dsg-buttons button{flex:1 1 60px;padding:5px 6px;border-radius:5px;border:1px solid #666;cursor:pointer;
  background:var(--comfy-input-bg,#333);color:inherit;font:inherit}
.dsg-buttons button:hover{filter:brightness(1.3)}
.dsg-buttons button:disabled{opacity:.5;cursor:default}
.dsg-route{border-color:#4a8!important}
.dsg-stop{border-color:#c44!important}
.dsg-status{opacity:.8;min-height:14px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.dsg-idle{opacity:.6;text-align:center;padding:6px}
`;

function ensureStyle() {
  if (document.getElementById(STYLE_ID)) return;
  const s = document.createElement("style");
  s.id = STYLE_ID;
  s.textContent = CSS;
  document.head.appendChild(s);
}

/** @param {string} tag @param {Record<string, any>} [props] @param {any[]} [children] */
function el(tag, props = {}, children = []) {
  const e = document.createElement(tag);
  Object.assign(e, props);
  for (const c of children) e.append(c);
  return e;
}

export class GatePanel {
  /** @param {{onRoute:(n:number)=>void, onStop:()=>void, onMask:()=>void}} actions */
  constructor(actions) {
    ensureStyle();
    this.actions = actions;
    this.root = el("div", { className: "dsg-panel" });
    this.pause = null;
    this.timer = 0;
    this.idle();
  }

  idle(text = "Waits here during a run: click a route to send the image on.") {
    clearInterval(this.timer);
    this.pause = null;
    this.root.classList.remove("dsg-waiting");
    this.root.replaceChildren(el("div", { className: "dsg-idle dsg-status", textContent: text }));
  }

  /** @param {any} pause the show event / pending entry @param {(ref:any)=>string} url
   *  @param {{maskAvailable:boolean, hasMask:boolean}} opts */
  show(pause, url, opts) {
    clearInterval(this.timer);
    this.pause = pause;
    this.root.classList.add("dsg-waiting");
    const previews = pause.previews ?? [];
    const strip = el("div", { className: "dsg-strip" + (previews.length > 1 ? " dsg-batch" : "") });
    previews.forEach((/** @type {any} */ ref, /** @type {number} */ i) => {
      const img = el("img", { src: url(ref), alt: `gate preview ${i + 1}`, className: "dsg-preview" });
      img.addEventListener("click", () => this.enlarge(url(pause.full_ready ? pause.full[i] : ref)));
      strip.append(img);
    });
    const buttons = el("div", { className: "dsg-buttons" });
    (pause.labels ?? []).forEach((/** @type {string} */ label, /** @type {number} */ i) => {
      const b = el("button", { className: "dsg-route", textContent: label, title: `Route ${i + 1} (key ${(i + 1) % 10})` });
      b.dataset.route = String(i + 1);
      b.addEventListener("click", () => this.actions.onRoute(i + 1));
      buttons.append(b);
    });
    const mask = el("button", {
      className: "dsg-mask",
      textContent: opts.maskAvailable ? (opts.hasMask ? "Edit mask \u2713" : "Edit mask") : "Edit mask (unavailable)",
      title: opts.maskAvailable ? "Paint a mask in ComfyUI's MaskEditor (key M)"
        : "This ComfyUI frontend has no MaskEditor command; routing still works",
      disabled: !opts.maskAvailable,
    });
    mask.addEventListener("click", () => this.actions.onMask());
    const stop = el("button", { className: "dsg-stop", textContent: "Stop", title: "End the run (key Esc)" });
    stop.addEventListener("click", () => this.actions.onStop());
    buttons.append(mask, stop);
    this.status = el("div", { className: "dsg-status" });
    this.root.replaceChildren(strip, buttons, this.status);
    const b = pause.batch > 1 ? `batch of ${pause.batch}, ` : "";
    this.info = `${b}${pause.width}\u00d7${pause.height}`;
    this.tick();
    if (pause.deadline) this.timer = window.setInterval(() => this.tick(), 250);
  }

  tick() {
    if (!this.pause || !this.status) return;
    let t = `Waiting \u00b7 ${this.info}`;
    if (this.pause.deadline) {
      const left = Math.max(0, Math.ceil(this.pause.deadline - Date.now() / 1000));
      t += ` \u00b7 ${left}s left`;
    }
    if (this.message) t = `${this.message} \u00b7 ${t}`;
    this.status.textContent = t;
  }

  /** @param {string} text */
  say(text) {
    this.message = text;
    this.tick();
  }

  /** @param {boolean} on */
  busy(on) {
    this.root.querySelectorAll("button").forEach((b) => {
      if (!b.classList.contains("dsg-mask") || on) /** @type {HTMLButtonElement} */ (b).disabled = on;
    });
  }

  /** @param {string} src */
  enlarge(src) {
    const big = el("div", { className: "dsg-big" }, [el("img", { src })]);
    big.addEventListener("click", () => big.remove());
    document.body.append(big);
  }
}
