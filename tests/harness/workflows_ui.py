"""Page object: open a workflow the way a person does (Templates dialog, Workflows sidebar), collect
everything the frontend complained about while it loaded, and press Run.

Selectors that work on frontends 1.32.9, 1.49.6 and 1.58.1 (and Nodes 2.0): the sidebar buttons
have a ``*-tab-button`` class (1.32.9, 1.49.6) or data-testid (1.58.1); the Templates dialog
lists a custom node pack under its folder name and each card has data-testid
``template-workflow-<name>``; the Workflows sidebar shows a saved file as ``<name>.json``
(1.32.9) or ``<name>`` (newer) under ``.comfyui-workflows-browse``. The Run button has data-testid
``queue-button``: on a split button's root (1.32.9) or on the button itself (1.49.6, 1.58.1).
"""
from __future__ import annotations

import json
import re
import time
from collections import Counter

from .fixtures import IGNORED_CONSOLE, Page

# Console noise besides IGNORED_CONSOLE: frontends from 1.5x poll /api/jobs, which ComfyUI 0.3.75
# does not have; they log the 404 as a JobsApiError.
NOISE = re.compile(f"{IGNORED_CONSOLE.pattern}|JobsApiError")
# The same noise as failed requests to the server, and the Workflows sidebar's look for an index
# file that a workflows folder need not have. Any other failed request counts: the console says
# only "Failed to load resource" (in IGNORED_CONSOLE), the request names what was missing.
NOISE_REQUESTS = re.compile(r"/api/jobs\b|/user\.css\b|/userdata/workflows%2F\.index\.json\b")

# Records every toast and dialog the frontend adds to the page from now on (the elements, so
# their text can be read when asked, even after they were closed), and the text of any issues
# panel on screen now: the page's own start-up graph has some (1.49.6's default graph lacks its
# models: "2 errors found"), and the panel can be drawn again while another workflow opens.
WATCH = """(sel) => {
  window.__dgWatch?.observer.disconnect();
  const bare = (e) => (e.textContent || '').replace(/\\s+/g, '');
  const startup = [...document.querySelectorAll(sel.issues)].filter((e) => e.getClientRects().length).map(bare);
  const seen = { toasts: [], dialogs: [], startup, observer: null };
  const look = (node) => {
    if (!(node instanceof Element)) return;
    for (const e of [node, ...node.querySelectorAll(`${sel.toast}, ${sel.dialog}`)]) {
      if (e.matches(sel.toast)) seen.toasts.push(e);
      else if (e.matches(sel.dialog)) seen.dialogs.push(e);
    }
  };
  seen.observer = new MutationObserver((ms) => ms.forEach((m) => m.addedNodes.forEach(look)));
  seen.observer.observe(document.body, { childList: true, subtree: true });
  window.__dgWatch = seen;
}"""

# What was recorded since WATCH: warning/error toasts (an "Alert" is a warning toast) and any toast
# about an invalid workflow, but the start-up graph's issues panel drawn again and gone by now (one
# on screen now is the opened workflow's, whatever it says); every dialog, and any open now.
SEEN = """(sel) => {
  const w = window.__dgWatch ?? { toasts: [], dialogs: [], startup: [] };
  const text = (e) => (e.innerText || e.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 400);
  const bare = (e) => (e.textContent || '').replace(/\\s+/g, '');
  const shown = (e) => e.isConnected && e.getClientRects().length > 0;
  const startup = (e) => e.matches(sel.issues) && w.startup.includes(bare(e)) && !shown(e);
  const toasts = w.toasts.filter((e) => (e.matches(sel.badToast) || /invalid workflow/i.test(text(e))) && !startup(e));
  const open = [...document.querySelectorAll(sel.dialog)].filter((e) => e.getClientRects().length);
  const kind = (e) => /p-toast-message-(\\w+)/.exec(e.className)?.[1] ?? e.dataset.testid ?? '?';
  return { toasts: [...new Set(toasts.filter(text).map((e) => `toast (${kind(e)}): ${text(e)}`))],
           dialogs: [...new Set([...w.dialogs, ...open])].map((e) => `dialog: ${text(e)}`) };
}"""


