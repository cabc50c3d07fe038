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


def _log_calls(monkeypatch, log):
    """Record the order of syncs, renames and folder fsyncs of files.atomic_write_many."""
    real_replace, real_sync, real_dir = os.replace, files.sync_filesystems, files.fsync_dir

    def replace(a, b):
        log.append(("rename", os.path.basename(b), open(a, "rb").read()))
        real_replace(a, b)

    def sync(folders):
        temps = sorted(n for f in folders for n in os.listdir(f) if n.startswith(files.TEMP_PREFIX))
        log.append(("sync", len(temps)))
        real_sync(folders)

    monkeypatch.setattr(files.os, "replace", replace)
    monkeypatch.setattr(files, "sync_filesystems", sync)
    monkeypatch.setattr(files, "fsync_dir", lambda d: (log.append(("fsync_dir", d)), real_dir(d)))


def test_atomic_write_many_syncs_each_batchs_temps_before_its_first_rename_and_the_folders_after(tmp_path, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "gone.txt").write_bytes(b"x")
    changes = [(str(a / f"{i}.txt"), f"new {i}".encode()) for i in range(100)] + \
        [(str(b / "one.txt"), b"one"), (str(a / "gone.txt"), None), (str(a / "never.txt"), None)]
    log = []
    _log_calls(monkeypatch, log)
    files.atomic_write_many(changes, batch=40)
    kinds = [e[0] for e in log]
    assert kinds == ["sync"] + ["rename"] * 40 + ["sync"] + ["rename"] * 40 + ["sync"] + ["rename"] * 21 + \
        ["fsync_dir", "fsync_dir"]
    assert [e for e in log if e[0] == "sync"] == [("sync", 40), ("sync", 40), ("sync", 21)]   # a batch's temps
    assert sorted(e[1] for e in log if e[0] == "fsync_dir") == [str(a), str(b)]
    assert all(e[2] == (b"one" if e[1] == "one.txt" else f"new {e[1][:-4]}".encode()) for e in log if e[0] == "rename")
    assert sorted(p.name for p in a.iterdir()) == sorted(f"{i}.txt" for i in range(100))   # gone.txt removed
    assert (b / "one.txt").read_bytes() == b"one" and (a / "7.txt").read_bytes() == b"new 7"
    umask = os.umask(0)
    os.umask(umask)
    assert ((a / "7.txt").stat().st_mode & 0o777) == (0o666 & ~umask)


def test_atomic_write_many_that_fails_leaves_no_temp_and_renames_nothing_of_a_batch_not_all_written(tmp_path):
    (tmp_path / "keep.txt").write_bytes(b"old")
    changes = [(str(tmp_path / "keep.txt"), b"new")] + \
        [(str(tmp_path / f"{i}.txt"), b"x") for i in range(80)] + [(str(tmp_path / "missing" / "z.txt"), b"z")]
    with pytest.raises(FileNotFoundError):
        files.atomic_write_many(changes, batch=100)
    assert (tmp_path / "keep.txt").read_bytes() == b"old"            # nothing renamed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]  # no temp file left


def _rename_fails(monkeypatch, when) -> list:
    """os.replace raises OSError('disk gone') when ``when(target, renamed so far)``; returns the renamed."""
    real, done = os.replace, []

    def replace(a, b):
        if when(b, done):
            raise OSError("disk gone")
        real(a, b)
        done.append(b)
    monkeypatch.setattr(files.os, "replace", replace)
    return done


def test_atomic_write_many_cut_short_while_renaming_leaves_old_or_new_bytes_and_no_temp(tmp_path, monkeypatch):
    for i in range(10):
        (tmp_path / f"{i}.txt").write_bytes(b"old")
    _rename_fails(monkeypatch, lambda b, done: len(done) == 4)
    with pytest.raises(OSError, match="disk gone"):
        files.atomic_write_many([(str(tmp_path / f"{i}.txt"), b"new") for i in range(10)], batch=100)
    assert sorted(p.read_bytes() for p in tmp_path.iterdir()) == [b"new"] * 4 + [b"old"] * 6
    assert len(list(tmp_path.iterdir())) == 10


def test_makedirs_durable_fsyncs_the_parent_of_each_folder_it_made(tmp_path, monkeypatch):
    synced = []
    monkeypatch.setattr(files, "fsync_dir", synced.append)
    files.makedirs_durable(str(tmp_path / "x" / "y"))
    assert (tmp_path / "x" / "y").is_dir() and sorted(synced) == [str(tmp_path), str(tmp_path / "x")]
    synced.clear()
    files.makedirs_durable(str(tmp_path / "x" / "y"))
    assert synced == []


def test_atomic_write_many_failing_in_a_later_batch_keeps_the_batches_before_and_leaves_no_temp(tmp_path, monkeypatch):
    done = _rename_fails(monkeypatch, lambda b, done: b.endswith(os.sep + "700.txt"))
    with pytest.raises(OSError, match="disk gone"):
        files.atomic_write_many([(str(tmp_path / f"{i}.txt"), b"new") for i in range(2000)], batch=300)
    assert len(done) == 700 and sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{i}.txt" for i in range(700))


def test_inside_deferred_sync_a_write_is_renamed_into_place_unsynced_and_listed(tmp_path, monkeypatch):
    import threading

    synced = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd)))
    a, b = str(tmp_path / "a.bin"), str(tmp_path / "b.bin")
    with files.deferred_sync() as unsynced:
        files.atomic_write_bytes(a, b"1")
        files.atomic_write_bytes(b, b"2", sync=False)        # asked for no sync: not listed either
        inner = []
        threading.Thread(target=lambda: (files.atomic_write_bytes(str(tmp_path / "c.bin"), b"3"),
                                         inner.append(len(synced)))).start()
    assert unsynced == [a] and open(a, "rb").read() == b"1"
    with files.deferred_sync(enabled=False) as nothing:
        files.atomic_write_bytes(a, b"4")
    assert nothing is None
    deadline = time.time() + 5
    while not inner and time.time() < deadline:
        time.sleep(0.01)
    assert len(synced) == 2          # the other thread's write and the one outside: each fsynced itself


def test_a_committer_runs_jobs_in_order_and_goes_on_after_one_fails():
    done = []
    c = files.Committer(name="test-commit")
    c.submit(lambda: done.append(1))
    c.submit(lambda: 1 / 0)
    c.submit(lambda: done.append(3))
    assert c.flush(timeout=10) and done == [1, 3]
