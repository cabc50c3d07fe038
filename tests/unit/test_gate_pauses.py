"""The bus beyond the plan: tokens, per-pause cancel, timeout, wake-up, registry."""
import threading
import time

import pytest

from gates.gate_bus import (CANCEL, GateBus, GateCancelled, GateError, GateTimedOut,
                            StaleToken, UnknownPause)


@pytest.fixture(autouse=True)
def clean_bus():
    yield
    for sid in list(GateBus.pending):
        GateBus.close(sid)


def answer_later(delay, fn, *args):
    t = threading.Timer(delay, fn, args)
    t.start()
    return t


def test_each_pause_gets_its_own_token():
    a = GateBus.open("1", routes=2)
    GateBus.close("1")
    b = GateBus.open("1", routes=2)
    assert a.token != b.token and len(b.token) >= 16


def test_stale_token_is_refused_and_changes_nothing():
    old = GateBus.open("5", routes=3)
    GateBus.close("5")
    new = GateBus.open("5", routes=3)
    with pytest.raises(StaleToken) as e:
        GateBus.answer("5", old.token, 2)
    assert e.value.status == 409
    assert "5" not in GateBus.messages
    GateBus.answer("5", new.token, 3)
    assert GateBus.wait("5") == 3


def test_unknown_node_missing_token_and_bad_routes():
    p = GateBus.open("8", routes=3)
    with pytest.raises(UnknownPause):
        GateBus.answer("nope", p.token, 1)
    with pytest.raises(GateError):
        GateBus.answer("8", "", 1)
    for bad in ("x", 0, 4, "1.5", None, True, -1):
        with pytest.raises(GateError):
            GateBus.answer("8", p.token, bad)
    assert "8" in GateBus.pending and "8" not in GateBus.messages


def test_cancel_of_one_gate_does_not_leak_into_another():
    a = GateBus.open("a", routes=2)
    b = GateBus.open("b", routes=2)
    GateBus.answer("a", a.token, CANCEL)
    GateBus.answer("b", b.token, 2)
    assert GateBus.wait("b") == 2
    with pytest.raises(GateCancelled):
        GateBus.wait("a")
    # a later pause of the same gate starts clean
    c = GateBus.open("a", routes=2)
    GateBus.answer("a", c.token, 1)
    assert GateBus.wait("a") == 1


def test_answer_wakes_the_waiter_at_once():
    p = GateBus.open("w", routes=2)
    t0 = time.perf_counter()
    answer_later(0.05, GateBus.answer, "w", p.token, 2)
    assert GateBus.wait("w", period=5.0) == 2       # a 5 s poll would be far slower
    assert time.perf_counter() - t0 < 1.0


def test_check_runs_at_least_every_period_and_its_exception_ends_the_wait():
    GateBus.open("c", routes=2)
    calls = []

    def check():
        calls.append(time.monotonic())
        if len(calls) >= 4:
            raise KeyboardInterrupt("interrupted")

    with pytest.raises(KeyboardInterrupt):
        GateBus.wait("c", period=0.02, check=check)
    gaps = [b - a for a, b in zip(calls, calls[1:])]
    assert max(gaps) < 0.1
    assert "c" not in GateBus.pending                # removed however the wait ended


def test_timeout_raises_and_closes_the_pause():
    GateBus.open("t", routes=2, timeout=0.1)
    t0 = time.monotonic()
    with pytest.raises(GateTimedOut):
        GateBus.wait("t", timeout=0.1)
    assert 0.09 <= time.monotonic() - t0 < 1.0
    assert GateBus.list_pending() == []


def test_registry_lists_the_pause_while_waiting_and_not_after():
    p = GateBus.open("r", prompt_id="P1", routes=3, labels=["keep", "reject", "fix"])
    listed = GateBus.list_pending()
    assert [(e["id"], e["token"], e["prompt_id"], e["routes"], e["labels"]) for e in listed] == [
        ("r", p.token, "P1", 3, ["keep", "reject", "fix"])]
    GateBus.answer("r", p.token, 1)
    GateBus.wait("r")
    assert GateBus.list_pending() == []


def test_mask_needs_the_current_token():
    old = GateBus.open("m", routes=2)
    GateBus.close("m")
    new = GateBus.open("m", routes=2)
    with pytest.raises(StaleToken):
        GateBus.attach_mask("m", old.token, b"old")
    GateBus.attach_mask("m", new.token, b"new")
    assert GateBus.pop_mask("m") == b"new"


def test_a_non_ascii_token_is_a_stale_token_not_a_crash():
    """Found by the endpoint fuzz: compare_digest raised TypeError on a non-ASCII str."""
    p = GateBus.open("fz", routes=2)
    with pytest.raises(StaleToken):
        GateBus.answer("fz", "\u00e9" + p.token[1:], 1)
    assert GateBus.answer("fz", p.token, 1) == 1
