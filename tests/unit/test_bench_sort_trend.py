"""bench/sort_flow.py's memory figure: the trend over every sample, not the difference of two."""
import importlib.util
import os
import sys

import pytest

from harness.comfy import REPO


def sort_flow():
    sys.path.insert(0, os.path.join(REPO, "bench"))
    spec = importlib.util.spec_from_file_location("bench_sort_flow", os.path.join(REPO, "bench", "sort_flow.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_a_steady_leak_shows_in_full_and_swings_around_a_flat_line_do_not():
    trend = sort_flow().trend
    assert trend([900 + 0.6 * i for i in range(100)]) == pytest.approx(59.4)         # 0.6 MB per image
    swings = [900 + (60 if i % 2 else 0) for i in range(99)] + [960]                  # ends on a high
    assert abs(trend(swings)) < 5 and swings[-1] - swings[0] == 60
    leak_in_swings = [s + 0.6 * i for i, s in enumerate(swings)]
    assert trend(leak_in_swings) > 50
