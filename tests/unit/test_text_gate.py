"""The Text Gate without a server: the original's interface, its answer, protected mode, timeouts."""
import math

import pytest

from gates.core.names import CATEGORY
from gates.core.pauses import MAX_TEXT_BYTES, PauseError, PauseHub, StalePause
from gates.nodes import text_gate
from gates.nodes.text_gate import TextGate, TextKind


def test_the_original_interface_is_kept_and_extended():
    it = TextGate.INPUT_TYPES()
    assert "required" not in it or not it["required"]        # runs standalone (protected)
    opt = it["optional"]
    assert list(opt)[:4] == ["text", "signal", "protected", "stored_text"]   # widgets_values order of old workflows
    assert opt["text"][0] == "STRING" and opt["text"][1]["forceInput"] is True
    assert opt["signal"][0] == "*" and not (opt["signal"][0] != "IMAGE")     # any type (ComfyUI compares with !=)
    assert opt["protected"][0] == "BOOLEAN" and opt["protected"][1]["default"] is False
    assert opt["stored_text"][0] == "STRING" and opt["stored_text"][1]["default"] == ""
    assert opt["image"][0] == "IMAGE"
    assert opt["on_timeout"][0] == ["pass unchanged", "stop"]
    assert it["hidden"] == {"unique_id": "UNIQUE_ID"}
    assert TextGate.RETURN_NAMES == ("text", "signal") and TextGate.RETURN_TYPES[0] == "STRING"
    assert TextGate.CATEGORY == CATEGORY and TextGate.DESCRIPTION
    assert len(TextGate.OUTPUT_TOOLTIPS) == 2
    for name, spec in opt.items():
        assert spec[1].get("tooltip"), f"{name} has no tooltip"
    assert text_gate.NODE_DISPLAY_NAME_MAPPINGS == {"TextGate": "Text Gate (Manual Pass)"}


def test_protected_is_cached_on_its_text_and_unprotected_always_pauses():
    assert TextGate.IS_CHANGED(protected=True, stored_text="hi") == "hi"
    assert TextGate.IS_CHANGED(protected=True, stored_text="hi") != TextGate.IS_CHANGED(protected=True,
                                                                                      stored_text="ho")
    assert math.isnan(TextGate.IS_CHANGED(protected=False, stored_text="hi"))


def test_protected_outputs_the_stored_text_and_the_signal_without_comfyui():
    out = TextGate().run(unique_id="1", text="upstream", signal=42, protected=True, stored_text="mine")
    assert out["result"] == ("mine", 42)
    assert out["ui"]["text_gate"] == [{"how": "protected", "changed": False}]


def test_the_answer_is_the_text_field():
    hub = PauseHub()
    p = hub.open("2", TextKind())
    for bad in ({}, {"text": 3}, {"text": None}, {"text": "x" * (MAX_TEXT_BYTES + 1)}, {"message": 1}):
        with pytest.raises(PauseError):
            hub.answer({"id": "2", "token": p.token, **bad})
    assert [q["kind"] for q in hub.pending()] == ["text"]      # still answerable
    assert hub.answer({"id": "2", "token": p.token, "text": "edited\nline 2"}) == "edited\nline 2"
    assert hub.wait(p) == "edited\nline 2"
    with pytest.raises(StalePause):
        hub.answer({"id": "2", "token": p.token, "text": "again"})


def test_a_text_pause_takes_no_mask_and_says_how_it_ended():
    assert TextKind().masks(None) == 0
    assert TextKind().done_info(None, "answered") == {"passed": True}
    assert TextKind("pass unchanged").done_info(None, "timeout") == {"passed": True}
    assert TextKind("stop").done_info(None, "timeout") == {"passed": False}
    assert TextKind().done_info(None, "stopped") == {}


def test_passed_text():
    assert text_gate.passed_text("answered", "new", "old", "stop") == ("new", "passed")
    assert text_gate.passed_text("timeout", None, "old", "pass unchanged") == ("old", "timeout-passed")
    assert text_gate.passed_text("timeout", None, None, "pass unchanged") == ("", "timeout-passed")
    assert text_gate.passed_text("timeout", None, "old", "stop") == (None, "timeout")
