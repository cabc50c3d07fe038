"""Caption Batch Edit without ComfyUI: plan, dry run, journal, undo_last."""
import hashlib
import os

import pytest

from gates.nodes import caption_batch_edit as cbe


def make(folder, captions):
    for i, cap in enumerate(captions):
        open(os.path.join(folder, f"img{i}.png"), "wb").close()
        if cap is not None:
            with open(os.path.join(folder, f"img{i}.txt"), "wb") as f:
                f.write(cap)


def shas(folder):
    out = {}
    for n in sorted(os.listdir(folder)):
        if n.endswith(".txt"):
            with open(os.path.join(folder, n), "rb") as f:
                out[n] = hashlib.sha256(f.read()).hexdigest()
    return out


def run(folder, out, op, find="", replace="", match="tag", filt="", dry=False):
    return cbe.run(folder, 0, op, find, replace, match, filt, dry, out)


def test_dry_run_real_run_and_undo_restore_exact_bytes(tmp_path):
    src, out = str(tmp_path / "src"), str(tmp_path / "out")
    os.makedirs(src)
    make(src, [b"cat, dog\n", "\ufeffCat ,  blurry".encode(), b"catgirl", None, b"\xe9t\xe9, cat"])
    before = shas(src)
    rep = run(src, out, "replace", "cat", "feline", dry=True)
    assert shas(src) == before and "3 caption file(s) would change" in rep and not os.path.exists(out)
    assert "img0.txt: 'cat, dog' -> 'feline, dog'" in rep
    run(src, out, "replace", "cat", "feline")
    with open(os.path.join(src, "img0.txt"), "rb") as f:
        assert f.read() == b"feline, dog\n"                         # the final newline is kept
    with open(os.path.join(src, "img1.txt"), "rb") as f:
        assert f.read() == "\ufefffeline, blurry".encode()          # and the BOM
    with open(os.path.join(src, "img2.txt"), "rb") as f:
        assert f.read() == b"catgirl"                               # not a whole-tag match
    run(src, out, "add", replace="new")                              # creates img3.txt
    assert os.path.exists(os.path.join(src, "img3.txt"))
    rep = run(src, out, "undo_last")
    assert "removed (it did not exist before)" in rep and not os.path.exists(os.path.join(src, "img3.txt"))
    run(src, out, "undo_last")
    assert shas(src) == before
    with pytest.raises(ValueError, match="no caption edit"):
        run(src, out, "undo_last")


def test_filter_and_bad_regex(tmp_path):
    src, out = str(tmp_path / "src"), str(tmp_path / "out")
    os.makedirs(src)
    make(src, [b"cat, blurry", b"cat", b"dog"])
    before = shas(src)
    with pytest.raises(ValueError, match="not a valid regular expression at position 0"):
        run(src, out, "regex_replace", "*cat", "x")
    assert shas(src) == before and not os.path.exists(out)
    rep = run(src, out, "remove", "cat", filt="tag:cat AND NOT tag:blurry")
    assert "1 caption file(s) changed" in rep
    with open(os.path.join(src, "img1.txt"), "rb") as f:
        assert f.read() == b""
    with open(os.path.join(src, "img0.txt"), "rb") as f:
        assert f.read() == b"cat, blurry"
