"""pytest fixtures: real ComfyUI servers (one per frontend), clients, a headless Chromium.

Options (or env vars): ``--frontend`` / ``DG_FRONTEND`` picks the frontend of the
default ``comfy`` server (``pinned``, ``newest`` or a version such as ``1.42.15``).
E2e tests that ask for ``comfy_for(frontend)`` get one server per frontend,
started on first use and stopped at the end of the session.
"""
from __future__ import annotations

import os
import re
import tempfile

import pytest

from .comfy import ComfyServer, idle_client

_servers: dict = {}


def pytest_addoption(parser):
    parser.addoption("--frontend", default=os.environ.get("DG_FRONTEND", "pinned"),
                     help="frontend for the default server: pinned, newest or a version")
    parser.addoption("--e2e-frontends", default=os.environ.get("DG_E2E_FRONTENDS", "pinned,newest,newest+vue"),
                     help="comma-separated frontends every e2e test runs on")


def pytest_generate_tests(metafunc):
    if "frontend" in metafunc.fixturenames:
        fes = [f.strip() for f in metafunc.config.getoption("--e2e-frontends").split(",") if f.strip()]
        metafunc.parametrize("frontend", fes, scope="session")


def server_for(frontend: str) -> ComfyServer:
    """One server per frontend; ``<version>+vue`` switches Nodes 2.0 (Comfy.VueNodes.Enabled) on."""
    if frontend not in _servers:
        version, _, extra = frontend.partition("+")
        settings = {"Comfy.VueNodes.Enabled": True} if extra == "vue" else {}
        _servers[frontend] = ComfyServer(frontend=version, settings=settings).start()
    return _servers[frontend]


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
def comfy(request) -> ComfyServer:
    """The default real ComfyUI server with this pack loaded."""
    return server_for(request.config.getoption("--frontend"))


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


OURS = re.compile(r"comfyui-dataset-gates|Dataset Gates|datasete|dsg-")


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
        self.page.wait_for_function("() => window.app && app.graph && app.canvas && window.LiteGraph",
                                    timeout=60000)
        self.page.wait_for_function("() => app.extensions?.some(e => e.name === 'datasete.ImageGate')",
                                    timeout=30000)
        return self

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
