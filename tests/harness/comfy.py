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
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid

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


def comfy_dir() -> str:
    return os.environ.get("COMFYUI_DIR") or os.path.join(REPO, ".comfyui")


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


def frontend_root(version: str | None) -> str | None:
    """``--front-end-root`` for a frontend version; None = the one ComfyUI pins."""
    if not version or version in ("pinned", versions().get("PINNED_FRONTEND")):
        return None
    if version == "newest":
        version = versions()["NEWEST_FRONTEND"]
    root = os.path.join(REPO, ".frontends", version)
    static = os.path.join(root, "comfyui_frontend_package", "static")
    if not os.path.isdir(static):
        subprocess.run([os.path.join(REPO, ".venv", "bin", "pip"), "install", "-q", "--no-deps",
                        "--target", root, f"comfyui-frontend-package=={version}"], check=True)
    return static


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
    """One real ComfyUI process on 127.0.0.1 with a temp base directory."""

    def __init__(self, frontend: str | None = None, port: int | None = None, base: str | None = None,
                 extra_args: list | None = None, extra_nodes: list | None = None, settings: dict | None = None):
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
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def folder(self, name):
        return os.path.join(self.base, name)

    def _prepare(self):
        nodes = self.folder("custom_nodes")
        os.makedirs(nodes, exist_ok=True)
        for src in [REPO] + list(self.extra_nodes):
            name = PACK_NAME if src == REPO else os.path.basename(src.rstrip("/"))
            link = os.path.join(nodes, name)
            if not os.path.lexists(link):
                os.symlink(src, link)
        for sub in ("input", "output", "temp", "user/default"):
            os.makedirs(self.folder(sub), exist_ok=True)
        with open(self.folder("user/default/comfy.settings.json"), "w") as f:
            json.dump(self.settings, f)

    def start(self, timeout: float = 180):
        self._prepare()
        main = os.path.join(comfy_dir(), "main.py")
        if not os.path.exists(main):
            raise RuntimeError(f"no ComfyUI at {comfy_dir()}: run scripts/setup-comfyui (or set COMFYUI_DIR)")
        cmd = [comfy_python(), main, "--cpu", "--listen", "127.0.0.1", "--port", str(self.port),
               "--disable-auto-launch", "--base-directory", self.base,
               "--database-url", f"sqlite:///{self.folder('user')}/comfyui.db"]
        root = frontend_root(self.frontend)
        if root:
            cmd += ["--front-end-root", root]
        cmd += self.extra_args
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, cwd=comfy_dir(),
                                     start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ComfyUI exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "/object_info/ImageGate", timeout=5) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, socket.timeout, OSError):
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"ComfyUI did not answer /object_info within {timeout}s:\n{self.log_tail()}")

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
        self.ws = websocket.create_connection(
            url.replace("http", "ws", 1) + f"/ws?clientId={self.client_id}", timeout=30)
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
            with urllib.request.urlopen(req, timeout=timeout) as r:
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

    # ---- the gate
    def wait_gate(self, node_id=None, timeout=60, since=0):
        return self.wait_for(lambda e: e.get("type") == "datasete-gate-show"
                             and (node_id is None or e["data"]["id"] == str(node_id)), timeout, since)["data"]

    def post_mask(self, show: dict, data: bytes, token=None) -> tuple:
        """The plan's mask upload: multipart id, token, mask (a grayscale PNG)."""
        body, ctype = multipart({"id": show["id"], "token": token or show["token"]}, {"mask": ("mask.png", data)})
        return self.request("POST", "/datasete_gate/mask", raw=body, headers={"Content-Type": ctype})

    def choose(self, show: dict, route) -> tuple:
        return self.post("/datasete_gate/choice", {"id": show["id"], "token": show["token"], "message": route})

    def reset(self):
        """Leave the server idle: stop every pending gate, clear the queue, interrupt."""
        self.post("/queue", {"clear": True})
        for p in (self.get("/datasete_gate/pending")[1] or {}).get("pending", []):
            self.post("/datasete_gate/choice", {"id": p["id"], "token": p["token"], "message": "__cancel__"})
        self.post("/interrupt", {})
        deadline = time.time() + 30
        while time.time() < deadline:
            q = self.get("/queue")[1]
            if not q["queue_running"] and not q["queue_pending"]:
                return
            time.sleep(0.1)
