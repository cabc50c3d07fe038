"""Image Gate (Manual Router): pause, show the image, route it down one output.

Thin node glue: ``pauses`` does the waiting, ``pause_server`` the showing,
``imaging`` the pixels. ComfyUI and torch are imported lazily inside ``run`` so
``import gates.gate`` works under pytest without either.
"""
from __future__ import annotations

from ..core.names import CATEGORY, MAX_ROUTES
from ..core.pauses import RouteKind

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


def caption_out(caption_in, answer):
    """``(caption, changed)``: the caption sent with the answer, else the input unchanged ('' when unwired)."""
    base = "" if caption_in is None else str(caption_in)
    sent = getattr(answer, "caption", None)
    if sent is None:
        return base, False
    return sent, sent != base


def mask_source(attachments, kept):
    """The mask a gate puts out: the one painted (or cleared, None) at this pause, else the kept one."""
    return attachments[0] if 0 in attachments else kept


def memory_info(pause, unique_id, keep_mask, height, width):
    """Show fields of the sticky mask; writes the kept mask's overlay beside the previews."""
    import os

    from ..comfy import pause_server
    from ..core import files, gate_memory, imaging

    kept = gate_memory.recall(unique_id) if keep_mask else None
    if kept is None:
        return {"keep_mask": bool(keep_mask), "mask_retained": False, "overlay": None}
    ph, pw = imaging.preview_size(height, width)
    name = f"{pause.token}_overlay.png"           # the pause's files go when it ends
    files.atomic_write_bytes(os.path.join(pause_server.preview_dir(), name), gate_memory.overlay_png(kept, ph, pw))
    return {"keep_mask": True, "mask_retained": True, "overlay": pause_server.file_ref(name, pw, ph)}


