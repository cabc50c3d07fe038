"""The pause core: tokens, kinds, Stop, timeout, wake-up, the registry, and instances that do not share state.

Rewritten from the first gate's bus tests (arm/put/wait and the token pauses)
as tests of ``PauseHub``: the same behaviours, one API.
"""
import threading
import time

import pytest

from gates.core.names import CANCEL
from gates.core.pauses import PauseError, PauseHub, RouteKind, StalePause, Stopped, TimedOut, UnknownPause


@pytest.fixture
def hub():
    return PauseHub()


def answer_later(delay, fn, *args):
    t = threading.Timer(delay, fn, args)
    t.start()
    return t


def ask(pause, message):
    return {"id": pause.node_id, "token": pause.token, "message": message}


def test_each_pause_gets_its_own_token(hub):
    a = hub.open("1", RouteKind(2))
    hub.close(a)
    b = hub.open("1", RouteKind(2))
    assert a.token != b.token and len(b.token) >= 16


def test_an_answer_is_returned_by_wait_once(hub):
    p = hub.open("7", RouteKind(3))
    assert hub.answer(ask(p, "3")) == 3
    assert hub.wait(p) == 3
    with pytest.raises(StalePause):              # a second answer (another tab) is refused
        hub.answer(ask(p, 1))


def test_stale_token_is_refused_and_changes_nothing(hub):
    old = hub.open("5", RouteKind(3))
    hub.close(old)
    new = hub.open("5", RouteKind(3))
    with pytest.raises(StalePause):
        hub.answer(ask(old, 2))
    hub.answer(ask(new, 3))
    assert hub.wait(new) == 3


def test_unknown_node_missing_fields_and_bad_routes(hub):
    p = hub.open("8", RouteKind(3))
    with pytest.raises(UnknownPause):
        hub.answer({"id": "nope", "token": p.token, "message": 1})
    with pytest.raises(PauseError):
        hub.answer({"id": "8", "token": "", "message": 1})
    with pytest.raises(PauseError, match="missing field 'message'"):
        hub.answer({"id": "8", "token": p.token})
    for bad in ("x", 0, 4, "1.5", None, True, -1):
        with pytest.raises(PauseError):
            hub.answer(ask(p, bad))
    assert [e["id"] for e in hub.pending()] == ["8"]
    hub.answer(ask(p, 2))                          # still answerable after every refusal
    assert hub.wait(p) == 2


def test_stop_of_one_gate_does_not_leak_into_another(hub):
    a = hub.open("a", RouteKind(2))
    b = hub.open("b", RouteKind(2))
    assert hub.answer(ask(a, CANCEL)) == CANCEL
    hub.answer(ask(b, 2))
    assert hub.wait(b) == 2
    with pytest.raises(Stopped):
        hub.wait(a)
    hub.close(a)
    c = hub.open("a", RouteKind(2))               # a later pause of the same gate starts clean
    hub.answer(ask(c, 1))
    assert hub.wait(c) == 1


def test_answer_wakes_the_waiter_at_once(hub):
    p = hub.open("w", RouteKind(2))
    t0 = time.perf_counter()
    answer_later(0.05, hub.answer, ask(p, 2))
    assert hub.wait(p, period=5.0) == 2             # a 5 s poll would be far slower
    assert time.perf_counter() - t0 < 1.0


def test_check_runs_at_least_every_period_and_its_exception_ends_the_wait(hub):
    calls = []

    def check():
        calls.append(time.monotonic())
        if len(calls) >= 4:
            raise KeyboardInterrupt("interrupted")

    with pytest.raises(KeyboardInterrupt):
        with hub.pausing("c", RouteKind(2)) as p:
            hub.wait(p, period=0.02, check=check)
    gaps = [b - a for a, b in zip(calls, calls[1:])]
    assert max(gaps) < 0.1
    assert hub.pending() == []                      # removed however the wait ended
    with pytest.raises(StalePause):
        hub.answer(ask(p, 1))


def test_timeout_raises(hub):
    p = hub.open("t", RouteKind(2), timeout=0.1)
    t0 = time.monotonic()
    with pytest.raises(TimedOut):
        hub.wait(p)
    assert 0.09 <= time.monotonic() - t0 < 1.0


def test_registry_lists_the_pause_while_waiting_and_not_after(hub):
    with hub.pausing("r", RouteKind(3, ["keep", "reject", "fix"]), prompt_id="P1") as p:
        listed = hub.pending()
        assert [(e["id"], e["token"], e["kind"], e["prompt_id"], e["routes"], e["labels"]) for e in listed] == [
            ("r", p.token, "route", "P1", 3, ["keep", "reject", "fix"])]
        hub.answer(ask(p, 1))
        hub.wait(p)
    assert hub.pending() == []


def test_attachments_need_the_current_token(hub):
    old = hub.open("m", RouteKind(2))
    hub.close(old)
    new = hub.open("m", RouteKind(2))
    with pytest.raises(StalePause):
        hub.attach("m", old.token, 0, b"old")
    hub.attach("m", new.token, 0, b"new")
    assert new.attachments == {0: b"new"} and old.attachments == {}


def test_a_non_ascii_token_is_a_stale_token_not_a_crash(hub):
    """Found by the endpoint fuzz: compare_digest raised TypeError on a non-ASCII str."""
    p = hub.open("fz", RouteKind(2))
    with pytest.raises(StalePause):
        hub.answer(ask(p, 1) | {"token": "\u00e9" + p.token[1:]})
    assert hub.answer(ask(p, 1)) == 1


def test_two_hubs_do_not_see_each_others_pauses():
    one, two = PauseHub(), PauseHub()
    a = one.open("1", RouteKind(2))
    b = two.open("1", RouteKind(2))
    assert [e["token"] for e in one.pending()] == [a.token]
    assert [e["token"] for e in two.pending()] == [b.token]
    with pytest.raises(StalePause):                 # the same node id, the other hub's token
        one.answer(ask(b, 1))
    with pytest.raises(UnknownPause):
        one.answer({"id": "2", "token": b.token, "message": 1})
    one.answer(ask(a, 1))
    two.answer(ask(b, 2))
    assert (one.wait(a), two.wait(b)) == (1, 2)
    one.close(a)
    two.close(b)
    for hub, p in ((one, a), (two, b)):             # each says "ended" for its own ended pause
        with pytest.raises(StalePause, match="ended"):
            hub.get(p.node_id, p.token)


def test_the_record_of_ended_pauses_stays_bounded(hub):
    first = None
    for i in range(10_000):
        with hub.pausing(str(i % 7), RouteKind(2)) as p:
            first = first or p
    assert len(hub._ended) <= hub.max_ended
    assert hub.pending() == []
    last = p
    with pytest.raises(StalePause):                 # the newest ended pauses are remembered
        hub.get(last.node_id, last.token)
    with pytest.raises(UnknownPause):               # long-forgotten ones are unknown, never answered
        hub.get(first.node_id, first.token)


def test_a_new_pause_of_the_same_node_ends_the_old_one(hub):
    old = hub.open("n", RouteKind(2))
    new = hub.open("n", RouteKind(2))
    with pytest.raises(StalePause):
        hub.wait(old)
    hub.answer(ask(new, 2))
    assert hub.wait(new) == 2
