"""The e2e matrix in one place: which (ComfyUI backend, frontend) variant runs which e2e tests.

``PLAN`` lists the variants from the oldest to the newest. ``full`` runs every e2e test there;
``smoke`` runs only the tests marked ``@pytest.mark.smoke`` (``SMOKE_TESTS``): the others are not
run on that variant (deselected at collection; the report header says what runs where).
The oldest and the newest variant get the whole suite, the ones between a compatibility check.

Why the newest full variant is 1.58.1 *with* Nodes 2.0: Nodes 2.0 draws each node, its output
rows and our panel (a DOM widget) as DOM, through code of ours that no other variant runs
(``web/gate_outputs.js`` hides route rows by CSS there; the canvas variants size the node instead)
and through the frontend's Vue node components, which take the clicks and keys first. What the
newest frontend does the same way in both modes (commands, keybindings, the MaskEditor, the
Templates dialog and the Workflows sidebar) is exercised by that full run as well; its classic
canvas drawing runs the smoke set, and the canvas code of ours the whole suite on 1.32.9.

This module is pure (no pytest): ``harness.fixtures`` applies it, ``tests/unit/test_matrix.py``
checks it.
"""
from __future__ import annotations

import re

FULL, SMOKE = "full", "smoke"

# backend: "oldest" / "newest" of the backends the session runs (the same one when it runs one);
# frontend: "pinned" (what that ComfyUI's requirements pin), "newest", or a version; "+vue" = Nodes 2.0.
PLAN = (
    ("oldest", "pinned", FULL),        # 0.3.75 x 1.32.9
    ("newest", "pinned", SMOKE),       # 0.33.0 x 1.49.6
    ("newest", "newest", SMOKE),       # 0.33.0 x 1.58.1, classic canvas nodes
    ("newest", "newest+vue", FULL),    # 0.33.0 x 1.58.1 with Nodes 2.0
)

# The smoke set (each test is also marked @pytest.mark.smoke, and tests/unit/test_matrix.py checks
# that the two agree): together they show that each node pauses, that keys route and that the
# MaskEditor opens, on every variant.
SMOKE_TESTS = {
    "e2e/test_gate_ui.py::test_extension_loads_and_outputs_follow_routes_and_labels":
        "the extension loads, Nodes 2.0 is on or off as the variant says, the outputs follow routes/labels",
    "e2e/test_gate_ui.py::test_keys_route_and_stop":
        "Image Gate pauses in the page; key 2 routes, Esc stops",
    "e2e/test_mask_and_workflow.py::test_edit_mask_paints_a_stroke_that_comes_out_on_mask":
        "Image Gate: Edit mask opens the MaskEditor, a stroke is saved and comes out on mask",
    "e2e/test_chooser.py::test_edit_mask_on_image_3_only":
        "Image Chooser Gate pauses with its grid; key M opens the MaskEditor on one image; Done routes",
    "e2e/test_text_gate_ui.py::test_the_text_gate_pauses_the_edited_text_passes_downstream":
        "Text Gate pauses; the edited text passes on with Ctrl+Enter",
    "e2e/test_folder_sort_ui.py::test_one_run_six_keys_progress_undo_stop_and_resume":
        "folder sort: one Run, keys route six images, Undo, Stop, Run again resumes",
    "e2e/test_folder_sort_ui.py::test_the_culling_view_opens_with_f_routes_by_key_and_closes_with_esc":
        "folder sort: the culling view (the panel moved out of the node to fill the window) keys and closes",
}


def _split(text: str) -> list:
    return [x.strip() for x in text.split(",") if x.strip()]


def version_key(backend: str) -> tuple:
    """Order of ComfyUI versions ("0.3.75" < "0.33.0"); a name without digits sorts first."""
    return tuple(int(x) for x in re.findall(r"\d+", backend))


def plan(backends: list, explicit: str = "", full: bool = False) -> list:
    """[(backend, frontend, level)] of a session, oldest variant first.

    ``explicit`` is ``--e2e-frontends``: frontends (``pinned,newest``) for every backend, or
    ``backend:frontend`` entries; each of them runs the whole suite, as that option always did.
    Otherwise ``PLAN``. ``full`` (``--e2e-full``, ``DG_E2E_FULL=1``) runs the whole suite everywhere.
    A variant named twice (one backend is both oldest and newest) keeps the wider level."""
    rows: dict = {}
    if _split(explicit):
        for b in backends:
            for entry in _split(explicit):
                eb, sep, fe = entry.rpartition(":")
                if not sep or eb == b:
                    rows[(b, fe)] = FULL
    elif backends:
        order = sorted(backends, key=version_key)
        role = {"oldest": order[0], "newest": order[-1]}
        for b_role, fe, level in PLAN:
            key = (role[b_role], fe)
            rows[key] = FULL if FULL in (level, rows.get(key)) else level
    return [(b, fe, FULL if full else level) for (b, fe), level in rows.items()]


def runs(level: str, smoke_marked: bool) -> bool:
    """Does a test run on a variant of this level?"""
    return level == FULL or smoke_marked


def describe(rows: list, name=lambda b, f: f"{b} x {f}") -> str:
    """The report header's one line on the e2e matrix (``name`` spells a variant)."""
    full = [name(b, f) for b, f, level in rows if level == FULL]
    smoke = [name(b, f) for b, f, level in rows if level == SMOKE]
    text = "e2e: every test on " + (", ".join(full) or "none")
    if smoke:
        text += ("; only the smoke set (@pytest.mark.smoke; the other e2e tests deselected there) on "
                 + ", ".join(smoke) + " (DG_E2E_FULL=1 runs every test everywhere)")
    return text
