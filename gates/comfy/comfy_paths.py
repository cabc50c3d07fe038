"""ComfyUI's own folders, for nodes that resolve relative paths against them.

``folder_paths`` is imported lazily, so the nodes import (and their pure parts
test) outside ComfyUI, where there is no such folder.
"""
from __future__ import annotations


def comfy_folder(kind: str) -> str | None:
    """ComfyUI's ``input``, ``output`` or ``temp`` folder; None outside ComfyUI."""
    try:
        import folder_paths
    except ImportError:
        return None
    return getattr(folder_paths, f"get_{kind}_directory")()


def comfy_base() -> str | None:
    """ComfyUI's base folder (``folder_paths.base_path``, where ``input/`` and ``output/`` are by default)."""
    try:
        import folder_paths
    except ImportError:
        return None
    return getattr(folder_paths, "base_path", None)
