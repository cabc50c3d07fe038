"""Duplicate Review (Folder) on the real server: the planted groups and only them, keepers picked per
group, the others copied byte for byte, undo, stop and a rerun that resumes after the last decided group."""
import hashlib
import os
import uuid

from gates.comfy.sort_session import LOG_SUBFOLDER
from gates.core import dup_log, names
from harness import dups
from harness.graphs import Graph


def sha(path) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def review_graph(folder, out) -> tuple:
    g = Graph()
    node = g.node("DuplicateReview", folder=folder, threshold=8, output=out, depth=0)
    return g.prompt(), node


def test_groups_keepers_byte_for_byte_copies_undo_stop_and_resume(comfy, client):
    uid = uuid.uuid4().hex[:6]
    folder, out = f"dups_{uid}", f"dedup_{uid}"
    src = comfy.folder(f"input/{folder}")
    truth = dups.plant(src)
    before = {n: sha(os.path.join(src, n)) for n in os.listdir(src)}
    reject = comfy.folder(f"output/{out}/reject")
    prompt, node = review_graph(folder, out)

    mark = client.mark()
    pid = client.queue(prompt)
    show = client.wait_gate(node.id, since=mark)
    assert (show["kind"], show["group"], show["groups"], show["count"]) == ("dups", 1, 3, 4)
    assert [it["file"] for it in show["items"]] == truth["groups"][0]
    first = show["items"][0]
    assert (first["width"], first["height"], first["bytes"]) == (dups.W, dups.H, os.path.getsize(f"{src}/g1_a.png"))
    assert first["sharpness"] > show["items"][1]["sharpness"]            # the half-size copy is softer
    assert show["preselected"][0] in (0, 2)                             # one of the two full-size images
    assert show["items"][0]["preview"]["type"] == "temp"
    assert client.answer(show, keep=[])[0] == 400                       # a group keeps at least one image

    mark = client.mark()
    assert client.answer(show, keep=[0])[0] == 200
    show = client.wait_gate(node.id, since=mark)
    assert show["group"] == 2 and [it["file"] for it in show["items"]] == truth["groups"][1]
    assert sorted(os.listdir(reject)) == sorted(truth["groups"][0][1:])

    mark = client.mark()                                                # Undo: group 1 again, its copies gone
    assert client.answer(show, undo=True)[0] == 200
    show = client.wait_gate(node.id, since=mark)
    assert show["group"] == 1 and [it["file"] for it in show["items"]] == truth["groups"][0]
    assert os.listdir(reject) == []

    mark = client.mark()
    assert client.answer(show, keep=[0, 2])[0] == 200                   # two keepers: two rejects
    show = client.wait_gate(node.id, since=mark)
    assert show["group"] == 2
    assert client.answer(show, message=names.CANCEL)[0] == 200          # Stop
    assert client.wait_end(pid, since=mark)["type"] == "execution_interrupted"

    mark = client.mark()                                                # Run again: resumes at group 2
    pid = client.queue(prompt)
    show = client.wait_gate(node.id, since=mark)
    assert show["group"] == 2 and [it["file"] for it in show["items"]] == truth["groups"][1]
    mark = client.mark()
    client.answer(show, keep=[1])
    show = client.wait_gate(node.id, since=mark)
    assert show["group"] == 3 and [it["file"] for it in show["items"]] == truth["groups"][2]
    client.answer(show, keep=[3])
    hist = client.wait_history(pid)
    assert hist["status"]["status_str"] == "success"
    record = hist["outputs"][node.id]["dup_review"][0]
    assert record["groups"] == truth["groups"] and record["decided"] == 3

    g1, g2, g3 = truth["groups"]
    rejected = [g1[1], g1[3], g2[0], g2[2], g2[3], g3[0], g3[1], g3[2]]
    assert sorted(os.listdir(reject)) == sorted(rejected)               # no unrelated image, no keeper
    for name in rejected:
        assert sha(os.path.join(reject, name)) == before[name]          # byte for byte
    assert {n: sha(os.path.join(src, n)) for n in os.listdir(src)} == before       # sources untouched

    log = dup_log.DupLog(src, os.path.join(comfy.folder("output"), LOG_SUBFOLDER))
    assert [e["keep"] for e in log.live()] == [[g1[0], g1[2]], [g2[1]], [g3[3]]]

    mark = client.mark()                                                # all decided: no pause, nothing copied
    pid = client.queue(prompt)
    hist = client.wait_history(pid)
    assert hist["outputs"][node.id]["dup_review"][0]["copied"] == 0
    assert not [e for e in client.events[mark:] if e.get("type") == names.EVENT_SHOW]
