"""The folder sort's preview thread gives way to the prompt saving the image just decided, while the
page has a few previews in stock, and never when the person is about to run out of them or the
server is behind the person."""
import threading
import time

from gates.comfy import sort_session


class FakeSession:
    def __init__(self, stock, keys_waiting=0):
        self.stock = stock
        self.queue = ["key"] * keys_waiting       # keys the server has not applied yet
        self.idle = threading.Event()            # clear: a prompt is saving

    def ahead(self):
        return [{"file": f"{i}.png"} for i in range(self.stock + 1)]     # the one on screen, then the stock


def waited(session, release_after=None) -> float:
    if release_after is not None:
        threading.Timer(release_after, session.idle.set).start()
    t0 = time.monotonic()
    sort_session._yield_to_the_prompt(session)
    return time.monotonic() - t0


def test_with_stock_the_preview_waits_for_the_saving_prompt_until_its_next_pause():
    assert 0.08 <= waited(FakeSession(sort_session.STOCK_TO_YIELD), release_after=0.1) < 0.25


def test_the_wait_is_bounded_when_no_pause_comes():
    assert waited(FakeSession(10)) < sort_session.YIELD_SECONDS + 0.2


def test_low_stock_keys_waiting_for_the_server_or_an_idle_server_never_wait():
    assert waited(FakeSession(sort_session.STOCK_TO_YIELD - 1)) < 0.05
    assert waited(FakeSession(10, keys_waiting=1)) < 0.05       # the server is behind: previews first
    idle = FakeSession(10)
    idle.idle.set()
    assert waited(idle) < 0.05
