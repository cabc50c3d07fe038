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


def test_the_journal_is_on_disk_before_any_caption_changes(tmp_path, monkeypatch):
    from gates.core import files

    src, out = str(tmp_path / "src"), str(tmp_path / "out")
    os.makedirs(src)
    make(src, [b"cat, dog"] * 3)
    jdir = cbe.journal_dir(src, out)
    log = []
    real_dir, real_many = files.fsync_dir, files.atomic_write_many
    monkeypatch.setattr(files, "fsync_dir", lambda d: (log.append(("fsync_dir", d, os.listdir(d))), real_dir(d)))
    monkeypatch.setattr(files, "atomic_write_many", lambda ch: (log.append(("captions", len(ch))), real_many(ch)))
    run(src, out, "replace", "cat", "feline")
    first = next(i for i, e in enumerate(log) if e[0] == "captions")
    journal_synced = [e for e in log[:first] if e[0] == "fsync_dir" and e[1] == jdir]
    assert journal_synced and any(n.endswith(".json") for n in journal_synced[-1][2])   # its name is durable
    assert log[first] == ("captions", 3)


def test_a_run_cut_short_while_renaming_is_undone_to_the_exact_bytes(tmp_path, monkeypatch):
    from gates.core import files

    src, out = str(tmp_path / "src"), str(tmp_path / "out")
    os.makedirs(src)
    make(src, [f"cat, tag{i}".encode() + (b"\n" if i % 2 else b"") for i in range(120)] + [None])
    before = shas(src)
    real, done = os.replace, []

    def crash(a, b):
        if b.endswith(".txt") and len(done) == 50:
            raise OSError("power cut")          # as a crash: 50 captions renamed, the rest not
        real(a, b)
        done.append(b)
    monkeypatch.setattr(files.os, "replace", crash)
    with pytest.raises(OSError, match="power cut"):
        run(src, out, "add", replace="cat, new")
    monkeypatch.setattr(files.os, "replace", real)
    assert shas(src) != before and not [n for n in os.listdir(src) if n.startswith(files.TEMP_PREFIX)]
    rep = run(src, out, "undo_last")
    assert "restored 121 caption file(s)" in rep
    assert shas(src) == before                  # those renamed and those not, and img120.txt removed again
