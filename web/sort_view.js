// @ts-check
// A folder sort on the Image Gate's panel, at a fast person's pace.
//
// The server prepares the next images ahead (the sort event "ahead": preview
// refs and captions, in the order they will be asked). The page shows the
// next one the instant a key is pressed and sends the key at once; the server
// keeps the keys in order and applies each to its image when its prompt comes
// (gates/core/sort_queue.py), so no key is lost or doubled and nobody waits for a
// save. The panel says how many decisions are still being saved; a strip of
// the decisions made so far lets any of them be revisited; F (or the button)
// opens the culling view, the same panel filling the window.

import { api } from "../../scripts/api.js";
import { CSS_PREFIX as P, EVENTS, ROUTES } from "./names.js";
import { GatePanel } from "./gate_panel.js";
import { button, routeButtons } from "./panel_parts.js";
import { CropBox } from "./crop_box.js";
import { attachTagComplete } from "./tag_complete.js";
import { el, post, typing, warn } from "./util.js";

const STYLE_ID = `${P}sort-style`;
const SORT_HEIGHT = 470;
const SORT_CSS = `
.${P}sortbar{display:flex;gap:6px;align-items:center;justify-content:space-between;flex:0 0 auto}
.${P}progress{font-weight:bold;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;flex:1 1 auto}
.${P}saving{opacity:.8;white-space:nowrap}
.${P}sortbar button{padding:2px 8px;border-radius:5px;border:1px solid #888;cursor:pointer;
  background:var(--comfy-input-bg,#333);color:inherit;font:inherit}
.${P}sortbar button:disabled{opacity:.5;cursor:default}
.${P}sortview .${P}strip{min-height:220px}
.${P}sortview .${P}route.${P}current{outline:2px solid #fff}
.${P}waitnote{position:absolute;inset:0;display:flex;align-items:center;justify-content:center;
  font-weight:bold;background:rgba(0,0,0,.55);color:#fff;text-align:center;padding:8px}
.${P}decisions{display:flex;gap:4px;overflow-x:auto;flex:0 0 auto;height:64px;padding-bottom:2px}
.${P}decision{position:relative;flex:0 0 48px;height:48px;cursor:pointer;border:2px solid transparent;border-radius:4px}
.${P}decision img{width:100%;height:100%;object-fit:cover;border-radius:2px}
.${P}decision span{position:absolute;left:0;right:0;bottom:0;font-size:9px;line-height:12px;text-align:center;
  background:rgba(0,0,0,.7);color:#fff;white-space:nowrap;overflow:hidden}
.${P}decision.${P}unsaved{opacity:.6}
.${P}decision.${P}revisited{border-color:#f5a623}
.${P}badges{position:absolute;left:4px;top:4px;display:flex;gap:3px;flex-wrap:wrap;pointer-events:none}
.${P}badge{font-size:10px;line-height:14px;padding:0 4px;border-radius:3px;background:rgba(0,0,0,.65);color:#fff}
.${P}badge.${P}low{background:rgba(183,28,28,.85)}
.${P}cullhost{position:fixed;inset:0;z-index:9000;background:#111;display:flex}
.${P}cullhost .${P}panel{position:static!important;transform:none!important;width:100%!important;
  height:100%!important;max-width:none!important;max-height:none!important;font-size:14px;padding:10px}
.${P}cullhost .${P}strip{min-height:0}
.${P}cullhost .${P}decisions{height:84px}
.${P}cullhost .${P}decision{flex-basis:68px;height:68px}
`;
const ROUTE_COLORS = ["#2e7d32", "#c62828", "#ef6c00", "#1565c0", "#6a1b9a", "#00838f", "#ad1457", "#4e342e",
  "#558b2f", "#37474f"];
const UNDO_KEYS = new Set(["Backspace", "z", "Z"]);

/** session id -> SortView */
const views = new Map();
/** session -> the newest "ahead" event that came before its view existed (the preview thread may send
 * it between the first show's list being made and that show reaching the page) */
const early = new Map();
/** @type {SortView|null} the view keys go to */
let focused = null;

/** @param {any} pause */
export function sortOf(pause) {
  return pause?.sort ?? null;
}

const SOFT_BELOW = 50;                // sharpness under this: a red badge (the README's blur threshold)
const CLIPPED_OVER = 0.05;            // more than 5 % of the pixels clipped: a red badge

