"""The Duplicate Review in the real frontend: a group side by side with its badges, keys pick the
keeper and confirm, Backspace brings the group back."""
import os
import uuid

from harness import dups
from harness.dup_review import DupReviewPanel, build_review_graph
from harness.ui import queue


def test_a_group_side_by_side_keys_pick_and_confirm_and_undo_brings_it_back(server, api, new_page):
    uid = uuid.uuid4().hex[:6]
    folder, out = f"dups_{uid}", f"dedup_{uid}"
    truth = dups.plant(server.folder(f"input/{folder}"))
    reject = server.folder(f"output/{out}/reject")
    page = new_page(server)
    build_review_graph(page, folder, out)
    page.js("() => document.activeElement?.blur?.()")
    queue(page)
    panel = DupReviewPanel(page)
    panel.wait_group(1, 4)
    pause = api.pending()[0]
    cells = panel.cells()
    # side by side: one row, left to right, each image a real size
    assert len({round(c["top"]) for c in cells}) == 1
    assert [c["left"] for c in cells] == sorted(c["left"] for c in cells)
    assert all(c["width"] >= 150 and c["height"] >= 200 for c in cells)
    assert [c["size"] for c in cells] == ["320\u00d7240", "160\u00d7120", "320\u00d7240", "288\u00d7216"]
    assert all(c["bytes"].endswith(("KB", "MB", " B")) and c["sharp"].startswith("sharp ") for c in cells)
    assert panel.kept() == pause["preselected"]
    # keys: toggle the preselected one off and image 2 on, Enter confirms
    panel.press(str(pause["preselected"][0] + 1), "2")
    assert panel.kept() == [1]
    assert [c["verdict"] for c in panel.cells()] == ["reject", "keep", "reject", "reject"]
    panel.press("Enter")
    panel.wait_group(2, 4)
    g1 = truth["groups"][0]
    assert sorted(os.listdir(reject)) == sorted([g1[0], g1[2], g1[3]])
    # Backspace: the group is back, its copies gone
    panel.press("Backspace")
    panel.wait_group(1, 4)
    assert os.listdir(reject) == []
    panel.press("Escape")
    panel.wait_gone()
    assert api.wait_history(pause["prompt_id"])["status"]["status_str"] == "error"
    assert page.real_errors() == []
