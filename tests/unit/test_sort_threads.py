"""The folder sort's preview thread gives way to the prompt saving the image just decided, while the
page has a few previews in stock, and never when the person is about to run out of them or the
server is behind the person."""
import os
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


# ---- the decode ahead and the loader never decode one file twice ----

class DecodeSession:
    """What the decode thread and ``take_prefetched`` use of a sort session."""

    def __init__(self, folder, files):
        self.folder, self.digest_ahead = str(folder), False
        self.decoding, self.decoding_now, self.prefetched = set(files), None, {}
        self.preparing = set()
        self.changed = threading.Condition(sort_session._lock)
        self.log = type("Log", (), {"is_decided": staticmethod(lambda rel: False)})()


def slow_decodes(monkeypatch, seconds):
    from gates.nodes import loader

    calls, real = [], loader.decode_compact

    def decode(im):
        calls.append(threading.current_thread().name)
        time.sleep(seconds)
        return real(im)
    monkeypatch.setattr(loader, "decode_compact", decode)
    return calls


def images(tmp_path, *names):
    from PIL import Image

    for n in names:
        Image.new("RGB", (64, 48), (10, 200, 30)).save(tmp_path / n)
    return tmp_path


def test_the_loader_waits_for_a_decode_under_way_and_takes_its_pixels(tmp_path, monkeypatch):
    calls = slow_decodes(monkeypatch, 0.3)
    session = DecodeSession(images(tmp_path, "a.png"), ["a.png"])
    worker = threading.Thread(target=sort_session._decode_ahead, args=(session, ["a.png"]), name="decode")
    worker.start()
    deadline = time.monotonic() + 5
    while session.decoding_now != "a.png" and time.monotonic() < deadline:
        time.sleep(0.005)
    arrays, fingerprint, _ = sort_session.take_prefetched(session, "a.png")
    worker.join(5)
    assert arrays is not None and arrays[0].shape == (48, 64, 3) and arrays[0].dtype.name == "float32"
    assert fingerprint is not None and calls == ["decode"]          # decoded once, by the decode thread


def test_a_decode_not_started_is_taken_over_by_the_loader_and_skipped_by_the_thread(tmp_path, monkeypatch):
    calls = slow_decodes(monkeypatch, 0)
    session = DecodeSession(images(tmp_path, "a.png", "b.png"), ["a.png", "b.png"])
    assert sort_session.take_prefetched(session, "b.png") == (None, None, None)   # the loader decodes b
    sort_session._decode_ahead(session, ["a.png", "b.png"])
    assert len(calls) == 1 and set(session.prefetched) == {"a.png"} and not session.decoding


def test_the_decode_waits_for_previews_only_while_the_page_is_short_of_them():
    class Short(DecodeSession):
        def __init__(self, stock):
            super().__init__(".", ["x.png"])
            self.preparing, self.stock = {"next.png"}, stock

        def ahead(self):
            return [{}] * (self.stock + 1)

    full = Short(sort_session.STOCK_TO_YIELD)
    t0 = time.monotonic()
    sort_session._previews_first(full, "x.png")
    assert time.monotonic() - t0 < 0.5                             # a stock: the decode goes at once (else 2 s)

    short = Short(0)

    def preview_lands():
        with sort_session._lock:
            short.preparing.clear()
            short.changed.notify_all()
    threading.Timer(0.15, preview_lands).start()
    t0 = time.monotonic()
    sort_session._previews_first(short, "x.png")
    assert 0.1 <= time.monotonic() - t0 < 1.0                      # woken by the preview, not by the bound
    t0 = time.monotonic()
    sort_session._previews_first(Short(0), "x.png", longest=0.2)
    assert 0.15 <= time.monotonic() - t0 < 0.6                     # bounded when no preview comes

    taken = Short(0)                                               # the loader takes the file over: no wait
    threading.Timer(0.1, sort_session.take_prefetched, args=(taken, "x.png")).start()
    t0 = time.monotonic()
    sort_session._previews_first(taken, "x.png")
    assert 0.05 <= time.monotonic() - t0 < 1.0


