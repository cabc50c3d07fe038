"""Image Chooser Gate (Batch): pause on a batch and send each image down a route of its own.

The kind (``ChooseKind``) checks a per-image answer; ``assemble`` cuts the batch
into per-route sub-batches, masks and index strings; the node is thin glue.
ComfyUI and torch are imported lazily, so ``import gates.chooser`` works under
pytest without either.

Outputs, in this order (slot 0 is the original project's ``images``):

    0 images    1 masks    2 indices       route 1
    3 images_2  4 masks_2  5 indices_2     route 2
    ...         3(k-1) images_k, 3(k-1)+1 masks_k, 3(k-1)+2 indices_k
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from ..core.names import CANCEL, CATEGORY, MAX_ROUTES
from ..core.pauses import PauseError, PauseKind, full_once
from .gate import parse_labels

DROP = "drop"
DEFAULT_LABEL = "pass"                 # route 1's label when none is given (the original's one output)
DEFAULT_CHOICES = [DROP] + [f"route {i}" for i in range(1, MAX_ROUTES + 1)]
TIMEOUT_CHOICES = ["default", "stop"] + [f"route {i}" for i in range(1, MAX_ROUTES + 1)]
PER_ROUTE = ("images", "masks", "indices")
PER_ROUTE_TYPES = ("IMAGE", "MASK", "STRING")


def output_names(max_routes: int = MAX_ROUTES) -> tuple:
    """``images, masks, indices, images_2, masks_2, indices_2, ...``."""
    return tuple(name if k == 1 else f"{name}_{k}" for k in range(1, max_routes + 1) for name in PER_ROUTE)


def chooser_labels(text, routes: int) -> list:
    """Route labels as on the Image Gate, except that a blank first label is "pass"."""
    labels = parse_labels(text, routes)
    if not re.split(r"[,\n]", str(text or ""))[0].strip():
        labels[0] = DEFAULT_LABEL
    return labels


def route_choice(value, routes: int, what: str, allow: tuple = ()) -> int | str:
    """``"route N"`` -> N (1..routes); a word in ``allow`` is returned as is; ValueError otherwise."""
    text = str(value or "").strip()
    if text in allow:
        return text
    m = re.fullmatch(r"route (\d+)", text)
    if not m:
        raise ValueError(f"{what} {value!r} is not one of {', '.join(allow + ('route N',))}")
    n = int(m.group(1))
    if not 1 <= n <= routes:
        raise ValueError(f"{what} {value!r} names a route this gate does not have (routes = {routes})")
    return n


def default_number(value, routes: int) -> int:
    """The ``default_route`` input as a decision: 0 = dropped, or a route 1..routes."""
    n = route_choice(value, routes, "default_route", (DROP,))
    return 0 if n == DROP else n


def _int_list(value, field_name: str) -> list:
    """A JSON list of integers (a form field may carry it as JSON text); bools and floats are refused."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise PauseError(f"'{field_name}' must be a JSON list of integers") from None
    if not isinstance(value, list):
        raise PauseError(f"'{field_name}' must be a list of integers, got {type(value).__name__}")
    for x in value:
        if type(x) is not int:
            raise PauseError(f"'{field_name}' holds {str(x)[:40]!r}, which is not an integer")
    return value


def parse_decisions(value, count: int, routes: int) -> list:
    """``[r0, r1, ...]``: one route 0..routes per image (0 = dropped)."""
    decisions = _int_list(value, "decisions")
    if len(decisions) != count:
        raise PauseError(f"'decisions' has {len(decisions)} entries; the batch has {count} images")
    bad = [d for d in decisions if not 0 <= d <= routes]
    if bad:
        raise PauseError(f"route {bad[0]} in 'decisions' is out of range 0..{routes} (0 = dropped)")
    return decisions


def parse_selection(value, count: int) -> list:
    """``[i, j, ...]``: distinct image indices 0..count-1 (any order)."""
    selection = _int_list(value, "selection")
    bad = [i for i in selection if not 0 <= i < count]
    if bad:
        raise PauseError(f"index {bad[0]} in 'selection' is out of range 0..{count - 1}")
    if len(set(selection)) != len(selection):
        dup = next(i for i in selection if selection.count(i) > 1)
        raise PauseError(f"index {dup} appears twice in 'selection'")
    return selection


def image_index(value, count: int) -> int:
    """One image index 0..count-1 (an integer, or its text)."""
    if isinstance(value, bool) or value is None or isinstance(value, float):
        raise PauseError("'index' must be an image number")
    try:
        index = int(str(value).strip())
    except ValueError:
        raise PauseError(f"'index' must be an image number, got {str(value)[:40]!r}") from None
    if not 0 <= index < count:
        raise PauseError(f"'index' {index} is out of range 0..{count - 1}")
    return index


