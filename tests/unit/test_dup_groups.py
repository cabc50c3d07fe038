"""Near-duplicate grouping (gates/core/dup_groups.py) and the duplicate review's log (dup_log.py)."""
import os
import shutil

import numpy as np
import pytest

from gates.core import dup_groups, dup_log, quality, scan
from gates.core.pauses import PauseError
from gates.nodes.dup_review import DupKind
from harness import dups


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("planted"))
    truth = dups.plant(folder)
    rels = scan.list_images(folder)
    measures = {rel: quality.measure(os.path.join(folder, rel)) for rel in rels}
    return folder, truth, rels, measures


def test_planted_resized_recompressed_and_cropped_copies_group_and_unrelated_images_do_not(planted):
    folder, truth, rels, measures = planted
    assert dup_groups.groups_for(rels, measures) == truth["groups"]


def test_a_crop_a_whole_image_hash_misses_stays_within_the_threshold_with_the_centre_hash(tmp_path):
    """Why two hashes: a copy cropped by 10 % on each side is farther than the default threshold by
    the whole-image dHash alone, for some scenes; with the centre hash every one is within it."""
    whole, both = [], []
    for seed in range(1, 9):
        im = dups.scene(seed)
        w, h = im.size
        im.save(tmp_path / "a.png")
        im.crop((w // 10, h // 10, w - w // 10, h - h // 10)).save(tmp_path / "b.png")
        a, b = quality.measure(str(tmp_path / "a.png")), quality.measure(str(tmp_path / "b.png"))
        whole.append(bin(a.dhash ^ b.dhash).count("1"))
        rows = [[a.dhash, a.dhash_centre], [b.dhash, b.dhash_centre]]
        both.append(len(dup_groups.group(rows, dup_groups.DEFAULT_THRESHOLD)))
    assert max(whole) > dup_groups.DEFAULT_THRESHOLD
    assert both == [1] * 8


def test_the_threshold_decides(planted):
    folder, truth, rels, measures = planted
    assert dup_groups.groups_for(rels, measures, dup_groups.MAX_THRESHOLD)[0] != truth["groups"][0]  # all lumped
    exact_only = dup_groups.groups_for(rels, measures, 0)
    assert exact_only != truth["groups"] and all(any(set(g) <= set(t) for t in truth["groups"]) for g in exact_only)
    with pytest.raises(ValueError, match="out of range"):
        dup_groups.group(np.zeros((2, 2), np.uint64), 33)
    with pytest.raises(ValueError, match="whole number"):
        dup_groups.group(np.zeros((2, 2), np.uint64), 2.5)


def test_exact_duplicates_group_at_threshold_zero_and_order_is_deterministic(planted, tmp_path):
    folder, truth, rels, measures = planted
    for name in ("x10.png", "x2.png", "x1.png"):
        shutil.copyfile(os.path.join(folder, "u1.png"), tmp_path / name)
    shutil.copyfile(os.path.join(folder, "u2.png"), tmp_path / "y.png")
    names = scan.list_images(str(tmp_path))
    m = {r: quality.measure(str(tmp_path / r)) for r in names}
    assert dup_groups.groups_for(names, m, 0) == [["x1.png", "x2.png", "x10.png"]]
    # the same groups whatever order the rows come in: members ascending, groups by first member
    r = np.random.default_rng(1)
    h = r.integers(0, 2**63, (300, 2), dtype=np.uint64)
    h[[7, 150, 299]] = h[7]
    h[40, 0] = h[3, 0] ^ np.uint64(0b111)                  # 3 bits from row 3's whole-image hash
    assert dup_groups.group(h, 3) == [[3, 40], [7, 150, 299]]
    assert dup_groups.group(h, 2) == [[7, 150, 299]]


def test_centre_of_one_matches_whole_of_another():
    h = np.array([[0b1010, 0xFFFF], [0xFFFF, 0], [0xF0F0F0F0F0F0F0F0, 0x0F0F0F0F0F0F0F0F]], dtype=np.uint64)
    assert dup_groups.group(h, 0) == [[0, 1]]               # row 0's centre is row 1's whole


def test_preselect_prefers_the_largest_then_the_sharpest():
    def sig(w, h, sharp):
        return quality.Signals(sharp, 0.0, 0.0, w, h, False, 0)

    items = [sig(100, 100, 50.0), sig(200, 200, 10.0), sig(199, 200, 30.0), sig(200, 200, 5.0), sig(200, 200, 30.0)]
    assert dup_groups.preselect(items, [10, 9, 8, 7, 6]) == 2       # within 2 % of the largest, the sharpest
    assert dup_groups.preselect(items, [10, 9, 8, 7, 60]) == 4      # a tie: the larger file


def test_the_log_resumes_undoes_and_asks_again_for_a_changed_file(tmp_path):
    src, logs = tmp_path / "src", tmp_path / "logs"
    src.mkdir()
    for n in ("a.png", "b.png", "c.png", "d.png"):
        (src / n).write_bytes(n.encode())
    fp = {n: dup_log.fingerprint(str(src / n)) for n in ("a.png", "b.png", "c.png", "d.png")}
    groups = [["a.png", "b.png"], ["c.png", "d.png"]]
    log = dup_log.DupLog(str(src), str(logs))
    copy = tmp_path / "reject_b.png"
    copy.write_bytes(b"b")
    log.record(groups[0], {k: fp[k] for k in groups[0]}, ["a.png"], ["b.png"], [str(copy)], 8)
    assert os.path.basename(log.path).endswith(".dups.jsonl")
    assert dup_log.DupLog(str(src), str(logs)).undecided(groups) == [groups[1]]        # a rerun resumes
    again = dup_log.DupLog(str(src), str(logs))
    entry = again.undo_last()
    assert entry["files"] == groups[0] and not copy.exists()
    assert dup_log.DupLog(str(src), str(logs)).undecided(groups) == groups
    log = dup_log.DupLog(str(src), str(logs))
    log.record(groups[0], {k: fp[k] for k in groups[0]}, ["a.png"], ["b.png"], [], 8)
    (src / "b.png").write_bytes(b"changed!")
    assert dup_log.DupLog(str(src), str(logs)).undecided(groups) == groups


def test_an_answer_keeps_at_least_one_image_of_the_group():
    kind = DupKind(3)
    assert kind.parse({"keep": [2, 0, 2]}) == [0, 2]
    with pytest.raises(PauseError, match="nothing to undo"):
        kind.parse({"undo": True})
    assert DupKind(3, can_undo=True).parse({"undo": True}) == "undo"
    for bad, msg in (({"keep": []}, "at least one"), ({"keep": [3]}, "out of range"), ({"keep": [True]}, "'keep'"),
                     ({}, "'keep'"), ({"keep": "0"}, "'keep'")):
        with pytest.raises(PauseError, match=msg):
            kind.parse(bad)


def test_the_node_has_a_tooltip_on_every_input_and_output():
    from gates.nodes.dup_review import DuplicateReview

    req = DuplicateReview.INPUT_TYPES()["required"]
    assert list(req) == ["folder", "threshold", "output", "depth"]
    assert all(spec[1].get("tooltip") for spec in req.values())
    assert req["threshold"][1]["default"] == dup_groups.DEFAULT_THRESHOLD
    assert DuplicateReview.RETURN_NAMES == ("summary", "reject_folder")
    assert len(DuplicateReview.OUTPUT_TOOLTIPS) == 2 and all(DuplicateReview.OUTPUT_TOOLTIPS)


def test_a_group_over_nine_images_is_reviewed_in_even_parts():
    from gates.nodes.dup_review import parts

    assert parts(list(range(9))) == [list(range(9))]
    assert parts(list(range(10))) == [list(range(5)), list(range(5, 10))]
    assert [len(p) for p in parts(list(range(19)))] == [6, 7, 6]
