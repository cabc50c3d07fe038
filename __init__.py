"""Dataset Gates: human-in-the-loop dataset curation nodes for ComfyUI.

Loaded by ComfyUI as a package from custom_nodes/. The server routes are
imported only then (``if __package__``), so ``pytest`` can import ``gates.*``
without ComfyUI.
"""
from .gates.gate import NODE_CLASS_MAPPINGS as _GATE_NODES, NODE_DISPLAY_NAME_MAPPINGS as _GATE_NAMES

NODE_CLASS_MAPPINGS = {**_GATE_NODES}
NODE_DISPLAY_NAME_MAPPINGS = {**_GATE_NAMES}
WEB_DIRECTORY = "./web"

if __package__:
    from .gates import gate_server  # noqa: F401  (registers /datasete_gate/* routes)

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS", "WEB_DIRECTORY"]