/** The badges of an image's quality signals (gates/core/quality.py; null = not measured):
 * [[text, title, low]] @param {any} s */
export function badgeList(s) {
  if (!s) return [];
  const clipped = (s.black ?? 0) + (s.white ?? 0);
  const out = [[`sharp ${Math.round(s.sharpness)}`, "Sharpness: variance of the Laplacian at 256 px "
    + "(blurred is low)", s.sharpness < SOFT_BELOW],
  [`clip ${(100 * clipped).toFixed(1)}%`, `Clipped pixels: ${(100 * s.black).toFixed(1)} % black, `
    + `${(100 * s.white).toFixed(1)} % white`, clipped > CLIPPED_OVER],
  [`${s.width}\u00d7${s.height}`, "The file's size (upright)", false]];
  if (s.small) out.push(["small", "Fewer pixels than the smallest training bucket of Bucket Resize's defaults: "
    + "every bucket enlarges it", true]);
  return out;
}

/** "5 / 8 · keep 3 · reject 1" @param {number} index @param {number} count @param {Record<string, number>} counts */
export function progressText(index, count, counts) {
  return [`${Math.min(index, count)} / ${count}`, ...Object.entries(counts ?? {}).map(([k, v]) => `${k} ${v}`)]
    .join(" \u00b7 ");
}

function ensureStyle() {
  if (document.getElementById(STYLE_ID)) return;
  document.head.appendChild(el("style", { id: STYLE_ID, textContent: SORT_CSS }));
}

/**
 * @typedef {{ file: string, preview?: any, src?: string, caption?: string, width?: number, height?: number, signals?: any,
 *             img?: HTMLImageElement, decoded?: boolean }} Shown
 * @typedef {{ file: string, route: number, label: string, saved: boolean, src?: string, caption?: string,
 *             item?: HTMLElement }} Decision
 */

/**
 * The Image Gate's panel, which becomes a sort view when its pause belongs to a
 * folder sort and stays one from image to image (pauses come and go under it).
 */
export class SortingGatePanel extends GatePanel {
  /** @param {any} actions GatePanel's actions
   * @param {{url:(ref:any)=>string, onMask:()=>void, editAhead:(ref:any)=>Promise<any>}} sortActions */
  constructor(actions, sortActions) {
    super(actions);
    this.sortActions = sortActions;
    /** @type {SortView|null} */
    this.sort = null;
  }

  /** @param {any} pause */
  show(pause) {
    const s = sortOf(pause);
    if (!s) {
      this.sort?.detach();
      this.sort = null;
      return super.show(pause);
    }
    this.pause = pause;
    this.hasMask = this.actions.hasMask(pause);
    if (!this.sort || this.sort.session !== s.session || !this.sort.live) {
      this.sort?.detach();
      this.sort = new SortView(this, pause);
    }
    this.sort.sync(pause);
  }

  /** @param {any} done */
  ended(done) {
    if (this.sort?.live) return this.sort.pauseEnded(done);
    super.ended(done);
  }

  /** @param {string} text */
  say(text) {
    if (this.sort?.live) return this.sort.say(text);
    super.say(text);
  }

  /** @param {boolean} has */
  markMask(has) {
    super.markMask(has);
    if (this.sort?.live) this.sort.render();
  }

  /** @param {string} [text] */
  idle(text) {
    if (this.sort?.live) {
      this.pause = null;
      return;
    }
    super.idle(text);
  }

  height() {
    return this.sort?.live ? SORT_HEIGHT : super.height();
  }
}

