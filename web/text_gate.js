// @ts-check
// The Text Gate's view: its panel on the pause board, Pass / Stop and their
// keys, protected mode, and the sticky text.
//
// Sticky text: after Pass, the page that passed keeps the text in the node's
// hidden `stored_text` widget (saved with the workflow) and, in
// `properties.dsg_text_source`, a fingerprint of the incoming text it replaced.
// At the next pause the box shows the kept text while the same text arrives
// (a re-run, a reload), and after Run from here whatever arrives (a regenerated
// prompt); a different incoming text replaces it.

import { app } from "../../scripts/app.js";
import { CANCEL, EXTENSION } from "./names.js";
import { activeGate, answer, panelOf, registerView, renderAll } from "./pauses.js";
import { enlarge } from "./gate_panel.js";
import { TextPanel } from "./text_panel.js";
import { editorOpen, viewUrl } from "./mask_editor.js";
import { chain, noteGraphChanged, queueWorkflow, typing, warn } from "./util.js";

const NODE_TYPE = "TextGate";
const SOURCE = "dsg_text_source";

/** token -> the text as edited so far (a redrawn panel keeps the edit) */
const drafts = new Map();
/** gate nodes whose next pause keeps the stored text whatever arrives (Run from here) */
const keepNext = new WeakSet();

/** @param {any} node @param {string} name */
function widget(node, name) {
  return node?.widgets?.find((/** @type {any} */ w) => w.name === name);
}

/** A short fingerprint of a text (FNV-1a over its UTF-16 units, and its length). @param {string} text */
export function fingerprint(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return `${h.toString(16)}:${text.length}`;
}

/** The Text Gate node itself of a pause id ("12", "3:12"), wherever it lives. @param {string} id */
function gateNode(id) {
  const a = /** @type {any} */ (app);
  let graph = a.rootGraph ?? a.graph;
  let node = null;
  for (const part of String(id).split(":")) {
    node = graph?.getNodeById?.(Number(part)) ?? graph?.getNodeById?.(part);
    if (!node) return null;
    graph = node.subgraph;
  }
  return node;
}

/** What the box shows when a pause begins (see the sticky rule above). @param {any} pause */
function initialText(pause) {
  if (drafts.has(pause.token)) return drafts.get(pause.token);
  const node = gateNode(pause.id);
  const stored = widget(node, "stored_text");
  const source = node?.properties?.[SOURCE];
  const incoming = pause.text ?? "";
  if (stored && typeof source === "string" && (keepNext.has(node) || source === fingerprint(incoming))) {
    return String(stored.value ?? "");
  }
  return incoming;
}

/** Pass succeeded: keep the text in the node, and what it replaced. @param {any} pause @param {string} text */
function keep(pause, text) {
  const node = gateNode(pause.id);
  const stored = widget(node, "stored_text");
  if (!stored) return;
  stored.value = text;
  node.properties ??= {};
  node.properties[SOURCE] = fingerprint(pause.text ?? "");
  noteGraphChanged();
}

/** @param {any} node */
function fit(node) {
  const min = node.computeSize?.();
  if (min) node.setSize?.([Math.max(node.size?.[0] ?? 0, min[0], 340), Math.max(min[1], 60)]);
  node.setDirtyCanvas?.(true, true);
}

registerView({
  nodeType: NODE_TYPE,
  createPanel(node) {
    const panel = new TextPanel({
      onPass: (text) => pass(panel, text),
      onStop: () => answer(panel, { message: CANCEL }),
      onRunAgain: () => runAgain(panel),
      url: viewUrl,
      enlarge: (src) => enlarge(src),
      isProtected: () => !!widget(node, "protected")?.value,
      stored: () => String(widget(node, "stored_text")?.value ?? ""),
      setStored: (text) => {
        const w = widget(node, "stored_text");
        if (w) w.value = text;
      },
      initial: initialText,
      onEdit: (pause, text) => drafts.set(pause.token, text),
      onEnded: (done) => {
        drafts.delete(done.token);
        lastPause.set(panel, done.id);
        const gate = gateNode(done.id);
        if (gate) keepNext.delete(gate);       // Run from here keeps the text for one pause
      },
    });
    return panel;
  },
});

/** @param {TextPanel} panel @param {string} text */
async function pass(panel, text) {
  const pause = panel.pause;
  if (!pause) return;
  if (await answer(panel, { text })) keep(pause, text);
}

/** panel -> the id of the last pause it showed (Run from here keeps that gate's text) */
const lastPause = new WeakMap();

/** @param {TextPanel} panel */
async function runAgain(panel) {
  const node = lastPause.has(panel) ? gateNode(lastPause.get(panel)) : null;
  if (node) keepNext.add(node);
  try {
    await queueWorkflow();
  } catch (e) {
    warn("Run from here failed", e);
  }
}

// Pass (Ctrl+Enter) and Stop (Esc) while a Text Gate waits: in its own box, or
// with nothing text-like focused. Capture phase, so the frontend's Ctrl+Enter
// (Queue) never sees them then.
window.addEventListener("keydown", (ev) => {
  if (ev.repeat || editorOpen()) return;
  const node = activeGate();
  const panel = node && panelOf(node);
  if (!(panel instanceof TextPanel) || !panel.pause) return;
  if (typing(ev.target) && !panel.root.contains(/** @type {Node} */ (ev.target))) return;
  const mods = ev.ctrlKey || ev.metaKey || ev.altKey || ev.shiftKey;
  let act = null;
  if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey) && !ev.altKey) act = () => pass(panel, panel.box?.value ?? "");
  else if (ev.key === "Escape" && !mods) act = () => answer(panel, { message: CANCEL });
  if (!act) return;
  ev.preventDefault();
  ev.stopImmediatePropagation();
  act();
}, true);

/** widgets already hooked */
const hooked = new WeakSet();

/** @param {any} node */
function setupNode(node) {
  const stored = widget(node, "stored_text");
  if (stored) {                           // the panel's box is its editor
    stored.hidden = true;
    stored.computeSize = () => [0, -4];
  }
  const prot = widget(node, "protected");
  if (prot && !hooked.has(prot)) {
    prot.label = "protected (text node, never pauses)";
    chain(prot, "callback", () => {
      const panel = /** @type {TextPanel} */ (panelOf(node));
      if (panel && !panel.pause) panel.idle();
      fit(node);
    });
    hooked.add(prot);
  }
  const panel = /** @type {TextPanel} */ (panelOf(node));
  if (panel && !panel.pause) panel.idle();
  fit(node);
}

/** @param {any} node */
function isTextGate(node) {
  return node?.comfyClass === NODE_TYPE || node?.type === NODE_TYPE;
}

app.registerExtension({
  name: `${EXTENSION}.TextGate`,
  async beforeRegisterNodeDef(nodeType, nodeData) {
    if (nodeData?.name !== NODE_TYPE) return;
    // A loaded workflow sets protected and stored_text after creation: show them.
    chain(nodeType.prototype, "onConfigure", function () {
      queueMicrotask(() => setupNode(this));
    });
    chain(nodeType.prototype, "onAdded", () => queueMicrotask(renderAll));
  },
  nodeCreated(node) {
    if (isTextGate(node)) setupNode(node);
  },
});