def test_pixels_decoded_ahead_of_a_file_changed_since_are_not_used(tmp_path, monkeypatch):
    slow_decodes(monkeypatch, 0)
    session = DecodeSession(images(tmp_path, "a.png", "b.png"), ["a.png", "b.png"])
    sort_session._decode_ahead(session, ["a.png", "b.png"])
    assert set(session.prefetched) == {"a.png", "b.png"}
    from PIL import Image

    Image.new("RGB", (64, 48), (250, 0, 0)).save(tmp_path / "b.png")    # edited after its decode (a Stop, a Run)
    assert sort_session.take_prefetched(session, "a.png")[0] is not None
    assert sort_session.take_prefetched(session, "b.png") == (None, None, None)


def test_a_keyed_image_keeps_its_preview_until_its_decision_is_made(tmp_path, monkeypatch):
    """The strip's thumbnail of a keyed image is made from its preview, which must still be there when the
    page asks (at the key), however far behind the server is; a decided image's preview goes."""
    monkeypatch.setattr(sort_session, "comfy_folder", lambda kind: str(tmp_path / kind))
    monkeypatch.setattr(sort_session, "_send_ahead", lambda *a, **k: None)
    monkeypatch.setattr(sort_session, "_pool", lambda name: type("P", (), {"submit": lambda *a, **k: None})())
    (tmp_path / "ds").mkdir()
    folder = images(tmp_path / "ds", *[f"{i:02d}.png" for i in range(20)])
    session = sort_session.Session(str(folder), 0)
    session.listing()
    for rel in session.files[:12]:
        path = tmp_path / f"{rel}.preview.jpg"
        path.write_bytes(b"jpeg")
        session.previews[rel] = {"path": str(path), "ref": {}, "caption": "", "width": 64, "height": 48}
    session.current = {"file": session.files[0]}
    for rel in session.files[1:4]:                 # three keys the server has not reached yet
        session.queue.decide(rel, 1)
    sort_session.prefetch_next(session)
    assert set(session.files[:12]) <= set(session.previews)        # keyed, on screen and ahead: all kept
    session.queue.take_for(session.files[1])                        # its prompt takes the key: decided
    fingerprint = sort_session.sort_log.fingerprint(os.path.join(session.folder, session.files[1]))
    session.log.record(session.files[1], fingerprint, 1, "keep", [], False, False)
    sort_session.prefetch_next(session)
    assert session.files[1] not in session.previews
    assert not os.path.exists(tmp_path / f"{session.files[1]}.preview.jpg")
    assert set(session.files[2:4]) <= set(session.previews)


def test_a_sort_counts_as_running_while_its_next_prompt_is_on_its_way_to_the_queue(tmp_path, monkeypatch):
    """After an Undo's prompt ends, the next one is validated on the server's loop before it is on
    ComfyUI's queue; a Stop in that gap found 'nothing running' and dropped the keys still queued."""
    import sys
    import types

    comfy_queue = {"running": [], "queued": []}
    fake = types.SimpleNamespace(get_current_queue=lambda: (comfy_queue["running"], comfy_queue["queued"]))
    server = types.ModuleType("server")
    server.PromptServer = types.SimpleNamespace(instance=types.SimpleNamespace(prompt_queue=fake, client_id=None))
    monkeypatch.setitem(sys.modules, "server", server)
    monkeypatch.setattr(sort_session, "comfy_folder", lambda kind: str(tmp_path / kind))
    (tmp_path / "ds").mkdir()
    session = sort_session.Session(str(images(tmp_path / "ds", "a.png")), 0)
    session.prompt = {"1": {"class_type": "FolderImageLoader", "inputs": {"mode": "sort"}}}
    seen = []

    def queue_prompt(prompt, extra, client_id):
        seen.append(sort_session.is_running(session))          # still being validated: running
        comfy_queue["queued"].append((1, "pid", prompt))
    from gates.comfy import prompt_queue
    monkeypatch.setattr(prompt_queue, "queue_prompt", queue_prompt)
    monkeypatch.setattr(sort_session, "_pool", lambda name: types.SimpleNamespace(
        submit=lambda fn, *a: (seen.append(sort_session.is_running(session)), fn(*a))))
    assert not sort_session.is_running(session)
    sort_session.queue_again(session)
    assert seen == [True, True] and session.queueing == 0
    assert sort_session.is_running(session)                      # now on ComfyUI's queue
    comfy_queue["queued"].clear()
    assert not sort_session.is_running(session)
