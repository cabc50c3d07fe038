// @ts-check
// Tag autocomplete, tag chips and the CLIP token count for a caption box: one
// piece the Image Gate, the sort view and the Text Gate attach to their
// textarea (`attachTagComplete(box, source)`). A caption is comma-separated
// tags; typing the start of one lists the folder's tags that start with it
// (then those that contain it), by how many captions have them (the server
// ranks: GET ROUTES.tags), plus an optional tag list CSV named in the setting
// below. Up/Down move, Tab or Enter accept (the typed fragment is replaced and
// ", " added), Esc closes the list and nothing else (the gate keeps waiting).
// Under the box: the caption's tags as chips (click ✕ removes one; the box
// stays the truth) and its length in CLIP tokens (GET ROUTES.tokens), in a
// warning colour past 75.

import { api } from "../../scripts/api.js";
import { app } from "../../scripts/app.js";
import { CSS_PREFIX as P, ROUTES } from "./names.js";
import { el } from "./util.js";

export const TAG_LIST_SETTING = "DatasetGates.TagListCSV";
const TOKEN_LIMIT = 75;
const STYLE_ID = `${P}tags-style`;
const CSS = `
.${P}ac{position:fixed;z-index:10000;min-width:180px;max-height:220px;overflow:auto;background:#222;color:#ddd;
  border:1px solid #666;border-radius:4px;font:12px sans-serif;box-shadow:0 4px 12px #0008}
.${P}ac div{padding:2px 8px;display:flex;justify-content:space-between;gap:12px;cursor:pointer}
.${P}ac div.${P}on{background:#36c;color:#fff}
.${P}ac span.${P}n{opacity:.7}
.${P}tagbar{display:flex;flex-wrap:nowrap;gap:3px;align-items:center;overflow:hidden;height:18px;flex:0 0 auto;
  font:11px sans-serif}
.${P}chip{border:1px solid #666;border-radius:8px;padding:0 4px;white-space:nowrap;color:#ccc}
.${P}chip b{cursor:pointer;margin-left:3px;font-weight:normal;opacity:.7}
.${P}tc{margin-left:auto;white-space:nowrap;color:#9a9}
.${P}tc.${P}warn{color:rgb(255, 140, 0);font-weight:bold}
`;

/** The tags of a caption, stripped, empty ones dropped (as gates/core/tags.py). @param {string} text */
export function splitTags(text) {
  return String(text ?? "").split(",").map((t) => t.trim()).filter((t) => t);
}

/** The fragment being typed: from after the last comma before the caret to the caret. @param {HTMLTextAreaElement} box */
function fragment(box) {
  const upto = box.value.slice(0, box.selectionStart ?? box.value.length);
  const start = upto.lastIndexOf(",") + 1;
  const lead = upto.slice(start).length - upto.slice(start).trimStart().length;
  return { start: start + lead, end: upto.length, text: upto.slice(start).trim() };
}

/** The vocabulary's source when the panel gives none: the workflow's Folder Image Loader. */
function loaderSource() {
  const nodes = /** @type {any[]} */ ((/** @type {any} */ (app).graph?._nodes) ?? []);
  const loader = nodes.find((n) => n.type === "FolderImageLoader" || n.comfyClass === "FolderImageLoader");
  const w = (/** @type {string} */ name) => loader?.widgets?.find((/** @type {any} */ x) => x.name === name)?.value;
  return loader ? { folder: String(w("folder") ?? ""), depth: String(w("depth") ?? 0) } : {};
}

function tagList() {
  try {
    return String((/** @type {any} */ (app)).ui?.settings?.getSettingValue?.(TAG_LIST_SETTING) ?? "");
  } catch { return ""; }
}

let settingAdded = false;
function ensureSetup() {
  if (!document.getElementById(STYLE_ID)) document.head.appendChild(el("style", { id: STYLE_ID, textContent: CSS }));
  if (settingAdded) return;
  settingAdded = true;
  try {
    (/** @type {any} */ (app)).ui?.settings?.addSetting?.({ id: TAG_LIST_SETTING, name:
      "Dataset Gates: tag list CSV for the caption autocomplete (tag,count; a path, absolute or under input/)",
      type: "text", defaultValue: "" });
  } catch { /* an older frontend: no setting, the folder's tags only */ }
}

/** @type {TagComplete|null} the box whose list is open */
let open = null;

// Capture phase on window, registered before the gates' own listeners: with the list open, its keys
// (Esc included) are taken here and nothing else sees them — the gate keeps waiting.
window.addEventListener("keydown", (ev) => {
  if (open && !open.box.isConnected) open.close();      // the panel moved on (a route was taken) meanwhile
  if (!open || ev.target !== open.box || !open.list.isConnected) return;
  if (open.key(ev)) {
    ev.preventDefault();
    ev.stopImmediatePropagation();
  }
}, true);

