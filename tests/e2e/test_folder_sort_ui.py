"""A whole folder sorted with one Run in the real page: keys at a person's pace (bursts too), progress,
Undo, Stop, Run again, the strip of decisions (revisit one), and the culling view."""
import os
import shutil
import time
import uuid

import pytest
from PIL import Image, ImageOps

from gates.comfy.sort_session import LOG_SUBFOLDER
from gates.core import sort_log
from harness.comfy import REPO
from harness.ui import SortPanel, build_sort_graph, queue

SAMPLE = os.path.join(REPO, "example_data", "sample_dataset")
ORDER = ["cat_01.png", "cat_02.jpg", "cat_10.webp", "dog_1.png", "dog_2.jpg", "dog_11.bmp", "logo_alpha.png",
         "plant_3.webp"]
LABELS = ["keep", "reject", "fix"]


def start_sort(server, new_page):
    uid = uuid.uuid4().hex[:6]
    folder, out = f"sortui_{uid}", f"sortedui_{uid}"
    shutil.copytree(SAMPLE, server.folder(f"input/{folder}"))
    page = new_page(server)
    panel = SortPanel(page)
    build_sort_graph(page, folder, out)
    queue(page)                                               # the only Run
    panel.wait_progress("1 / 8")
    panel.wait_shown(ORDER[0])
    page.page.mouse.click(5, 450)                             # the canvas has focus; nothing typed into
    return page, panel, folder, out


def live_decisions(server, folder) -> list:
    """(file, route) of the log's live decisions, in the order they were made."""
    path = os.path.join(server.folder("output"), LOG_SUBFOLDER, sort_log.log_name(server.folder(f"input/{folder}")))
    live = {}
    for e in sort_log.read(path):
        if e.get("type") == "decision":
            live.pop(e["file"], None)
            live[e["file"]] = e["route"]
        elif e.get("type") == "undo":
            live.pop(e["file"], None)
        elif e.get("type") == "change":
            live[e["file"]] = e["route"]
    return list(live.items())


def log_entries(server, folder) -> list:
    return sort_log.read(os.path.join(server.folder("output"), LOG_SUBFOLDER,
                                      sort_log.log_name(server.folder(f"input/{folder}"))))


