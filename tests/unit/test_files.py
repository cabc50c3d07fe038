import os
import time

import pytest

from gates.core import files


@pytest.mark.parametrize("bad", ["", "  ", ".", "..", "../x", "a/b", "a\\b", "a:b", "a*b", 'a"b', "a?b", "a<b",
                                 "a|b", "CON", "nul.txt", "lpt1", "x.", "x ", "tab\there", "x" * 201])
def test_bad_stems_are_refused(bad):
    with pytest.raises(ValueError):
        files.check_stem(bad)


@pytest.mark.parametrize("good", ["cat_01", "a.b", "Ünïcödé 猫", "img (2)", "x" * 100])
def test_good_stems(good):
    assert files.check_stem(good) == good


def test_conflict_policies(tmp_path):
    d = str(tmp_path)
    assert files.resolve_target(d, "a.png", "skip") == os.path.join(d, "a.png")
    (tmp_path / "a.png").write_bytes(b"old")
    assert files.resolve_target(d, "a.png", "skip") is None
    assert files.resolve_target(d, "a.png", "overwrite") == os.path.join(d, "a.png")
    assert files.resolve_target(d, "a.png", "suffix") == os.path.join(d, "a_1.png")
    (tmp_path / "a_1.png").write_bytes(b"old")
    assert files.resolve_target(d, "a.png", "suffix") == os.path.join(d, "a_2.png")
    with pytest.raises(ValueError, match="on_conflict"):
        files.resolve_target(d, "a.png", "merge")


def test_atomic_write_interrupted_midway_leaves_the_old_file(tmp_path):
    p = str(tmp_path / "a.png")
    files.atomic_write_bytes(p, b"old contents")

    def half_then_crash(f):
        f.write(b"new con")
        raise KeyboardInterrupt("cancel mid-write")

    with pytest.raises(KeyboardInterrupt):
        files.atomic_write(p, half_then_crash)
    assert open(p, "rb").read() == b"old contents"
    assert os.listdir(tmp_path) == ["a.png"]          # no temp file left behind


def test_atomic_write_interrupted_leaves_nothing_when_new(tmp_path):
    p = str(tmp_path / "b.png")
    with pytest.raises(RuntimeError):
        files.atomic_write(p, lambda f: (f.write(b"x"), (_ for _ in ()).throw(RuntimeError("boom"))))
    assert os.listdir(tmp_path) == []


def test_a_killed_writers_old_temp_file_is_swept_by_the_next_write(tmp_path):
    old = tmp_path / ".dsg-abc123.part"          # left by a process killed mid-write two hours ago
    old.write_bytes(b"half")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    young = tmp_path / ".dsg-def456.part"        # maybe a write in progress elsewhere: kept
    young.write_bytes(b"busy")
    other = tmp_path / ".hidden.part"            # not ours: kept
    other.write_bytes(b"x")
    os.utime(other, (time.time() - 7200, time.time() - 7200))
    files.atomic_write_bytes(str(tmp_path / "img.png"), b"new")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".dsg-def456.part", ".hidden.part", "img.png"]


def test_a_temp_left_by_a_dead_process_is_swept_at_once(tmp_path):
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)                            # that process has exited
    orphan = tmp_path / f".dsg-{pid}-abc.part"
    orphan.write_bytes(b"half")
    mine = tmp_path / f".dsg-{os.getpid()}-def.part"  # a write of this process in progress: kept
    mine.write_bytes(b"busy")
    assert files.sweep_stale_temps(str(tmp_path)) == [orphan.name]
    assert sorted(p.name for p in tmp_path.iterdir()) == [mine.name]


def test_an_atomic_write_gets_the_usual_file_mode_not_mkstemps_0600(tmp_path):
    p = tmp_path / "a.png"
    files.atomic_write_bytes(str(p), b"x")
    umask = os.umask(0)
    os.umask(umask)
    assert (p.stat().st_mode & 0o777) == (0o666 & ~umask)
