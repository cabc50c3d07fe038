"""Captions at the Image Gate, without a server: the answer's caption field, what the gate puts out,
how a pause says it ended."""
import json

import pytest

from gates.core.pauses import MAX_TEXT_BYTES, PauseError, PauseHub, RouteChoice, RouteKind, StalePause, text_field
from gates.nodes import gate


@pytest.fixture
def hub():
    return PauseHub()


def body(pause, **fields):
    return {"id": pause.node_id, "token": pause.token, **fields}


# ---- the text field of an answer ----

def test_text_field_absent_or_null_is_none_unless_required():
    assert text_field({}, "caption") is None
    assert text_field({"caption": None}, "caption") is None
    assert text_field({"caption": ""}, "caption") == ""
    with pytest.raises(PauseError, match="missing field 'text'"):
        text_field({}, "text", required=True)
    with pytest.raises(PauseError, match="missing field 'text'"):
        text_field({"text": None}, "text", required=True)


@pytest.mark.parametrize("bad", [3, 2.5, True, ["a"], {"a": 1}])
def test_text_field_refuses_what_is_not_a_string(bad):
    with pytest.raises(PauseError, match="'caption' must be a string"):
        text_field({"caption": bad}, "caption")


def test_text_field_limit_is_64_kb_of_utf8():
    assert MAX_TEXT_BYTES == 65536
    assert text_field({"caption": "a" * MAX_TEXT_BYTES}, "caption") == "a" * MAX_TEXT_BYTES
    with pytest.raises(PauseError, match="over the 64 KB limit"):
        text_field({"caption": "a" * (MAX_TEXT_BYTES + 1)}, "caption")
    # 3 bytes per character in UTF-8: 21,846 of them are 65,538 bytes
    with pytest.raises(PauseError, match="65538 bytes"):
        text_field({"caption": "\u20ac" * 21846}, "caption")


def test_text_field_refuses_a_lone_surrogate():
    with pytest.raises(PauseError, match="not valid Unicode"):
        text_field(json.loads('{"caption": "a\\ud800b"}'), "caption")


# ---- the route kind carries the caption ----

def test_a_route_answer_carries_its_caption_and_is_still_the_route_number(hub):
    p = hub.open("3", RouteKind(3, ["keep", "reject", "fix"]))
    taken = hub.answer(body(p, message=2, caption="a red cat"))
    assert taken == 2 and isinstance(taken, int) and taken.caption == "a red cat"
    assert json.dumps({"taken": taken}) == '{"taken": 2}'      # what POST /choice answers
    assert hub.wait(p).caption == "a red cat"


def test_a_route_answer_without_caption_leaves_it_unchanged(hub):
    p = hub.open("3", RouteKind(2))
    assert hub.answer(body(p, message="1")).caption is None


@pytest.mark.parametrize("bad", [{"caption": 5}, {"caption": "x" * (MAX_TEXT_BYTES + 1)}, {"caption": ["a"]}])
def test_a_bad_caption_is_refused_and_the_pause_still_answers(hub, bad):
    p = hub.open("4", RouteKind(2))
    with pytest.raises(PauseError):
        hub.answer(body(p, message=1, **bad))
    assert [q["id"] for q in hub.pending()] == ["4"]            # still waiting
    assert hub.answer(body(p, message=2, caption="ok")) == 2
    assert hub.wait(p) == 2
    with pytest.raises(StalePause):
        hub.answer(body(p, message=1))


def test_route_choice_compares_as_its_number():
    c = RouteChoice(3, "x")
    assert c == 3 and c - 1 == 2 and [10, 20, 30, 40][c] == 40 and f"{c}" == "3"
    assert RouteChoice(1).caption is None


# ---- how a route pause ended (the done event) ----

def test_done_info_names_the_route_taken_or_the_timeout_route(hub):
    kind = RouteKind(3, ["keep", "reject", "fix"], on_timeout=2)
    p = hub.open("9", kind)
    hub.answer(body(p, message=3))
    assert kind.done_info(p, "answered") == {"route": 3, "label": "fix"}
    assert kind.done_info(p, "timeout") == {"route": 2, "label": "reject"}
    assert kind.done_info(p, "stopped") == {}
    assert RouteKind(2, ["a", "b"]).done_info(hub.open("10", RouteKind(2)), "timeout") == {}   # on timeout: stop


# ---- what the gate puts out ----

def test_caption_out_is_the_sent_caption_else_the_input():
    assert gate.caption_out("a cat", RouteChoice(1)) == ("a cat", False)
    assert gate.caption_out("a cat", RouteChoice(1, "a dog")) == ("a dog", True)
    assert gate.caption_out("a cat", RouteChoice(1, "a cat")) == ("a cat", False)
    assert gate.caption_out(None, RouteChoice(2)) == ("", False)
    assert gate.caption_out(None, RouteChoice(2, "typed")) == ("typed", True)
    assert gate.caption_out("kept", object()) == ("kept", False)           # a timeout: no answer


def test_mask_source_prefers_what_happened_at_this_pause():
    kept = object()
    assert gate.mask_source({}, kept) is kept
    assert gate.mask_source({0: "painted"}, kept) == "painted"
    assert gate.mask_source({0: None}, kept) is None                       # Clear mask
    assert gate.mask_source({}, None) is None


def test_caption_input_and_keep_mask_are_optional_and_appended():
    opt = gate.ImageGate.INPUT_TYPES()["optional"]
    # appended after every older input (saved workflows keep their widget values): then the crop's buckets
    assert list(opt)[-5:] == ["caption", "keep_mask", "bucket_resolution", "bucket_divisible", "bucket_list"]
    assert opt["caption"][0] == "STRING" and opt["caption"][1]["forceInput"] is True
    assert opt["keep_mask"][0] == "BOOLEAN" and opt["keep_mask"][1]["default"] is False
    assert gate.ImageGate.RETURN_NAMES.index("caption") == 11
