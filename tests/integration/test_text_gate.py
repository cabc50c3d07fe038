"""The Text Gate on the real server: the original project's workflows run, Pass, bad texts, protected mode."""
import os
import uuid

import pytest

from gates.core.names import CANCEL, EVENT_DONE, ROUTE_PENDING
from harness.graphs import Graph, noise_image


@pytest.fixture(scope="module")
def image(comfy):
    return noise_image(comfy.folder("input"), 40, 30, seed=31)


def original_workflow(image, text="a photo of a cat", tag=None, **gate_inputs):
    """The shape of the original project's workflows: a String into `text`, an image through `signal`
    into a saver, the gate's text into the saver's caption. Only the original's inputs are set."""
    tag = tag or "tg" + uuid.uuid4().hex[:6]
    g = Graph()
    src = g.node("PrimitiveString", node_id=f"{tag}_s", value=text)
    load = g.node("LoadImage", node_id=f"{tag}_l", image=image)
    gate = g.node("TextGate", node_id=f"{tag}_g", text=src.out(0), signal=load.out(0),
                  **{"protected": False, "stored_text": "", **gate_inputs})
    # `signal` goes on through another node before the saver
    scaled = g.node("ImageScaleBy", node_id=f"{tag}_x", image=gate.out(1), upscale_method="nearest-exact",
                    scale_by=1.0)
    g.node("SaveImageToFolder", node_id=f"{tag}_o", image=scaled.out(0), folder=f"text_{tag}", filename="pic",
           format="png", on_conflict="overwrite", caption=gate.out(0))
    return g, gate, f"text_{tag}"


def out_files(comfy, folder):
    d = comfy.folder(f"output/{folder}")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def caption_of(comfy, folder):
    with open(comfy.folder(f"output/{folder}/pic.txt"), encoding="utf-8") as f:
        return f.read()


def test_an_original_format_workflow_pauses_and_pass_sends_the_edited_text(comfy, client, image):
    g, gate, out = original_workflow(image)
    mark = client.mark()
    pid = client.queue(g.prompt())
    show = client.wait_gate(gate.id, since=mark)
    assert show["kind"] == "text" and show["text"] == "a photo of a cat" and "previews" not in show
    assert [p["kind"] for p in client.get(ROUTE_PENDING)[1]["pending"]] == ["text"]
    assert client.answer(show, text="a photo of a grey cat\nindoors") == (200, {"ok": True,
                                                                           "taken": "a photo of a grey cat\nindoors"})
    done = client.wait_for(lambda e: e.get("type") == EVENT_DONE, since=mark)["data"]
    assert (done["outcome"], done["passed"]) == ("answered", True)
    assert client.wait_end(pid, since=mark)["type"] == "execution_success"
    assert out_files(comfy, out) == ["pic.png", "pic.txt"]           # the signal (the image) came through
    assert caption_of(comfy, out) == "a photo of a grey cat\nindoors"
    assert client.wait_history(pid)["outputs"][gate.id]["text_gate"] == [{"how": "passed", "changed": True}]


def test_bad_texts_get_4xx_and_the_pause_still_answers(comfy, client, image):
    g, gate, out = original_workflow(image)
    pid = client.queue(g.prompt())
    show = client.wait_gate(gate.id)
    for body in [{}, {"message": 1}, {"text": 5}, {"text": None}, {"text": ["a"]}, {"text": "y" * (64 * 1024 + 1)},
                 {"text": "a\ud800"}]:
        status, data = client.answer(show, **body)
        assert status == 400, (str(body)[:60], status, data)
        assert data.get("error")
    assert [p["token"] for p in client.pending()] == [show["token"]]
    assert client.answer(show, text="fixed")[0] == 200
    assert client.wait_end(pid)["type"] == "execution_success"
    assert caption_of(comfy, out) == "fixed"


def test_stop_and_comfyui_cancel_end_the_run(comfy, client, image):
    g, gate, out = original_workflow(image)
    pid = client.queue(g.prompt())
    show = client.wait_gate(gate.id)
    assert client.answer(show, message=CANCEL)[0] == 200
    assert client.wait_end(pid)["type"] == "execution_interrupted"
    g, gate, out = original_workflow(image)
    mark = client.mark()
    pid = client.queue(g.prompt())
    client.wait_gate(gate.id, since=mark)
    client.post("/interrupt", {})
    assert client.wait_end(pid, since=mark, timeout=5)["type"] == "execution_interrupted"
    assert out_files(comfy, out) == [] and client.pending() == []


def test_protected_never_pauses_outputs_the_stored_text_and_is_cached(comfy, client, image):
    tag = "tp" + uuid.uuid4().hex[:6]
    g, gate, out = original_workflow(image, tag=tag, protected=True, stored_text="my own words")
    mark = client.mark()
    pid = client.queue(g.prompt())
    assert client.wait_end(pid, since=mark, timeout=30)["type"] == "execution_success"
    assert not [e for e in client.events[mark:] if e.get("type") == EVENT_DONE]      # no pause at all
    assert caption_of(comfy, out) == "my own words"
    # the same prompt again: the protected gate is cached like a plain text node
    mark = client.mark()
    pid = client.queue(g.prompt())
    assert client.wait_end(pid, since=mark)["type"] == "execution_success"
    cached = client.wait_event("execution_cached", prompt_id=pid, since=mark)["data"]["nodes"]
    assert gate.id in cached
    # a new stored text runs it again
    g.nodes[gate.id].set(stored_text="changed words")
    mark = client.mark()
    pid = client.queue(g.prompt())
    assert client.wait_end(pid, since=mark)["type"] == "execution_success"
    assert gate.id not in client.wait_event("execution_cached", prompt_id=pid, since=mark)["data"]["nodes"]
    assert client.wait_history(pid)["outputs"][gate.id]["text_gate"] == [{"how": "protected", "changed": False}]


def test_the_image_shows_beside_the_text_and_a_timeout_passes_it_unchanged_or_stops(comfy, client, image):
    big = noise_image(comfy.folder("input"), 1000, 500, seed=32)
    g, gate, out = original_workflow(image, text="kept as is", timeout_seconds=1, on_timeout="pass unchanged")
    load2 = g.node("LoadImage", image=big)
    g.nodes[gate.id].set(image=load2.out(0))
    mark = client.mark()
    pid = client.queue(g.prompt())
    show = client.wait_gate(gate.id, since=mark)
    assert (show["width"], show["height"], show["batch"]) == (1000, 500, 1)
    assert [(r["width"], r["height"]) for r in show["previews"]] == [(768, 384)]
    assert show["timeout"] == 1
    assert client.wait_end(pid, since=mark, timeout=10)["type"] == "execution_success"
    assert caption_of(comfy, out) == "kept as is"
    assert client.wait_history(pid)["outputs"][gate.id]["text_gate"] == [{"how": "timeout-passed",
                                                                          "changed": False}]
    g, gate, out = original_workflow(image, timeout_seconds=1, on_timeout="stop")
    mark = client.mark()
    pid = client.queue(g.prompt())
    assert client.wait_end(pid, since=mark, timeout=10)["type"] == "execution_interrupted"
    assert out_files(comfy, out) == []
