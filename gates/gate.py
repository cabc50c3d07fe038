"""Image Gate (Manual Router): pause, show the image, route it down one output.

Thin node glue: the bus does the waiting, ``gate_server`` the showing,
``imaging`` the pixels. ComfyUI and torch are imported lazily inside ``run`` so
``import gates.gate`` works under pytest without either.
"""
from __future__ import annotations

from . import gate_bus

MAX_ROUTES = 10
# ComfyUI's Cancel only sets a flag; a waiting gate looks at it this often
# (an answer wakes the gate at once, whatever this is).
INTERRUPT_CHECK_SECONDS = 0.02
TIMEOUT_ACTIONS = ["stop"] + [f"route {i}" for i in range(1, MAX_ROUTES + 1)]


def route_tuple(chosen, image, blocker, max_routes=MAX_ROUTES):
    """``max_routes`` outputs: ``image`` at index ``chosen`` (0-based), ``blocker`` elsewhere."""
    return tuple(image if i == chosen else blocker for i in range(max_routes))


def mask_from_stash(data, image):
    """The mask painted at the gate as ``[B, H, W]`` float32 sized to ``image``; zeros if none.

    ``data`` is the plan's grayscale PNG bytes (white = painted), a decoded
    array or tensor, or None.
    """
    from .imaging import fit_mask

    b, h, w = image.shape[0], image.shape[1], image.shape[2]
    return fit_mask(data, b, h, w)


def parse_labels(text, routes):
    """``"keep, reject"`` -> one label per route; blanks and missing ones default to the number."""
    parts = [p.strip() for p in str(text or "").replace("\n", ",").split(",")]
    return [(parts[i] if i < len(parts) and parts[i] else str(i + 1))[:64] for i in range(routes)]


def timeout_route(action, routes):
    """The 1-based route an on-timeout action picks, or None for 'stop'."""
    if not action or action == "stop":
        return None
    n = int(str(action).split()[-1])
    return min(max(n, 1), routes)


class ImageGate:
    CATEGORY = "Datasete Gates"
    FUNCTION = "run"
    RETURN_TYPES = ("MASK",) + ("IMAGE",) * MAX_ROUTES
    RETURN_NAMES = ("mask",) + tuple(f"route_{i + 1}" for i in range(MAX_ROUTES))
    OUTPUT_TOOLTIPS = ("The mask painted at the gate ([B,H,W], 1 = painted); zeros if none.",) + tuple(
        f"The image, when route {i + 1} is chosen; blocked otherwise." for i in range(MAX_ROUTES)
    )
    DESCRIPTION = (
        "Pauses the run, shows the image in the node with one button per route, and sends it "
        "down the route you click; the other routes are blocked so their downstream never runs. "
        "Edit mask paints a mask that comes out on 'mask'. Stop, or ComfyUI's Cancel, ends the run. "
        "Note: a node fed only by 'mask' is not blocked."
    )

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "image": ("IMAGE", {"tooltip": "The image (or batch, routed as one unit) to look at."}),
                "routes": ("INT", {"default": 2, "min": 1, "max": MAX_ROUTES,
                                   "tooltip": "How many route outputs and buttons the gate has."}),
            },
            "optional": {
                "labels": ("STRING", {"default": "", "multiline": False,
                                      "tooltip": "Route labels, comma-separated (e.g. keep, reject, fix). "
                                                 "Blank ones show the route number."}),
                "timeout_seconds": ("INT", {"default": 0, "min": 0, "max": 86400,
                                            "tooltip": "Seconds to wait for a click; 0 waits forever."}),
                "on_timeout": (TIMEOUT_ACTIONS, {"default": "stop",
                                                 "tooltip": "What happens when the timeout runs out."}),
            },
            "hidden": {"unique_id": "UNIQUE_ID"},
        }

    @classmethod
    def IS_CHANGED(cls, **kwargs):
        return float("nan")            # always pause; never cached

    def run(self, image, routes, unique_id, labels="", timeout_seconds=0, on_timeout="stop"):
        from comfy_execution.graph_utils import ExecutionBlocker
        import comfy.model_management as mm

        from . import gate_server

        routes = max(1, min(int(routes), MAX_ROUTES))
        names = parse_labels(labels, routes)
        timeout = max(0, int(timeout_seconds or 0))
        pause = gate_bus.GateBus.open(
            unique_id, prompt_id=gate_server.current_prompt_id(), routes=routes,
            labels=names, timeout=timeout,
        )
        outcome = "stopped"
        try:
            gate_server.show(pause, image)
            try:
                chosen_1 = gate_bus.GateBus.wait(
                    unique_id, check=mm.throw_exception_if_processing_interrupted,
                    period=INTERRUPT_CHECK_SECONDS, timeout=timeout or None,
                )
                outcome = "routed"
            except gate_bus.GateCancelled:
                raise mm.InterruptProcessingException()
            except gate_bus.GateTimedOut:
                chosen_1 = timeout_route(on_timeout, routes)
                if chosen_1 is None:
                    outcome = "timeout"
                    raise mm.InterruptProcessingException()
                outcome = "timeout-routed"
            except mm.InterruptProcessingException:
                outcome = "interrupted"
                raise
        finally:
            gate_bus.GateBus.close(unique_id)
            gate_server.ended(pause, outcome)

        mask = mask_from_stash(gate_bus.GateBus.pop_mask(unique_id), image)
        chosen = max(0, min(chosen_1 - 1, routes - 1))
        blocker = ExecutionBlocker(None)
        decision = {"route": chosen + 1, "label": names[chosen], "how": outcome}
        return {"ui": {"gate_decision": [decision]},
                "result": (mask,) + route_tuple(chosen, image, blocker, MAX_ROUTES)}


NODE_CLASS_MAPPINGS = {"ImageGate": ImageGate}
NODE_DISPLAY_NAME_MAPPINGS = {"ImageGate": "Image Gate (Manual Router)"}
