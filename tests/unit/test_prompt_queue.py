"""gates.comfy.prompt_queue against stand-ins of ComfyUI's server and execution modules: the shapes of
older ComfyUIs (sync validate_prompt, fewer arguments, 5-field queue items) that no backend here
runs, the event loop's thread, timeouts; and no HTTP client left in gates/."""
import asyncio
import os
import re
import sys
import threading
import time
import types
import uuid

import pytest

from gates.comfy import prompt_queue
from gates.comfy.prompt_queue import QueueError, queue_prompt

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROMPT = {"1": {"class_type": "LoadImage", "inputs": {"image": "a.png"}, "_meta": {"title": "Load"}}}


class Queue:
    def __init__(self):
        self.items = []

    def put(self, item):
        self.items.append(item)


class Server:
    def __init__(self, loop):
        self.loop, self.number, self.prompt_queue = loop, 5, Queue()
        self.handled = []

    def trigger_on_prompt(self, json_data):
        self.handled.append(json_data)
        return json_data


def valid_async(calls):
    async def validate_prompt(prompt_id, prompt, partial_execution_list):
        calls.append((prompt_id, prompt, partial_execution_list))
        return True, None, ["1"], {}
    return validate_prompt


@pytest.fixture
def loop():
    lp = asyncio.new_event_loop()
    t = threading.Thread(target=lp.run_forever, daemon=True)
    t.start()
    yield lp
    lp.call_soon_threadsafe(lp.stop)
    t.join(5)
    lp.close()


@pytest.fixture
def comfy(monkeypatch, loop):
    """Fake ``server`` and ``execution`` modules; returns (server instance, execution module, validate calls)."""
    srv = Server(loop)
    calls = []
    server_mod = types.ModuleType("server")
    server_mod.PromptServer = types.SimpleNamespace(instance=srv)
    execution = types.ModuleType("execution")
    execution.validate_prompt = valid_async(calls)
    execution.SENSITIVE_EXTRA_DATA_KEYS = ("api_key_comfy_org",)
    monkeypatch.setitem(sys.modules, "server", server_mod)
    monkeypatch.setitem(sys.modules, "execution", execution)
    return srv, execution, calls


def test_queues_what_post_prompt_queues(comfy):
    srv, _, calls = comfy
    extra = {"extra_pnginfo": {"workflow": {"id": "w"}}, "api_key_comfy_org": "secret"}
    pid = queue_prompt(PROMPT, extra, "client-1")
    assert str(uuid.UUID(pid)) == pid
    (number, qid, prompt, extra_data, outputs, sensitive), = srv.prompt_queue.items
    assert (number, qid, prompt, outputs) == (5, pid, PROMPT, ["1"]) and srv.number == 6
    assert calls == [(pid, PROMPT, None)]
    assert sensitive == {"api_key_comfy_org": "secret"} and "api_key_comfy_org" not in extra_data
    assert extra_data["client_id"] == "client-1" and isinstance(extra_data["create_time"], int)
    assert extra_data["extra_pnginfo"] == {"workflow": {"id": "w"}}
    assert srv.handled and srv.handled[0]["client_id"] == "client-1"       # extensions' on_prompt handlers
    prompt["1"]["inputs"]["image"] = "changed.png"                          # a copy, like a request body
    assert PROMPT["1"]["inputs"]["image"] == "a.png" and extra == {
        "extra_pnginfo": {"workflow": {"id": "w"}}, "api_key_comfy_org": "secret"}


def test_no_client_id_leaves_it_out_and_targets_reach_validation(comfy):
    srv, _, calls = comfy
    queue_prompt(PROMPT, None, None, partial_execution_targets=["1"])
    assert "client_id" not in srv.prompt_queue.items[0][3] and calls[0][2] == ["1"]


def test_an_older_comfyui_sync_validate_with_one_argument_and_five_field_items(comfy):
    srv, execution, _ = comfy
    seen = []

    def validate_prompt(prompt):                 # sync, before prompt ids reached validation
        seen.append(asyncio.get_running_loop())     # on the server's loop, like the handler's
        return True, None, ["1"], {}

    execution.validate_prompt = validate_prompt
    del execution.SENSITIVE_EXTRA_DATA_KEYS
    pid = queue_prompt(PROMPT, {}, "c")
    assert len(srv.prompt_queue.items[0]) == 5 and srv.prompt_queue.items[0][1] == pid
    assert seen == [srv.loop]


def test_two_arguments_and_node_replacements_when_the_server_has_them(comfy):
    srv, execution, _ = comfy
    got = []

    def validate_prompt(prompt_id, prompt):
        got.append(prompt_id)
        return True, None, ["1"], {}

    execution.validate_prompt = validate_prompt
    srv.node_replace_manager = types.SimpleNamespace(
        apply_replacements=lambda p: p["1"].__setitem__("class_type", "LoadImageNew"))
    pid = queue_prompt(PROMPT, {}, "c")
    assert got == [pid] and srv.prompt_queue.items[0][2]["1"]["class_type"] == "LoadImageNew"


