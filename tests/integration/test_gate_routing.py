"""The gate on the real server: exact routing, Stop, Cancel, re-runs, two gates."""
import time

import pytest

from gates.core.names import ROUTE_CHOICE, ROUTE_PENDING
from harness.graphs import gate_graph, noise_image, saved


@pytest.fixture(scope="module")
def image(comfy):
    return noise_image(comfy.folder("input"), 64, 48)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_answering_route_k_runs_only_route_k_and_the_mask_branch(comfy, client, image, k):
    gg = gate_graph(image, routes=3, labels="keep,reject,fix")
    prompt, prefix = gg
    pid = client.queue(prompt)
    show = client.wait_gate(gg.gate.id)
    assert show["labels"] == ["keep", "reject", "fix"] and show["routes"] == 3
    assert client.choose(show, k) == (200, {"ok": True, "taken": k})
    end = client.wait_end(pid)
    assert end["type"] == "execution_success"
    files = saved(comfy.folder("output"), prefix)
    assert [f.split("_")[1] for f in files] == sorted(["mask", f"route{k}"])
    hist = client.wait_history(pid)
    assert hist["outputs"][gg.gate.id]["gate_decision"] == [{"route": k, "label": ["keep", "reject", "fix"][k - 1],
                                                     "how": "routed"}]
    saved_nodes = {n for n, o in hist["outputs"].items() if o.get("images")}
    assert saved_nodes == {gg.savers[k].id, gg.mask_saver.id}


def test_stop_interrupts_and_saves_nothing_downstream(comfy, client, image):
    prompt, prefix = gate_graph(image)
    pid = client.queue(prompt)
    show = client.wait_gate()
    assert client.choose(show, "__cancel__")[0] == 200
    assert client.wait_end(pid)["type"] == "execution_interrupted"
    assert saved(comfy.folder("output"), prefix) == []
    assert client.get(ROUTE_PENDING)[1] == {"pending": []}


@pytest.mark.parametrize("with_prompt_id", [False, True])
def test_comfyui_interrupt_ends_a_waiting_gate_and_the_next_prompt_routes(comfy, client, image, with_prompt_id):
    prompt, prefix = gate_graph(image)
    pid = client.queue(prompt)
    show = client.wait_gate()
    prompt2, prefix2 = gate_graph(image)
    pid2 = client.queue(prompt2)                      # queued behind the paused one
    mark = client.mark()
    t0 = time.perf_counter()
    client.post("/interrupt", {"prompt_id": pid} if with_prompt_id else {})
    end = client.wait_end(pid, timeout=5)
    took = end["_t"] - t0
    assert end["type"] == "execution_interrupted"
    assert took < 0.5, f"interrupt took {took:.3f}s"
    show2 = client.wait_gate(since=mark)                      # the next prompt pauses (no stale cancel)
    assert show2["token"] != show["token"] and show2["prompt_id"] == pid2
    time.sleep(0.3)
    assert client.get(ROUTE_PENDING)[1]["pending"][0]["token"] == show2["token"]  # still waiting
    assert client.choose(show, 1)[0] == 409           # the old token cannot answer it
    assert client.choose(show2, 2)[0] == 200
    assert client.wait_end(pid2)["type"] == "execution_success"
    assert [f.split("_")[1] for f in saved(comfy.folder("output"), prefix2)] == ["mask", "route2"]
    assert saved(comfy.folder("output"), prefix) == []


def test_the_same_prompt_pauses_every_time(comfy, client, image):
    prompt, prefix = gate_graph(image)
    for _ in range(2):
        mark = client.mark()
        pid = client.queue(prompt)
        show = client.wait_gate(since=mark)
        client.choose(show, 1)
        assert client.wait_end(pid, since=mark)["type"] == "execution_success"
    assert len([f for f in saved(comfy.folder("output"), prefix) if "_route1_" in f]) == 2


def test_two_gates_pause_in_turn_and_answers_do_not_cross(comfy, client, image):
    gg = gate_graph(image, routes=2)
    prefix = gg.prefix
    # a second gate on route 1 of the first
    gate2 = gg.graph.node("ImageGate", image=gg.gate.out(1), routes=2, labels="a,b")
    gg.graph.node("SaveImage", images=gate2.out(2), filename_prefix=f"{prefix}_second")
    pid = client.queue(gg.prompt())
    first = client.wait_gate(gg.gate.id)
    assert [p["id"] for p in client.get(ROUTE_PENDING)[1]["pending"]] == [gg.gate.id]
    # an answer for the second gate while only the first waits changes nothing
    assert client.post(ROUTE_CHOICE, {"id": gate2.id, "token": first["token"], "message": 1})[0] == 404
    client.choose(first, 1)
    second = client.wait_gate(gate2.id)  # only the first gate's event came before
    assert second["token"] != first["token"]
    assert client.choose(first, 2)[0] == 409          # stale token of the first pause
    assert client.get(ROUTE_PENDING)[1]["pending"][0]["id"] == gate2.id
    client.choose(second, 2)
    assert client.wait_end(pid)["type"] == "execution_success"
    names = saved(comfy.folder("output"), prefix)
    assert any("_second_" in f for f in names) and any("_route1_" in f for f in names)
    assert not any("_route2_" in f for f in names)


def test_timeout_with_a_route_action_routes_and_with_stop_interrupts(comfy, client, image):
    gg = gate_graph(image, timeout=1, on_timeout="route 2")
    pid = client.queue(gg.prompt())
    show = client.wait_gate()
    assert show["timeout"] == 1 and show["deadline"] > show["started_at"]
    assert client.wait_end(pid, timeout=10)["type"] == "execution_success"
    assert client.wait_history(pid)["outputs"][gg.gate.id]["gate_decision"][0]["route"] == 2
    prompt, prefix = gate_graph(image, timeout=1, on_timeout="stop")
    pid = client.queue(prompt)
    assert client.wait_end(pid, timeout=10)["type"] == "execution_interrupted"
    assert saved(comfy.folder("output"), prefix) == []
