"""Dataset Gates: human-in-the-loop dataset curation nodes for ComfyUI.

Loaded by ComfyUI as a package from custom_nodes/. The server routes are
imported only then (``if __package__``), so ``pytest`` can import ``gates.*``
without ComfyUI.
"""
from .gates import gate, loader, saver

NODE_CLASS_MAPPINGS = {**gate.NODE_CLASS_MAPPINGS, **loader.NODE_CLASS_MAPPINGS, **saver.NODE_CLASS_MAPPINGS}
NODE_DISPLAY_NAME_MAPPINGS = {**gate.NODE_DISPLAY_NAME_MAPPINGS, **loader.NODE_DISPLAY_NAME_MAPPINGS,
                              **saver.NODE_DISPLAY_NAME_MAPPINGS}
WEB_DIRECTORY = "./web"

if __package__:
    from .gates import gate_server  # noqa: F401  (registers /datasete_gate/* routes)

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS", "WEB_DIRECTORY"]
