"""The folder layout is the architecture: every module of gates/core and gates/nodes imports without torch or
ComfyUI (the core is pure; the nodes import ComfyUI lazily, inside ComfyUI only), and the core never reaches
into the glue or the nodes."""
import glob
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def modules(package: str) -> list:
    return sorted(f"gates.{package}.{os.path.splitext(os.path.basename(p))[0]}"
                  for p in glob.glob(os.path.join(REPO, "gates", package, "*.py")) if not p.endswith("__init__.py"))


def test_core_and_node_modules_pull_in_neither_torch_nor_comfyui():
    names = modules("core") + modules("nodes")
    assert "gates.core.pauses" in names and "gates.nodes.gate" in names
    code = (f"import sys, importlib; [importlib.import_module(m) for m in {names!r}]; "
            "bad = [m for m in ('torch', 'comfy', 'server', 'folder_paths', 'aiohttp') if m in sys.modules]; "
            "assert not bad, bad")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_the_core_never_imports_the_glue_or_the_nodes():
    for path in glob.glob(os.path.join(REPO, "gates", "core", "*.py")):
        src = open(path).read()
        assert "..comfy" not in src and "..nodes" not in src and "gates.comfy" not in src, path
