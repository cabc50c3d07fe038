// @ts-check
// Image Pool (Grid) and Pool Profile on the page: the original project's two
// pool nodes. The pool lives on the server (input/grid_pool/<pool_id>/); this
// module draws it as a scrollable grid of thumbnails inside the node (a DOM
// widget, as the gate panels are) and changes it through the pool routes: add
// (drop, paste, upload), click = the active slot, a mask per slot through the
// core MaskEditor, a label per slot, remove. The Pool Profile node picks a
// named pool and puts its id into the connected pools at once.

import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import { editMask, editorOpen, maskEditorAvailable, viewUrl } from "./mask_editor.js";
import { CSS_PREFIX as P, EXTENSION, ROUTES } from "./names.js";
import { button } from "./panel_parts.js";
import { chain, el, noteGraphChanged, post, warn } from "./util.js";

const POOL = "GridImagePool";
const PROFILE = "PoolProfile";
const POOL_FOLDER = "grid_pool";
const STYLE_ID = `${P}pool-style`;
const CELL = 96;
const MAX_GRID_H = 4 * (CELL + 34) + 8;

const CSS = `
.${P}pool { display: flex; flex-direction: column; gap: 4px; width: 100%; height: 100%; box-sizing: border-box;
  font: 12px sans-serif; color: var(--input-text, #ddd); }
.${P}pool-bar { display: flex; gap: 4px; align-items: center; flex-wrap: wrap; }
.${P}pool-bar button, .${P}pool-cell button { cursor: pointer; }
.${P}pool-status { opacity: .8; margin-left: auto; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.${P}pool-grid { display: flex; flex-wrap: wrap; gap: 6px; padding: 4px; overflow-y: auto; min-height: 48px;
  max-height: ${MAX_GRID_H}px; border: 1px dashed #555; border-radius: 4px; }
.${P}pool-grid.${P}pool-over { border-color: #4a9; background: rgba(68,170,153,.12); }
.${P}pool-empty { opacity: .7; padding: 12px; }
.${P}pool-cell { position: relative; width: ${CELL}px; display: flex; flex-direction: column; gap: 2px; }
.${P}pool-cell img { width: ${CELL}px; height: ${CELL}px; object-fit: contain; background: #111; cursor: pointer;
  border: 2px solid transparent; border-radius: 3px; box-sizing: border-box; }
.${P}pool-cell.${P}pool-active img { border-color: #4af; }
.${P}pool-index, .${P}pool-maskmark, .${P}pool-activemark { position: absolute; top: 2px; font-size: 10px;
  padding: 0 3px; border-radius: 3px; background: rgba(0,0,0,.7); pointer-events: none; }
.${P}pool-index { left: 2px; }
.${P}pool-activemark { left: 2px; top: 16px; color: #4af; }
.${P}pool-maskmark { right: 2px; color: #f66; }
.${P}pool-tools { display: flex; gap: 2px; }
.${P}pool-tools button { flex: 1; padding: 0; font-size: 11px; }
.${P}pool-label { width: 100%; box-sizing: border-box; font-size: 11px; }
.${P}profile { display: flex; flex-direction: column; gap: 4px; font: 12px sans-serif; }
.${P}profile select { width: 100%; }
.${P}profile-buttons { display: flex; flex-wrap: wrap; gap: 4px; }
`;

function injectStyle() {
  if (document.getElementById(STYLE_ID)) return;
  document.head.appendChild(el("style", { id: STYLE_ID, textContent: CSS }));
}

/** @param {any} node @param {string} name */
function widget(node, name) {
  return node.widgets?.find((/** @type {any} */ w) => w.name === name);
}

/** Keep a widget's value saved and sent, but never drawn. @param {any} w */
function hide(w) {
  if (!w) return;
  w.hidden = true;
  w.computeSize = () => [0, -4];
}

