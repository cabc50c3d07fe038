"""The e2e matrix (tests/harness/matrix.py): the whole suite on the oldest and the newest variant,
only the smoke set between, and a smoke set whose tests exist, are marked and are collected.

The last two tests collect tests/e2e in a child pytest (no server, no browser: collection only)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from harness.comfy import versions
from harness.matrix import FULL, PLAN, SMOKE, SMOKE_TESTS, describe, plan, runs

OLD, NEW = versions()["COMFYUI_VERSION"], versions()["COMFYUI_NEW_VERSION"]
TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_the_default_plan_runs_everything_on_the_oldest_and_newest_and_the_smoke_set_between():
    assert PLAN[0][2] == FULL and PLAN[-1][2] == FULL
    assert {level for *_, level in PLAN[1:-1]} == {SMOKE}
    want = [(OLD, "pinned", FULL), (NEW, "pinned", SMOKE), (NEW, "newest", SMOKE), (NEW, "newest+vue", FULL)]
    assert plan([OLD, NEW]) == want
    assert plan([NEW, OLD]) == want                        # oldest by version, not by the option's order
    assert runs(FULL, False) and runs(FULL, True) and runs(SMOKE, True) and not runs(SMOKE, False)


def test_one_backend_is_both_the_oldest_and_the_newest():
    assert plan([OLD]) == [(OLD, "pinned", FULL), (OLD, "newest", SMOKE), (OLD, "newest+vue", FULL)]


def test_full_and_explicit_frontends_run_every_test_on_every_variant():
    assert plan([OLD, NEW], full=True) == [(b, f, FULL) for b, f, _ in plan([OLD, NEW])]
    assert plan([OLD, NEW], "pinned,newest") == [(OLD, "pinned", FULL), (OLD, "newest", FULL),
                                                 (NEW, "pinned", FULL), (NEW, "newest", FULL)]
    assert plan([OLD, NEW], f"{NEW}:newest+vue, {OLD}:pinned") == [(OLD, "pinned", FULL), (NEW, "newest+vue", FULL)]


def test_the_header_says_in_one_line_what_runs_where():
    line = describe(plan([OLD, NEW]))
    assert "\n" not in line
    assert line.startswith(f"e2e: every test on {OLD} x pinned, {NEW} x newest+vue; only the smoke set")
    assert f"{NEW} x pinned, {NEW} x newest" in line and "DG_E2E_FULL=1" in line
    assert "smoke" not in describe(plan([OLD, NEW], full=True))


COLLECT = """
import json, sys
import pytest

class Items:
    got = []
    def pytest_collection_finish(self, session):
        self.got = [[i.nodeid, i.get_closest_marker("smoke") is not None] for i in session.items]

p = Items()
rc = pytest.main(sys.argv[1:], plugins=[p])
print("DG-ITEMS " + json.dumps(p.got))
sys.exit(rc)
"""


def collect_e2e(**env) -> dict:
    """{variant id: {test id (file::name[other params]): smoke-marked}} as `make test` collects tests/e2e."""
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("DG_", "PYTEST_")) and k not in ("COMFYUI_DIR", "COMFYUI_PYTHON")}
    out = subprocess.run([sys.executable, "-c", COLLECT, "e2e", "--collect-only", "-q",
                          "--backends", f"{OLD},{NEW}"], cwd=TESTS, env={**clean, **env},
                         capture_output=True, text=True, timeout=120)
    lines = [x for x in out.stdout.splitlines() if x.startswith("DG-ITEMS ")]
    assert out.returncode == 0 and lines, out.stdout[-3000:] + out.stderr[-3000:]
    variants = sorted({f"{b}-{f}" for b, f, _ in plan([OLD, NEW])}, key=len, reverse=True)
    by_variant: dict = {}
    for nodeid, smoke in json.loads(lines[0][len("DG-ITEMS "):]):
        name, _, params = nodeid.partition("[")
        if not params:
            continue                     # an e2e file's helper test that needs no server runs once
        params = params.rstrip("]")
        (v,) = [v for v in variants if params == v or params.startswith(v + "-")][:1] or [None]
        assert v, f"{nodeid}: no variant of the plan in its id"
        rest = params[len(v) + 1:]
        by_variant.setdefault(v, {})[name + (f"[{rest}]" if rest else "")] = smoke
    return by_variant


@pytest.fixture(scope="module")
def collected():
    return collect_e2e(), collect_e2e(DG_E2E_FULL="1")


def test_collection_gives_the_full_variants_every_test_and_the_others_only_the_smoke_set(collected):
    default, full = collected
    everything = full[f"{OLD}-pinned"]
    assert len(full) == len(PLAN) and all(tests == everything for tests in full.values())
    smoke = {t for t, marked in everything.items() if marked}
    assert smoke and len(smoke) < len(everything) / 2
    for b, f, level in plan([OLD, NEW]):
        got = set(default[f"{b}-{f}"])
        assert got == (set(everything) if level == FULL else smoke), f"{b} x {f} ({level})"


def test_every_smoke_test_exists_is_marked_and_is_listed_in_the_plan(collected):
    _, full = collected
    marked = {t.split("[")[0] for t, m in full[f"{OLD}-pinned"].items() if m}
    listed = set(SMOKE_TESTS)
    assert not listed - marked, f"in SMOKE_TESTS but not a collected test marked smoke: {sorted(listed - marked)}"
    assert not marked - listed, f"marked smoke but not in SMOKE_TESTS: {sorted(marked - listed)}"