class SortView {
  /** @param {SortingGatePanel} panel @param {any} pause */
  constructor(panel, pause) {
    ensureStyle();
    const s = sortOf(pause);
    this.panel = panel;
    this.url = panel.sortActions.url;
    this.session = s.session;
    this.folder = s.folder;
    this.count = s.count;
    this.counts = s.counts ?? {};
    this.decided = s.index - 1;
    /** @type {string[]} */
    this.labels = pause.labels ?? [];
    this.routes = pause.routes ?? this.labels.length;
    this.captionShown = typeof pause.caption === "string";
    /** @type {number[][]} the buckets a crop snaps to */
    this.buckets = pause.buckets ?? [];
    /** @type {CropBox|null} */
    this.crop = null;
    /** @type {Shown[]} prepared images, in the order the server will ask them */
    this.ahead = [];
    this.aheadSeq = 0;                 // the newest "ahead" list taken, per session (see setAhead)
    /** @type {string|undefined} */
    this.aheadOf = undefined;
    this.remaining = s.remaining ?? 0;
    /** @type {Shown|null} the image on screen; null = nothing prepared is left to show */
    this.screen = null;
    /** files decided on this page, not undone (queued or saved) */
    this.sent = new Set();
    /** @type {Decision[]} the strip, oldest first */
    this.history = [];
    /** @type {Decision|null} a decision shown again from the strip */
    this.revisit = null;
    /** file -> the caption as edited */
    this.drafts = new Map();
    /** file -> the MaskEditor file of a mask painted before the server reached that image */
    this.masks = new Map();
    /** @type {Promise<any>} each key's request leaves after the one before it: the server gets them in order */
    this.posting = Promise.resolve();
    this.live = true;
    this.stopping = false;
    this.finished = "";
    this.message = "";
    this.build();
    views.set(this.session, this);
    focused = this;
    this.loadLog();
  }

  build() {
    const root = this.panel.root;
    root.classList.add(`${P}sortview`, `${P}waiting`);
    this.progress = el("span", { className: `${P}progress` });
    this.saving = el("span", { className: `${P}saving` });
    this.undoButton = button("undo", "\u21b6 Undo",
      "Take the newest decision back: that image comes back (key Backspace or Z)", () => this.undo());
    this.cullButton = button("cullbutton", "Full view",
      "The culling view: the image as large as the window, every key works (key F; Esc or F leaves)",
      () => this.toggleCull());
    const bar = el("div", { className: `${P}sortbar` }, [this.progress, this.saving, this.undoButton, this.cullButton]);
    this.img = /** @type {HTMLImageElement} */ (el("img", { className: `${P}preview`, alt: "gate preview 1" }));
    this.img.addEventListener("click", () => this.toggleCull());
    this.note = el("div", { className: `${P}waitnote` });
    this.note.style.display = "none";
    this.badges = el("div", { className: `${P}badges` });
    this.frame = el("div", { className: `${P}frame` }, [this.img, this.note, this.badges]);
    this.strip = el("div", { className: `${P}strip` }, [this.frame]);
    const parts = [bar, this.strip];
    this.captionBox = null;
    if (this.captionShown) {
      const box = /** @type {HTMLTextAreaElement} */ (el("textarea", { className: `${P}caption`, spellcheck: false,
        placeholder: "caption (goes out on 'caption')",
        title: "The caption of the image shown: edit it, then pick a route (Ctrl+1\u20269 or Ctrl+Enter = route 1 "
          + "while typing here)" }));
      box.addEventListener("input", () => { if (this.shownFile()) this.drafts.set(this.shownFile(), box.value); });
      box.addEventListener("keydown", (ev) => {
        const n = this.panel.actions.captionKey(ev);
        if (!n || n > this.routes) return;
        ev.preventDefault();
        ev.stopPropagation();              // the frontend's Ctrl+Enter (Queue) must not see it
        this.route(n);
      });
      this.captionBox = attachTagComplete(box, () => ({ session: this.session }));
      parts.push(box);
    }
    this.maskButton = button("mask", "Edit mask",
      "Paint a mask on this image in ComfyUI's MaskEditor (key M); it goes out with the route", () => this.mask());
    const stop = button("stop", "Stop", "End the sort once the decisions made are saved (key Esc); Run resumes it",
      () => this.stop());
    const crop = button("cropbutton", "Crop", "Frame this image on a training bucket (key C); its route key "
      + "sends the crop", () => this.toggleCrop());
    this.buttons = el("div", { className: `${P}buttons` },
      [...routeButtons(this.labels, (n) => this.route(n)), ...(this.buckets.length ? [crop] : []), this.maskButton,
        stop]);
    this.status = el("div", { className: `${P}status` });
    this.decisionsRow = el("div", { className: `${P}decisions`, title: "Decisions so far: click one to see it "
      + "again and give it another route" });
    parts.push(this.buttons, this.status, this.decisionsRow);
    root.replaceChildren(...parts);
  }

