"""pytest fixtures: real ComfyUI servers (one per backend and frontend), clients, a headless Chromium.

Options (or env vars):

* ``--backends`` / ``DG_BACKENDS``: the ComfyUI versions the integration and e2e tests
  run on, default ``0.3.75,0.33.0`` (0.33.0 only when scripts/setup-comfyui prepared it;
  otherwise one skipped test and the report header say why).
* ``--frontend`` / ``DG_FRONTEND``: the frontend of each backend's ``comfy`` server
  (``pinned`` = the one that backend's requirements pin, ``newest``, or a version).
* ``--e2e-frontends`` / ``DG_E2E_FRONTENDS``: the frontends every e2e test runs on, on
  every backend (``pinned,newest``), or per backend (``0.3.75:newest+vue,0.33.0:pinned``).
  Default: ``harness.matrix.PLAN``, the whole e2e suite on the oldest and the newest variant and
  the smoke set (``@pytest.mark.smoke``) on the ones between. ``+vue`` switches Nodes 2.0 on.
* ``--e2e-full`` / ``DG_E2E_FULL=1``: every e2e test on every variant of the plan.

Servers are started on first use, one per (backend, frontend), and stopped at the end of the session.
"""
from __future__ import annotations

import os
import re
import tempfile

import pytest

from gates.core import names

from . import matrix
from .comfy import (
    PACK_NAME,
    ComfyServer,
    backend_missing,
    default_backend,
    idle_client,
    new_backend,
    pinned_frontend,
    versions,
)
from .matrix import FULL

_servers: dict = {}


def pytest_addoption(parser):
    parser.addoption("--backends", default=os.environ.get("DG_BACKENDS", ""),
                     help="comma-separated ComfyUI versions to run on (default: 0.3.75, and 0.33.0 when set up)")
    parser.addoption("--frontend", default=os.environ.get("DG_FRONTEND", "pinned"),
                     help="frontend of each backend's integration server: pinned, newest or a version")
    parser.addoption("--e2e-frontends", default=os.environ.get("DG_E2E_FRONTENDS", ""),
                     help="comma-separated frontends every e2e test runs on, or backend:frontend entries "
                          "(default: tests/harness/matrix.py's PLAN)")
    parser.addoption("--e2e-full", action="store_true",
                     default=os.environ.get("DG_E2E_FULL", "") not in ("", "0"),
                     help="run every e2e test on every variant, not only the smoke set between the oldest "
                          "and the newest (DG_E2E_FULL=1)")


def _split(text: str) -> list:
    return [x.strip() for x in text.split(",") if x.strip()]


def backends(config) -> list:
    """The backends this session runs on (computed once)."""
    if not hasattr(config, "_dg_backends"):
        chosen = _split(config.getoption("--backends"))
        config._dg_backend_skip = None
        if not chosen:
            chosen = [default_backend()]
            if os.environ.get("COMFYUI_DIR"):
                config._dg_backend_skip = (f"ComfyUI {new_backend()} not run: COMFYUI_DIR is set, "
                                           f"so the tests run on that ComfyUI ({default_backend()}) only")
            else:
                why = backend_missing(new_backend())
                if why:
                    config._dg_backend_skip = f"ComfyUI {new_backend()} not run: {why}"
                else:
                    chosen.append(new_backend())
        config._dg_backends = chosen
    return config._dg_backends


def backend_skip_reason(config) -> str | None:
    """Why the newer ComfyUI is not in this session's matrix (None when it is)."""
    backends(config)
    return config._dg_backend_skip


def e2e_plan(config) -> list:
    """[(backend, frontend, level)] of this session: ``harness.matrix.plan`` (computed once)."""
    if not hasattr(config, "_dg_e2e_plan"):
        config._dg_e2e_plan = matrix.plan(backends(config), config.getoption("--e2e-frontends"),
                                          config.getoption("--e2e-full"))
    return config._dg_e2e_plan


def e2e_matrix(config) -> list:
    """(backend, frontend) pairs that e2e tests run on (every test, or the smoke set: see e2e_plan)."""
    return [(b, f) for b, f, _ in e2e_plan(config)]


def describe_frontend(backend: str, frontend: str) -> str:
    version, _, extra = frontend.partition("+")
    if version == "pinned":
        version = pinned_frontend(backend) or "pinned"
    elif version == "newest":
        version = versions()["NEWEST_FRONTEND"]
    return version + (f"+{extra}" if extra else "")


def pytest_report_header(config):
    lines = [f"ComfyUI backends: {', '.join(backends(config))}; "
             + matrix.describe(e2e_plan(config), lambda b, f: f"{b} × {describe_frontend(b, f)}")]
    if backend_skip_reason(config):
        lines.append(backend_skip_reason(config))
    return lines


def pytest_generate_tests(metafunc):
    names_ = metafunc.fixturenames
    if "frontend" in names_:
        pairs = e2e_matrix(metafunc.config)
        if "backend" in names_:
            metafunc.parametrize(("backend", "frontend"), pairs, scope="session",
                                 ids=[f"{b}-{f}" for b, f in pairs])
        else:
            fes = list(dict.fromkeys(f for _, f in pairs))
            metafunc.parametrize("frontend", fes, scope="session")
    elif "backend" in names_:
        metafunc.parametrize("backend", backends(metafunc.config), scope="session")