class WorkflowOpener:
    """Opens workflows from the Templates dialog or the Workflows sidebar; all their selectors live here."""

    templates_button = ".templates-tab-button, [data-testid=templates-tab-button]"
    templates_content = "[data-testid=template-workflows-content]"
    workflows_button = ".workflows-tab-button, [data-testid=workflows-tab-button]"
    workflows_browse = ".comfyui-workflows-browse"
    # 1.58's "N issues found" panel (e.g. a Load Image value that is not in its list) counts as a warning
    issues = "[data-testid=error-overlay]"
    toast = f".p-toast-message, {issues}"
    bad_toast = f".p-toast-message-error, .p-toast-message-warn, {issues}"
    dialog = ".p-dialog, [role=dialog], [role=alertdialog]"
    run_button = "button[data-testid=queue-button]:visible, [data-testid=queue-button] > button:first-child:visible"

    def __init__(self, page: Page, ours: str = ""):
        self.page = page
        self.alerts: list = []                 # alert / confirm / prompt messages
        self.failed: list = []                 # failed requests for our files
        self._mark = 0
        self._ours = ours
        page.page.on("dialog", self._on_alert)
        page.page.on("response", self._on_response)

    @property
    def sel(self) -> dict:
        return {"toast": self.toast, "badToast": self.bad_toast, "dialog": self.dialog, "issues": self.issues}

    def _on_alert(self, d):
        self.alerts.append(f"{d.type}: {d.message}")
        d.dismiss()

    def _on_response(self, r):
        ours = bool(self._ours) and self._ours in r.url
        served = r.url.startswith(self.page.server.url + "/") and not NOISE_REQUESTS.search(r.url)
        if r.status >= 400 and (ours or served):
            self.failed.append(f"HTTP {r.status} {r.url}")

    def card(self, name: str) -> str:
        return f"[data-testid='template-workflow-{name}']"

    # -- watching ---------------------------------------------------------------------------------

    def watch(self):
        """From now on, record toasts, dialogs, alerts, console errors and failed requests."""
        self._mark = len(self.page.errors)
        self.alerts.clear()
        self.failed.clear()
        self.page.js(WATCH, self.sel)
        # mark the nodes on the page now, so that a restored graph with the same node types
        # is not taken for the workflow about to be opened
        self.page.js("() => (app.rootGraph ?? app.graph)._nodes.forEach(n => { n.__dgBefore = true; })")

    def trouble(self) -> list:
        """Everything the frontend complained about since watch(), one line each."""
        seen = self.page.js(SEEN, self.sel)
        console = [f"console: {e}" for e in self.page.errors[self._mark:] if not NOISE.search(e)]
        return ([f"alert {a}" for a in self.alerts] + seen["toasts"] + seen["dialogs"] + console
                + self.failed)

    # -- opening ------------------------------------------------------------------------------------

    def open_from_templates(self, pack: str, name: str):
        """Templates (sidebar button) > the pack's category > the card."""
        p = self.page.page
        self.watch()
        p.locator(self.templates_button).first.click()
        p.locator(self.templates_content).first.wait_for(timeout=30000)
        # inside the dialog: with Nodes 2.0 the canvas's nodes carry the pack's name as a badge too
        dialog = p.locator(self.dialog).filter(has=p.locator(self.templates_content)).first
        dialog.get_by_text(pack, exact=True).first.click()
        card = dialog.locator(self.card(name)).first
        card.wait_for(timeout=30000)
        self.page.js("() => { if (window.__dgWatch) window.__dgWatch.dialogs = []; }")   # the Templates dialog itself
        card.click()
        p.locator(self.templates_content).first.wait_for(state="detached", timeout=30000)

    def open_from_sidebar(self, name: str):
        """Workflows sidebar (opened unless it already is) > the entry of ``<name>.json``."""
        p = self.page.page
        self.watch()
        browse = p.locator(self.workflows_browse).first
        if not browse.is_visible():
            p.locator(self.workflows_button).first.click()
        try:
            browse.wait_for(state="visible", timeout=5000)
        except Exception:  # noqa: BLE001 - it was open and restoring itself closed it with the click: reopen
            p.locator(self.workflows_button).first.click()
            browse.wait_for(state="visible", timeout=15000)
        entry = browse.get_by_text(re.compile(rf"^{re.escape(name)}(\.json)?$")).first
        entry.click()

    def serve_template(self, pack: str, name: str, text: str):
        """Make this page get ``text`` as the pack's template ``name`` (the harness's self-test)."""
        self.page.page.route(f"**/workflow_templates/{pack}/{name}.json",
                             lambda route: route.fulfill(status=200, content_type="application/json", body=text))

    # -- running ------------------------------------------------------------------------------------

    def press_run(self):
        """The toolbar's Run button (the frontend's Comfy.QueuePrompt)."""
        self.page.page.locator(self.run_button).first.click()

    # -- what loaded ------------------------------------------------------------------------------

    def problems_loading(self, text: str, settle: float = 1.0) -> list:
        """Once the workflow ``text`` (as opened) is on the canvas: what the frontend complained about
        since watch(), and whether the graph holds the file's nodes and links."""
        wf = json.loads(text)
        got = self.wait_loaded(wf)
        time.sleep(settle)                           # a late toast or console error still counts
        problems = self.trouble()
        want = Counter(n["type"] for n in wf["nodes"])
        if got != want:
            problems.append(f"node types {dict(got)} != the file's {dict(want)}")
        elif self.link_count() != len(wf["links"]):
            problems.append(f"{self.link_count()} links != the file's {len(wf['links'])}")
        return problems

    def wait_loaded(self, workflow: dict, timeout: float = 30):
        """Wait until the page's graph has the workflow's node types (as a multiset); return them."""
        want = Counter(n["type"] for n in workflow["nodes"])
        deadline = time.time() + timeout
        while True:
            got = Counter(self.node_types())
            fresh = not self.page.js("() => (app.rootGraph ?? app.graph)._nodes.some(n => n.__dgBefore)")
            if (got == want and fresh) or time.time() > deadline:
                return got
            time.sleep(0.2)

    def node_types(self) -> list:
        return self.page.js("() => (app.rootGraph ?? app.graph)._nodes.map(n => n.type)")

    def link_count(self) -> int:
        return self.page.js("""() => { const l = (app.rootGraph ?? app.graph).links;
            return [...(l instanceof Map ? l.values() : Object.values(l ?? {}))].filter(Boolean).length; }""")

    def active_workflow(self) -> str | None:
        return self.page.js("() => app.extensionManager?.workflow?.activeWorkflow?.path ?? null")