  // ---- what the server says ------------------------------------------------------
  /** A pause of this sort showed (the first image, a reload, or the server caught up). @param {any} pause */
  sync(pause) {
    const s = sortOf(pause);
    this.count = s.count;
    this.counts = s.counts ?? this.counts;
    this.setAhead(s.ahead ?? [], s.remaining ?? this.remaining, s.ahead_seq, s.session);
    const first = early.get(this.session);
    if (first) {                                // newer than the show's list: setAhead keeps the newest
      early.delete(this.session);
      this.setAhead(first.ahead ?? [], first.remaining ?? 0, first.ahead_seq, first.session);
    }
    if (!this.screen && !this.sent.has(s.file)) {
      this.finished = "";
      this.decided = s.index - 1;
      this.put({ file: s.file, preview: pause.previews?.[0], caption: pause.caption ?? "",
        width: pause.width, height: pause.height, signals: s.signals });
    }
    this.render();
  }

  /** The prepared images, unless the list is older than one already taken: the show event and the
   * preview thread's events are made on different threads and may arrive out of order.
   * @param {any[]} list @param {number} remaining @param {number} [seq] @param {string} [session] */
  setAhead(list, remaining, seq, session) {
    if (typeof seq === "number") {
      if (session === this.aheadOf && seq < this.aheadSeq) return;
      this.aheadSeq = seq;
      this.aheadOf = session;
    }
    const known = new Map(this.ahead.map((a) => [a.file, a]));
    this.ahead = list.map((a) => {
      const old = known.get(a.file);
      if (old && old.preview?.filename === a.preview?.filename) return old;
      const img = new Image();
      img.src = this.url(a.preview);
      const entry = { ...a, img, decoded: false };
      const ready = () => { entry.decoded = true; this.markPrepared(); };
      // decode() may reject on a busy page while the picture still loads: its load event counts then
      img.decode().then(ready, () => (img.complete && img.naturalWidth ? ready()
        : img.addEventListener("load", ready, { once: true })));
      return entry;
    });
    this.remaining = remaining;
    if (!this.screen && !this.revisit && this.live) this.advance();
  }

  /** @param {any} d */
  onEvent(d) {
    if (d.state === "ahead") {
      this.count = d.count ?? this.count;
      this.setAhead(d.ahead ?? [], d.remaining ?? 0, d.ahead_seq, d.session);
      this.render();
    } else if (d.state === "saved" || d.state === "changed") {
      const h = [...this.history].reverse().find((x) => x.file === d.file);
      if (h) {
        h.saved = true;
        h.route = d.route;
        h.label = d.label;
        this.drawItem(h);
      }
      this.counts = d.counts ?? this.counts;
      this.render();
    } else if (d.state === "done" && this.history.length) {
      this.finished = d.message;                 // the view stays: Undo can still take the last one back
      this.render();
    } else if (d.message) {
      this.end(d.message, d.state);
    }
  }

  /** A pause of this sort ended: answered (the sort goes on) or stopped. @param {any} done */
  pauseEnded(done) {
    if (done.outcome === "answered") return;
    this.end(done.outcome === "timeout" ? `timed out \u2192 ${done.label ?? "stopped"}` : "\u25a0 stopped", done.outcome);
  }

  // ---- the keys ---------------------------------------------------------------------
  /** A route key or button: the image on screen takes route `n`, and the next one shows at once. @param {number} n */
  route(n) {
    if (!this.live || n < 1 || n > this.routes) return false;
    if (this.stopping) return true;                  // Stop was pressed: later keys would be dropped
    if (this.revisit) return this.reroute(n);
    const shown = this.screen;
    if (!shown) {                      // nothing prepared on screen: the key is not taken for an unseen image
      this.say("The next image is still being prepared: that key was not taken");
      return true;
    }
    const caption = this.drafts.get(shown.file);
    const body = { session: this.session, file: shown.file, route: n,
      ...(caption !== undefined && caption !== (shown.caption ?? "") ? { caption } : {}),
      ...(this.masks.has(shown.file) ? { mask_ref: this.masks.get(shown.file) } : {}),
      ...(this.crop ? this.crop.value() : {}) };
    const d = { file: shown.file, route: n, label: this.labels[n - 1] ?? String(n), saved: false,
      src: shown.src ?? (shown.preview ? this.url(shown.preview) : undefined), caption: caption ?? shown.caption };
    this.history.push(d);
    this.sent.add(shown.file);
    this.decided += 1;
    this.counts = { ...this.counts };
    this.addItem(d);
    this.send(ROUTES.sortDecide, body).then((r) => { if (!r?.ok) this.resync(); });
    this.screen = null;
    this.advance();
    return true;
  }