class ImageGate:
    CATEGORY = CATEGORY
    FUNCTION = "run"
    # 'caption' comes after the routes, so workflows saved before it keep their links (slot = index).
    RETURN_TYPES = ("MASK",) + ("IMAGE",) * MAX_ROUTES + ("STRING",)
    RETURN_NAMES = ("mask",) + tuple(f"route_{i + 1}" for i in range(MAX_ROUTES)) + ("caption",)
    OUTPUT_TOOLTIPS = ("The mask painted at the gate ([B,H,W], 1 = painted); zeros if none.",) + tuple(
        f"The image, when route {i + 1} is chosen; blocked otherwise." for i in range(MAX_ROUTES)
    ) + ("The caption as edited at the gate (the input unchanged when not edited), whichever route is taken.",)
    DESCRIPTION = (
        "Pauses the run, shows the image in the node with one button per route, and sends it "
        "down the route you click; the other routes are blocked so their downstream never runs. "
        "Edit mask paints a mask that comes out on 'mask'; keep_mask reuses it at the next pauses. "
        "A wired caption can be edited under the preview and comes out on 'caption'. "
        "Stop, or ComfyUI's Cancel, ends the run. Note: a node fed only by 'mask' or 'caption' is not blocked."
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
                "caption": ("STRING", {"forceInput": True,
                                       "tooltip": "The image's caption (e.g. the Folder Image Loader's text): "
                                                  "shown in an editable box while the gate waits."}),
                "keep_mask": ("BOOLEAN", {"default": False,
                                          "tooltip": "Reuse the last mask painted at this gate on the following "
                                                     "pauses (resized to each image) until Clear mask."}),
                # after every older input, so saved workflows keep their widget values
                "bucket_resolution": ("INT", {"default": 1280, "min": 64, "max": 8192, "step": 8, "tooltip":
                                              "Crop (key C) snaps to the training buckets of this resolution, as "
                                              "Bucket Resize's 'resolution' (use the same values as yours)."}),
                "bucket_divisible": ("INT", {"default": 64, "min": 8, "max": 512, "step": 8, "tooltip":
                                             "Bucket sides are multiples of this, as Bucket Resize's 'divisible'."}),
                "bucket_list": ("STRING", {"default": "", "tooltip": "Crop to these buckets instead "
                                           "(1024x1024, 832x1216, ...), as Bucket Resize's 'bucket_list'."}),
            },
            "hidden": {"unique_id": "UNIQUE_ID"},
        }

    @classmethod
    def IS_CHANGED(cls, **kwargs):
        return float("nan")            # always pause; never cached

    def run(self, image, routes, unique_id, labels="", timeout_seconds=0, on_timeout="stop", caption=None,
            keep_mask=False, bucket_resolution=1280, bucket_divisible=64, bucket_list=""):
        import comfy.model_management as mm

        # comfy_execution.graph has ExecutionBlocker in every ComfyUI that has it at all
        from comfy_execution.graph import ExecutionBlocker

        from ..comfy import pause_server, sort_session
        from ..core import buckets, gate_memory
        from ..core.imaging import fit_mask

        routes = max(1, min(int(routes), MAX_ROUTES))
        names = parse_labels(labels, routes)
        sort = sort_session.for_current_prompt()      # a folder sort (the loader in 'sort' mode) runs this
        if sort:
            sort_session.configure(sort, unique_id, routes, names)
        b, h, w = image.shape[0], image.shape[1], image.shape[2]
        op = sort_session.take_queued(sort) if sort else None
        if op is not None:                            # the person pressed its key before it got here
            outcome, answer, attachments = answer_of(op, sort_session)
            if answer is None:
                sort_session.stopped(sort)
                raise mm.InterruptProcessingException()
            gate_memory.settle(unique_id, attachments, bool(keep_mask))
        else:
            kind = RouteKind(routes, names) if sort is None else sort_session.SortKind(routes, names, sort)
            kind.size = (int(w), int(h)) if b == 1 else None       # a crop is for one image
            extra = {"sort": sort.progress()} if sort else {}
            if b == 1:
                extra["buckets"] = crop_buckets(buckets.candidates(int(bucket_resolution), int(bucket_divisible),
                                                                   bucket_list))
            kind.on_timeout = timeout_route(on_timeout, routes)
            shown = {}

            def show(p):
                shown["pause"] = p
                if sort and sort_session.waiting(sort, p):
                    return                              # a key arrived meanwhile: it answered already
                ready = sort and sort.previews.get(sort.current["file"])
                pause_server.show_images(p, image, previews=[ready["ref"]] if ready and b == 1 else None,
                                         caption=caption, **memory_info(p, unique_id, keep_mask, h, w), **extra)

            try:
                outcome, pause = pause_server.hold(unique_id, kind, show, timeout=max(0, int(timeout_seconds or 0)))
            finally:                                    # a mask painted (or cleared) counts, even when stopped
                if "pause" in shown:
                    gate_memory.settle(unique_id, shown["pause"].attachments, bool(keep_mask))
                    if sort:
                        sort_session.released(sort, shown["pause"])
            answer, attachments = pause.answer, pause.attachments
        blocker = ExecutionBlocker(None)
        if sort and answer == sort_session.UNDO:    # this image stays undecided; the last one comes back
            sort_session.undo(sort)
            return {"ui": {"gate_decision": [{"route": None, "label": None, "how": "undo"}]},
                    "result": (fit_mask(None, b, h, w),) + (blocker,) * (MAX_ROUTES + 1)}
        route, how = decide(outcome, answer, on_timeout, routes)
        if route is None:
            raise mm.InterruptProcessingException()
        route = int(route)                           # the answer is a RouteChoice (an int with its caption)
        source = mask_source(attachments, gate_memory.recall(unique_id) if keep_mask else None)
        mask = fit_mask(source, b, h, w)
        text, changed = caption_out(caption, answer)
        crop, bucket = getattr(answer, "crop", None), getattr(answer, "bucket", None)
        if crop:                                     # the full-resolution pixels, the mask the same way
            image, mask = cropped(image, crop), cropped(mask, crop)
        if sort:
            sort_session.answered(sort, route, names[route - 1], mask=gate_memory.painted(source),
                                  caption_changed=changed, crop=crop, bucket=bucket)
        decision = {"route": route, "label": names[route - 1], "how": how,
                    **({"crop": crop, "bucket": bucket} if crop else {})}
        return {"ui": {"gate_decision": [decision], "caption_changed": [changed]},
                "result": (mask,) + route_tuple(route - 1, image, blocker, MAX_ROUTES) + (text,)}


MAX_CROP_ASPECT = 4          # crops snap to buckets between 1:4 and 4:1 (the rule makes some of 400:1)


def crop_buckets(candidates: list, limit: int = 64) -> list:
    """The buckets a crop can snap to, for the show event: sane aspects only, and few (the event stays small)."""
    sane = [[int(w), int(h)] for w, h in candidates if 1 / MAX_CROP_ASPECT <= w / h <= MAX_CROP_ASPECT]
    return sane[:limit]


def cropped(t, crop: dict):
    """``[B, H, W, ...]`` (an image or a mask) cut to ``crop`` (source pixels), contiguous (its own pixels)."""
    x, y = crop["x"], crop["y"]
    return t[:, y:y + crop["height"], x:x + crop["width"]].contiguous()


def answer_of(op, sort_session):
    """A key queued in a folder sort as a pause's end: ``(outcome, answer, attachments)``; answer None = Stop."""
    from ..core.pauses import RouteChoice
    from ..core.sort_queue import DECIDE, UNDO

    if op.kind == DECIDE:
        choice = RouteChoice(op.route, op.caption, op.crop, op.bucket)
        return "answered", choice, ({0: op.mask} if op.mask is not None else {})
    if op.kind == UNDO:
        return "answered", sort_session.UNDO, {}
    return "stopped", None, {}


NODE_CLASS_MAPPINGS = {"ImageGate": ImageGate}
NODE_DISPLAY_NAME_MAPPINGS = {"ImageGate": "Image Gate (Manual Router)"}