function newId() {
  return globalThis.crypto?.randomUUID?.() ?? `p_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
}

/** @param {any} node */
function poolId(node) {
  return String(widget(node, "pool_id")?.value || "default").trim() || "default";
}

/** @param {any} node */
function fit(node) {
  const min = node.computeSize?.();
  if (min) node.setSize?.([Math.max(node.size?.[0] ?? 0, min[0], 360), Math.max(node.size?.[1] ?? 0, min[1])]);
  node.setDirtyCanvas?.(true, true);
}

// ---- the pool grid ---------------------------------------------------------------

/**
 * @typedef {{ image: string, mask: string|null, label: string }} Slot
 * @typedef {{ active: number, slots: Slot[] }} Manifest
 */

class PoolPanel {
  /** @param {any} node */
  constructor(node) {
    this.node = node;
    /** @type {Manifest} */
    this.manifest = { active: 0, slots: [] };
    this.file = /** @type {HTMLInputElement} */ (el("input", { type: "file", accept: "image/*", multiple: true }));
    this.file.style.display = "none";
    this.file.addEventListener("change", () => {
      const files = [...(this.file.files ?? [])];
      this.file.value = "";
      this.addFiles(files);
    });
    this.status = el("span", { className: `${P}pool-status` });
    this.grid = el("div", { className: `${P}pool-grid` });
    this.root = el("div", { className: `${P}pool` }, [
      el("div", { className: `${P}pool-bar` }, [
        button("pool-upload", "Upload", "Add images from files (or drop them here, or paste with the node selected)",
          () => this.file.click()),
        button("pool-refresh", "Refresh", "Read the pool again from the server", () => this.refresh()),
        this.status, this.file]),
      this.grid]);
    for (const type of ["dragenter", "dragover"]) {
      this.root.addEventListener(type, (e) => {
        const ev = /** @type {DragEvent} */ (e);
        if (!ev.dataTransfer?.types?.includes("Files")) return;
        ev.preventDefault();
        ev.stopPropagation();
        ev.dataTransfer.dropEffect = "copy";
        this.grid.classList.add(`${P}pool-over`);
      });
    }
    this.root.addEventListener("dragleave", () => this.grid.classList.remove(`${P}pool-over`));
    this.root.addEventListener("drop", (ev) => {
      this.grid.classList.remove(`${P}pool-over`);
      const files = [...(ev.dataTransfer?.files ?? [])];
      if (!files.length) return;
      ev.preventDefault();
      ev.stopPropagation();                    // not the frontend's own drop (it would load a workflow)
      this.addFiles(files);
    });
  }

  height() {
    const n = this.manifest.slots.length;
    const width = Math.max(360, this.node.size?.[0] ?? 360) - 30;
    const perRow = Math.max(1, Math.floor(width / (CELL + 6)));
    const rows = Math.max(1, Math.ceil(n / perRow));
    return 34 + Math.min(MAX_GRID_H, n ? rows * (CELL + 40) + 8 : 56);
  }

  /** @param {string} text */
  say(text) {
    this.status.textContent = text;
  }

  /** Read the manifest again and draw it. */
  async refresh() {
    try {
      const r = await api.fetchApi(`${ROUTES.poolList}?pool_id=${encodeURIComponent(poolId(this.node))}`);
      const data = await r.json();
      if (!r.ok) return this.say(data?.error ?? `pool error (${r.status})`);
      this.draw(data);
    } catch (e) {
      warn("could not read the pool", e);
      this.say("could not read the pool");
    }
  }

  /** @param {Manifest} m */
  draw(m) {
    const before = this.manifest.slots.length;
    this.manifest = m;
    const id = poolId(this.node);
    const bust = Date.now();
    this.grid.replaceChildren();
    this.say(`${m.slots.length} image${m.slots.length === 1 ? "" : "s"}`);
    if (!m.slots.length) {
      this.grid.append(el("div", { className: `${P}pool-empty`, textContent: "Empty pool: drop, paste or upload images." }));
    }
    m.slots.forEach((slot, i) => {
      const active = i === m.active;
      const ref = { filename: slot.image, subfolder: `${POOL_FOLDER}/${id}`, type: "input" };
      const img = /** @type {HTMLImageElement} */ (el("img", { src: `${viewUrl(ref)}&r=${bust}`, draggable: false,
        title: `Slot ${i}${slot.label ? `: ${slot.label}` : ""} (click: use this one)` }));
      img.addEventListener("click", () => this.change(ROUTES.poolActive, { index: i }));
      const label = /** @type {HTMLInputElement} */ (el("input", { className: `${P}pool-label`, value: slot.label ?? "",
        placeholder: "label", title: "This slot's label (the label output)" }));
      label.addEventListener("keydown", (ev) => ev.stopPropagation());
      label.addEventListener("change", () => this.change(ROUTES.poolLabel, { index: i, label: label.value }, false));
      const cell = el("div", { className: `${P}pool-cell${active ? ` ${P}pool-active` : ""}` }, [
        img,
        el("span", { className: `${P}pool-index`, textContent: `#${i}` }),
        el("div", { className: `${P}pool-tools` }, [
          button("pool-mask", "Mask", "Paint this slot's mask in the MaskEditor", () => this.editMask(i)),
          button("pool-remove", "\u00d7", "Remove this image from the pool", () => this.change(ROUTES.poolRemove, { index: i })),
        ]),
        label]);
      if (active) cell.append(el("span", { className: `${P}pool-activemark`, textContent: "active" }));
      if (slot.mask) cell.append(el("span", { className: `${P}pool-maskmark`, textContent: "mask", title: "has a mask" }));
      cell.dataset.index = String(i);
      cell.dataset.active = String(active);
      cell.dataset.mask = String(!!slot.mask);
      this.grid.append(cell);
    });
    if (before !== m.slots.length) fit(this.node);
    this.node.setDirtyCanvas?.(true, true);
  }

  /** POST a change of this pool; draw the manifest it answers. @param {string} route @param {any} body */
  async change(route, body, redraw = true) {
    const r = await post(route, { pool_id: poolId(this.node), ...body });
    if (!r.ok) return this.say(r.data?.error ?? `refused (${r.status})`);
    if (redraw) this.draw(r.data);
    else this.manifest = r.data;
  }

  /** @param {File[]} files */
  async addFiles(files) {
    const images = files.filter((f) => !f.type || f.type.startsWith("image/"));
    let m = null;
    for (const [k, f] of images.entries()) {
      this.say(`adding ${k + 1} / ${images.length}\u2026`);
      const fd = new FormData();
      fd.append("pool_id", poolId(this.node));
      fd.append("ts", String(Date.now()));
      fd.append("image", f, f.name || "image.png");
      const r = await api.fetchApi(ROUTES.poolAdd, { method: "POST", body: fd });
      const data = await r.json().catch(() => null);
      if (!r.ok) {
        this.say(data?.error ?? `refused (${r.status})`);
        return;
      }
      m = data;
    }
    if (m) this.draw(m);
  }

  /** @param {number} index */
  async editMask(index) {
    if (!maskEditorAvailable()) return this.say("No MaskEditor in this frontend");
    const slot = this.manifest.slots[index];
    if (!slot) return;
    const id = poolId(this.node);
    try {
      const saved = await editMask(this.node, { filename: slot.image, subfolder: `${POOL_FOLDER}/${id}`, type: "input" });
      if (!saved) return;                        // closed without saving
      const ref = { filename: saved.filename, subfolder: saved.subfolder ?? "", type: saved.type ?? "input" };
      const r = await post(ROUTES.poolSetMask, { pool_id: id, index, ref });
      if (!r.ok) return this.say(r.data?.error ?? `mask refused (${r.status})`);
      this.draw(r.data);
      this.say(`mask saved on #${index}`);
    } catch (e) {
      warn("MaskEditor failed", e);
      this.say(`MaskEditor failed: ${e instanceof Error ? e.message : e}`);
    }
  }
}

