"""bench/caption_tags.py: what a person types, the table rows and the goals of make bench."""
import os
import sys

from harness.comfy import REPO

sys.path.insert(0, os.path.join(REPO, "bench"))
import caption_tags  # noqa: E402  (bench/caption_tags.py)


def bench():
    return caption_tags


def result(median_ms, edit_s):
    ms = {"median": median_ms, "p95": median_ms + 5, "min": 1.0, "max": 400.0, "n": 60}
    return {"captions": 10000, "load_start": 0.5, "load_end": 0.7, "autocomplete_first_ms": 380.0,
            "autocomplete_ms": ms, "autocomplete_server_ms": ms, "batch_dry_run_node_s": 0.7,
            "batch_edit_node_s": edit_s, "batch_undo_node_s": 2.0, "batch_edit_s": 1.5}


def test_typing_goes_key_by_key_through_growing_prefixes():
    b = bench()
    f = b.fragments(60)
    assert len(f) == 60 and f[:7] == ["b", "bl", "bl0", "b", "bl", "bl9", "bl97"]


def test_the_goals_fail_when_either_figure_misses():
    b = bench()
    assert all(b.goals(result(20.0, 2.0)).values())
    assert list(b.goals(result(51.0, 2.0)).values()) == [False, True]
    assert list(b.goals(result(20.0, 5.1)).values()) == [True, False]
    text = "\n".join(b.rows(result(20.0, 2.0)))
    assert "10,000 captions" in text and "median 20.0 ms" in text and "2.00 s" in text