def test_an_invalid_prompt_is_not_queued_and_the_error_names_the_node(comfy):
    srv, execution, _ = comfy

    async def validate_prompt(prompt_id, prompt, partial):
        return (False, {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation",
                        "details": "", "extra_info": {}}, [],
                {"2": {"errors": [{"type": "required_input_missing", "message": "Required input is missing",
                                   "details": "image"}], "class_type": "ImageGate", "dependent_outputs": []}})

    execution.validate_prompt = validate_prompt
    with pytest.raises(QueueError, match=r"invalid: Prompt outputs failed validation; "
                                         r"node 2 \(ImageGate\): Required input is missing \(image\)"):
        queue_prompt(PROMPT, {}, "c")
    assert srv.prompt_queue.items == [] and srv.number == 6     # the handler counts it too


def test_a_busy_loop_times_out_cleanly_and_the_prompt_is_never_queued_later(comfy):
    srv, _, _ = comfy
    release = threading.Event()
    srv.loop.call_soon_threadsafe(lambda: release.wait(5))      # the loop is stuck elsewhere
    t0 = time.monotonic()
    with pytest.raises(QueueError, match="did not validate the prompt within"):
        queue_prompt(PROMPT, {}, "c", timeout=0.3)
    assert time.monotonic() - t0 < 2
    release.set()
    time.sleep(0.3)
    assert srv.prompt_queue.items == []


def test_a_slow_validation_past_the_timeout_is_abandoned(comfy):
    srv, execution, _ = comfy

    async def validate_prompt(prompt_id, prompt, partial):
        await asyncio.sleep(0.6)
        return True, None, ["1"], {}

    execution.validate_prompt = validate_prompt
    with pytest.raises(QueueError):
        queue_prompt(PROMPT, {}, "c", timeout=0.2)
    time.sleep(0.8)
    assert srv.prompt_queue.items == []


@pytest.mark.filterwarnings("ignore:coroutine '_queue' was never awaited")   # the idle loop never starts it
def test_a_stopped_loop_times_out_and_a_closed_or_missing_one_fails_at_once(comfy):
    srv, _, _ = comfy
    idle = asyncio.new_event_loop()                              # never runs
    srv.loop = idle
    with pytest.raises(QueueError, match="within"):
        queue_prompt(PROMPT, {}, "c", timeout=0.2)
    idle.close()
    for loop in (idle, None):
        srv.loop = loop
        t0 = time.monotonic()
        with pytest.raises(QueueError, match="not running"):
            queue_prompt(PROMPT, {}, "c", timeout=5)
        assert time.monotonic() - t0 < 1
    assert srv.prompt_queue.items == []


def test_on_the_loops_own_thread_it_does_not_wait_for_itself(comfy, caplog):
    srv, execution, _ = comfy
    out = {}

    def on_loop():
        t0 = time.monotonic()
        out["ret"] = queue_prompt(PROMPT, {}, "c", timeout=5)
        out["took"] = time.monotonic() - t0

    srv.loop.call_soon_threadsafe(on_loop)
    deadline = time.monotonic() + 5
    while not srv.prompt_queue.items and time.monotonic() < deadline:
        time.sleep(0.02)
    assert out == {"ret": None, "took": pytest.approx(0, abs=0.5)} and len(srv.prompt_queue.items) == 1

    async def invalid(prompt_id, prompt, partial):
        return False, {"message": "bad"}, [], {}

    execution.validate_prompt = invalid
    with caplog.at_level("WARNING", logger=prompt_queue.log.name):
        srv.loop.call_soon_threadsafe(on_loop)
        deadline = time.monotonic() + 5
        while "bad" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.02)
    assert "could not queue a prompt: the prompt is invalid: bad" in caplog.text


def test_from_a_thread_running_its_own_loop_like_comfyuis_prompt_worker(comfy):
    """ComfyUI runs nodes inside asyncio.run on the worker thread: another loop than the server's."""
    srv, _, calls = comfy

    async def node():
        return queue_prompt(PROMPT, {}, "c", timeout=5)

    out = []
    t = threading.Thread(target=lambda: out.append(asyncio.run(node())))
    t.start()
    t.join(10)
    assert out == [calls[0][0]] and len(srv.prompt_queue.items) == 1


def test_gates_makes_no_http_requests():
    """Second guard beside the TLS test: nothing in gates/ opens an HTTP connection of its own."""
    client = re.compile(r"\burllib\.request\b|\burlopen\b|\bhttp\.client\b|\bimport requests\b|"
                        r"\bhttpx\b|ClientSession|\bsocket\.(create_connection|socket)\b")
    found = []
    folder = os.path.join(REPO, "gates")
    for name in sorted(os.listdir(folder)):
        if name.endswith(".py"):
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                found += [f"{name}:{i}: {ln.strip()}" for i, ln in enumerate(f, 1) if client.search(ln)]
    assert found == []