def wait_for(check, timeout=30.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def pending_file(api):
    pending = api.pending()
    return pending[0]["sort"]["file"] if pending else None


def burst(page, keys, gap=0.07):
    for k in keys:
        page.page.keyboard.press(k)
        time.sleep(gap)


@pytest.mark.smoke
def test_one_run_six_keys_progress_undo_stop_and_resume(server, api, new_page):
    page, panel, folder, out = start_sort(server, new_page)
    routes = [1, 2, 3, 1, 2, 3]
    for i, route in enumerate(routes):
        panel.wait_shown(ORDER[i])                            # a person presses once they see the image
        if i < 2:                                             # the gate's quality badges follow the image
            badges = panel.wait_badges(ORDER[i])
            with Image.open(os.path.join(SAMPLE, ORDER[i])) as im:
                size = "{}\u00d7{}".format(*ImageOps.exif_transpose(im).size)
            assert badges["texts"][0].startswith("sharp ") and badges["texts"][1].endswith("%"), badges
            assert badges["texts"][2] == size and badges["texts"][3:] == ["small"] == badges["low"][-1:], badges
        page.page.keyboard.press(str(route))
        panel.wait_progress(f"{i + 2} / 8")                   # the next image, without another Run
    assert panel.progress_text().startswith("7 / 8")
    assert panel.shown_file() == ORDER[6]
    panel.wait_all_saved()
    sixth = os.path.join(server.folder(f"output/{out}/{LABELS[routes[5] - 1]}"), "dog_11.png")
    assert os.path.isfile(sixth)
    page.page.keyboard.press("Backspace")                     # Undo: image 6 comes back, its files leave
    panel.wait_progress("6 / 8")
    assert panel.shown_file() == ORDER[5]
    wait_for(lambda: not os.path.exists(sixth) and not os.path.exists(sixth[:-4] + ".txt"), what="undone files")
    wait_for(lambda: api.pending(), what="the pause of image 6 again")
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
    panel.wait_shown(ORDER[4])
    wait_for(lambda: [f for f, _ in live_decisions(server, folder)] == ORDER[:4], what="image 5 undone in the log")
    api.reset()
    errs = page.real_errors()
    assert errs == [], "\n".join(errs)


def test_a_burst_of_six_keys_decides_the_first_six_in_order_and_the_seventh_waits(server, api, new_page):
    page, panel, folder, out = start_sort(server, new_page)
    panel.wait_prepared(7)                                    # the page prepares ahead: a burst has its images
    burst(page, ["1"] * 6)                                    # 70 ms apart, right after the first image showed
    panel.wait_shown(ORDER[6])
    panel.wait_all_saved()
    assert live_decisions(server, folder) == [(f, 1) for f in ORDER[:6]]
    decided = [e["file"] for e in log_entries(server, folder) if e.get("type") == "decision"]
    assert decided == ORDER[:6]                               # in order, none twice
    wait_for(lambda: pending_file(api) == ORDER[6], what="the 7th image's pause")
    time.sleep(0.5)
    assert len(live_decisions(server, folder)) == 6          # the seventh waits for its key
    assert sorted(os.listdir(server.folder(f"output/{out}/keep"))) == sorted(
        n for f in ORDER[:6] for n in (os.path.splitext(f)[0] + ".png", os.path.splitext(f)[0] + ".txt")
        if os.path.exists(os.path.join(SAMPLE, os.path.splitext(f)[0] + ".txt")) or n.endswith(".png"))
    api.reset()
    errs = page.real_errors()
    assert errs == [], "\n".join(errs)


def test_undo_and_stop_inside_a_burst(server, api, new_page):
    page, panel, folder, out = start_sort(server, new_page)
    panel.wait_prepared(4)                                    # on a loaded machine previews may still be coming
    burst(page, ["1", "1", "1", "Backspace", "2", "Escape"])  # image 3 taken back, then given route 2; Stop
    panel.wait_message("stopped", timeout=60000)
    assert live_decisions(server, folder) == [(ORDER[0], 1), (ORDER[1], 1), (ORDER[2], 2)]
    time.sleep(0.5)
    q = api.get("/queue")[1]
    assert not q["queue_running"] and not q["queue_pending"] and api.pending() == []
    assert os.path.isfile(server.folder(f"output/{out}/reject/cat_10.png"))
    assert not os.path.exists(server.folder(f"output/{out}/keep/cat_10.png"))
    errs = page.real_errors()
    assert errs == [], "\n".join(errs)


def test_revisit_a_decision_from_the_strip_moves_its_files(server, api, new_page):
    page, panel, folder, out = start_sort(server, new_page)
    for i in range(5):
        panel.wait_shown(ORDER[i])
        page.page.keyboard.press("1")
    panel.wait_shown(ORDER[5])
    panel.wait_all_saved()
    assert [f for f, _ in panel.strip_files()] == ORDER[:5]
    panel.click_decision(ORDER[1])                            # image 2 comes back with its route
    panel.wait_shown(ORDER[1])
    page.page.mouse.click(5, 450)
    page.page.keyboard.press("3")                             # moved to fix
    panel.wait_shown(ORDER[5])                                # the sort goes on at image 6
    keep, fix = server.folder(f"output/{out}/keep"), server.folder(f"output/{out}/fix")
    wait_for(lambda: os.path.isfile(os.path.join(fix, "cat_02.png")), what="cat_02 moved to fix")
    assert os.path.isfile(os.path.join(fix, "cat_02.txt"))
    assert not os.path.exists(os.path.join(keep, "cat_02.png")) and not os.path.exists(os.path.join(keep, "cat_02.txt"))
    changes = [e for e in log_entries(server, folder) if e.get("type") == "change"]
    assert [(c["file"], c["from_route"], c["route"]) for c in changes] == [(ORDER[1], 1, 3)]
    assert dict(live_decisions(server, folder))[ORDER[1]] == 3
    assert dict(panel.strip_files())[ORDER[1]] == 3
    page.page.keyboard.press("2")                             # image 6 is decided as usual
    panel.wait_shown(ORDER[6])
    panel.wait_all_saved()
    assert dict(live_decisions(server, folder))[ORDER[5]] == 2
    api.reset()
    errs = page.real_errors()
    assert errs == [], "\n".join(errs)


@pytest.mark.smoke
def test_the_culling_view_opens_with_f_routes_by_key_and_closes_with_esc(server, api, new_page):
    page, panel, folder, out = start_sort(server, new_page)
    page.page.keyboard.press("f")
    wait_for(panel.cull_open, what="the culling view")
    w, h, vw, vh = panel.image_box()
    assert w > 0.6 * vw or h > 0.5 * vh, (w, h, vw, vh)       # the image as large as the window allows
    page.page.keyboard.press("1")
    panel.wait_shown(ORDER[1])
    assert panel.cull_open()                                  # it stays open from image to image
    page.page.keyboard.press("2")
    panel.wait_shown(ORDER[2])
    page.page.keyboard.press("Escape")                        # leaves the view; the sort still waits
    wait_for(lambda: not panel.cull_open(), what="the culling view to close")
    panel.wait_all_saved()
    assert live_decisions(server, folder) == [(ORDER[0], 1), (ORDER[1], 2)]
    wait_for(lambda: pending_file(api) == ORDER[2], what="image 3's pause")
    time.sleep(0.3)
    assert api.pending(), "Esc in the culling view must not stop the sort"
    page.page.locator(panel.cull_button).first.click()        # the button opens it too
    wait_for(panel.cull_open, what="the culling view (button)")
    page.page.keyboard.press("F")
    wait_for(lambda: not panel.cull_open(), what="F to close the view")
    api.reset()
    errs = page.real_errors()
    assert errs == [], "\n".join(errs)


def test_a_mask_painted_during_a_burst_goes_out_with_its_route(server, api, new_page):
    from PIL import Image

    from harness.mask_editor import MaskEditor

    page, panel, folder, out = start_sort(server, new_page)
    panel.wait_prepared(3)
    burst(page, ["1", "1"])                                   # the server may still be saving these
    panel.wait_shown(ORDER[2])
    editor = MaskEditor(page)
    page.page.keyboard.press("m")
    editor.wait_open()
    editor.paint_stroke()
    editor.save()
    editor.wait_closed()
    page.page.wait_for_function("() => document.querySelector('.dsg-sortview button.dsg-mask')"
                                "?.textContent.includes('\u2713')", timeout=15000)
    page.page.mouse.click(5, 450)
    page.page.keyboard.press("3")
    panel.wait_shown(ORDER[3])
    panel.wait_all_saved()
    mask = server.folder(f"output/{out}/fix/cat_10.mask.png")
    wait_for(lambda: os.path.isfile(mask), what="the painted mask beside the image")
    with Image.open(mask) as m:
        assert m.getextrema()[1] == 255                         # the stroke is in it
    assert not os.path.exists(server.folder(f"output/{out}/keep/cat_01.mask.png"))
    api.reset()
    errs = page.real_errors()
    assert errs == [], "\n".join(errs)
