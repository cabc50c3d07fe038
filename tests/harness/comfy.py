"""Start and stop a REAL ComfyUI server with this pack, and talk to it.

Used by the pytest fixtures, the demo and the benchmarks. Nothing here mocks
ComfyUI: it runs ``main.py`` of a real ComfyUI tree in a child process.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid

from gates.core import names

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACK_NAME = "comfyui-dataset-gates"


def versions() -> dict:
    out = {}
    with open(os.path.join(REPO, "scripts", "versions.env")) as f:
        for line in f:
            line = line.split("#")[0].strip()
            if "=" in line:
                k, v = line.split("=", 1)
                out[k.strip()] = v.strip()
    return out


def tree_version(path: str) -> str | None:
    """``__version__`` of a ComfyUI tree (its comfyui_version.py), or None for a tree without one."""
    try:
        with open(os.path.join(path, "comfyui_version.py")) as f:
            for line in f:
                if line.startswith("__version__"):
                    return line.split("=", 1)[1].strip().strip("\"'")
    except OSError:
        pass
    return None


# Backends are named by the version /system_stats must report. Ours: the pinned tree in .comfyui/
# (COMFYUI_VERSION) and, when scripts/setup-comfyui found its tarball, COMFYUI_NEW_VERSION in
# .comfyui-<version>/ with its own .venv-<major.minor>/. With COMFYUI_DIR set, that tree is the only one.
def default_backend() -> str:
    if os.environ.get("COMFYUI_DIR"):
        return tree_version(os.environ["COMFYUI_DIR"]) or "own"
    return versions()["COMFYUI_VERSION"]


def new_backend() -> str:
    return versions()["COMFYUI_NEW_VERSION"]


def backend_paths(backend: str | None = None) -> tuple[str, str]:
    """(ComfyUI tree, its python) of a backend."""
    backend = backend or default_backend()
    if os.environ.get("COMFYUI_DIR"):
        if backend != default_backend():
            raise ValueError(f"ComfyUI backend {backend!r}: COMFYUI_DIR is set, so only its ComfyUI "
                             f"({default_backend()}) runs")
        return os.environ["COMFYUI_DIR"], comfy_python()
    if backend == versions()["COMFYUI_VERSION"]:
        return os.path.join(REPO, ".comfyui"), os.path.join(REPO, ".venv", "bin", "python")
    if backend == new_backend():
        return (os.path.join(REPO, f".comfyui-{backend}"),
                os.path.join(REPO, f".venv-{backend.rsplit('.', 1)[0]}", "bin", "python"))
    raise ValueError(f"unknown ComfyUI backend {backend!r}: this repo sets up "
                     f"{versions()['COMFYUI_VERSION']} and {new_backend()}")


def backend_missing(backend: str) -> str | None:
    """Why a backend cannot run here (one line), or None when it is set up."""
    try:
        tree, python = backend_paths(backend)
    except ValueError as e:
        return str(e)
    if not os.path.exists(os.path.join(tree, "main.py")) or not os.path.exists(python):
        if backend == new_backend():
            tarball = os.environ.get("DG_COMFYUI_NEW_TARBALL") or os.path.normpath(
                os.path.join(REPO, "..", "shared", "comfyui", f"comfyui-{backend}.tar.xz"))
            if not os.path.exists(tarball):
                return f"ComfyUI {backend} is not set up: no {tarball} (set DG_COMFYUI_NEW_TARBALL to its path)"
        return f"ComfyUI {backend} is not set up in {tree}: run scripts/setup-comfyui"
    return None


def pinned_frontend(backend: str | None = None) -> str | None:
    """The frontend version a backend's requirements pin (None: unknown, a user's own tree)."""
    backend = backend or default_backend()
    v = versions()
    pins = {v["COMFYUI_VERSION"]: v["PINNED_FRONTEND"], v["COMFYUI_NEW_VERSION"]: v["COMFYUI_NEW_FRONTEND"]}
    return pins.get(backend)


def comfy_dir(backend: str | None = None) -> str:
    return backend_paths(backend)[0]


def comfy_python() -> str:
    if os.environ.get("COMFYUI_PYTHON"):
        return os.environ["COMFYUI_PYTHON"]
    if os.environ.get("COMFYUI_DIR"):
        for cand in ("venv/bin/python", ".venv/bin/python"):
            p = os.path.join(os.environ["COMFYUI_DIR"], cand)
            if os.path.exists(p):
                return p
        return "python3"
    return os.path.join(REPO, ".venv", "bin", "python")


def frontend_root(version: str | None, backend: str | None = None) -> str | None:
    """``--front-end-root`` for a frontend version; None = the one the backend pins."""
    if not version or version == "pinned" or version == pinned_frontend(backend):
        return None
    if version == "newest":
        version = versions()["NEWEST_FRONTEND"]
    root = os.path.join(REPO, ".frontends", version)
    static = os.path.join(root, "comfyui_frontend_package", "static")
    if not os.path.isdir(static):
        subprocess.run([os.path.join(REPO, ".venv", "bin", "pip"), "install", "-q", "--no-deps",
                        "--target", root, f"comfyui-frontend-package=={version}"], check=True)
    return static


def urlopen(req, timeout: float):
    """``urllib.request.urlopen``; an https URL is opened without checking its certificate
    (test servers run with a self-signed one on 127.0.0.1)."""
    url = req if isinstance(req, str) else req.full_url
    ctx = None
    if url.startswith("https:"):
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    return urllib.request.urlopen(req, timeout=timeout, context=ctx)


def pack_files() -> list:
    """The pack's files as a clone of this repository has them: what git tracks (and new files it
    does not ignore), relative to the repository; no symlinks, nothing deleted."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                         capture_output=True, check=True).stdout.decode()
    return [p for p in out.split("\0") if p and os.path.isfile(os.path.join(REPO, p))
            and not os.path.islink(os.path.join(REPO, p))]