@dataclass
class ChooseKind(PauseKind):
    """A route (or none) for every image of a batch.

    Answers: ``{decisions: [r0, ...]}`` (0 = dropped, else 1..routes), or the
    original's subset ``{selection: [indices]}`` (those get route 1, the rest
    ``default``). Progress: ``{decisions: [null | 0..routes, ...], masked: [indices]}``.
    ``writer(pause, index, on_ready)`` writes one full-resolution file (set by the node).
    """

    count: int = 1
    routes: int = 1
    labels: list = field(default_factory=list)
    default: int = 0
    writer: object = field(default=None, repr=False, compare=False)
    fulls: dict = field(default_factory=dict, repr=False, compare=False)   # index -> {ref, ready}
    name = "choose"

    def parse(self, data: dict) -> list:
        has_d, has_s = "decisions" in data, "selection" in data
        if has_d and has_s:
            raise PauseError("send either 'decisions' or 'selection', not both")
        if has_d:
            return parse_decisions(data["decisions"], self.count, self.routes)
        if has_s:
            chosen = set(parse_selection(data["selection"], self.count))
            return [1 if i in chosen else self.default for i in range(self.count)]
        raise PauseError("missing field 'decisions' (a route 0..routes per image), 'selection' "
                         f"(image indices for route 1) or message '{CANCEL}'")

    def public(self) -> dict:
        return {"routes": self.routes, "labels": list(self.labels), "count": self.count,
                "default_route": self.default}

    def masks(self, pause) -> int:
        return self.count

    def progress(self, data: dict) -> dict:
        raw = data.get("decisions")
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError:
                raise PauseError("'decisions' must be a JSON list") from None
        if not isinstance(raw, list) or len(raw) != self.count:
            raise PauseError(f"'decisions' must be a list of {self.count} entries (null = not assigned yet)")
        parse_decisions([0 if d is None else d for d in raw], self.count, self.routes)
        masked = sorted(set(parse_selection(data.get("masked", []), self.count)))
        return {"decisions": raw, "masked": masked}

    def full(self, pause, index) -> dict:
        return full_once(self, pause, image_index(index, self.count))


def settle(outcome: str, answer, progress, default: int, on_timeout: str, routes: int):
    """The decisions a pause's end gives, and how; None when the run must stop.

    On a timeout the assignments made so far stand and the untouched images get
    the default route (``on_timeout`` = ``default``) or ``route N``.
    """
    if outcome == "answered":
        return list(answer), "routed"
    action = route_choice(on_timeout, routes, "on_timeout", ("default", "stop"))
    if action == "stop":
        return None, "timeout"
    rest = default if action == "default" else action
    return [rest if d is None else d for d in progress], "timeout-routed"


def route_indices(decisions, routes: int) -> list:
    """For each route 1..routes, the image indices it gets, in batch order."""
    out = [[] for _ in range(routes)]
    for i, d in enumerate(decisions):
        if d:
            out[d - 1].append(i)
    return out


def take(images, indices):
    """Images ``indices`` of a batch: a view when they are consecutive (no copy), one gather otherwise."""
    import torch

    first, last = indices[0], indices[-1]
    if last - first + 1 == len(indices):
        return images[first:last + 1]
    return images.index_select(0, torch.tensor(indices, device=images.device))


def masks_for(indices, painted: dict, height: int, width: int):
    """``[len(indices), H, W]``: the mask painted on each image (resized to it), zeros elsewhere."""
    import numpy as np
    import torch

    from ..core.imaging import fit_mask

    out = torch.from_numpy(np.zeros((len(indices), height, width), dtype=np.float32))   # calloc'd
    for row, i in enumerate(indices):
        if painted.get(i) is not None:
            out[row] = fit_mask(painted[i], 1, height, width)[0]
    return out


def assemble(images, decisions, painted: dict, routes: int, blocker, max_routes: int = MAX_ROUTES) -> tuple:
    """The node's ``3 * max_routes`` outputs: per route its images, masks and indices text;
    ``blocker`` for a route without images and for every route past ``routes``."""
    h, w = int(images.shape[1]), int(images.shape[2])
    out = []
    for k, indices in enumerate(route_indices(decisions, routes) + [[]] * (max_routes - routes)):
        if not indices or k >= routes:
            out += [blocker] * len(PER_ROUTE)
            continue
        out += [take(images, indices), masks_for(indices, painted, h, w), ",".join(map(str, indices))]
    return tuple(out)


