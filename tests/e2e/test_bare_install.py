"""The example workflows in a bare ComfyUI: custom_nodes holds only the pack (a copy, as `git clone`
lays it out), the input folder is empty, nothing of `make demo` is there. Each template opens from
the Templates dialog with no complaint, Run takes it to its pause on the samples the pack ships,
Stop ends it, and nothing was written outside ComfyUI's output and temp folders: not in input/, not
in the pack, not anywhere else in ComfyUI's base folder (its own user/ folder aside: the page's
settings and the database)."""
import os
import re
import time

import pytest

from harness.chooser import ChooserPanel
from harness.comfy import PACK_NAME, REPO, Client
from harness.fixtures import CHROMIUM_ARGS, Page, chromium_path, start_server
from harness.sample import sample_images
from harness.ui import SortPanel
from harness.workflows_ui import WorkflowOpener

EXAMPLES = os.path.join(REPO, "example_workflows")
NAMES = sorted(f[:-len(".json")] for f in os.listdir(EXAMPLES) if f.endswith(".json"))
# Where ComfyUI may write while a template runs; user/ is ComfyUI's own (settings, workflows, db),
# server.log the harness's.
# The batch example as it was: its Load Image values are files that only `make demo` copied.
NEEDS_INPUT = os.path.join(REPO, "tests", "data", "pick_from_batch.load_image.json")
MAY_CHANGE = ("output", "temp", "user", "server.log")
ENDS = ("execution_success", "execution_interrupted", "execution_error")


def prompt_ends(client, timeout=60) -> list:
    """Once the queue is empty: how each prompt of /history ended (its error message when it failed).
    The page's prompts report to the page's websocket only, so this asks /history."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        q = client.get("/queue")[1]
        if not q["queue_running"] and not q["queue_pending"]:
            break
        time.sleep(0.2)
    out = []
    for h in client.get("/history")[1].values():
        for kind, data in h.get("status", {}).get("messages", []):
            if kind in ENDS:
                out.append(kind if kind != "execution_error" else f"{kind}: {data.get('exception_message')}")
    return out


def snapshot(base: str) -> dict:
    """Every file and folder under ``base`` but MAY_CHANGE: relative path -> (kind, size, mtime in ns).
    A folder's mtime changes when something is created in it or removed, even for a moment."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(base):
        if dirpath == base:
            dirnames[:] = [d for d in dirnames if d not in MAY_CHANGE]
            filenames = [f for f in filenames if f not in MAY_CHANGE]
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            kind = "dir" if name in dirnames else "link" if os.path.islink(path) else "file"
            out[os.path.relpath(path, base)] = (kind, st.st_size if kind == "file" else 0, st.st_mtime_ns)
    return out


def changes(before: dict, after: dict) -> list:
    """What differs between two snapshots, one line per path."""
    lines = [f"created {p}" for p in sorted(after.keys() - before.keys())]
    lines += [f"removed {p}" for p in sorted(before.keys() - after.keys())]
    lines += [f"changed {p}" for p in sorted(before.keys() & after.keys()) if before[p] != after[p]]
    return lines


def run_sort_dataset(page):
    """The Folder Image Loader sorts the shipped sample: the gate shows its first image, 1 / 8."""
    panel = SortPanel(page)
    panel.wait_buttons(timeout=60000)
    panel.wait_progress(f"1 / {len(sample_images())}")
    assert panel.shown_file() == sample_images()[0]
    panel.click_stop()
    panel.wait_no_buttons()


def run_pick_from_batch(page):
    """The chooser shows the shipped sample as a grid of thumbnails."""
    panel = ChooserPanel(page)
    panel.wait_grid(len(sample_images()), timeout=60000)
    panel.click(panel.stop)
    panel.wait_gone()


def input_files(server) -> list:
    """What the input folder holds, but the empty folder input/3d: ComfyUI's own Load3D node makes it
    (0.33.0 at start-up, 0.3.75 when the page lists the nodes)."""
    input_dir = server.folder("input")
    return [os.path.relpath(os.path.join(d, f), input_dir) for d, dirs, fs in os.walk(input_dir)
            for f in fs + [x for x in dirs if d != input_dir or x != "3d"]]


# How each example reaches its pause and is stopped there (every example needs an entry).
PAUSES = {"sort_dataset": run_sort_dataset, "pick_from_batch": run_pick_from_batch}