def copy_pack(dest: str) -> str:
    """A copy of the pack in ``dest``, laid out as ``git clone`` lays it out in custom_nodes/."""
    for rel in pack_files():
        os.makedirs(os.path.join(dest, os.path.dirname(rel)), exist_ok=True)
        shutil.copy2(os.path.join(REPO, rel), os.path.join(dest, rel))
    return dest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def multipart(fields: dict, files: dict) -> tuple:
    """A multipart/form-data body and its content type."""
    boundary = uuid.uuid4().hex
    parts = []
    for k, v in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    for k, (name, data) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{name}"\r\n'
                     f'Content-Type: image/png\r\n\r\n'.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class ComfyServer:
    """One real ComfyUI process on 127.0.0.1 with a temp base directory (https when
    ``extra_args`` give it ``--tls-keyfile`` and ``--tls-certfile``).

    ``pack`` says how this repository goes into ``custom_nodes/``: ``link`` (a symlink, the default)
    or ``copy`` (its files copied in, as a clone lays them out: a bare install, whose folder a test
    can watch without seeing what other tests or tools write into the repository).
    """

    def __init__(self, frontend: str | None = None, port: int | None = None, base: str | None = None,
                 extra_args: list | None = None, extra_nodes: list | None = None, settings: dict | None = None,
                 backend: str | None = None, env: dict | None = None, pack: str = "link"):
        if pack not in ("link", "copy"):
            raise ValueError(f"pack must be 'link' or 'copy', got {pack!r}")
        self.pack = pack
        self.backend = backend or default_backend()
        self.env = dict(env or {})           # extra environment of the server process
        self.frontend = frontend
        self.port = port or free_port()
        self.own_base = base is None
        self.base = base or tempfile.mkdtemp(prefix="dg-comfy-")
        self.extra_args = extra_args or []
        self.extra_nodes = extra_nodes or []
        self.settings = {"Comfy.TutorialCompleted": True, **(settings or {})}
        self.proc: subprocess.Popen | None = None
        self.log_path = os.path.join(self.base, "server.log")

    # folders of the running server
    @property
    def scheme(self):
        tls = "--tls-keyfile" in self.extra_args and "--tls-certfile" in self.extra_args
        return "https" if tls else "http"

    @property
    def url(self):
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def folder(self, name):
        return os.path.join(self.base, name)

    def _prepare(self):
        nodes = self.folder("custom_nodes")
        os.makedirs(nodes, exist_ok=True)
        for src in [REPO] + list(self.extra_nodes):
            name = PACK_NAME if src == REPO else os.path.basename(src.rstrip("/"))
            dest = os.path.join(nodes, name)
            if os.path.lexists(dest):
                continue
            if src == REPO and self.pack == "copy":
                copy_pack(dest)
            else:
                os.symlink(src, dest)
        for sub in ("input", "output", "temp", "user/default"):
            os.makedirs(self.folder(sub), exist_ok=True)
        with open(self.folder("user/default/comfy.settings.json"), "w") as f:
            json.dump(self.settings, f)

    def start(self, timeout: float = 180):
        self._prepare()
        tree, python = backend_paths(self.backend)
        self.tree = tree
        main = os.path.join(tree, "main.py")
        if not os.path.exists(main):
            raise RuntimeError(f"no ComfyUI {self.backend} at {tree}: run scripts/setup-comfyui (or set COMFYUI_DIR)")
        cmd = [python, main, "--cpu", "--listen", "127.0.0.1", "--port", str(self.port),
               "--disable-auto-launch", "--base-directory", self.base,
               "--database-url", f"sqlite:///{self.folder('user')}/comfyui.db"]
        root = frontend_root(self.frontend, self.backend)
        if root:
            cmd += ["--front-end-root", root]
        cmd += self.extra_args
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, cwd=tree,
                                     start_new_session=True,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env})
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ComfyUI exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urlopen(self.url + "/object_info/ImageGate", timeout=5) as r:
                    if r.status == 200:
                        self.check_version()
                        return self
            except (TimeoutError, urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"ComfyUI did not answer /object_info within {timeout}s:\n{self.log_tail()}")

    def check_version(self):
        """Fail loudly unless /system_stats reports the backend's version: no test runs on the wrong ComfyUI."""
        with urlopen(self.url + "/system_stats", timeout=10) as r:
            got = json.loads(r.read()).get("system", {}).get("comfyui_version")
        if self.backend != "own" and got != self.backend:
            self.stop()
            raise RuntimeError(f"expected ComfyUI {self.backend}, but /system_stats of {self.url} reports "
                               f"comfyui_version {got!r} (tree {getattr(self, 'tree', '?')})")
        self.comfyui_version = got

    def stop(self, timeout: float = 15):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        if getattr(self, "log", None):
            self.log.close()

    def cleanup(self):
        if self.own_base:
            shutil.rmtree(self.base, ignore_errors=True)

    def rss_mb(self) -> float:
        """Resident memory of the server process (and any children), in MiB."""
        import psutil

        p = psutil.Process(self.proc.pid)
        return sum(q.memory_info().rss for q in [p] + p.children(recursive=True)) / 2**20

    def log_text(self) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 150) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        self.cleanup()


