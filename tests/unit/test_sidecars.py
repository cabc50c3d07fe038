"""Sidecar chains: names, extensions, duplicates, and Save Image To Folder writing them (or nothing)."""
import json
import os

import pytest

from gates.core import sidecars
from gates.nodes.sidecar_nodes import SaveImageSidecars, Sidecar


def test_chain_builds_immutably_and_names_the_files():
    a = sidecars.append(None, "a cat", "", ".txt")
    b = sidecars.append(a, '{"route": "keep"}', ".meta", "json")
    assert len(a) == 1 and len(b) == 2                        # the first chain is not changed
    assert b[1] == sidecars.Spec('{"route": "keep"}', ".meta", ".json")
    assert sidecars.files_for("cat_01", b) == [("cat_01.txt", b"a cat"), ("cat_01.meta.json", b'{"route": "keep"}')]
    assert sidecars.files_for("ComfyUI_00001_", sidecars.append(None, "x", "variant_a", ".txt")) \
        == [("ComfyUI_00001_variant_a.txt", b"x")]


def test_the_original_chain_format_is_accepted():
    plan = sidecars.plan([{"content": "hi", "name": "", "ext": ".txt"}, {"content": "{}", "name": "m", "ext": ".json"}])
    assert [s.suffix for s in plan] == [".txt", "m.json"]


@pytest.mark.parametrize("ext", [".exe", "png", ".sh", ".py", "", ".txt/x", "../.txt"])
def test_refused_extensions_name_themselves(ext):
    with pytest.raises(ValueError, match="not allowed") as e:
        sidecars.append(None, "x", "", ext)
    assert repr(ext) in str(e.value)


def test_extensions_are_normalised():
    assert sidecars.check_ext("JSON") == ".json" and sidecars.check_ext(" .Caption ") == ".caption"


@pytest.mark.parametrize("name,why", [("sub/..", "'..'"), ("a\\..", "'..'"), ("..", "'..'"),
                                      ("x..y", "'..'"), ("a:b", "invalid"), ("a\x00", "invalid")])
def test_refused_names(name, why):
    with pytest.raises(ValueError, match=why):
        sidecars.append(None, "x", name, ".txt")


@pytest.mark.parametrize("name,bare", [("sub/v", "v"), ("../evil", "evil"), ("a\\b", "b"), ("/abs/x/", ""),
                                       ("../../.meta", ".meta")])
def test_a_path_part_is_dropped_with_a_warning_as_in_the_original(name, bare, caplog):
    with caplog.at_level("WARNING", logger="dataset_gates"):
        chain = sidecars.append(None, "x", name, ".txt")
    assert chain[0].name == bare
    assert sidecars.files_for("cat_01", chain) == [(f"cat_01{bare}.txt", b"x")]
    assert any("path part is dropped" in r.getMessage() and repr(name) in r.getMessage() for r in caplog.records)


def test_duplicates_are_refused_also_across_case():
    chain = sidecars.append(None, "x", "", ".txt")
    with pytest.raises(ValueError, match=r"same file '<image>\.txt'"):
        sidecars.append(chain, "y", "", "txt")
    chain = sidecars.append(None, "x", "_A", ".json")
    with pytest.raises(ValueError, match="same file"):
        sidecars.append(chain, "y", "_a", ".JSON")
    with pytest.raises(ValueError, match="the caption"):
        sidecars.plan(sidecars.append(None, "x", "", ".txt"), {".txt": "the caption"})


def test_json_content_is_stable():
    text = sidecars.json_content(route=1, label="keep", source="cat_01.png")
    assert json.loads(text) == {"route": 1, "label": "keep", "source": "cat_01.png"}
    assert text == sidecars.json_content(source="cat_01.png", label="keep", route=1)


def test_original_node_ids_and_inputs():
    it = Sidecar.INPUT_TYPES()
    assert list(it["required"]) == ["content", "name", "extension"]
    assert it["required"]["content"][1]["forceInput"] is True
    assert it["required"]["name"][1]["default"] == "" and it["required"]["extension"][1]["default"] == ".txt"
    assert it["optional"]["sidecar"][0] == "SIDECAR" and Sidecar.RETURN_TYPES == ("SIDECAR",)
    it = SaveImageSidecars.INPUT_TYPES()
    assert list(it["required"]) == ["images", "filename_prefix", "output_folder"]
    assert it["required"]["filename_prefix"][1]["default"] == "ComfyUI"
    assert it["required"]["output_folder"][1]["default"] == "output"
    assert list(it["optional"]) == ["sidecar"] and SaveImageSidecars.OUTPUT_NODE is True


def test_sidecar_node_chains_and_refuses():
    (c1,) = Sidecar().run("a", "", ".txt")
    (c2,) = Sidecar().run("b", ".x", ".json", c1)
    assert [s.suffix for s in c2] == [".txt", ".x.json"]
    with pytest.raises(ValueError, match=".exe"):
        Sidecar().run("a", "", ".exe", c2)


# ---- Save Image To Folder with a chain (no ComfyUI: absolute folders) ----

torch = pytest.importorskip("torch", reason="the saver's tensors need torch")


def save(folder, chain, **kw):
    from gates.nodes.saver import SaveImageToFolder

    return SaveImageToFolder().save(torch.rand((1, 8, 8, 3)), str(folder), "cat_01", sidecar=chain, **kw)


def test_saver_writes_sidecars_under_the_final_name(tmp_path):
    chain = sidecars.append(sidecars.append(None, "{}", "", ".json"), "tags", ".tags", ".txt")
    save(tmp_path, chain, caption="a cat")
    save(tmp_path, chain, caption="a cat")                          # suffix policy: cat_01_1.*
    assert sorted(os.listdir(tmp_path)) == ["cat_01.json", "cat_01.png", "cat_01.tags.txt", "cat_01.txt",
                                            "cat_01_1.json", "cat_01_1.png", "cat_01_1.tags.txt", "cat_01_1.txt"]
    assert (tmp_path / "cat_01_1.tags.txt").read_text() == "tags"
    save(tmp_path, chain, on_conflict="skip")                       # skipped image: no sidecars either
    assert len(os.listdir(tmp_path)) == 8


def test_saver_writes_nothing_for_a_bad_chain(tmp_path):
    target = tmp_path / "new"
    with pytest.raises(ValueError, match="the caption"):
        save(target, sidecars.append(None, "x", "", ".txt"), caption="a cat")
    with pytest.raises(ValueError, match="same file"):
        save(target, [{"content": "a", "name": "", "ext": ".json"}, {"content": "b", "name": "", "ext": ".json"}])
    with pytest.raises(ValueError, match="not allowed"):
        save(target, [{"content": "a", "name": "", "ext": ".exe"}])
    assert not target.exists()