  /** A key was refused or lost: take the server's view of the decisions again, so both agree. */
  async resync() {
    for (const h of this.history) h.item?.remove();
    this.history = [];
    this.sent = new Set();
    this.revisit = null;
    await this.loadLog();
    this.decided = this.history.length;
    this.screen = null;
    this.advance();
  }

  /** Show the first prepared image nobody has decided yet, or say why there is none. */
  advance() {
    const next = this.ahead.find((a) => !this.sent.has(a.file));
    if (next) return this.put(next);
    this.screen = null;
    this.render();
  }

  undo() {
    if (!this.live || this.stopping) return;
    if (this.revisit) this.closeRevisit();
    const last = this.history.pop();
    if (!last) return this.say("Nothing to undo");
    last.item?.remove();
    this.sent.delete(last.file);
    this.decided = Math.max(0, this.decided - 1);
    this.finished = "";
    this.send(ROUTES.sortUndo, { session: this.session }).then((r) => { if (!r?.ok) this.resync(); });
    const back = this.ahead.find((a) => a.file === last.file);
    // the preview of a decided image may be gone already: the server makes a large thumbnail on demand
    this.put(back ?? { file: last.file, src: this.thumbUrl(last.file, "large"), caption: last.caption });
  }

  stop() {
    if (!this.live || this.stopping) return;
    this.stopping = true;
    const left = this.history.filter((h) => !h.saved).length;
    this.say(left ? `Stopping once ${left} decision${left > 1 ? "s are" : " is"} saved\u2026` : "Stopping\u2026");
    this.send(ROUTES.sortStop, { session: this.session }).then((r) => {
      if (r?.data?.stopped) this.end("\u25a0 stopped", "stopped");        // nothing was running
      else if (!r?.ok) this.stopping = false;
    });
  }

  /** Edit mask: on the server's own pause when it shows this image, else on the file itself (the mask
   * then goes with the image's route key). */
  async mask() {
    const p = this.panel.pause;
    if (this.revisit) return this.say("A revisited image keeps its mask: Esc returns to the sort");
    if (p && sortOf(p)?.file === this.shownFile()) {
      // the next key waits for this mask to reach the pause, or the pause would end without it
      const done = this.panel.sortActions.onMask();
      this.posting = this.posting.then(() => done, () => {});
      return done;
    }
    const file = this.shownFile();
    if (!file) return;
    try {
      this.say("Preparing the full-size image\u2026");
      const r = await post(ROUTES.sortFull, { session: this.session, file });
      if (!r.ok) return this.say(r.data?.error ?? `full-size image refused (${r.status})`);
      const saved = await this.panel.sortActions.editAhead(this.masks.get(file) ?? r.data.ref);
      if (!saved) return this.say("");
      this.masks.set(file, { filename: saved.filename, subfolder: saved.subfolder ?? "", type: saved.type ?? "input" });
      if (this.shownFile() === file) this.say("Mask painted: it goes with this image's route");
    } catch (e) {
      warn("MaskEditor failed", e);
      this.say(`MaskEditor failed: ${e instanceof Error ? e.message : e}`);
    }
  }

  /** @param {string} path @param {any} body */
  send(path, body) {
    this.posting = this.posting.then(async () => {
      try {
        const r = await post(path, body);
        if (!r.ok) this.say(r.data?.error ?? `refused (${r.status})`);
        return r;
      } catch (e) {
        warn("a sort key could not be sent", e);
        this.say(`Not sent: ${e instanceof Error ? e.message : e}`);
      }
    });
    return this.posting;
  }

  // ---- revisiting a decision ----------------------------------------------------------
  /** @param {Decision} d */
  openRevisit(d) {
    if (!this.live) return;
    this.crop?.close();
    if (this.revisit) this.revisit.item?.classList.remove(`${P}revisited`);
    this.revisit = d;
    d.item?.classList.add(`${P}revisited`);
    this.showImage(this.thumbUrl(d.file, "large"), d.file);
    this.render();
  }

