"""Text Gate (Manual Pass): pause with a text in an editable box, pass the edited text on.

The original Dataset Gates project's node (same id, inputs and outputs, so its
workflows load), on the pause core: ``pauses`` waits, ``pause_server`` shows.
``protected`` makes it a plain text node that outputs ``stored_text`` and never
pauses. ComfyUI and torch are imported lazily inside ``run``.
"""
from __future__ import annotations

from ..core.names import CATEGORY
from ..core.pauses import PauseKind, text_field

TIMEOUT_ACTIONS = ["pass unchanged", "stop"]


class AnyType(str):
    """ComfyUI's wildcard convention: a type equal to every other type."""

    def __ne__(self, other):
        return False


ANY = AnyType("*")


class TextKind(PauseKind):
    """Edit a text: ``{text: "..."}`` (a string of at most MAX_TEXT_BYTES) passes it on."""

    name = "text"

    def __init__(self, on_timeout: str = "pass unchanged"):
        self.on_timeout = on_timeout

    def parse(self, data: dict) -> str:
        return text_field(data, "text", required=True)

    def masks(self, pause) -> int:
        return 0

    def done_info(self, pause, outcome: str) -> dict:
        if outcome == "answered":
            return {"passed": True}
        if outcome == "timeout":
            return {"passed": self.on_timeout != "stop"}
        return {}


def passed_text(outcome, answer, text_in, on_timeout):
    """``(text, how)`` a pause's end passes on, or ``(None, "timeout")`` when the run must stop."""
    if outcome == "answered":
        return answer, "passed"
    if on_timeout == "stop":
        return None, "timeout"
    return ("" if text_in is None else str(text_in)), "timeout-passed"


def show_text(pause, text, image):
    """The Text Gate's show: the text, and the image's previews when one is wired."""
    from ..comfy import pause_server
    from ..core import names

    info = {"text": text}
    if image is not None:
        b, h, w = int(image.shape[0]), int(image.shape[1]), int(image.shape[2])
        info.update(previews=pause_server.write_previews(pause, image), width=w, height=h, batch=b)
    pause_server.HUB.update(pause, **info)
    pause_server.send(names.EVENT_SHOW, pause.public())


class TextGate:
    CATEGORY = CATEGORY
    FUNCTION = "run"
    RETURN_TYPES = ("STRING", ANY)
    RETURN_NAMES = ("text", "signal")
    OUTPUT_TOOLTIPS = ("The text as passed at the gate (protected: the stored text).",
                       "The 'signal' input, unchanged: wire it to order nodes after the gate.")
    DESCRIPTION = (
        "Pauses the run with the incoming text in an editable box (and the image beside it, when wired); "
        "Pass (Ctrl+Enter) sends the edited text on, Stop (Esc) or ComfyUI's Cancel ends the run. The last "
        "passed text is kept in the node and comes back at the next pause while the same text arrives. "
        "Protected: a plain text node that outputs the stored text and never pauses."
    )

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "optional": {
                "text": ("STRING", {"forceInput": True,
                                    "tooltip": "The text to look at and edit (e.g. a caption or a prompt)."}),
                "signal": (ANY, {"tooltip": "Anything: passed through unchanged, so nodes wired to the "
                                            "'signal' output run after the gate."}),
                "protected": ("BOOLEAN", {"default": False,
                                          "tooltip": "On: a plain text node that outputs the stored text, "
                                                     "ignores 'text' and never pauses."}),
                "stored_text": ("STRING", {"default": "", "multiline": False,
                                           "tooltip": "The last passed (or, protected, the typed) text; "
                                                      "the page keeps it and hides this widget."}),
                "image": ("IMAGE", {"tooltip": "An image shown beside the text (e.g. the one the caption "
                                               "describes)."}),
                "timeout_seconds": ("INT", {"default": 0, "min": 0, "max": 86400,
                                            "tooltip": "Seconds to wait for Pass; 0 waits forever."}),
                "on_timeout": (TIMEOUT_ACTIONS, {"default": "pass unchanged",
                                                 "tooltip": "When the timeout runs out: pass the incoming "
                                                            "text unchanged, or stop the run."}),
            },
            "hidden": {"unique_id": "UNIQUE_ID"},
        }

    @classmethod
    def IS_CHANGED(cls, protected=False, stored_text="", **kwargs):
        # Protected = a plain text node: cached on its text. Otherwise it pauses every run.
        return str(stored_text) if protected else float("nan")

    def run(self, unique_id=None, text=None, signal=None, protected=False, stored_text="", image=None,
            timeout_seconds=0, on_timeout="pass unchanged"):
        if protected:
            return {"ui": {"text_gate": [{"how": "protected", "changed": False}]},
                    "result": (str(stored_text or ""), signal)}
        import comfy.model_management as mm

        from ..comfy import pause_server

        incoming = "" if text is None else str(text)
        outcome, pause = pause_server.hold(unique_id, TextKind(on_timeout), lambda p: show_text(p, incoming, image),
                                           timeout=max(0, int(timeout_seconds or 0)))
        out, how = passed_text(outcome, pause.answer, incoming, on_timeout)
        if out is None:
            raise mm.InterruptProcessingException()
        return {"ui": {"text_gate": [{"how": how, "changed": out != incoming}]}, "result": (out, signal)}


NODE_CLASS_MAPPINGS = {"TextGate": TextGate}
NODE_DISPLAY_NAME_MAPPINGS = {"TextGate": "Text Gate (Manual Pass)"}