class ImageChooserGate:
    CATEGORY = CATEGORY
    FUNCTION = "run"
    RETURN_TYPES = PER_ROUTE_TYPES * MAX_ROUTES
    RETURN_NAMES = output_names()
    OUTPUT_TOOLTIPS = tuple(
        tip for k in range(1, MAX_ROUTES + 1) for tip in (
            f"The images given route {k}, in batch order" + (" (the original node's only output)." if k == 1 else ".")
            + " Blocked when the route gets none.",
            f"Route {k}'s masks, one per image ([n,H,W], 1 = painted); zeros where none was painted.",
            f"Route {k}'s image indices in the input batch, comma-separated (e.g. \"0,2,5\").",
        ))
    DESCRIPTION = (
        "Pauses the run and shows the whole batch as a grid of thumbnails. Give each image a route "
        "(click, Shift-click a range, Ctrl-click to toggle, then a route button or digit key), paint a "
        "mask per image, and press Done: every route outputs its images in batch order, their masks "
        "and their indices (outputs in threes: images, masks, indices per route; slot 0 'images' is "
        "route 1). A route with no images is blocked; dropped images go nowhere. Stop, or ComfyUI's "
        "Cancel, ends the run."
    )

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "images": ("IMAGE", {"tooltip": "The batch to review; every image gets its own route."}),
            },
            "optional": {
                "routes": ("INT", {"default": 1, "min": 1, "max": MAX_ROUTES,
                                   "tooltip": "How many routes (three outputs each: images, masks, indices) "
                                              "and route buttons the gate has."}),
                "labels": ("STRING", {"default": DEFAULT_LABEL, "multiline": False,
                                      "tooltip": "Route labels, comma-separated (e.g. keep, fix). A blank "
                                                 "first label is 'pass', other blanks show the route number."}),
                "default_route": (DEFAULT_CHOICES, {"default": DROP,
                                                    "tooltip": "What an image you did not assign gets when you "
                                                               "press Done: 'drop' (no route) or a route."}),
                "timeout_seconds": ("INT", {"default": 0, "min": 0, "max": 86400,
                                            "tooltip": "Seconds to wait for Done; 0 waits forever."}),
                "on_timeout": (TIMEOUT_CHOICES, {"default": "default",
                                                 "tooltip": "When the timeout runs out: 'default' keeps the "
                                                            "assignments made so far and gives the rest the "
                                                            "default route; 'route N' gives the rest route N; "
                                                            "'stop' ends the run."}),
            },
            "hidden": {"unique_id": "UNIQUE_ID"},
        }

    @classmethod
    def IS_CHANGED(cls, **kwargs):
        return float("nan")            # always pause; never cached

    def run(self, images, unique_id, routes=1, labels=DEFAULT_LABEL, default_route=DROP, timeout_seconds=0,
            on_timeout="default"):
        import comfy.model_management as mm

        # comfy_execution.graph has ExecutionBlocker in every ComfyUI that has it at all
        from comfy_execution.graph import ExecutionBlocker

        from ..comfy import pause_server
        from ..core import names

        count = int(images.shape[0])
        if count < 1:
            raise ValueError("Image Chooser Gate: the 'images' batch is empty")
        routes = max(1, min(int(routes), MAX_ROUTES))
        route_labels = chooser_labels(labels, routes)
        default = default_number(default_route, routes)
        route_choice(on_timeout, routes, "on_timeout", ("default", "stop"))     # refuse a bad one before pausing
        kind = ChooseKind(count, routes, route_labels, default,
                          writer=lambda p, i, ready: pause_server.write_full_one(p, images, i, ready))

        def show(pause):
            thumbs = pause_server.write_thumbnails(pause, images)
            pause_server.HUB.update(pause, thumbs=thumbs, width=int(images.shape[2]), height=int(images.shape[1]))
            pause_server.send(names.EVENT_SHOW, pause.public())

        outcome, pause = pause_server.hold(unique_id, kind, show, timeout=max(0, int(timeout_seconds or 0)))
        decisions, how = settle(outcome, pause.answer, pause.info.get("decisions") or [None] * count,
                                default, on_timeout, routes)
        if decisions is None:
            raise mm.InterruptProcessingException()
        record = {"decisions": decisions, "labels": route_labels, "default_route": default, "how": how,
                  "masked": sorted(pause.attachments)}
        return {"ui": {"chooser_decision": [record]},
                "result": assemble(images, decisions, pause.attachments, routes, ExecutionBlocker(None))}


NODE_CLASS_MAPPINGS = {"ImageChooserGate": ImageChooserGate}
NODE_DISPLAY_NAME_MAPPINGS = {"ImageChooserGate": "Image Chooser Gate (Batch)"}