  closeRevisit() {
    if (!this.revisit) return;
    this.revisit.item?.classList.remove(`${P}revisited`);
    this.revisit = null;
    if (this.screen) this.put(this.screen);
    else this.advance();
  }

  /** @param {number} n */
  reroute(n) {
    const d = /** @type {Decision} */ (this.revisit);
    const [from, fromRoute] = [d.label, d.route];
    d.route = n;
    d.label = this.labels[n - 1] ?? String(n);
    this.drawItem(d);
    this.send(ROUTES.sortReroute, { session: this.session, file: d.file, route: n }).then((r) => {
      if (r?.ok) return this.say(`${d.file}: ${from} \u2192 ${d.label}`);
      [d.route, d.label] = [fromRoute, from];          // refused (being saved, say): it keeps its route
      this.drawItem(d);
    });
    this.closeRevisit();
    return true;
  }

  // ---- framing a crop -------------------------------------------------------------------
  toggleCrop() {
    if (this.crop) return this.crop.close();
    const shown = this.screen;
    if (!shown?.width || !shown.height || !this.buckets.length || this.revisit) return;
    this.crop = new CropBox(this.frame, () => this.img, { width: shown.width, height: shown.height,
      buckets: this.buckets, onClose: () => { this.crop = null; } });
  }

  // ---- the culling view ----------------------------------------------------------------
  toggleCull() {
    const root = this.panel.root;
    if (this.host) {
      this.placeholder?.replaceWith(root);
      this.host.remove();
      this.host = null;
      delete root.dataset.cull;
      this.cullButton.textContent = "Full view";
      return;
    }
    this.placeholder = document.createComment("dataset gates: the sort panel is in the culling view");
    root.replaceWith(this.placeholder);
    this.host = el("div", { className: `${P}cullhost` }, [root]);
    document.body.append(this.host);
    root.dataset.cull = "1";
    this.cullButton.textContent = "Leave full view (Esc)";
  }

  // ---- drawing -----------------------------------------------------------------------------
  /** @param {Shown} entry */
  put(entry) {
    this.crop?.close();                          // a crop box frames one image
    this.screen = entry;
    const src = entry.src ?? (entry.preview ? this.url(entry.preview) : "");
    entry.src = src;
    this.showImage(src, entry.file, entry.decoded ? entry.img : undefined);
    if (this.captionBox) this.captionBox.value = this.drafts.get(entry.file) ?? entry.caption ?? "";
    this.render();
  }

  /** Swap the picture in; a decoded image prepared ahead replaces the element, so nothing decodes again.
   * @param {string} src @param {string} file @param {HTMLImageElement} [decoded] */
  showImage(src, file, decoded) {
    let img = this.img;
    if (decoded) {
      img = /** @type {HTMLImageElement} */ (decoded.cloneNode());
      img.className = this.img.className;
      img.alt = this.img.alt;
      img.addEventListener("click", () => this.toggleCull());
      this.img.replaceWith(img);
      this.img = img;
    } else if (img.getAttribute("src") !== src) img.src = src;
    img.dataset.file = file;
    this.panel.root.dataset.sortFile = file;
  }

  /** How many images are prepared (decoded) and not decided yet, the one on screen included. */
  markPrepared() {
    const ready = this.ahead.filter((a) => a.decoded && !this.sent.has(a.file)).length;
    this.panel.root.dataset.sortPrepared = String(ready);
  }

  shownFile() {
    return this.revisit ? this.revisit.file : this.screen?.file ?? null;
  }

  /** The quality badges of the image on screen (its signals come with the prepared previews). */
  drawBadges() {
    const file = this.revisit || !this.screen ? null : this.screen.file;
    const signals = file ? (this.screen?.signals ?? this.ahead.find((a) => a.file === file)?.signals) : null;
    const key = file && signals ? `${file}:${signals.dhash}` : "";
    if (this.badges.dataset.key === key) return;
    this.badges.dataset.key = key;
    this.badges.dataset.file = signals ? file ?? "" : "";
    this.badges.replaceChildren(...badgeList(signals).map(([text, title, low]) =>
      el("span", { className: `${P}badge${low ? ` ${P}low` : ""}`, textContent: text, title })));
  }

