"""Bench row of the Duplicate Review: grouping 10,000 images by their hashes (goal ≤ 10 s).

The hashes are synthetic (random 64-bit pairs, whole and centre, as ``gates/core/dup_groups``
makes them), with planted groups of 3 whose members differ by a few bits: grouping cost does not
depend on how the hashes were made, so no image is decoded. The row also checks that exactly the
planted groups come out. No server. Used by ``bench/run.py`` (a row of its table, and
``--grouping-only`` for just this one, printed, nothing written).
"""
from __future__ import annotations

import os
import statistics
import sys
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [REPO]

from gates.core import dup_groups  # noqa: E402

GOAL_S = 10.0
PLANTED = 3                        # members per planted group


def hashes(n: int, seed: int = 0) -> tuple[np.ndarray, list]:
    """``n`` rows of (whole, centre) hashes; every 20th image starts a planted group of PLANTED
    (its copies have 1-3 bits flipped). Returns the rows and the planted groups (row indices)."""
    r = np.random.default_rng(seed)
    h = r.integers(0, 2**63, (n, 2), dtype=np.uint64) | (r.integers(0, 2, (n, 2), dtype=np.uint64) << np.uint64(63))
    planted = []
    for first in range(0, n - PLANTED, 20):
        for j in range(1, PLANTED):
            flips = r.choice(64, size=int(r.integers(1, 4)), replace=False)
            h[first + j] = h[first] ^ np.uint64(sum(1 << int(b) for b in flips))
        planted.append(list(range(first, first + PLANTED)))
    return h, planted


def measure(n: int = 10_000, runs: int = 3) -> dict:
    h, planted = hashes(n)
    dup_groups.group(h[:500], dup_groups.DEFAULT_THRESHOLD)           # warm-up
    times, found = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        found = dup_groups.group(h, dup_groups.DEFAULT_THRESHOLD)
        times.append(time.perf_counter() - t0)
    return {"images": n, "runs": runs, "seconds": {"median": statistics.median(times), "min": min(times),
                                                    "max": max(times)},
            "groups": len(found), "planted": len(planted), "exact": found == planted}


def goals(r: dict) -> dict:
    return {f"grouping {r['images']:,} images ≤ {GOAL_S:.0f} s": r["seconds"]["median"] <= GOAL_S,
            "grouping finds exactly the planted groups": bool(r["exact"])}


def rows(r: dict) -> list:
    s = r["seconds"]
    return ["| Duplicate Review | result |", "|---|---|",
            f"| grouping {r['images']:,} images (goal ≤ {GOAL_S:.0f} s), threshold {dup_groups.DEFAULT_THRESHOLD} | "
            f"{s['median']:.2f} s ({s['min']:.2f}–{s['max']:.2f}); {r['groups']} groups found of "
            f"{r['planted']} planted{'' if r['exact'] else ', NOT the planted ones'} |"]


def only(n: int = 10_000) -> int:
    r = measure(n)
    g = goals(r)
    print("\n".join(rows(r)) + "\n\nGoals: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in g.items())
          + ".")
    return 0 if all(g.values()) else 1


if __name__ == "__main__":
    sys.exit(only())
