"""The decision log of a folder sort: replay, changed files, undo, torn lines, CSV."""
import csv
import io
import os

from gates.core import sort_log


def folder_with(tmp_path, *names):
    src = tmp_path / "src"
    src.mkdir()
    for n in names:
        (src / n).write_bytes(n.encode())
    return str(src)


def test_decisions_are_replayed_and_decided_files_skipped(tmp_path):
    src = folder_with(tmp_path, "a.png", "b.png", "c.png")
    logs = str(tmp_path / "logs")
    log = sort_log.SortLog(src, logs)
    out = tmp_path / "keep"
    out.mkdir()
    (out / "a.png").write_bytes(b"x")
    log.record("a.png", sort_log.fingerprint(os.path.join(src, "a.png")), 1, "keep", [str(out / "a.png")])
    again = sort_log.SortLog(src, logs)                     # a restart reads the same state
    assert again.undecided(["a.png", "b.png", "c.png"]) == ["b.png", "c.png"]
    assert again.counts() == {"keep": 1}
    entries = sort_log.read(again.path)
    assert entries[0] == {**entries[0], "type": "sort", "folder": os.path.abspath(src)}
    assert entries[1]["files"] == [str(out / "a.png")] and entries[1]["route"] == 1


def test_a_replaced_file_counts_as_undecided(tmp_path):
    src = folder_with(tmp_path, "a.png")
    log = sort_log.SortLog(src, str(tmp_path / "logs"))
    log.record("a.png", sort_log.fingerprint(os.path.join(src, "a.png")), 2, "reject", [])
    assert log.undecided(["a.png"]) == []
    with open(os.path.join(src, "a.png"), "wb") as f:
        f.write(b"another picture, another size")
    assert log.undecided(["a.png"]) == ["a.png"]


def test_a_torn_last_line_is_ignored_and_that_image_asked_again(tmp_path):
    src = folder_with(tmp_path, "a.png", "b.png")
    log = sort_log.SortLog(src, str(tmp_path / "logs"))
    log.record("a.png", sort_log.fingerprint(os.path.join(src, "a.png")), 1, "keep", [])
    log.record("b.png", sort_log.fingerprint(os.path.join(src, "b.png")), 1, "keep", [])
    data = open(log.path, "rb").read()
    with open(log.path, "wb") as f:
        f.write(data[:-15])                                 # killed mid-write of the last line
    again = sort_log.SortLog(src, str(tmp_path / "logs"))
    assert again.undecided(["a.png", "b.png"]) == ["b.png"]
    again.record("b.png", sort_log.fingerprint(os.path.join(src, "b.png")), 2, "reject", [])
    assert sort_log.SortLog(src, str(tmp_path / "logs")).undecided(["a.png", "b.png"]) == []


def test_undo_moves_the_files_out_in_order_and_twenty_deep(tmp_path):
    names = [f"img{i}.png" for i in range(25)]
    src = folder_with(tmp_path, *names)
    out = tmp_path / "keep"
    out.mkdir()
    log = sort_log.SortLog(src, str(tmp_path / "logs"))
    for n in names:
        (out / n).write_bytes(b"saved")
        log.record(n, sort_log.fingerprint(os.path.join(src, n)), 1, "keep", [str(out / n)])
    for i in range(24, 3, -1):                              # 21 undos, newest first
        entry = log.undo_last()
        assert entry["file"] == names[i]
        assert not (out / names[i]).exists() and all(os.path.isfile(p) for p in entry["moved"])
    assert log.undecided(names) == names[4:]
    assert sort_log.SortLog(src, str(tmp_path / "logs")).undecided(names) == names[4:]


def test_csv_export_lists_the_live_decisions(tmp_path):
    src = folder_with(tmp_path, "a.png", "b.png")
    log = sort_log.SortLog(src, str(tmp_path / "logs"))
    for n, route, label in (("a.png", 1, "keep"), ("b.png", 3, "fix")):
        log.record(n, sort_log.fingerprint(os.path.join(src, n)), route, label, [], mask=route == 3)
    log.undo_last()
    rows = list(csv.DictReader(io.StringIO(sort_log.to_csv(log.path))))
    assert [(r["file"], r["route"], r["label"]) for r in rows] == [("a.png", "1", "keep")]


def test_nothing_is_written_until_the_first_decision(tmp_path):
    src = folder_with(tmp_path, "a.png")
    log = sort_log.SortLog(src, str(tmp_path / "logs"))
    assert log.undecided(["a.png"]) == ["a.png"] and log.undo_last() is None
    assert not os.path.exists(tmp_path / "logs")


def fsyncs_seen(monkeypatch) -> list:
    """(thread name, path) of every os.fsync from now on (the path read back from the descriptor)."""
    import threading

    seen, real = [], os.fsync

    def spy(fd):
        seen.append((threading.current_thread().name, os.readlink(f"/proc/self/fd/{fd}")))
        return real(fd)
    monkeypatch.setattr(os, "fsync", spy)
    return seen


def test_a_log_without_a_committer_fsyncs_each_line_in_the_caller(tmp_path, monkeypatch):
    src = folder_with(tmp_path, "a.png")
    log = sort_log.SortLog(src, str(tmp_path / "logs"))
    seen = fsyncs_seen(monkeypatch)
    log.record("a.png", "fp", 1, "keep", [])
    assert seen == [("MainThread", log.path)]


def test_with_a_committer_the_files_are_fsynced_then_the_line_written_off_the_caller(tmp_path, monkeypatch):
    from gates.core import files

    src = folder_with(tmp_path, "a.png", "b.png")
    out = tmp_path / "keep"
    out.mkdir()
    copies = [str(out / "a.png"), str(out / "a.txt")]
    for c in copies:
        open(c, "wb").write(b"x")
    import threading

    committer = files.Committer()
    log = sort_log.SortLog(src, str(tmp_path / "logs"), committer=committer)
    seen = fsyncs_seen(monkeypatch)
    hold = threading.Event()
    committer.submit(hold.wait)                          # the commit thread is busy until released
    on_disk_at_then = []
    fp = sort_log.fingerprint(os.path.join(src, "a.png"))
    log.record("a.png", fp, 1, "keep", copies, durable_first=copies,
               then=lambda: on_disk_at_then.append([e["file"] for e in sort_log.read(log.path)[1:]]))
    assert log.counts() == {"keep": 1} and log.undecided(["a.png", "b.png"]) == ["b.png"]   # at once
    assert sort_log.read(log.path) == [] and seen == []             # nothing on disk yet, no fsync
    hold.set()
    assert committer.flush(timeout=10)
    assert [p for _, p in seen] == copies + [log.path]              # the files first, then the line
    hold.clear()
    committer.submit(hold.wait)
    log.undo_last()
    assert log.undecided(["a.png", "b.png"]) == ["a.png", "b.png"]
    hold.set()
    assert committer.flush(timeout=10)
    assert {t for t, _ in seen} == {"dataset-gates-commit"}          # none in the caller
    assert on_disk_at_then == [["a.png"]]                # then() runs once the decision is on disk
    assert [e["type"] for e in sort_log.read(log.path)[1:]] == ["decision", "undo"]
    again = sort_log.SortLog(src, str(tmp_path / "logs"), committer=committer)
    assert again.undecided(["a.png", "b.png"]) == ["a.png", "b.png"]
