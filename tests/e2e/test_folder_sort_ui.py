"""A whole folder sorted with one Run in the real page: keys, progress, Undo, Stop, Run again."""
import os
import shutil
import time
import uuid

import pytest

from harness.comfy import REPO
from harness.ui import SortPanel, build_sort_graph, queue

SAMPLE = os.path.join(REPO, "example_data", "sample_dataset")
ORDER = ["cat_01.png", "cat_02.jpg", "cat_10.webp", "dog_1.png", "dog_2.jpg", "dog_11.bmp", "logo_alpha.png",
         "plant_3.webp"]
LABELS = ["keep", "reject", "fix"]


@pytest.mark.smoke
def test_one_run_six_keys_progress_undo_stop_and_resume(server, api, new_page):
    uid = uuid.uuid4().hex[:6]
    folder, out = f"sortui_{uid}", f"sortedui_{uid}"
    shutil.copytree(SAMPLE, server.folder(f"input/{folder}"))
    page = new_page(server)
    panel = SortPanel(page)
    build_sort_graph(page, folder, out)
    queue(page)                                               # the only Run until "Run again"
    panel.wait_progress("1 / 8")
    page.page.mouse.click(5, 450)                             # the canvas has focus; nothing typed into
    routes = [1, 2, 3, 1, 2, 3]
    for i, route in enumerate(routes):
        assert panel.shown_file() == ORDER[i]
        page.page.keyboard.press(str(route))
        panel.wait_progress(f"{i + 2} / 8")                   # the next pause, without another Run
    assert panel.progress_text().startswith("7 / 8")
    assert panel.shown_file() == ORDER[6]
    sixth = os.path.join(server.folder(f"output/{out}/{LABELS[routes[5] - 1]}"), "dog_11.png")
    assert os.path.isfile(sixth)
    page.page.keyboard.press("Backspace")                     # Undo: image 6 comes back, its files leave
    panel.wait_progress("6 / 8")
    assert panel.shown_file() == ORDER[5]
    assert not os.path.exists(sixth) and not os.path.exists(sixth[:-4] + ".txt")
    pid = api.pending()[0]["prompt_id"]
    page.page.keyboard.press("Escape")                        # Stop ends the sort
    panel.wait_no_buttons()
    assert api.wait_history(pid)["status"]["status_str"] == "error"
    time.sleep(0.8)
    q = api.get("/queue")[1]
    assert not q["queue_running"] and not q["queue_pending"] and api.pending() == []
    queue(page)                                               # Run again: starts at the undone image 6
    panel.wait_progress("6 / 8")
    assert panel.shown_file() == ORDER[5]
    panel.click_undo()                                        # the button works too: image 5 comes back
    panel.wait_progress("5 / 8")
    assert panel.shown_file() == ORDER[4]
    api.reset()
    errs = page.real_errors()
    assert errs == [], "\n".join(errs)
