"""The Image Chooser Gate's pure parts: its interface, the answer check (ChooseKind), progress,
full-resolution files on demand, the timeout rule, thumbnails. (The output assembly needs torch:
test_chooser_outputs.py.)"""
import json
import math
import re

import numpy as np
import pytest

from gates.core.names import CANCEL, CATEGORY, MAX_ROUTES
from gates.core.pauses import PauseError, PauseHub, RouteKind
from gates.nodes import chooser


def kind(count=6, routes=3, default=0, **kw):
    return chooser.ChooseKind(count, routes, ["a", "b", "c"][:routes], default, **kw)


# ---- the node's interface ---------------------------------------------------------

def test_slot_0_is_the_original_images_output_then_threes_per_route():
    names = chooser.ImageChooserGate.RETURN_NAMES
    types = chooser.ImageChooserGate.RETURN_TYPES
    assert len(names) == len(types) == 3 * MAX_ROUTES
    assert names[:6] == ("images", "masks", "indices", "images_2", "masks_2", "indices_2")
    assert names[-3:] == ("images_10", "masks_10", "indices_10")
    assert types[:3] == ("IMAGE", "MASK", "STRING") and types == types[:3] * MAX_ROUTES
    assert len(set(names)) == len(names)


def test_interface_loads_the_original_workflows():
    it = chooser.ImageChooserGate.INPUT_TYPES()
    assert list(it["required"]) == ["images"] and it["required"]["images"][0] == "IMAGE"
    assert it["hidden"] == {"unique_id": "UNIQUE_ID"}
    opt = it["optional"]
    assert opt["routes"][1]["default"] == 1 and (opt["routes"][1]["min"], opt["routes"][1]["max"]) == (1, 10)
    assert opt["labels"][1]["default"] == "pass"
    assert opt["default_route"][1]["default"] == "drop"
    assert opt["default_route"][0] == ["drop"] + [f"route {i}" for i in range(1, 11)]
    assert opt["timeout_seconds"][1]["default"] == 0
    assert "stop" in opt["on_timeout"][0] and "default" in opt["on_timeout"][0]
    for group in ("required", "optional"):
        for name, spec in it[group].items():
            assert spec[1].get("tooltip"), f"{name} has no tooltip"
    assert len(chooser.ImageChooserGate.OUTPUT_TOOLTIPS) == 3 * MAX_ROUTES
    assert all(chooser.ImageChooserGate.OUTPUT_TOOLTIPS)
    assert chooser.ImageChooserGate.CATEGORY == CATEGORY
    assert chooser.ImageChooserGate.DESCRIPTION
    assert math.isnan(chooser.ImageChooserGate.IS_CHANGED(images=None))
    assert chooser.NODE_DISPLAY_NAME_MAPPINGS == {"ImageChooserGate": "Image Chooser Gate (Batch)"}


def test_labels_first_blank_is_pass():
    assert chooser.chooser_labels("", 1) == ["pass"]
    assert chooser.chooser_labels(" , fix", 3) == ["pass", "fix", "3"]
    assert chooser.chooser_labels("keep, fix", 2) == ["keep", "fix"]


def test_default_route_and_timeout_choices():
    assert chooser.default_number("drop", 3) == 0
    assert chooser.default_number("route 3", 3) == 3
    with pytest.raises(ValueError, match="routes = 2"):
        chooser.default_number("route 3", 2)
    with pytest.raises(ValueError, match="default_route 'sideways'"):
        chooser.default_number("sideways", 2)
    with pytest.raises(ValueError, match="on_timeout"):
        chooser.route_choice("route 4", 3, "on_timeout", ("default", "stop"))


# ---- answers --------------------------------------------------------------------

def test_decisions_are_taken_as_given():
    assert kind().parse({"decisions": [1, 2, 1, 3, 2, 0]}) == [1, 2, 1, 3, 2, 0]


def test_selection_gives_route_1_and_the_rest_the_default():
    assert kind(count=4, default=0).parse({"selection": [3, 1]}) == [0, 1, 0, 1]
    assert kind(count=4, default=2).parse({"selection": [0]}) == [1, 2, 2, 2]
    assert kind(count=3).parse({"selection": []}) == [0, 0, 0]
    assert kind(count=4).parse({"selection": "[3, 1]"}) == [0, 1, 0, 1]        # a form field: JSON text


@pytest.mark.parametrize("body, words", [
    ({"decisions": [1, 2, 1]}, "3 entries; the batch has 6"),
    ({"decisions": [1, 2, 1, 3, 2, 0, 1]}, "7 entries"),
    ({"decisions": [1, 2, 1, 4, 2, 0]}, "route 4"),
    ({"decisions": [1, 2, 1, -1, 2, 0]}, "route -1"),
    ({"decisions": [1, 2, 1.5, 3, 2, 0]}, "not an integer"),
    ({"decisions": [1, 2, 1.0, 3, 2, 0]}, "not an integer"),
    ({"decisions": [1, "2", 1, 3, 2, 0]}, "not an integer"),
    ({"decisions": [1, True, 1, 3, 2, 0]}, "not an integer"),
    ({"decisions": [1, None, 1, 3, 2, 0]}, "not an integer"),
    ({"decisions": 1}, "must be a list"),
    ({"decisions": "nope"}, "JSON list"),
    ({"selection": [1, 1]}, "appears twice"),
    ({"selection": [6]}, "index 6 in 'selection' is out of range 0..5"),
    ({"selection": [-1]}, "index -1"),
    ({"selection": [False]}, "not an integer"),
    ({"selection": [1.0]}, "not an integer"),
    ({"decisions": [0] * 6, "selection": [1]}, "not both"),
    ({"message": 1}, "missing field 'decisions'"),
    ({}, "missing field"),
])
def test_wrong_answers_are_refused_with_the_reason(body, words):
    with pytest.raises(PauseError, match=re.escape(words)):
        kind().parse(body)


