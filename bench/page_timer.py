"""Times, inside the page, from a key press to the next image on screen (bench/sort_pace.py, bench/sort_flow.py).

``INSTRUMENT`` is added to the page before any of its scripts run (``Page.add_init_script``), so its
capture-phase keydown listener on ``window`` runs before the pack's own (which stops the event):

* a digit key stamps ``performance.now()`` and notes the sort view's state at that moment; a key while
  the state is not ``showing`` (``preparing``: nothing prepared left) is counted as not taken;
* "on screen": the picture changes (the sort view's ``data-sort-file``, or a plain gate panel's pause
  token) and its ``img.dsg-preview`` is decoded (``complete && naturalWidth``); then the first animation
  frame is awaited and the stamp is taken in a task right after it (that frame has been rendered).
  A MutationObserver sees the swap at once; a requestAnimationFrame loop is the safety net.

``HOOK`` (once the app exists) records the websocket events the page receives (prompt start and end,
``executing`` per node, the gate's show/done events, the sort's events), stamped with the epoch
(``performance.timeOrigin + performance.now()``: the same clock as the server's on one machine).
"""
from __future__ import annotations

INSTRUMENT = r"""
(() => {
  const P = "dsg-";
  const now = () => performance.now();
  const epoch = () => performance.timeOrigin + performance.now();
  const B = window.__dgBench = { keys: [], shown: [], events: [], notTaken: 0, cur: null, pendingKey: null,
    waiters: [], lastAhead: [], session: null, hooked: false, scheduled: false };
  B.reset = () => {
    Object.assign(B, { keys: [], shown: [], events: [], notTaken: 0, cur: null, pendingKey: null, waiters: [],
      lastAhead: [], session: null, scheduled: false });
  };
  const sortRoot = () => document.querySelector(`.${P}panel.${P}sortview`);
  // What is on screen: the sort view's file (while it shows one), else a waiting plain panel's pause.
  function ident() {
    const r = sortRoot();
    if (r) {
      if (r.dataset.sortState !== "showing") return null;
      return { id: "f:" + r.dataset.sortFile, file: r.dataset.sortFile, img: r.querySelector(`img.${P}preview`) };
    }
    const w = document.querySelector(`.${P}panel.${P}waiting`);
    if (!w || !w.dataset.token) return null;
    const img = w.querySelector(`img.${P}preview`);
    return img ? { id: "t:" + w.dataset.token, file: null, img } : null;
  }
  const decoded = (img) => !!img && img.complete && img.naturalWidth > 0;
  function stamp(s, seen) {
    const t = now();
    const k = B.pendingKey;
    B.pendingKey = null;
    B.cur = s.id;
    B.shown.push({ id: s.id, file: s.file, t, epoch: epoch(), seen, key: k ? k.t : null, ms: k ? t - k.t : null,
      waitedForPreparation: k ? !!k.sawPreparing : false, width: s.img.naturalWidth });
    B.waiters = B.waiters.filter((w) => {
      if (B.shown.length < w.n) return true;
      w.res(B.shown[w.n - 1]);
      return false;
    });
  }
  function check() {
    const r = sortRoot();
    if (B.pendingKey && r && r.dataset.sortState === "preparing") B.pendingKey.sawPreparing = true;
    if (B.scheduled) return;
    const s = ident();
    if (!s || s.id === B.cur) return;
    if (!decoded(s.img)) {
      if (s.img && !s.img.__dgWatched) {
        s.img.__dgWatched = true;
        s.img.addEventListener("load", check, { once: true });
      }
      return;
    }
    B.scheduled = true;
    const seen = now();
    requestAnimationFrame(() => setTimeout(() => {
      B.scheduled = false;
      const s2 = ident();
      if (s2 && s2.id === s.id && decoded(s2.img)) stamp(s2, seen);
      else check();
    }, 0));
  }
  const loop = () => { check(); requestAnimationFrame(loop); };
  requestAnimationFrame(loop);
  const watch = () => new MutationObserver(check).observe(document.documentElement, { subtree: true,
    attributes: true, attributeFilter: ["data-sort-file", "data-sort-state", "data-token", "src"] });
  if (document.documentElement) watch(); else addEventListener("DOMContentLoaded", watch);
  // Prepared images beyond the one on screen, as the server last listed them ("ahead" events).
  const aheadLeft = (file) => {
    const keyed = new Set(B.keys.map((k) => k.file));
    return B.lastAhead.filter((f) => f !== file && !keyed.has(f)).length;
  };
  addEventListener("keydown", (ev) => {
    if (!/^[0-9]$/.test(ev.key) || ev.repeat) return;
    const r = sortRoot();
    const state = r ? r.dataset.sortState : null;
    const last = B.shown[B.shown.length - 1];
    const file = r ? r.dataset.sortFile : null;
    const k = { t: now(), epoch: epoch(), key: ev.key, file, state, from: B.cur,
      sinceShown: last ? now() - last.t : null, aheadLeft: r ? aheadLeft(file) : null };
    B.keys.push(k);
    if (r && state !== "showing") {
      k.notTaken = true;
      B.notTaken += 1;
      return;
    }
    B.pendingKey = k;
  }, true);
})();
"""