/** LiteGraph node -> its panel (never a field on the node) */
const panels = new WeakMap();

/** @param {any} node @returns {PoolPanel} */
function poolPanel(node) {
  let panel = panels.get(node);
  if (panel) return panel;
  injectStyle();
  panel = new PoolPanel(node);
  panels.set(node, panel);
  const w = node.addDOMWidget?.("pool_grid", "div", panel.root, {
    serialize: false, hideOnZoom: false,
    getMinHeight: () => panel.height(), getHeight: () => panel.height(),
  });
  if (w) w.serialize = false;
  return panel;
}

/** Show a pool node's pool again (its pool_id may have changed). @param {any} node */
export function refreshPool(node) {
  return poolPanel(node).refresh();
}

/** pool nodes a workflow configured (their pool_id is the saved one, "default" too) */
const configured = new WeakSet();

/** @param {any} node @param {boolean} created */
function setupPool(node, created) {
  const w = widget(node, "pool_id");
  hide(w);
  if (created && !configured.has(node) && w && (!w.value || w.value === "default")) w.value = newId();  // its own pool
  refreshPool(node);
  fit(node);
}

// Paste an image while a pool node is selected: it is added to that pool (before the frontend's paste).
document.addEventListener("paste", (ev) => {
  if (editorOpen()) return;
  const target = /** @type {any} */ (ev.target);
  if (target && ["INPUT", "TEXTAREA"].includes(target.tagName)) return;
  const selected = Object.values(/** @type {any} */ (app).canvas?.selected_nodes ?? {});
  const node = selected.find((n) => n?.comfyClass === POOL || n?.type === POOL);
  const files = [...(ev.clipboardData?.files ?? [])].filter((f) => f.type.startsWith("image/"));
  if (!node || !files.length) return;
  ev.preventDefault();
  ev.stopImmediatePropagation();
  poolPanel(node).addFiles(files);
}, true);