  render() {
    const unsaved = this.history.filter((h) => !h.saved).length;
    this.saving.textContent = unsaved ? `saving ${unsaved}\u2026` : "all saved";
    this.panel.root.dataset.sortSaving = String(unsaved);
    this.markPrepared();
    this.drawBadges();
    this.undoButton.disabled = !this.live || !this.history.length;
    const index = this.decided + 1;
    this.progress.textContent = progressText(index, this.count, this.counts);
    this.progress.title = `Sorting ${this.folder}`;
    const waiting = this.live && !this.screen && !this.revisit;
    this.note.style.display = waiting ? "" : "none";
    this.img.style.visibility = waiting ? "hidden" : "";
    if (waiting) {
      const left = this.remaining - this.ahead.filter((a) => this.sent.has(a.file)).length;
      this.note.textContent = this.finished ? `${this.finished} \u00b7 Undo takes the last one back`
        : left > 0 || this.decided < this.count ? "Preparing the next image\u2026 (keys wait for it)"
          : `All ${this.count} images decided \u00b7 saving\u2026`;
      this.panel.root.dataset.sortState = this.finished ? "done" : "preparing";
    } else if (this.live) this.panel.root.dataset.sortState = this.revisit ? "revisit" : "showing";
    const file = this.shownFile();
    const pause = this.panel.pause;
    const painted = !!file && (this.masks.has(file) || (sortOf(pause)?.file === file && this.panel.hasMask));
    this.maskButton.textContent = painted ? "Edit mask \u2713" : "Edit mask";
    for (const b of this.buttons.querySelectorAll(`button.${P}route`)) {
      b.classList.toggle(`${P}current`, !!this.revisit && Number(/** @type {HTMLElement} */ (b).dataset.route)
        === this.revisit.route);
    }
    let text = this.revisit ? `Revisiting ${this.revisit.file} (now ${this.revisit.label}): a route key moves it; `
      + "Esc returns" : (this.screen ? `${this.screen.file}${this.screen.width ? ` \u00b7 ${this.screen.width}\u00d7`
      + `${this.screen.height}` : ""}` : "");
    if (this.message) text = `${this.message} \u00b7 ${text}`;
    this.status.textContent = text;
  }

  /** @param {string} text */
  say(text) {
    this.message = text;
    this.render();
  }

  /** @param {string} file @param {string} size */
  thumbUrl(file, size) {
    const q = new URLSearchParams({ session: this.session, file, size });
    return api.apiURL(`${ROUTES.sortThumb}?${q}`);
  }

  /** @param {Decision} d */
  addItem(d) {
    const img = el("img", { loading: "lazy", alt: d.file, src: this.thumbUrl(d.file, "strip") });
    const item = el("div", { className: `${P}decision`, title: d.file }, [img, el("span")]);
    item.dataset.file = d.file;
    item.addEventListener("click", () => (this.revisit === d ? this.closeRevisit() : this.openRevisit(d)));
    d.item = item;
    this.drawItem(d);
    this.decisionsRow.append(item);
    this.decisionsRow.scrollLeft = this.decisionsRow.scrollWidth;
  }

  /** @param {Decision} d */
  drawItem(d) {
    if (!d.item) return;
    d.item.dataset.route = String(d.route);
    d.item.classList.toggle(`${P}unsaved`, !d.saved);
    const badge = /** @type {HTMLElement} */ (d.item.querySelector("span"));
    badge.textContent = d.label;
    badge.style.background = ROUTE_COLORS[(d.route - 1) % ROUTE_COLORS.length];
  }

  /** The decisions of the log made before this page opened (a resume, a reload). */
  async loadLog() {
    try {
      const r = await api.fetchApi(`${ROUTES.sortLog}?${new URLSearchParams({ session: this.session })}`);
      if (!r.ok) return;
      const data = await r.json();
      const mine = new Set(this.history.map((h) => h.file));
      const old = (data.decisions ?? []).filter((/** @type {any} */ d) => !mine.has(d.file));
      const first = this.decisionsRow.firstChild;
      for (const d of old) {
        const entry = { file: d.file, route: d.route, label: d.label, saved: d.saved };
        this.sent.add(d.file);
        this.addItem(entry);
        if (first) this.decisionsRow.insertBefore(/** @type {HTMLElement} */ (entry.item), first);
      }
      this.history = [...old.map((/** @type {any} */ d) => ({ ...d, item: this.decisionsRow
        .querySelector(`[data-file="${CSS.escape(d.file)}"]`) })), ...this.history];
      this.render();
    } catch (e) {
      warn("could not read the sort's decisions", e);
    }
  }