@contextlib.contextmanager
def idle_client(url: str):
    """A Client on an idle server (nothing pending, queued or running), left idle again after."""
    c = Client(url)
    c.reset()
    try:
        yield c
    finally:
        c.reset()
        c.close()


class Client:
    """HTTP + websocket client for one ComfyUI server, like a browser tab's."""

    def __init__(self, url: str):
        import websocket  # websocket-client

        self.url = url
        self.client_id = uuid.uuid4().hex
        self.events: list = []
        self._cond = threading.Condition()
        # skip_utf8_validation: websocket-client validates UTF-8 in pure Python, seconds for a 67 MB
        # frame, which would be timed as the server's; json.loads still rejects bad text.
        self.ws = websocket.create_connection(
            url.replace("http", "ws", 1) + f"/ws?clientId={self.client_id}", timeout=30,
            skip_utf8_validation=True, sslopt={"cert_reqs": ssl.CERT_NONE} if url.startswith("https:") else None)
        self.ws.settimeout(None)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        while True:
            try:
                msg = self.ws.recv()
            except Exception:
                return
            t = time.perf_counter()          # arrival, before parsing (benchmarks time big messages)
            if isinstance(msg, bytes):
                continue
            try:
                ev = json.loads(msg)
            except ValueError:
                continue
            ev["_t"] = t
            ev["_size"] = len(msg)
            with self._cond:
                self.events.append(ev)
                self._cond.notify_all()

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass

    # ---- HTTP
    def request(self, method, path, body=None, headers=None, raw: bytes | None = None, timeout=30):
        data = raw
        hdrs = dict(headers or {})
        if body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=hdrs)
        try:
            with urlopen(req, timeout=timeout) as r:
                payload = r.read()
                status = r.status
        except urllib.error.HTTPError as e:
            payload, status = e.read(), e.code
        try:
            return status, json.loads(payload) if payload else None
        except ValueError:
            return status, payload.decode("utf-8", "replace")

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def queue(self, prompt: dict) -> str:
        status, data = self.post("/prompt", {"prompt": prompt, "client_id": self.client_id})
        if status != 200:
            raise RuntimeError(f"/prompt refused the graph ({status}): {data}")
        return data["prompt_id"]

    def history(self, prompt_id):
        return self.get(f"/history/{prompt_id}")[1].get(prompt_id)

    def wait_history(self, prompt_id, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            h = self.history(prompt_id)
            if h and h.get("status", {}).get("completed") is not None and h["status"].get("status_str"):
                return h
            time.sleep(0.1)
        raise TimeoutError(f"prompt {prompt_id} not in /history after {timeout}s")

    # ---- events
    def wait_for(self, pred, timeout=60, since=0):
        """The first event (at index >= since) for which ``pred(ev)`` is true."""
        deadline = time.time() + timeout
        with self._cond:
            i = since
            while True:
                while i < len(self.events):
                    if pred(self.events[i]):
                        return self.events[i]
                    i += 1
                left = deadline - time.time()
                if left <= 0:
                    seen = [e.get("type") for e in self.events[since:]][-30:]
                    raise TimeoutError(f"no matching event within {timeout}s; last seen: {seen}")
                self._cond.wait(left)

    def wait_event(self, type_, prompt_id=None, timeout=60, since=0, **match):
        def pred(ev):
            if ev.get("type") != type_:
                return False
            d = ev.get("data") or {}
            if prompt_id is not None and d.get("prompt_id") not in (prompt_id, None):
                return False
            return all(d.get(k) == v for k, v in match.items())
        return self.wait_for(pred, timeout, since)

    def mark(self) -> int:
        with self._cond:
            return len(self.events)

    def wait_end(self, prompt_id, timeout=60, since=0):
        """The event that ended a prompt: execution_success / _interrupted / _error."""
        ends = ("execution_success", "execution_interrupted", "execution_error")
        return self.wait_for(lambda e: e.get("type") in ends and (e.get("data") or {}).get("prompt_id") == prompt_id,
                             timeout, since)

    # ---- the gates
    def wait_gate(self, node_id=None, timeout=60, since=0):
        return self.wait_for(lambda e: e.get("type") == names.EVENT_SHOW
                             and (node_id is None or e["data"]["id"] == str(node_id)), timeout, since)["data"]

    def pending(self) -> list:
        """The pauses waiting now (GET /pending)."""
        return self.get(names.ROUTE_PENDING)[1]["pending"]

    def post_mask(self, show: dict, data: bytes, token=None, **fields) -> tuple:
        """Multipart mask upload: id, token, mask (a grayscale PNG, white = painted), extra fields."""
        body, ctype = multipart({"id": show["id"], "token": token or show["token"], **fields},
                                {"mask": ("mask.png", data)})
        return self.request("POST", names.ROUTE_MASK, raw=body, headers={"Content-Type": ctype})

    def answer(self, show: dict, **fields) -> tuple:
        """POST the answer fields of any kind of pause (message, decisions, text...)."""
        return self.post(names.ROUTE_CHOICE, {"id": show["id"], "token": show["token"], **fields})

    def choose(self, show: dict, route) -> tuple:
        return self.answer(show, message=route)

    def reset(self):
        """Leave the server idle: stop every pending gate, clear the queue, interrupt."""
        self.post("/queue", {"clear": True})
        for p in (self.get(names.ROUTE_PENDING)[1] or {}).get("pending", []):
            self.answer(p, message=names.CANCEL)
        self.post("/interrupt", {})
        deadline = time.time() + 30
        while time.time() < deadline:
            q = self.get("/queue")[1]
            if not q["queue_running"] and not q["queue_pending"]:
                return
            time.sleep(0.1)
