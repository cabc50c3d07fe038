"""bench/sort_stats.py: p95, the server's time per image from /history, and where each prompt's time went."""
import importlib.util
import os

import pytest

from harness.comfy import REPO


def stats():
    spec = importlib.util.spec_from_file_location("bench_sort_stats", os.path.join(REPO, "bench", "sort_stats.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_percentile_interpolates_between_the_closest_ranks_and_summary_skips_missing_values():
    s = stats()
    hundred = list(range(100, 0, -1))                         # order does not matter
    assert s.percentile(hundred, 95) == pytest.approx(95.05)   # rank 94.05 of 1..100
    assert s.percentile(hundred, 50) == pytest.approx(50.5)
    assert s.percentile([1, 2, 3, 4], 50) == pytest.approx(2.5)
    assert s.percentile([7.0], 95) == 7.0
    with pytest.raises(ValueError):
        s.percentile([], 95)
    got = s.summary([3.0, None, 1.0, 2.0])
    assert got == {"median": 2.0, "p95": pytest.approx(2.9), "min": 1.0, "max": 3.0, "n": 3}
    assert s.summary([None]) is None
    slow_tail = [10.0] * 94 + [500.0] * 6                     # 6 % slow: the median hides it, p95 does not
    assert s.summary(slow_tail)["median"] == 10.0 and s.summary(slow_tail)["p95"] == 500.0


def test_exec_ms_is_start_to_success_and_none_for_a_prompt_that_did_not_succeed():
    s = stats()
    ok = [["execution_start", {"prompt_id": "a", "timestamp": 1000}],
          ["execution_cached", {"nodes": [], "prompt_id": "a", "timestamp": 1001}],
          ["execution_success", {"prompt_id": "a", "timestamp": 1042}]]
    assert s.exec_ms(ok) == 42.0
    stopped = [["execution_start", {"prompt_id": "b", "timestamp": 1000}],
               ["execution_interrupted", {"prompt_id": "b", "timestamp": 1300}]]
    assert s.exec_ms(stopped) is None
    assert s.exec_ms(None) is None


def test_exec_ms_by_prompt_reads_the_probes_records_of_the_servers_messages():
    s = stats()
    events = [{"type": "execution_start", "prompt_id": "a", "t": 1000.0}, {"type": "executing", "prompt_id": "a",
              "node": "1", "t": 1001.0}, {"type": "execution_start", "prompt_id": "b", "t": 1050.0},
              {"type": "execution_success", "prompt_id": "a", "t": 1042.5}, {"type": "probe:fsync", "t": 1043.0},
              {"type": "execution_interrupted", "prompt_id": "b", "t": 1300.0}]
    assert s.exec_ms_by_prompt(events) == {"a": 42.5, "b": None}


def ev(kind, t, **kw):
    return {"type": kind, "t": float(t), **kw}


TYPES = {"1": "FolderImageLoader", "2": "ImageGate", "3": "SaveImageToFolder", "4": "SaveImageToFolder"}


def two_prompts():
    """Prompt p1 pauses 300 ms for the key; p2's key was queued before its gate ran (no pause)."""
    return [
        ev("execution_start", 1000, prompt_id="p1"), ev("executing", 1002, node="1"), ev("executing", 1012, node="2"),
        ev("datasete-gate-show", 1015, prompt_id="p1", token="x", started_at=1.014),
        ev("datasete-gate-done", 1314, token="x"),
        ev("executing", 1320, node="3"), ev("executing", 1321, node="4"), ev("executing", 1340, node=None),
        ev("execution_success", 1340, prompt_id="p1"),
        ev("execution_start", 1345, prompt_id="p2"), ev("executing", 1346, node="1"), ev("executing", 1350, node="2"),
        ev("datasete-gate-done", 1352, token="y"),                      # answered at once: no show event
        ev("executing", 1356, node="4"), ev("execution_success", 1400, prompt_id="p2"),
    ]


def test_pause_waits_pair_show_and_done_by_token_from_the_pause_opening():
    s = stats()
    assert s.pause_waits(two_prompts()) == {"p1": pytest.approx(300.0)}


def test_prompt_stages_split_each_prompt_and_take_the_wait_for_the_key_out_of_the_gate():
    s = stats()
    p1, p2 = s.prompt_stages(two_prompts(), TYPES)
    assert p1["prompt_id"] == "p1" and p2["prompt_id"] == "p2"
    assert p1["setup"] == 2 and p1["loader"] == 10 and p1["wait"] == pytest.approx(300)
    assert p1["gate"] == pytest.approx(8)                     # 1012 -> 1320 is 308 ms, 300 of them waiting
    assert p1["saver"] == 20 and p1["gap"] is None
    assert p1["total"] == 340 and p1["own"] == pytest.approx(40)
    assert p2["gap"] == 5 and p2["wait"] == 0 and p2["gate"] == 6 and p2["saver"] == 44
    assert p2["own"] == p2["total"] == 55
    med = s.stage_medians([p1, p2])
    assert med["own"] == pytest.approx(47.5) and med["gap"] == 5


def test_an_interrupted_prompt_has_no_stages_and_does_not_break_the_next_one():
    s = stats()
    events = [ev("execution_start", 0, prompt_id="p0"), ev("executing", 1, node="1"),
              ev("execution_interrupted", 50, prompt_id="p0")] + two_prompts()
    got = s.prompt_stages(events, TYPES)
    assert [g["prompt_id"] for g in got] == ["p1", "p2"]
