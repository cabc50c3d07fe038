"""Image Gate (Manual Router): pause, show the image, route it down one output.

Thin node glue: ``pauses`` does the waiting, ``pause_server`` the showing,
``imaging`` the pixels. ComfyUI and torch are imported lazily inside ``run`` so
``import gates.gate`` works under pytest without either.
"""
from __future__ import annotations

from .names import CATEGORY, MAX_ROUTES
from .pauses import RouteKind

TIMEOUT_ACTIONS = ["stop"] + [f"route {i}" for i in range(1, MAX_ROUTES + 1)]


def route_tuple(chosen, image, blocker, max_routes=MAX_ROUTES):
    """``max_routes`` outputs: ``image`` at index ``chosen`` (0-based), ``blocker`` elsewhere."""
    return tuple(image if i == chosen else blocker for i in range(max_routes))


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


def decide(outcome, answer, on_timeout, routes):
    """The route (1-based) a pause's end picks and how, or None when the run must stop."""
    if outcome == "answered":
        return answer, "routed"
    route = timeout_route(on_timeout, routes)
    return (None, "timeout") if route is None else (route, "timeout-routed")


class ImageGate:
    CATEGORY = CATEGORY
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
        import comfy.model_management as mm

        # comfy_execution.graph has ExecutionBlocker in every ComfyUI that has it at all
        from comfy_execution.graph import ExecutionBlocker

        from . import pause_server
        from .imaging import fit_mask

        routes = max(1, min(int(routes), MAX_ROUTES))
        names = parse_labels(labels, routes)
        outcome, pause = pause_server.hold(
            unique_id, RouteKind(routes, names), lambda p: pause_server.show_images(p, image),
            timeout=max(0, int(timeout_seconds or 0)))
        route, how = decide(outcome, pause.answer, on_timeout, routes)
        if route is None:
            raise mm.InterruptProcessingException()
        b, h, w = image.shape[0], image.shape[1], image.shape[2]
        mask = fit_mask(pause.attachments.get(0), b, h, w)
        decision = {"route": route, "label": names[route - 1], "how": how}
        return {"ui": {"gate_decision": [decision]},
                "result": (mask,) + route_tuple(route - 1, image, ExecutionBlocker(None), MAX_ROUTES)}


NODE_CLASS_MAPPINGS = {"ImageGate": ImageGate}
NODE_DISPLAY_NAME_MAPPINGS = {"ImageGate": "Image Gate (Manual Router)"}
