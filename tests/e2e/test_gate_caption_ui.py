"""The caption box, its keys, the resolved state and Run from here, in the real frontend."""
import os
import time
import uuid

import pytest

from harness.graphs import noise_image
from harness.mask_editor import MaskEditor
from harness.ui import GatePanel, build_caption_graph, queue, run_to_pause


@pytest.fixture
def image(server):
    return noise_image(server.folder("input"), 96, 64, name="e2e_caption.png", seed=41)


def out_dir(server, out, label):
    return server.folder(f"output/{out}/{label}")


def wait_file(path, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline and not os.path.exists(path):
        time.sleep(0.1)
    assert os.path.exists(path), f"{path} was not written"
    with open(path, encoding="utf-8") as f:
        return f.read()


def test_an_edited_caption_reaches_the_savers_txt(server, api, new_page, image):
    page = new_page(server)
    panel = GatePanel(page)
    out = f"cap_{uuid.uuid4().hex[:8]}"
    build_caption_graph(page, image, "a cat on a mat", out)
    pid = run_to_pause(page, api)
    assert panel.caption_value() == "a cat on a mat"
    panel.fill_caption("a grey cat on a red mat,\nlooking left")
    panel.click_route("reject")
    panel.wait_no_buttons()
    assert api.wait_history(pid)["status"]["status_str"] == "success"
    txt = wait_file(os.path.join(out_dir(server, out, "reject"), "img.txt"))
    assert txt == "a grey cat on a red mat,\nlooking left"
    assert sorted(os.listdir(server.folder(f"output/{out}"))) == ["reject"]
    assert page.real_errors() == []


def test_typing_digits_in_the_caption_routes_nothing_and_ctrl_2_routes_to_route_2(server, api, new_page, image):
    page = new_page(server)
    panel = GatePanel(page)
    out = f"keys_{uuid.uuid4().hex[:8]}"
    build_caption_graph(page, image, "base", out)
    pid = run_to_pause(page, api)
    panel.press_in_caption("End")
    panel.type_in_caption(" 1 2 3 0 m")                # route digits and M, typed into the box
    time.sleep(0.7)
    assert len(api.pending()) == 1, "typing in the caption answered the gate"
    assert panel.caption_value() == "base 1 2 3 0 m"
    assert not MaskEditor(page).is_open()
    panel.press_in_caption("Control+2")
    panel.wait_no_buttons()
    assert api.wait_history(pid)["status"]["status_str"] == "success"
    assert wait_file(os.path.join(out_dir(server, out, "reject"), "img.txt")) == "base 1 2 3 0 m"
    assert page.real_errors() == []


def test_ctrl_enter_in_the_caption_routes_to_route_1_and_queues_nothing(server, api, new_page, image):
    page = new_page(server)
    panel = GatePanel(page)
    out = f"enter_{uuid.uuid4().hex[:8]}"
    build_caption_graph(page, image, "first", out)
    pid = run_to_pause(page, api)
    panel.press_in_caption("Control+Enter")
    panel.wait_no_buttons()
    assert api.wait_history(pid)["status"]["status_str"] == "success"
    assert wait_file(os.path.join(out_dir(server, out, "keep"), "img.txt")) == "first"
    time.sleep(1.0)                                    # the frontend's own Ctrl+Enter (Queue) did not run too
    q = api.get("/queue")[1]
    assert not q["queue_running"] and not q["queue_pending"] and api.pending() == []


def test_after_a_click_the_node_says_where_it_went_and_run_from_here_queues_the_next_run(server, api, new_page,
                                                                                         image):
    page = new_page(server)
    panel = GatePanel(page)
    out = f"run_{uuid.uuid4().hex[:8]}"
    build_caption_graph(page, image, "x", out)
    pid = run_to_pause(page, api)
    first = api.pending()[0]["token"]
    assert panel.preview_loaded()
    panel.click_route("fix")
    panel.wait_resolved("routed to fix")
    assert panel.resolved_text() == "\u2713 routed to fix"
    assert panel.preview_loaded(), "the dimmed preview is gone"
    assert api.wait_history(pid)["status"]["status_str"] == "success"
    panel.click_run_again()
    panel.wait_buttons()                               # the next run paused at the gate
    again = api.pending()
    assert len(again) == 1 and again[0]["token"] != first and again[0]["prompt_id"] != pid
    assert panel.resolved_text() == ""                 # the waiting pause replaced the resolved state
    panel.click_stop()
    panel.wait_resolved("stopped")
    assert panel.resolved_text() == "\u25a0 stopped"
    assert api.wait_history(again[0]["prompt_id"])["status"]["status_str"] == "error"
    assert page.real_errors() == []


def test_a_gate_without_a_caption_shows_no_box(server, api, new_page, image):
    from harness.ui import build_gate_graph

    page = new_page(server)
    panel = GatePanel(page)
    build_gate_graph(page, image, routes=2, labels="a,b", prefix=f"nobox_{uuid.uuid4().hex[:6]}")
    queue(page)
    panel.wait_buttons()
    assert panel.caption_value() is None
    assert panel.buttons() == ["a", "b", "Crop", "Edit mask", "Stop"]
    panel.click_route("a")
    panel.wait_resolved("routed to a")