def test_a_refused_answer_leaves_the_pause_answerable_and_cancel_still_stops():
    hub = PauseHub()
    p = hub.open("4", kind())
    ask = {"id": "4", "token": p.token}
    with pytest.raises(PauseError):
        hub.answer({**ask, "decisions": [9] * 6})
    assert hub.answer({**ask, "decisions": [1, 2, 1, 3, 2, 0]}) == [1, 2, 1, 3, 2, 0]
    assert hub.wait(p) == [1, 2, 1, 3, 2, 0]
    q = hub.open("5", kind())
    assert hub.answer({"id": "5", "token": q.token, "message": CANCEL}) == CANCEL
    assert q.stopped


def test_the_page_gets_routes_labels_count_and_default_and_masks_are_per_image():
    k = kind(count=6, default=2)
    assert k.public() == {"routes": 3, "labels": ["a", "b", "c"], "count": 6, "default_route": 2}
    assert k.name == "choose" and k.masks(None) == 6


def test_show_event_of_64_images_stays_under_4_kb():
    hub = PauseHub()
    k = chooser.ChooseKind(64, 10, [f"label number {i}" * 4 for i in range(10)], 0)
    p = hub.open("123:456", k, prompt_id="0" * 36, timeout=0)
    thumbs = {"filename": f"{p.token}_{{index}}_thumb.jpg", "subfolder": "datasete_gate", "type": "temp",
              "width": 256, "height": 256, "count": 64}
    hub.update(p, thumbs=thumbs, width=1024, height=1024)
    hub.update(p, **k.progress({"decisions": [10] * 64, "masked": list(range(64))}))
    assert len(json.dumps({"type": "x", "data": p.public()})) < 4096


# ---- progress and full-resolution files ---------------------------------------------

def test_progress_keeps_assignments_and_masked_images():
    got = kind().progress({"decisions": [1, None, 0, 3, None, 2], "masked": [4, 2]})
    assert got == {"decisions": [1, None, 0, 3, None, 2], "masked": [2, 4]}
    for bad in ({"decisions": [1] * 5}, {"decisions": [4] * 6}, {"decisions": [1, 1, 1, 1, 1, "x"]},
                {"decisions": [None] * 6, "masked": [6]}, {}):
        with pytest.raises(PauseError):
            kind().progress(bad)


def test_other_kinds_keep_no_progress_and_write_nothing_on_demand():
    with pytest.raises(PauseError, match="no progress"):
        RouteKind(2).progress({"decisions": []})
    with pytest.raises(PauseError, match="on demand"):
        RouteKind(2).full(None, 0)


def test_full_writes_each_image_once_and_reports_ready():
    calls = []

    def writer(pause, index, on_ready):
        calls.append(index)
        writer.ready = on_ready
        return {"filename": f"t_{index}_full.png"}

    k = kind(writer=writer)
    assert k.full("P", "3") == {"index": 3, "ref": {"filename": "t_3_full.png"}, "ready": False}
    writer.ready()
    assert k.full("P", 3) == {"index": 3, "ref": {"filename": "t_3_full.png"}, "ready": True}
    assert calls == [3]
    for bad in (6, -1, "x", None, True, 1.5):
        with pytest.raises(PauseError):
            k.full("P", bad)
    with pytest.raises(PauseError, match="on demand"):
        kind().full("P", 0)


# ---- the end of the pause ---------------------------------------------------------

def test_settle_answered_timeout_default_route_and_stop():
    progress = [1, None, 0, None]
    assert chooser.settle("answered", [2, 2, 0, 1], progress, 0, "stop", 2) == ([2, 2, 0, 1], "routed")
    assert chooser.settle("timeout", None, progress, 2, "default", 2) == ([1, 2, 0, 2], "timeout-routed")
    assert chooser.settle("timeout", None, progress, 0, "route 1", 2) == ([1, 1, 0, 1], "timeout-routed")
    assert chooser.settle("timeout", None, progress, 0, "stop", 2) == (None, "timeout")


def test_route_indices_keep_batch_order():
    assert chooser.route_indices([3, 1, 0, 1, 3], 3) == [[1, 3], [], [0, 4]]


def test_thumbnails_are_small_keep_the_aspect_and_the_colour():
    from gates.core.imaging import thumbnail

    frame = np.zeros((1024, 512, 3), np.float32)
    frame[..., 0] = 1.0
    im = thumbnail(frame, 256)
    assert im.size == (128, 256) and im.mode == "RGB"
    assert im.getpixel((64, 128)) == (255, 0, 0)
    gray = thumbnail(np.full((100, 300, 1), 0.5, np.float32), 256)
    assert gray.mode == "L" and gray.size == (256, 85) and abs(gray.getpixel((10, 10)) - 128) <= 1
    rgba = thumbnail(np.ones((64, 64, 4), np.float32), 256)
    assert rgba.mode == "RGB" and rgba.size == (64, 64)                     # never enlarged
