"""Dataset Gates: human-in-the-loop dataset curation nodes for ComfyUI.

Loaded by ComfyUI as a package from custom_nodes/. The server routes are
imported only then (``if __package__``), so ``pytest`` can import ``gates.*``
without ComfyUI.
"""
from .gates.nodes import (
    bucket_resize,
    caption_batch_edit,
    chooser,
    dataset_export,
    dataset_summary,
    dup_review,
    gate,
    loader,
    pool_nodes,
    saver,
    sidecar_nodes,
    text_gate,
)

NODE_MODULES = (gate, chooser, text_gate, loader, saver, bucket_resize, sidecar_nodes, dataset_summary,
                dataset_export, pool_nodes, caption_batch_edit, dup_review)
NODE_CLASS_MAPPINGS = {k: v for m in NODE_MODULES for k, v in m.NODE_CLASS_MAPPINGS.items()}
NODE_DISPLAY_NAME_MAPPINGS = {k: v for m in NODE_MODULES for k, v in m.NODE_DISPLAY_NAME_MAPPINGS.items()}
WEB_DIRECTORY = "./web"

if __package__:
    from .gates.comfy import pool_routes, routes  # noqa: F401  (register the HTTP routes)

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS", "WEB_DIRECTORY"]
