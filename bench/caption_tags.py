"""Captions as tags at 10,000 captions: the autocomplete's answer and one Caption Batch Edit.

    .venv/bin/python bench/caption_tags.py [--n 10000]

Pure (no server): the same code the routes and the node run. ``measure`` returns

* ``autocomplete_ms``: the median of 20 answers for a two-letter prefix once the
  folder's vocabulary is read (what each keystroke costs; goal <= 50 ms), and
  ``vocabulary_s``: the first read of the folder's captions;
* ``batch_edit_s``: a real ``replace`` that rewrites every caption, journal included
  (goal <= 5 s), ``dry_run_s`` and ``undo_s``.

Not yet a row of ``make bench`` (bench/run.py's table).
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from gates.core import tag_vocab  # noqa: E402
from gates.nodes import caption_batch_edit

WORDS = [f"{a}{b}" for a in ("bl", "re", "gr", "ca", "do", "ha", "sk", "ou") for b in range(300)]


def make_folder(root: str, n: int, seed: int = 1) -> str:
    src = os.path.join(root, "src")
    os.makedirs(src)
    rng = random.Random(seed)
    for i in range(n):
        open(os.path.join(src, f"img{i}.png"), "wb").close()
        with open(os.path.join(src, f"img{i}.txt"), "w", encoding="utf-8") as f:
            f.write(", ".join(rng.sample(WORDS, 12)) + ", cat")
    return src


def measure(n: int = 10000) -> dict:
    root = tempfile.mkdtemp(prefix="dg-bench-tags-")
    try:
        src, out = make_folder(root, n), os.path.join(root, "out")
        t = time.perf_counter()
        tag_vocab.folder_counts(src)
        vocabulary = time.perf_counter() - t
        answers = []
        for prefix in ["bl", "re", "gr", "ca", "do"] * 4:
            t = time.perf_counter()
            tag_vocab.rank(prefix, [tag_vocab.folder_counts(src)], 12)
            answers.append((time.perf_counter() - t) * 1000)
        timed = {}
        for name, dry in (("dry_run_s", True), ("batch_edit_s", False)):
            t = time.perf_counter()
            caption_batch_edit.run(src, 0, "replace", "cat", "feline", "tag", "", dry, out)
            timed[name] = time.perf_counter() - t
        t = time.perf_counter()
        caption_batch_edit.run(src, 0, "undo_last", "", "", "tag", "", False, out)
        timed["undo_s"] = time.perf_counter() - t
        return {"captions": n, "vocabulary_s": round(vocabulary, 2),
                "autocomplete_ms": round(statistics.median(answers), 1),
                **{k: round(v, 2) for k, v in timed.items()}}
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10000)
    r = measure(ap.parse_args().n)
    print(r)
    print(f"autocomplete {r['autocomplete_ms']} ms (goal <= 50), batch edit {r['batch_edit_s']} s (goal <= 5)")