class TagComplete {
  /** @param {HTMLTextAreaElement} box @param {() => Record<string, string>} source */
  constructor(box, source) {
    this.box = box;
    this.source = source;
    this.items = /** @type {any[]} */ ([]);
    this.sel = 0;
    this.seq = 0;
    this.tokenSeq = 0;
    this.list = el("div", { className: `${P}ac` });
    this.chips = el("span", { className: `${P}chips` });
    this.chips.style.cssText = "display:flex;gap:3px;overflow:hidden";
    this.count = el("span", { className: `${P}tc`, title: "CLIP tokens (SD1 tokenizer; start/end not counted)" });
    this.bar = el("div", { className: `${P}tagbar` }, [this.chips, this.count]);
    this.timer = 0;
    this.quiet = false;
    box.addEventListener("input", () => { this.refresh(); if (!this.quiet) this.suggest(); });
    box.addEventListener("blur", () => setTimeout(() => this.close(), 150));
    box.addEventListener("focus", () => this.place());
    // A panel that sets box.value (the next image of a sort) updates the chips and the count too.
    const proto = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, "value");
    if (proto?.get && proto.set) {
      const self = this;
      Object.defineProperty(box, "value", { configurable: true, get() { return proto.get?.call(this); },
        set(v) { proto.set?.call(this, v); self.refresh(); } });
    }
    let tries = 0;
    const later = () => { this.place(); if (!this.bar.isConnected && ++tries < 30) requestAnimationFrame(later); };
    requestAnimationFrame(later);
  }

  place() {
    if (this.box.isConnected && !this.bar.isConnected) { this.box.after(this.bar); this.refresh(); }
  }

  refresh() {
    const tags = splitTags(this.box.value);
    this.chips.replaceChildren(...tags.map((t, i) => {
      const x = el("b", { textContent: "\u2715", title: `Remove "${t}"` });
      x.addEventListener("mousedown", (ev) => ev.preventDefault());
      x.addEventListener("click", () => {
        const rest = splitTags(this.box.value);
        rest.splice(i, 1);
        this.set(rest.join(", "));
      });
      return el("span", { className: `${P}chip`, title: t }, [t, x]);
    }));
    clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this.tokens(), 120);
  }

  async tokens() {
    const seq = ++this.tokenSeq;
    const text = this.box.value;
    try {
      const r = await api.fetchApi(`${ROUTES.tokens}?${new URLSearchParams({ text })}`);
      const d = await r.json();
      if (seq !== this.tokenSeq || !r.ok) return;
      const n = Number(d.tokens);
      this.count.textContent = `${n} / ${d.limit ?? TOKEN_LIMIT} tokens`;
      this.count.dataset.tokens = String(n);
      this.count.classList.toggle(`${P}warn`, n > (d.limit ?? TOKEN_LIMIT));
    } catch { /* the count is a hint */ }
  }

  async suggest() {
    const f = fragment(this.box);
    if (!f.text) { this.close(); return; }
    const seq = ++this.seq;
    const q = { ...this.source(), prefix: f.text, limit: "12", ...(tagList() ? { list: tagList() } : {}) };
    try {
      const r = await api.fetchApi(`${ROUTES.tags}?${new URLSearchParams(q)}`);
      const d = await r.json();
      if (seq !== this.seq || !r.ok) return;
      const have = new Set(splitTags(this.box.value).map((t) => t.toLowerCase()));
      this.items = (d.tags ?? []).filter((/** @type {any[]} */ t) => !have.has(String(t[0]).toLowerCase())
        || String(t[0]).toLowerCase() === f.text.toLowerCase());
      this.sel = 0;
      this.show();
    } catch { this.close(); }
  }

  show() {
    if (open && open !== this) open.close();
    if (!this.items.length || document.activeElement !== this.box) { this.close(); return; }
    this.list.replaceChildren(...this.items.map((t, i) => {
      const row = el("div", { className: i === this.sel ? `${P}on` : "" },
        [el("span", { textContent: t[0] }), el("span", { className: `${P}n`, textContent: String(t[1]) })]);
      row.addEventListener("mousedown", (ev) => { ev.preventDefault(); this.accept(i); });
      return row;
    }));
    const r = this.box.getBoundingClientRect();
    Object.assign(this.list.style, { left: `${r.left}px`, top: `${r.bottom + 2}px` });
    if (!this.list.isConnected) document.body.append(this.list);
    open = this;
  }

  close() {
    this.list.remove();
    if (open === this) open = null;
  }

  /** @param {KeyboardEvent} ev @returns {boolean} taken */
  key(ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return false;
    const n = this.items.length;
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      this.sel = (this.sel + (ev.key === "ArrowDown" ? 1 : n - 1)) % n;
      this.show();
      return true;
    }
    if (ev.key === "Tab" || ev.key === "Enter") { this.accept(this.sel); return true; }
    if (ev.key === "Escape") { this.close(); return true; }
    return false;
  }

  /** @param {number} i */
  accept(i) {
    const t = this.items[i];
    if (!t) return;
    const f = fragment(this.box);
    const v = this.box.value;
    const after = v.slice(f.end).replace(/^[^,]*,?\s*/, "");
    const text = v.slice(0, f.start) + t[0] + ", " + after;
    this.close();
    this.set(text, f.start + String(t[0]).length + 2);
  }

  /** The box's new text, as if typed: the panel's input listener keeps its draft. @param {string} text @param {number} [caret] */
  set(text, caret) {
    this.box.value = text;
    if (caret !== undefined) this.box.setSelectionRange(caret, caret);
    this.quiet = true;
    try { this.box.dispatchEvent(new Event("input", { bubbles: true })); } finally { this.quiet = false; }
    this.seq++;
    this.close();
  }
}

/**
 * Attach the autocomplete, the chips and the token count to a caption box.
 * @param {HTMLTextAreaElement} box
 * @param {() => Record<string, string>} [source] the vocabulary: {session} of a sort, or {folder, depth}
 *   (default: the workflow's Folder Image Loader)
 * @returns {HTMLTextAreaElement} the box
 */
export function attachTagComplete(box, source = loaderSource) {
  ensureSetup();
  new TagComplete(box, source);
  return box;
}
