"""The ComfyUI nodes: thin classes, one domain per file; the work is in core and comfy."""
