// @ts-check
// Pieces every gate panel shares (Image Gate, sort view, chooser, Text Gate):
// buttons, the route button row, and the status line with its countdown. One
// place, so the next panel gets them for free and they look alike everywhere.

import { CSS_PREFIX as P } from "./names.js";
import { el } from "./util.js";

/**
 * A panel button. @param {string} kind its class (without the prefix) @param {string} text
 * @param {string} title @param {() => void} onClick @returns {HTMLButtonElement}
 */
export function button(kind, text, title, onClick) {
  const b = /** @type {HTMLButtonElement} */ (el("button", { className: `${P}${kind}`, textContent: text, title }));
  b.addEventListener("click", onClick);
  return b;
}

/**
 * One button per route, labelled, with its key in the tooltip; `data-route` = its number.
 * @param {string[]} labels @param {(n: number) => void} onRoute @returns {HTMLButtonElement[]}
 */
export function routeButtons(labels, onRoute) {
  return labels.map((label, i) => {
    const b = button("route", label, `Route ${i + 1} (key ${(i + 1) % 10})`, () => onRoute(i + 1));
    b.dataset.route = String(i + 1);
    return b;
  });
}

/**
 * @typedef {{ pause: any, status?: HTMLElement|null, message: string, timer: number }} StatusHolder
 */

/**
 * Write a waiting panel's status line: `text`, then the seconds left before the pause's
 * deadline (drawn again by `again` four times a second while one is set), a message first.
 * @param {StatusHolder} panel @param {string} text @param {() => void} again
 */
export function showStatus(panel, text, again) {
  clearTimeout(panel.timer);
  if (!panel.pause || !panel.status) return;
  let t = text;
  if (panel.pause.deadline) {
    const left = Math.max(0, Math.ceil(panel.pause.deadline - Date.now() / 1000));
    t += ` \u00b7 ${left}s left`;
    panel.timer = window.setTimeout(again, 250);
  }
  if (panel.message) t = `${panel.message} \u00b7 ${t}`;
  panel.status.textContent = t;
}

/**
 * The CSS every grid-like panel shares (the chooser, the duplicate review): the panel box, its
 * waiting outline and the button bars. `P` is the panel's class prefix. @param {string} P
 */
export function panelCss(P) {
  return `
.${P}panel{display:flex;flex-direction:column;gap:4px;padding:4px;box-sizing:border-box;width:100%;height:100%;
  font:12px sans-serif;color:var(--input-text,#ddd);overflow:hidden}
.${P}panel.${P}waiting{outline:2px solid #f5a623;border-radius:6px}
.${P}bar{display:flex;flex-wrap:wrap;gap:3px}
.${P}bar button{flex:1 1 auto;padding:4px 6px;border-radius:5px;border:1px solid #666;cursor:pointer;
  background:var(--comfy-input-bg,#333);color:inherit;font:inherit}
.${P}bar button:hover{filter:brightness(1.3)}
.${P}bar button:disabled{opacity:.5;cursor:default}
`;
}