HOOK = r"""
() => {
  const B = window.__dgBench;
  if (B.hooked) return true;
  const api = window.comfyAPI?.api?.api ?? window.app?.api;
  if (!api) return false;
  B.hooked = true;
  const epoch = () => performance.timeOrigin + performance.now();
  const on = (type, f) => api.addEventListener(type, (e) => {
    B.events.push({ type, t: epoch(), ...f(e.detail) });
  });
  const pid = (d) => ({ prompt_id: d?.prompt_id ?? null });
  on("execution_start", pid);
  on("execution_success", pid);
  on("execution_error", pid);
  on("execution_interrupted", pid);
  on("executing", (d) => ({ node: d && typeof d === "object" ? (d.node ?? null) : (d ?? null) }));
  on("datasete-gate-show", (d) => {
    if (d?.sort?.session && !B.session) B.session = d.sort.session;
    return { prompt_id: d?.prompt_id ?? null, token: d?.token ?? null, started_at: d?.started_at ?? null,
      file: d?.sort?.file ?? null, session: d?.sort?.session ?? null };
  });
  on("datasete-gate-done", (d) => ({ token: d?.token ?? null, outcome: d?.outcome ?? null }));
  on("datasete-gate-sort", (d) => {
    if (d?.state === "ahead" && (!B.session || d.session === B.session)) {
      B.lastAhead = (d.ahead ?? []).map((a) => a.file);
    }
    return { state: d?.state ?? null, file: d?.file ?? null, session: d?.session ?? null,
      ahead: d?.state === "ahead" ? (d.ahead ?? []).length : null };
  });
  return true;
}
"""

WAIT_SHOWN = r"""
async ({ n, timeout }) => {
  const B = window.__dgBench;
  const out = (r) => ({ ...r, now: performance.now() });
  if (B.shown.length >= n) return out(B.shown[n - 1]);
  return await new Promise((res, rej) => {
    const to = setTimeout(() => rej(new Error(`image ${n} not on screen within ${timeout} ms`)), timeout);
    B.waiters.push({ n, res: (r) => { clearTimeout(to); res(out(r)); } });
  });
}
"""


class PageTimer:
    """The instrument on one Playwright page (``harness.fixtures.Page``): add it before ``open()``."""

    def __init__(self, page):
        self.page = page

    @staticmethod
    def install(raw_page):
        raw_page.add_init_script(INSTRUMENT)

    def hook(self):
        self.page.page.wait_for_function(HOOK, timeout=30000)

    def reset(self):
        self.page.js("() => window.__dgBench.reset()")

    def wait_shown(self, n: int, timeout_ms: int = 120000) -> dict:
        """The n-th picture on screen since the reset (1-based), with the page's ``now``."""
        return self.page.js(WAIT_SHOWN, {"n": n, "timeout": timeout_ms})

    def now(self) -> float:
        return self.page.js("() => performance.now()")

    def data(self) -> dict:
        return self.page.js("() => { const B = window.__dgBench; return { keys: B.keys, shown: B.shown,"
                            " events: B.events, notTaken: B.notTaken, session: B.session }; }")

    def count_saved(self) -> int:
        return self.page.js("() => { const B = window.__dgBench; return B.events.filter(e => e.type === "
                            "'datasete-gate-sort' && e.state === 'saved' && e.session === B.session).length; }")

    def wait_saved(self, n: int, timeout_ms: int):
        self.page.page.wait_for_function(
            "(n) => { const B = window.__dgBench; return B.events.filter(e => e.type === 'datasete-gate-sort'"
            " && e.state === 'saved' && e.session === B.session).length >= n; }",
            arg=n, timeout=timeout_ms, polling=100)

    def wait_show_event(self, file: str, timeout_ms: int = 60000):
        """The server's pause for ``file`` (its show event) reached the page."""
        self.page.page.wait_for_function(
            "(f) => window.__dgBench.events.some(e => e.type === 'datasete-gate-show' && e.file === f)",
            arg=file, timeout=timeout_ms, polling="raf")
