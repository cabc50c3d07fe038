"""bench/run.py's cross-check: the plan's show time against its server work plus size / loopback throughput."""
import importlib.util
import os

from harness.comfy import REPO


def bench():
    spec = importlib.util.spec_from_file_location("bench_run", os.path.join(REPO, "bench", "run.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def result(show_ms):
    cell = lambda v: {"median": v, "min": v, "max": v, "n": 1}        # noqa: E731
    ours = {"preview_ms": cell(50), "show_ms": cell(40), "fetch_ms": cell(3), "resume_ms": cell(4),
            "cancel_ms": cell(20), "message_bytes": cell(600)}
    plan = {"preview_ms": cell(show_ms + 200), "show_ms": cell(show_ms), "fetch_ms": cell(200), "resume_ms": cell(70),
            "cancel_ms": "not measured", "message_bytes": cell(67_000_000)}
    return {"sizes": {"4096": {"ours": ours, "plan": plan}},
            "soak": {"rss_growth_mb": 1, "gate_temp_after_files": 0}}


def test_a_client_that_spends_seconds_on_big_frames_misses_the_goal():
    b = bench()
    loop = {"bytes": 67_000_000, "seconds": 0.05, "mb_per_s": 1340.0}
    fair = result(2700)
    fair["cross_check"] = b.cross_check(fair, "4096", loop, work_ms=2300)
    assert 1.1 < fair["cross_check"]["ratio"] < 1.2                  # 2700 / (2300 + 50)
    assert b.goals(fair)["plan's show within 2× of its server work + size / loopback throughput"]
    slow = result(16400)                                               # the UTF-8-validating client of before
    slow["cross_check"] = b.cross_check(slow, "4096", loop, work_ms=2300)
    assert slow["cross_check"]["ratio"] > 6
    assert not b.goals(slow)["plan's show within 2× of its server work + size / loopback throughput"]
