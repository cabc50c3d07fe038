"""The Image Gate node's pure parts: outputs, interface, labels, timeout. (Mask tests need torch:
test_gate_mask.py.)"""
import math

from gates.nodes import gate


def test_route_tuple_places_image_at_chosen():
    B = object()
    t = gate.route_tuple(2, "IMG", B, max_routes=5)
    assert t == (B, B, "IMG", B, B)

def test_route_tuple_length_is_max():
    B = object()
    assert len(gate.route_tuple(0, "IMG", B, max_routes=10)) == 10

def test_is_changed_always_nan():
    v = gate.ImageGate.IS_CHANGED(image=None, routes=2, unique_id="1")
    assert math.isnan(v)

def test_return_types_shape():
    """mask, the routes, then caption LAST: workflows saved before it keep their slot indices."""
    assert gate.ImageGate.RETURN_TYPES[0] == "MASK"
    assert len(gate.ImageGate.RETURN_TYPES) == gate.MAX_ROUTES + 2
    assert all(t == "IMAGE" for t in gate.ImageGate.RETURN_TYPES[1:gate.MAX_ROUTES + 1])
    assert gate.ImageGate.RETURN_TYPES[gate.MAX_ROUTES + 1] == "STRING"


def test_interface_matches_the_spec():
    it = gate.ImageGate.INPUT_TYPES()
    assert set(it["required"]) == {"image", "routes"}
    assert it["required"]["routes"][1] == {**it["required"]["routes"][1], "default": 2, "min": 1, "max": 10}
    assert it["hidden"] == {"unique_id": "UNIQUE_ID"}
    assert gate.ImageGate.CATEGORY == "Dataset Gates"
    assert gate.ImageGate.RETURN_NAMES == ("mask",) + tuple(f"route_{i}" for i in range(1, 11)) + ("caption",)
    assert len(gate.ImageGate.OUTPUT_TOOLTIPS) == len(gate.ImageGate.RETURN_TYPES)
    for group in ("required", "optional"):
        for name, spec in it[group].items():
            assert spec[1].get("tooltip"), f"{name} has no tooltip"

def test_parse_labels_defaults_and_trims():
    assert gate.parse_labels("keep, reject ,fix", 3) == ["keep", "reject", "fix"]
    assert gate.parse_labels("keep,,", 4) == ["keep", "2", "3", "4"]
    assert gate.parse_labels("", 2) == ["1", "2"]
    assert gate.parse_labels("a,b,c", 2) == ["a", "b"]

def test_timeout_route():
    assert gate.timeout_route("stop", 3) is None
    assert gate.timeout_route("route 2", 3) == 2
    assert gate.timeout_route("route 9", 3) == 3
