"""Image Pool core: ids, the slot rule, the manifest (the original's layout), refusals."""
import io
import json
import os

import numpy as np
import pytest
from PIL import Image

from gates.core import pool
from gates.nodes.pool_nodes import GridImagePool, PoolProfile


def png(c=(10, 20, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 6), c).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("bad", ["..", "../x", "/abs", "a/b", "a\\b", "", " ", ".hidden", "x" * 200, None, 5])
def test_ids_are_plain_folder_names(bad):
    with pytest.raises(pool.PoolError):
        pool.check_id(bad)


@pytest.mark.parametrize("ok", ["default", "3f2a0c1e-9b7d-4c3e-8a7f-0e1d2c3b4a59", "p_1718960000_123", "abc.def"])
def test_original_ids_are_accepted(ok):
    assert pool.check_id(ok) == ok


def test_slot_rule():
    m = {"active": 1, "slots": [{}] * 3}
    assert [pool.resolve_slot(m, i) for i in (-1, 0, 2, 99)] == [1, 0, 2, 2]
    assert pool.resolve_slot({"active": 0, "slots": []}, -1) == -1


def test_add_label_mask_remove_and_the_manifest(tmp_path):
    base = str(tmp_path)
    for c in ((1, 1, 1), (2, 2, 2), (3, 3, 3)):
        m = pool.add_image(base, "p", png(c), ts=7)
    assert m["next_seq"] == 4 and [s["image"] for s in m["slots"]] == ["img_0001.png", "img_0002.png", "img_0003.png"]
    pool.set_active(base, "p", 2)
    pool.set_label(base, "p", 1, "b")
    m = pool.set_mask(base, "p", 1, np.ones((6, 8), np.float32))
    assert m["slots"][1]["mask"] == "img_0002.mask.png"
    m = pool.remove_slot(base, "p", 0)
    assert m["active"] == 1 and m["slots"][0]["label"] == "b"
    assert json.load(open(tmp_path / "p" / "manifest.json")) == m
    assert not [f for f in os.listdir(tmp_path / "p") if f.endswith(".part")]
    with pytest.raises(pool.PoolError, match="out of range"):
        pool.set_active(base, "p", 2)
    f1 = pool.fingerprint(base, "p", -1)
    pool.set_mask(base, "p", 1, np.zeros((6, 8), np.float32))
    assert pool.fingerprint(base, "p", -1) != f1


def test_a_manifest_naming_outside_files_is_rebuilt(tmp_path):
    d = tmp_path / "p"
    d.mkdir()
    (d / "img_0002.png").write_bytes(png())
    (d / "manifest.json").write_text(json.dumps({"slots": [{"image": "../x.png"}]}))
    m = pool.read_manifest(str(tmp_path), "p")
    assert [s["image"] for s in m["slots"]] == ["img_0002.png"] and m["next_seq"] == 3


def test_node_ids_inputs_outputs_and_tooltips():
    it = GridImagePool.INPUT_TYPES()
    assert list(it["required"]) == ["index", "pool_id"] and list(it["optional"]) == ["profile"]
    assert it["required"]["index"][1]["default"] == -1 and it["required"]["index"][1]["min"] == -1
    assert GridImagePool.RETURN_TYPES == ("IMAGE", "MASK", "INT", "INT", "STRING")
    assert GridImagePool.RETURN_NAMES == ("image", "mask", "index", "count", "label")
    assert list(PoolProfile.INPUT_TYPES()["required"]) == ["profile", "profile_id"]
    assert PoolProfile.RETURN_TYPES == ("POOL_PROFILE",)
    for node in (GridImagePool, PoolProfile):
        for group in node.INPUT_TYPES().values():
            assert all(spec[1].get("tooltip") for spec in group.values())
        assert len(node.OUTPUT_TOOLTIPS) == len(node.RETURN_TYPES)


def test_profiles_round_trip_and_refusals(tmp_path):
    import zipfile

    from gates.core import pool_profiles as pp

    base = str(tmp_path)
    e = pp.create(base, "chars")
    pool.add_image(base, e["id"], png())
    pool.set_label(base, e["id"], 0, "one")
    with pytest.raises(pool.PoolError, match="exists"):
        pp.create(base, "chars")
    buf = io.BytesIO()
    assert pp.export_zip(base, e["id"], buf) == "chars"
    buf.seek(0)
    imp = pp.import_zip(base, buf)
    assert imp["name"] == "chars (2)" and imp["id"] != e["id"]
    assert sorted(os.listdir(tmp_path / imp["id"])) == sorted(os.listdir(tmp_path / e["id"]))
    assert pp.resolve(base, "", "chars (2)") == imp["id"] and pp.resolve(base, "", "") == "default"
    f = pool.folder_fingerprint(base, e["id"])
    pool.set_label(base, e["id"], 0, "two")
    assert pool.folder_fingerprint(base, e["id"]) != f
    bad = io.BytesIO()
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("pool/../../x.png", b"x")
    with pytest.raises(pool.PoolError, match="leave"):
        pp.import_zip(base, io.BytesIO(bad.getvalue()))
    assert not (tmp_path.parent / "x.png").exists()
    pp.delete(base, e["id"])
    assert not (tmp_path / e["id"]).exists() and [p["id"] for p in pp.read_registry(base)["profiles"]] == [imp["id"]]