// ---- the Pool Profile ----------------------------------------------------------------

/** @typedef {{ id: string, name: string }} Profile */

class ProfilePanel {
  /** @param {any} node */
  constructor(node) {
    this.node = node;
    /** @type {Profile[]} */
    this.profiles = [];
    this.select = /** @type {HTMLSelectElement} */ (el("select", { title: "The profile: its images show in the connected pools" }));
    this.select.addEventListener("change", () => this.pick(this.select.value));
    this.status = el("span", { className: `${P}pool-status` });
    this.root = el("div", { className: `${P}profile` }, [
      this.select,
      el("div", { className: `${P}profile-buttons` }, [
        button("profile-create", "Create", "A new empty profile", () => this.create()),
        button("profile-rename", "Rename", "Rename this profile", () => this.rename()),
        button("profile-duplicate", "Duplicate", "Copy this profile's images under a new name", () => this.duplicate()),
        button("profile-delete", "Delete", "Delete this profile and its images", () => this.remove()),
        button("profile-export", "Export", "Download this profile as a zip", () => this.exportZip()),
        button("profile-import", "Import", "A new profile from a zip", () => this.importZip()),
      ]),
      this.status]);
  }

  height() { return 90; }

  current() {
    const id = String(widget(this.node, "profile_id")?.value ?? "");
    return this.profiles.find((p) => p.id === id) ?? this.profiles.find((p) => p.name === widget(this.node, "profile")?.value);
  }

  /** Read the list again; keep the node's own choice (never switches the pools). */
  async refresh() {
    const r = await api.fetchApi(ROUTES.profilesList);
    const data = await r.json().catch(() => null);
    if (!r.ok) return this.say(data?.error ?? `could not list profiles (${r.status})`);
    this.profiles = data.profiles ?? [];
    const cur = this.current();
    this.select.replaceChildren(el("option", { value: "", textContent: this.profiles.length ? "(pick a profile)" : "(no profiles yet)" }),
      ...this.profiles.map((p) => el("option", { value: p.id, textContent: p.name })));
    this.select.value = cur?.id ?? "";
  }

  /** @param {string} text */
  say(text) { this.status.textContent = text; }

  /** The user picked a profile: set it on this node and show it in every connected pool, at once. @param {string} id */
  pick(id) {
    const p = this.profiles.find((q) => q.id === id);
    if (!p) return;
    const nameW = widget(this.node, "profile"), idW = widget(this.node, "profile_id");
    if (nameW) nameW.value = p.name;
    if (idW) idW.value = p.id;
    this.select.value = p.id;
    for (const pool of connectedPools(this.node)) {
      const w = widget(pool, "pool_id");
      if (w) w.value = p.id;
      refreshPool(pool);
    }
    this.say(`profile: ${p.name}`);
    noteGraphChanged();
  }

  /** @param {string} route @param {any} body */
  async call(route, body) {
    const r = await post(route, body);
    if (!r.ok) { this.say(r.data?.error ?? `refused (${r.status})`); return null; }
    return r.data;
  }

  async create() {
    const name = window.prompt("New profile name:");
    if (!name) return;
    const e = await this.call(ROUTES.profilesCreate, { name });
    if (e) { await this.refresh(); this.pick(e.id); }
  }