def pytest_collection_modifyitems(config, items):
    """On a smoke variant only the smoke set runs: deselect the other e2e tests there. The report
    header's line says so (under xdist it is the only place: the workers deselect, the summary
    does not count them)."""
    levels = {}
    for b, f, level in e2e_plan(config):
        levels[(b, f)] = level
        levels[(None, f)] = FULL if FULL in (level, levels.get((None, f))) else level   # frontend-only tests
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "frontend" in params:
            level = levels.get((params.get("backend"), params["frontend"]), FULL)
            if not matrix.runs(level, item.get_closest_marker("smoke") is not None):
                drop.append(item)
                continue
        keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def start_server(frontend: str, backend: str | None = None, **kw) -> ComfyServer:
    """A new started server of a backend and an e2e frontend entry (``<version>+vue`` switches Nodes 2.0,
    Comfy.VueNodes.Enabled, on); ``kw`` go to ComfyServer. The caller stops it."""
    version, _, extra = frontend.partition("+")
    settings = {"Comfy.VueNodes.Enabled": True} if extra == "vue" else {}
    return ComfyServer(frontend=version, settings=settings, backend=backend or default_backend(), **kw).start()


def server_for(frontend: str, backend: str | None = None) -> ComfyServer:
    """One shared server per (backend, frontend), started on first use, stopped at the end of the session."""
    backend = backend or default_backend()
    key = f"{backend}/{frontend}"
    if key not in _servers:
        _servers[key] = start_server(frontend, backend)
    return _servers[key]


def pytest_sessionfinish(session, exitstatus):
    for srv in _servers.values():
        srv.stop()
        srv.cleanup()
    _servers.clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and _servers:
        for name, srv in _servers.items():
            rep.sections.append((f"ComfyUI server log ({name}, last lines)", srv.log_tail(120)))


@pytest.fixture(scope="session")
def backend() -> str:
    """The ComfyUI version a test runs on (parametrized by --backends; this is the fallback)."""
    return default_backend()


@pytest.fixture(scope="session")
def comfy(request, backend) -> ComfyServer:
    """The real ComfyUI server of the test's backend, with this pack loaded."""
    return server_for(request.config.getoption("--frontend"), backend)


@pytest.fixture
def client(comfy):
    with idle_client(comfy.url) as c:
        yield c


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path() -> str:
    exe = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not os.path.exists(exe):
        pytest.fail(f"no Chromium at {exe}: run scripts/setup-comfyui as root (apt-get install chromium)")
    return exe


@pytest.fixture(scope="session")
def playwright():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright):
    """One headless Chromium with a persistent profile (so a reload keeps the workflow)."""
    profile = tempfile.mkdtemp(prefix="dg-chromium-")
    ctx = playwright.chromium.launch_persistent_context(
        profile, executable_path=chromium_path(), headless=True, viewport={"width": 1400, "height": 900},
        args=CHROMIUM_ARGS)
    yield ctx
    ctx.close()


IGNORED_CONSOLE = re.compile(r"comfy\.org|user\.css|/api/jobs|Failed to load resource|TypeGPU|"
                             r"ERR_NAME_NOT_RESOLVED|ERR_INTERNET_DISCONNECTED|net::ERR_")


OURS = re.compile(re.escape(PACK_NAME) + "|" + re.escape(names.PACK))   # our files, our log prefix


class Page:
    """A Playwright page on the ComfyUI frontend, with its console errors."""

    def __init__(self, page, server):
        self.page = page
        self.server = server
        self.errors: list = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}\n{getattr(e, 'stack', '')}"))

    def open(self):
        self.page.goto(self.server.url, wait_until="domcontentloaded")
        return self.wait_ready()

    def reload(self):
        """Reload the page and wait until it is ready again (its restored workflow included)."""
        self.page.reload(wait_until="domcontentloaded")
        return self.wait_ready()

    def wait_ready(self):
        self.page.wait_for_function("() => window.app && app.graph && app.canvas && window.LiteGraph",
                                    timeout=60000)
        self.page.wait_for_function(f"() => app.extensions?.some(e => e.name === '{names.EXTENSION}')",
                                    timeout=30000)
        # Frontends with a workflow store (1.49.6 for one) restore the last open workflow tab after
        # app.graph exists, replacing whatever a test built in between: wait until that is done.
        self.page.wait_for_function("() => { const w = app.extensionManager?.workflow;"
                                    " return !w || !!w.activeWorkflow }", timeout=30000)
        return self

    def persist_draft(self, *markers, timeout=15000):
        """Make the frontend save its open workflow as a draft (a reload restores it) and wait until
        a draft holds every marker. A graph built by script is saved when the frontend next checks
        its state, which a person's clicks on the canvas do; this asks for that check directly.
        Drafts live in ``workflow`` (up to 1.49) or ``Comfy.Workflow.Draft.v2:*`` (1.58)."""
        self.js("() => { app.graph.setDirtyCanvas(true, true);"
                " app.extensionManager?.workflow?.activeWorkflow?.changeTracker?.checkState?.(); }")
        self.page.wait_for_function(
            "(ms) => [localStorage, sessionStorage].some(st => Object.keys(st).some(k => {"
            " const v = st.getItem(k) ?? ''; return ms.every(m => v.includes(m)); }))",
            arg=[str(m) for m in markers], timeout=timeout)

    def js(self, expr, arg=None):
        return self.page.evaluate(expr, arg)

    def real_errors(self):
        """Errors from this pack: any uncaught page error, or a console error naming our files."""
        return [e for e in self.errors
                if (e.startswith("pageerror") or OURS.search(e)) and not IGNORED_CONSOLE.search(e)]


@pytest.fixture
def new_page(browser):
    pages = []

    def make(server):
        p = Page(browser.new_page(), server)
        pages.append(p)
        return p.open()

    yield make
    for p in pages:
        p.page.close()
