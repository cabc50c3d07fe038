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