  async rename() {
    const cur = this.current();
    if (!cur) return this.say("pick a profile first");
    const name = window.prompt("Rename profile:", cur.name);
    if (!name || name === cur.name) return;
    if (await this.call(ROUTES.profilesRename, { id: cur.id, name })) {
      await this.refresh();
      this.pick(cur.id);
    }
  }

  async duplicate() {
    const cur = this.current();
    if (!cur) return this.say("pick a profile first");
    const name = window.prompt("Duplicate as:", `${cur.name} copy`);
    if (!name) return;
    const e = await this.call(ROUTES.profilesDuplicate, { id: cur.id, name });
    if (e) { await this.refresh(); this.pick(e.id); }
  }

  async remove() {
    const cur = this.current();
    if (!cur) return this.say("pick a profile first");
    if (!window.confirm(`Delete profile "${cur.name}" and its images?`)) return;
    if (await this.call(ROUTES.profilesDelete, { id: cur.id })) await this.refresh();
  }

  exportZip() {
    const cur = this.current();
    if (!cur) return this.say("pick a profile first");
    const a = el("a", { href: api.apiURL(`${ROUTES.profilesExport}?id=${encodeURIComponent(cur.id)}`),
      download: `${cur.name}.zip` });
    document.body.append(a);
    /** @type {HTMLAnchorElement} */ (a).click();
    a.remove();
  }

  importZip() {
    const input = /** @type {HTMLInputElement} */ (el("input", { type: "file", accept: ".zip" }));
    input.addEventListener("change", async () => {
      const f = input.files?.[0];
      if (!f) return;
      const fd = new FormData();
      fd.append("file", f, f.name);
      const r = await api.fetchApi(ROUTES.profilesImport, { method: "POST", body: fd });
      const data = await r.json().catch(() => null);
      if (!r.ok) return this.say(data?.error ?? `import refused (${r.status})`);
      await this.refresh();
      this.pick(data.id);
    });
    input.click();
  }
}

/** The Image Pool nodes this profile's output leads to. @param {any} node */
function connectedPools(node) {
  const out = [];
  for (const linkId of node.outputs?.[0]?.links ?? []) {
    const links = node.graph?.links;
    const link = links?.get?.(linkId) ?? links?.[linkId];
    const target = link && node.graph?.getNodeById?.(link.target_id);
    if (target && (target.comfyClass === POOL || target.type === POOL)) out.push(target);
  }
  return out;
}

/** @param {any} node */
function setupProfile(node) {
  hide(widget(node, "profile"));
  hide(widget(node, "profile_id"));
  let panel = panels.get(node);
  if (!panel) {
    injectStyle();
    panel = new ProfilePanel(node);
    panels.set(node, panel);
    const w = node.addDOMWidget?.("profile_panel", "div", panel.root, {
      serialize: false, hideOnZoom: false, getMinHeight: () => panel.height(), getHeight: () => panel.height(),
    });
    if (w) w.serialize = false;
  }
  panel.refresh().catch((/** @type {unknown} */ e) => warn("could not list profiles", e));
  fit(node);
}

/** @param {any} node @param {string} type */
function isType(node, type) {
  return node?.comfyClass === type || node?.type === type;
}

app.registerExtension({
  name: `${EXTENSION}.GridPool`,
  async beforeRegisterNodeDef(nodeType, nodeData) {
    if (nodeData?.name === POOL) {
      // a loaded workflow sets pool_id after creation: show that pool
      chain(nodeType.prototype, "onConfigure", function () {
        configured.add(this);
        queueMicrotask(() => setupPool(this, false));
      });
      // a copied node shares its source's pool (same pool_id), as in the original: this splits it off
      chain(nodeType.prototype, "getExtraMenuOptions", function (/** @type {any} */ _canvas, /** @type {any[]} */ options) {
        const node = this;
        options?.push?.({
          content: "Detach pool (new id)",
          callback: () => {
            const w = widget(node, "pool_id");
            if (w) w.value = newId();
            refreshPool(node);
            noteGraphChanged();
          },
        });
      });
    } else if (nodeData?.name === PROFILE) {
      chain(nodeType.prototype, "onConfigure", function () { queueMicrotask(() => setupProfile(this)); });
    }
  },
  nodeCreated(node) {
    if (isType(node, POOL)) queueMicrotask(() => setupPool(node, true));
    else if (isType(node, PROFILE)) setupProfile(node);
  },
});
