"""The keys of a folder sort, kept in order: what each op does to the queue (pure logic)."""
from gates.core.sort_queue import DECIDE, STOP, UNDO, DecisionQueue


def test_decisions_are_taken_in_order_for_the_file_each_prompt_shows():
    q = DecisionQueue()
    for f, r in (("a", 1), ("b", 2), ("c", 1)):
        q.decide(f, r)
    assert [q.take_for(f).route for f in ("a", "b", "c")] == [1, 2, 1]
    assert q.take_for("d") is None and len(q) == 0


def test_undo_drops_the_newest_queued_decision_else_waits_its_turn():
    q = DecisionQueue()
    q.decide("a", 1)
    q.decide("b", 1)
    assert q.undo().file == "b"                      # still queued: simply dropped
    assert q.queued_files() == {"a"}
    assert q.take_for("a").route == 1
    assert q.undo() is None                          # applied already: an undo op in its turn
    q.decide("a", 2)                                 # the undone image, decided again
    assert q.take_for("x").kind == UNDO               # the head applies whatever the prompt shows
    assert q.take_for("a").route == 2


def test_stop_comes_after_the_decisions_made_before_it():
    q = DecisionQueue()
    q.decide("a", 1)
    q.stop()
    q.decide("b", 1)                                 # after Stop: never taken past it
    assert q.take_for("b") is None
    assert q.take_for("a").kind == DECIDE
    assert q.take_for("b").kind == STOP


def test_a_second_key_for_a_queued_file_replaces_it_and_reroute_changes_the_route():
    q = DecisionQueue()
    q.decide("a", 1, caption="x")
    q.decide("a", 3)
    assert len(q) == 1 and q.decisions()[0].route == 3
    assert q.reroute("a", 2) and not q.reroute("zz", 2)
    assert q.take_for("a").route == 2


def test_stale_decisions_are_dropped():
    q = DecisionQueue()
    q.decide("a", 1)
    q.decide("gone", 1)
    q.drop_stale(lambda f: f != "gone")
    assert q.queued_files() == {"a"}