@pytest.fixture
def bare(backend, frontend):
    """A ComfyUI of the test's backend and frontend with nothing but a copy of the pack. Python
    keeps no bytecode caches (they would be Python's files in the pack, not the pack's)."""
    srv = start_server(frontend, backend, pack="copy", env={"PYTHONDONTWRITEBYTECODE": "1"})
    try:
        yield srv
    finally:
        srv.stop()
        srv.cleanup()


@pytest.mark.parametrize("name", NAMES)
def test_the_template_runs_to_its_pause_in_a_bare_comfyui(bare, new_page, name):
    assert name in PAUSES, f"example {name} has no entry in PAUSES: say how it reaches its pause"
    assert os.listdir(bare.folder("custom_nodes")) == [PACK_NAME]
    assert not os.path.islink(bare.folder(f"custom_nodes/{PACK_NAME}"))
    page = new_page(bare)
    assert input_files(bare) == []
    before = snapshot(bare.base)                     # from here on nothing may change but output/, temp/
    opener = WorkflowOpener(page, ours=PACK_NAME)
    opener.open_from_templates(PACK_NAME, name)
    with open(os.path.join(EXAMPLES, f"{name}.json"), encoding="utf-8") as f:
        problems = opener.problems_loading(f.read())
    assert problems == [], "opening the template:\n" + "\n".join(problems)

    client = Client(bare.url)
    try:
        opener.press_run()
        try:
            PAUSES[name](page)
            ends = prompt_ends(client)
        except Exception as e:
            raise AssertionError(f"{name} did not reach its pause and stop ({e}); prompts: {prompt_ends(client)}\n"
                                 f"server log:\n{bare.log_tail(60)}") from None
    finally:
        client.close()
    assert ends == ["execution_interrupted"], ends                    # one prompt; Stop ends it as Cancel does
    problems = opener.trouble()
    assert problems == [], "running the template:\n" + "\n".join(problems)
    written = changes(before, snapshot(bare.base))
    assert written == [], "written outside output/ and temp/:\n" + "\n".join(written)


@pytest.fixture
def own_page(playwright):
    """Pages in a browser of their own that keeps nothing: a workflow opened there is not restored
    by the other tests' pages (frontends from 1.49 reopen the last open workflows of a server)."""
    browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        yield lambda server: Page(ctx.new_page(), server).open()
    finally:
        browser.close()


def test_the_check_sees_a_template_that_needs_files_in_input(bare, own_page):
    """So the test above can fail on every frontend: the batch example as it was before it read the
    shipped sample (core Load Image nodes naming files that only `make demo` copied into input/)."""
    with open(NEEDS_INPUT, encoding="utf-8") as f:
        text = f.read()
    opener = WorkflowOpener(own_page(bare), ours=PACK_NAME)
    opener.serve_template(PACK_NAME, "pick_from_batch", text)
    opener.open_from_templates(PACK_NAME, "pick_from_batch")
    problems = opener.problems_loading(text)
    assert any("filename=dataset_gates_cat_01.png" in p or re.search(r"\b4 (errors|issues) found", p)
               for p in problems), problems


def test_the_snapshot_sees_what_is_written_outside_output_and_temp(tmp_path):
    """So the test above can fail: a file in input/ or in the pack is seen, output/ and temp/ are not."""
    base = str(tmp_path)
    for sub in ("input", "output", "temp", "user/default", f"custom_nodes/{PACK_NAME}/example_data"):
        os.makedirs(os.path.join(base, sub))
    with open(os.path.join(base, f"custom_nodes/{PACK_NAME}/example_data/a.png"), "wb") as f:
        f.write(b"1")
    before = snapshot(base)
    for rel in ("input/copy.png", "output/sorted.png", "temp/preview.jpg", "user/default/settings.json",
                f"custom_nodes/{PACK_NAME}/example_data/b.png"):
        with open(os.path.join(base, rel), "wb") as f:
            f.write(b"2")
    os.makedirs(os.path.join(base, "input", "gone"))
    os.rmdir(os.path.join(base, "input", "gone"))                    # there for a moment only
    with open(os.path.join(base, f"custom_nodes/{PACK_NAME}/example_data/a.png"), "ab") as f:
        f.write(b"more")
    got = changes(before, snapshot(base))
    assert f"created custom_nodes/{PACK_NAME}/example_data/b.png" in got
    assert f"changed custom_nodes/{PACK_NAME}/example_data/a.png" in got
    assert "created input/copy.png" in got and "changed input" in got
    assert not [line for line in got if any(f" {d}" in line for d in ("output", "temp", "user"))], got