  /** The sort ended (stopped, done, folder gone): keep the last picture and say so. @param {string} text @param {string} state */
  end(text, state) {
    if (!this.live) return;
    this.live = false;
    if (this.host) this.toggleCull();
    if (focused === this) focused = null;
    views.delete(this.session);
    const root = this.panel.root;
    root.classList.remove(`${P}sortview`, `${P}waiting`);
    root.dataset.sortState = state;
    this.strip.classList.add(`${P}dim`);
    this.panel.resolved = { text, strip: this.strip, kept: false };
    this.panel.pause = null;
    this.panel.showResolved();
  }

  detach() {
    if (this.host) this.toggleCull();
    this.live = false;
    views.delete(this.session);
    if (focused === this) focused = null;
    this.panel.root.classList.remove(`${P}sortview`);
  }

  /** A key while this sort is in front. @param {string} what @returns {boolean} taken */
  act(what) {
    if (what === "cull") { this.toggleCull(); return true; }
    if (what === "escape") {
      if (this.crop) this.crop.close();              // Esc cancels a crop box first, then leaves the view
      else if (this.host) this.toggleCull();
      else if (this.revisit) this.closeRevisit();
      else this.stop();
      return true;
    }
    if (what === "undo") { this.undo(); return true; }
    if (what === "crop") { this.toggleCrop(); return true; }
    if (what === "mask") { this.mask(); return true; }
    return this.route(Number(what));
  }
}

/** @param {KeyboardEvent} ev @returns {string|null} */
function keyAction(ev) {
  if (UNDO_KEYS.has(ev.key)) return "undo";
  if (ev.key === "Escape") return "escape";
  if (ev.key === "f" || ev.key === "F") return "cull";
  if (ev.key === "m" || ev.key === "M") return "mask";
  if (ev.key === "c" || ev.key === "C") return "crop";
  if (/^[0-9]$/.test(ev.key)) return ev.key === "0" ? "10" : ev.key;
  return null;
}

/** The sort keys go to the view in front, before the frontend's own keys see them. */
function onKey(/** @type {KeyboardEvent} */ ev) {
  if (!focused?.live || ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) return;
  if (document.querySelector(`.${P}big`) || !focused.panel.root.isConnected) return;
  if (focused.crop?.key(ev)) {                       // a crop box takes arrows, [ ], C and Esc first
    ev.preventDefault();
    ev.stopImmediatePropagation();
    return;
  }
  if (ev.repeat) return;
  const what = keyAction(ev);
  if (what == null) return;
  if (/** @type {any} */ (ev).dsgTaken || focused.act(what)) {
    /** @type {any} */ (ev).dsgTaken = true;       // the frontend's keybinding for the same key must not act again
    ev.preventDefault();
    ev.stopImmediatePropagation();
  }
}

/**
 * A gate command (its keybinding, the palette) while a sort is in front: acts once per key
 * press, whichever of this module's listener and the frontend's keybinding sees it first.
 * @param {number|string} what a route number, "stop" or "mask"
 */
export function sortAct(what) {
  const ev = /** @type {any} */ (window.event);
  if (ev?.dsgTaken || !focused) return true;
  if (ev) ev.dsgTaken = true;
  return focused.act(what === "stop" ? "escape" : String(what));
}

/** Is a sort view in front (its keys are taken by this module)? */
export function sortInFront() {
  return !!focused?.live && focused.panel.root.isConnected;
}

/** @param {() => boolean} [editorOpen] */
export function startSort(editorOpen = () => false) {
  /** @type {any} */ (api).addEventListener(EVENTS.sort, (/** @type {any} */ e) => {
    const d = e.detail;
    const view = d?.session ? views.get(d.session) : null;
    if (view) view.onEvent(d);
    else if (d?.state === "ahead" && d.session && (early.get(d.session)?.ahead_seq ?? -1) < d.ahead_seq) {
      early.set(d.session, d);
      if (early.size > 8) early.delete(early.keys().next().value);    // sorts this page never showed
    }
  });
  window.addEventListener("keydown", (ev) => { if (!editorOpen()) onKey(ev); }, true);
}
