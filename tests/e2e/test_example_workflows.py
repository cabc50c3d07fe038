"""Every file in example_workflows/ opened as a person opens it, on every full e2e variant: from the
Templates dialog (Templates > comfyui-dataset-gates > the card) and from the Workflows sidebar
(where `make demo` puts it). Loading must raise no alert, no dialog, no warning or error toast,
log no console error (any, not only ours) and fail no request to the server, and the graph must
hold the file's nodes. Nothing is copied into input/: the examples read the samples the pack ships.
test_bare_install.py runs them in a ComfyUI that has nothing but the pack."""
import json
import os
import time

import pytest

from harness.comfy import PACK_NAME, REPO, default_backend
from harness.fixtures import describe_frontend
from harness.workflows_ui import WorkflowOpener

EXAMPLES = os.path.join(REPO, "example_workflows")
NAMES = sorted(f[:-len(".json")] for f in os.listdir(EXAMPLES) if f.endswith(".json"))
# The name `make demo` gives a file in the Workflows sidebar (scripts/demo.py); others keep theirs.
SIDEBAR_NAMES = {"sort_dataset": "Dataset Gates - sort a folder"}
# The example as the generator wrote it before it saved the page's JSON string: the page's
# `undefined` became `null`, which frontend 1.32.9 rejects ("Invalid workflow against zod schema").
WITH_NULLS = os.path.join(REPO, "tests", "data", "sort_dataset.with_nulls.json")


def read(path) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def example(name) -> str:
    return read(os.path.join(EXAMPLES, f"{name}.json"))


def put_in_workflows_folder(server, title, text):
    folder = server.folder("user/default/workflows")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"{title}.json"), "w", encoding="utf-8") as f:
        f.write(text)


def loaded_cleanly(opener, text) -> list:
    """Problems seen while the workflow loaded (trouble), or that it did not load as saved."""
    return opener.problems_loading(text)


def open_from_templates(new_page, server, name, text=None) -> list:
    page = new_page(server)
    opener = WorkflowOpener(page, ours=PACK_NAME)
    if text is not None:
        opener.serve_template(PACK_NAME, name, text)
    opener.open_from_templates(PACK_NAME, name)
    return loaded_cleanly(opener, text or example(name))


def open_from_sidebar(new_page, server, title, text) -> list:
    put_in_workflows_folder(server, title, text)       # before the page: as `make demo` does
    page = new_page(server)
    opener = WorkflowOpener(page, ours=PACK_NAME)
    opener.open_from_sidebar(title)
    problems = loaded_cleanly(opener, text)
    if opener.active_workflow() != f"workflows/{title}.json":
        problems.append(f"the open workflow is {opener.active_workflow()!r}, not workflows/{title}.json")
    return problems


def test_the_server_offers_every_example_as_a_template(api):
    status, data = api.get("/api/workflow_templates")
    assert status == 200 and sorted(data.get(PACK_NAME, [])) == NAMES
    for name in NAMES:                               # the Templates dialog shows each one's picture
        assert api.get(f"/api/workflow_templates/{PACK_NAME}/{name}.jpg")[0] == 200, f"no {name}.jpg"


@pytest.mark.parametrize("name", NAMES)
def test_example_opens_from_the_templates_dialog(server, new_page, name):
    problems = open_from_templates(new_page, server, name)
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("name", NAMES)
def test_example_opens_from_the_workflows_sidebar(server, new_page, name):
    problems = open_from_sidebar(new_page, server, SIDEBAR_NAMES.get(name, name), example(name))
    assert problems == [], "\n".join(problems)


def test_the_check_catches_a_file_the_frontend_rejects(server, new_page, backend, frontend):
    """The same steps with the old example (nulls where the page had undefined) must fail on the
    frontend that rejects it, so the tests above can fail."""
    if backend != default_backend() or describe_frontend(backend, frontend) != "1.32.9":
        pytest.skip("only frontend 1.32.9 rejects nulls in a workflow")
    bad = read(WITH_NULLS)
    for problems in (open_from_templates(new_page, server, "sort_dataset", bad),
                     open_from_sidebar(new_page, server, "old sort_dataset with nulls", bad)):
        assert any("Invalid workflow against zod schema" in p for p in problems), problems


def test_a_graph_left_from_before_is_not_taken_for_the_opened_one(server, new_page):
    """wait_loaded waits for the opened workflow's own nodes, not a restored graph of the same types."""
    page = new_page(server)
    opener = WorkflowOpener(page, ours=PACK_NAME)
    page.js("(wf) => app.loadGraphData(wf)", json.loads(example("sort_dataset")))
    opener.watch()                                   # nothing is opened after this
    t0 = time.time()
    opener.wait_loaded(json.loads(example("sort_dataset")), timeout=2)
    assert time.time() - t0 >= 2
