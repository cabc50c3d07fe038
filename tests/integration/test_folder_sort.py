"""One Run sorts a whole folder: continuous pauses, progress, undo, resume, the decision log, crashes."""
import json
import os
import shutil
import signal
import time
import uuid
from contextlib import closing

import numpy as np
import pytest
from PIL import Image

from gates.comfy.sort_session import LOG_SUBFOLDER, UNDO
from gates.core import names, sort_log
from harness.comfy import REPO, Client, ComfyServer
from harness.graphs import SortGraph, noise_image

SAMPLE = os.path.join(REPO, "example_data", "sample_dataset")
ORDER = ["cat_01.png", "cat_02.jpg", "cat_10.webp", "dog_1.png", "dog_2.jpg", "dog_11.bmp", "logo_alpha.png",
         "plant_3.webp"]                                       # natural order of the sample dataset


def new_dataset(comfy, src=SAMPLE):
    uid = uuid.uuid4().hex[:6]
    shutil.copytree(src, comfy.folder(f"input/sort_{uid}"))
    return f"sort_{uid}", f"sorted_{uid}"


def log_of(comfy, folder):
    path = os.path.join(comfy.folder("output"), LOG_SUBFOLDER, sort_log.log_name(comfy.folder(f"input/{folder}")))
    return path, sort_log.read(path)


def live(entries) -> list:
    """(file, route) of a log's live decisions, in decision order."""
    out = {}
    for e in entries:
        if e["type"] == "decision":
            out.pop(e["file"], None)
            out[e["file"]] = e["route"]
        elif e["type"] == "undo":
            out.pop(e["file"], None)
    return list(out.items())


def pending_file(client):
    """The file the waiting sort pause shows (None when nothing waits, or its show is still on its way:
    a pause is listed a moment before its show data is)."""
    pending = client.pending()
    return (pending[0].get("sort") or {}).get("file") if pending else None


def next_show(client, mark, timeout=60):
    return client.wait_gate(since=mark, timeout=timeout)


def test_one_run_sorts_the_folder_with_progress_and_stops_at_the_end(comfy, client):
    folder, out = new_dataset(comfy)
    g = SortGraph(folder, out)
    mark = client.mark()
    client.queue(g.prompt())                                  # the only Run
    routes = [1, 2, 3, 1, 1, 2, 3, 1]
    for i, route in enumerate(routes):
        show = next_show(client, mark)
        assert show["kind"] == "sort"
        assert (show["sort"]["index"], show["sort"]["count"], show["sort"]["file"]) == (i + 1, 8, ORDER[i])
        mark = client.mark()
        assert client.choose(show, route) == (200, {"ok": True, "taken": route})
    done = client.wait_for(lambda e: e.get("type") == names.EVENT_SORT and e["data"]["state"] == "done",
                           since=mark, timeout=60)["data"]
    assert done["counts"] == {"keep": 4, "reject": 2, "fix": 2} and "Folder done" in done["message"]
    time.sleep(1.0)
    q = client.get("/queue")[1]
    assert not q["queue_running"] and not q["queue_pending"]   # nothing queued any more
    got = {r: sorted(f for f in os.listdir(comfy.folder(f"output/{out}/{r}")) if not f.endswith(".txt"))
           for r in ("keep", "reject", "fix")}
    assert got == {"keep": ["cat_01.png", "dog_1.png", "dog_2.png", "plant_3.png"],
                   "reject": ["cat_02.png", "dog_11.png"], "fix": ["cat_10.png", "logo_alpha.png"]}
    path, entries = log_of(comfy, folder)
    decisions = [e for e in entries if e["type"] == "decision"]
    assert [e["file"] for e in decisions] == ORDER and [e["route"] for e in decisions] == routes
    assert entries[0]["type"] == "sort" and entries[0]["folder"] == comfy.folder(f"input/{folder}")
    for e in decisions:
        assert e["files"] and all(os.path.isfile(p) for p in e["files"])
        assert e["fingerprint"] == sort_log.fingerprint(comfy.folder(f"input/{folder}/{e['file']}"))
    assert "cat_01.png" in sort_log.to_csv(path)


def test_undo_brings_the_last_image_back_and_moves_its_files_out(comfy, client):
    folder, out = new_dataset(comfy)
    mark = client.mark()
    client.queue(SortGraph(folder, out).prompt())
    for route in (1, 2, 1):
        show = next_show(client, mark)
        mark = client.mark()
        client.choose(show, route)
    show = next_show(client, mark)
    assert show["sort"]["file"] == ORDER[3] and show["sort"]["undo"] == 3
    target = comfy.folder(f"output/{out}/keep/cat_10.png")
    assert os.path.isfile(target)
    mark = client.mark()
    assert client.choose(show, UNDO)[0] == 200
    show = next_show(client, mark)
    assert show["sort"]["file"] == ORDER[2] and show["sort"]["index"] == 3
    assert not os.path.exists(target) and not os.path.exists(target[:-4] + ".txt")
    _, entries = log_of(comfy, folder)
    undo = [e for e in entries if e["type"] == "undo"]
    assert [e["file"] for e in undo] == [ORDER[2]] and all(os.path.isfile(p) for p in undo[0]["moved"])
    for _ in range(2):                                         # undo twice more, in order
        mark = client.mark()
        client.choose(show, UNDO)
        show = next_show(client, mark)
    assert show["sort"]["file"] == ORDER[0] and show["sort"]["undo"] == 0
    assert client.choose(show, UNDO)[0] == 400                 # nothing left to undo: the pause stays answerable
    mark = client.mark()
    assert client.choose(show, names.CANCEL)[0] == 200         # Stop ends the sort
    end = client.wait_for(lambda e: e.get("type") == "execution_interrupted", since=mark, timeout=30)
    assert end
    time.sleep(0.8)
    assert client.pending() == [] and not client.get("/queue")[1]["queue_pending"]


def test_run_again_resumes_at_the_first_undecided_and_a_replaced_file_is_asked_again(comfy, client):
    folder, out = new_dataset(comfy)
    g = SortGraph(folder, out)
    mark = client.mark()
    client.queue(g.prompt())
    for route in (1, 1, 2):
        show = next_show(client, mark)
        mark = client.mark()
        client.choose(show, route)
    show = next_show(client, mark)
    mark = client.mark()
    client.choose(show, names.CANCEL)                          # stopped at image 4
    client.wait_for(lambda e: e.get("type") == "execution_interrupted", since=mark, timeout=30)
    src = comfy.folder(f"input/{folder}/{ORDER[1]}")
    time.sleep(0.05)
    Image.new("RGB", (40, 30), (9, 9, 9)).save(src, "JPEG")   # image 2 replaced after its decision
    mark = client.mark()
    client.queue(g.prompt())                                   # Run again
    show = next_show(client, mark)
    assert show["sort"]["file"] == ORDER[1] and (show["width"], show["height"]) == (40, 30)
    mark = client.mark()
    client.choose(show, 3)
    show = next_show(client, mark)
    assert show["sort"]["file"] == ORDER[3]                    # 1 and 3 stay decided
    client.reset()


def test_empty_missing_and_finished_folders_end_with_a_clear_message_and_write_nothing(comfy, client):
    os.makedirs(comfy.folder("input/sort_empty"), exist_ok=True)
    cases = {"sort_empty": "no images", "sort_missing_folder": "folder not found"}
    for folder, words in cases.items():
        mark = client.mark()
        pid = client.queue(SortGraph(folder, "sorted_none").prompt())
        end = client.wait_end(pid, since=mark)
        assert end["type"] == "execution_error" and words in end["data"]["exception_message"]
        told = client.wait_for(lambda e: e.get("type") == names.EVENT_SORT, since=mark, timeout=10)["data"]
        assert words in told["message"]
    folder, out = new_dataset(comfy)
    mark = client.mark()
    client.queue(SortGraph(folder, out).prompt())
    for _ in ORDER:
        show = next_show(client, mark)
        mark = client.mark()
        client.choose(show, 2)
    client.wait_for(lambda e: e.get("type") == names.EVENT_SORT and e["data"]["state"] == "done", since=mark)
    time.sleep(0.5)
    before = sorted(os.listdir(comfy.folder(f"output/{out}/reject")))
    _, entries = log_of(comfy, folder)
    mark = client.mark()
    pid = client.queue(SortGraph(folder, out).prompt())        # Run on a folder where everything is decided
    end = client.wait_end(pid, since=mark)
    assert end["type"] == "execution_error" and "is done" in end["data"]["exception_message"]
    assert "reject 8" in end["data"]["exception_message"]
    assert sorted(os.listdir(comfy.folder(f"output/{out}/reject"))) == before
    assert log_of(comfy, folder)[1] == entries
    assert not os.path.exists(comfy.folder("output/sorted_none"))
    assert not [f for f in os.listdir(os.path.join(comfy.folder("output"), LOG_SUBFOLDER)) if "sort_empty" in f]


def test_a_sort_killed_while_saving_resumes_cleanly(tmp_path, backend):
    base = str(tmp_path / "base")
    src = os.path.join(base, "input", "killsort")
    os.makedirs(src)
    for i in range(4):
        noise_image(src, 3072, 3072, f"big{i + 1}.png", seed=i)   # slow to save: the kill lands mid-write
    srv = ComfyServer(base=base, backend=backend).start()
    try:
        with closing(Client(srv.url)) as c:
            g = SortGraph("killsort", "killsorted")
            mark = c.mark()
            c.queue(g.prompt())
            show = c.wait_gate(since=mark, timeout=120)
            mark = c.mark()
            c.choose(show, 1)
            show = c.wait_gate(since=mark, timeout=120)          # image 1 saved and logged
            mark = c.mark()
            c.choose(show, 2)
            c.wait_event("executing", None, 120, since=mark, node=g.savers[2].id)
            time.sleep(0.3)
        os.killpg(srv.proc.pid, signal.SIGKILL)                  # mid-save of image 2
        srv.proc.wait(10)
    finally:
        srv.stop()
    out = os.path.join(base, "output", "killsorted")
    log_path = os.path.join(base, "output", LOG_SUBFOLDER, sort_log.log_name(src))
    entries = sort_log.read(log_path)                            # parses (a torn line would be skipped)
    decided = [e["file"] for e in entries if e["type"] == "decision"]
    assert decided[:1] == ["big1.png"]
    for e in entries:
        for p in e.get("files", []):
            with Image.open(p) as im:
                im.load()                                        # every logged file is whole
    srv = ComfyServer(base=base, backend=backend).start()
    try:
        with closing(Client(srv.url)) as c:
            mark = c.mark()
            c.queue(SortGraph("killsort", "killsorted").prompt())
            show = c.wait_gate(since=mark, timeout=120)
            first_undecided = next(f"big{i}.png" for i in range(1, 5) if f"big{i}.png" not in decided)
            assert show["sort"]["file"] == first_undecided
            mark = c.mark()
            c.choose(show, 2)
            c.wait_gate(since=mark, timeout=120)                 # its save finished: the next image shows
            for folder in ("keep", "reject"):
                d = os.path.join(out, folder)
                names_here = os.listdir(d) if os.path.isdir(d) else []
                assert not [n for n in names_here if n.endswith(".part") or n.startswith(".")], names_here
                for n in names_here:
                    if n.endswith(".png"):
                        with Image.open(os.path.join(d, n)) as im:
                            im.load()                            # no half-written image under a real name
            c.reset()
    finally:
        srv.stop()
    print(f"\nkilled sort: logged before the kill {decided}; resumed at {first_undecided}")
    assert json.dumps(entries)


def test_the_example_sort_workflow_with_bucket_resize_and_a_json_sidecar_writes_four_files_per_image(comfy, client):
    """The example workflow's API form, with a Bucket Resize before each saver and a .json sidecar of the route."""
    folder, out = new_dataset(comfy)
    prompt = json.load(open(os.path.join(REPO, "tests", "data", "sort_dataset.api.json")))
    prompt["1"]["inputs"]["folder"] = folder
    labels = {"3": "keep", "4": "reject", "5": "fix"}
    for saver, label in labels.items():
        inputs = prompt[saver]["inputs"]
        route = inputs["image"]
        prompt[f"br{saver}"] = {"class_type": "BucketResize", "inputs": {
            "image": route, "mask": ["2", 0], "resolution": 512, "divisible": 64, "max_upscale": 1.5}}
        prompt[f"txt{saver}"] = {"class_type": "PrimitiveString",
                                 "inputs": {"value": json.dumps({"route": label})}}
        prompt[f"sc{saver}"] = {"class_type": "Sidecar", "inputs": {
            "content": [f"txt{saver}", 0], "name": "", "extension": ".json"}}
        inputs.update(folder=f"{out}/{label}", image=[f"br{saver}", 0], mask=[f"br{saver}", 1],
                      sidecar=[f"sc{saver}", 0], save_empty_mask=True)
    mark = client.mark()
    client.queue(prompt)
    routes = [1, 2, 3, 1, 2, 3, 1, 2]
    for route in routes:
        show = next_show(client, mark)
        mark = client.mark()
        assert client.choose(show, route)[0] == 200
    client.wait_for(lambda e: e.get("type") == names.EVENT_SORT and e["data"]["state"] == "done",
                    since=mark, timeout=60)
    time.sleep(0.5)
    for name, route in zip(ORDER, routes):
        stem, ext = os.path.splitext(name)
        # format original (the example's): resized, so written losslessly in the source's format where it can be
        image = stem + (ext if ext in (".png", ".webp") else ".png")
        d = comfy.folder(f"output/{out}/{['keep', 'reject', 'fix'][route - 1]}")
        got = sorted(f for f in os.listdir(d) if f.startswith(stem + "."))
        captioned = os.path.exists(os.path.join(SAMPLE, stem + ".txt"))   # dog_2 has no caption: no .txt
        assert got == sorted([f"{stem}.json", f"{stem}.mask.png", image] + [f"{stem}.txt"] * captioned), got
        with Image.open(os.path.join(d, image)) as im:
            w, h = im.size
        assert w % 64 == 0 and h % 64 == 0 and w * h <= 512 * 512       # on a bucket
        with Image.open(os.path.join(d, f"{stem}.mask.png")) as m:
            assert m.size == (w, h)                                       # the mask took the same transform
        assert json.load(open(os.path.join(d, f"{stem}.json"))) == {"route": ["keep", "reject", "fix"][route - 1]}
    _, entries = log_of(comfy, folder)
    assert len([e for e in entries if e["type"] == "decision"]) == 8


def test_keys_sent_ahead_of_the_server_are_applied_in_order_and_bad_ones_get_4xx(comfy, client):
    """The page's way: keys by session and file, sent the moment they are pressed (before the server
    reaches those images); a malformed one is refused with a JSON error and changes nothing."""
    folder, out = new_dataset(comfy)
    g = SortGraph(folder, out)
    g.gate.set(caption=g.loader.out(1))                     # the caption goes through the gate's box
    for saver in g.savers.values():
        saver.set(caption=g.gate.out(11))
    mark = client.mark()
    client.queue(g.prompt())
    show = next_show(client, mark)
    sort = show["sort"]
    sid = sort["session"]
    assert sort["file"] == ORDER[0] and [a["file"] for a in sort["ahead"]][:1] in ([], [ORDER[0]])
    bad = [({"session": "nope", "file": ORDER[0], "route": 1}, 404),
           ({"session": sid, "file": "../../etc/passwd", "route": 1}, 400),
           ({"session": sid, "file": ORDER[0], "route": 4}, 400),
           ({"session": sid, "file": ORDER[0], "route": True}, 400),
           ({"session": sid, "file": ORDER[0], "route": 1, "caption": 5}, 400),
           ({"session": sid, "route": 1}, 400)]
    for body, status in bad:
        got, data = client.post(names.ROUTE_SORT_DECIDE, body)
        assert got == status and "error" in data, (body, got, data)
    assert client.request("POST", names.ROUTE_SORT_DECIDE, raw=b"{not json",
                          headers={"Content-Type": "application/json"})[0] == 400
    assert client.post(names.ROUTE_SORT_REROUTE, {"session": sid, "file": ORDER[5], "route": 1})[0] == 400
    assert [p["token"] for p in client.pending()] == [show["token"]]      # the pause still waits
    routes = [2, 1, 3, 1, 2]
    for f, r in zip(ORDER[:5], routes):                                    # five keys at once
        status, data = client.post(names.ROUTE_SORT_DECIDE, {"session": sid, "file": f, "route": r,
                                                             **({"caption": "edited"} if f == ORDER[1] else {})})
        assert status == 200, data
    assert client.post(names.ROUTE_SORT_UNDO, {"session": sid})[1]["undone"] in (ORDER[4], None)
    deadline = time.time() + 60
    while time.time() < deadline:
        entries = live(log_of(comfy, folder)[1])
        if len(entries) >= 4 and pending_file(client) == ORDER[4]:
            break
        time.sleep(0.2)
    assert entries == list(zip(ORDER[:4], routes[:4]))
    with open(comfy.folder(f"output/{out}/keep/cat_02.txt")) as f:
        assert f.read() == "edited"
    status, data = client.get(f"{names.ROUTE_SORT_LOG}?session={sid}")
    assert status == 200 and [d["file"] for d in data["decisions"]] == ORDER[:4]
    status, data = client.post(names.ROUTE_SORT_REROUTE, {"session": sid, "file": ORDER[0], "route": 3})
    assert status == 200 and data["route"] == 3, data
    assert os.path.isfile(comfy.folder(f"output/{out}/fix/cat_01.png"))
    assert not os.path.exists(comfy.folder(f"output/{out}/reject/cat_01.png"))
    status, _ = client.request("GET", f"{names.ROUTE_SORT_THUMB}?session={sid}&file={ORDER[0]}&size=strip")
    assert status == 200
    assert client.request("GET", f"{names.ROUTE_SORT_THUMB}?session={sid}&file=x.png")[0] == 400
    assert client.post(names.ROUTE_SORT_STOP, {"session": sid})[0] == 200
    deadline = time.time() + 30
    while client.pending() and time.time() < deadline:
        time.sleep(0.1)
    assert client.pending() == []


def test_a_mask_painted_ahead_of_the_server_goes_with_the_key(comfy, client):
    """The MaskEditor on an image the server has not reached: /sort/full writes that file at full size,
    the key carries the saved editor file (mask_ref), and the saver writes the mask beside the image."""
    folder, out = new_dataset(comfy)
    g = SortGraph(folder, out)
    mark = client.mark()
    client.queue(g.prompt())
    show = next_show(client, mark)
    sid = show["sort"]["session"]
    status, full = client.post(names.ROUTE_SORT_FULL, {"session": sid, "file": ORDER[2]})
    assert status == 200, full
    ref = full["ref"]
    with Image.open(os.path.join(comfy.folder("temp"), ref["subfolder"], ref["filename"])) as im:
        w, h = im.size
    with Image.open(os.path.join(SAMPLE, ORDER[2])) as src:
        assert (w, h) == src.size
    editor = Image.new("RGBA", (w, h), (0, 0, 0, 255))        # the MaskEditor's file: alpha 0 = painted
    editor.paste((0, 0, 0, 0), (0, 0, w // 2, h))
    name = f"editor_{uuid.uuid4().hex[:6]}.png"
    editor.save(comfy.folder(f"input/{name}"))
    bad = client.post(names.ROUTE_SORT_DECIDE, {"session": sid, "file": ORDER[0], "route": 1,
                                                "mask_ref": {"filename": "../../x.png", "type": "input"}})
    assert bad[0] == 403 and [p["token"] for p in client.pending()] == [show["token"]]
    for f, r, extra in ((ORDER[0], 1, {}), (ORDER[1], 1, {}),
                        (ORDER[2], 3, {"mask_ref": {"filename": name, "subfolder": "", "type": "input"}})):
        assert client.post(names.ROUTE_SORT_DECIDE, {"session": sid, "file": f, "route": r, **extra})[0] == 200
    path = comfy.folder(f"output/{out}/fix/cat_10.mask.png")
    deadline = time.time() + 60
    while not os.path.exists(path) and time.time() < deadline:
        time.sleep(0.2)
    with Image.open(path) as m:
        a = np.asarray(m.convert("L"))
    assert a.shape == (h, w) and a[:, : w // 2 - 1].min() == 255 and a[:, w // 2 + 1:].max() == 0
    assert not os.path.exists(comfy.folder(f"output/{out}/keep/cat_01.mask.png"))
    client.reset()


def test_undo_of_an_applied_key_then_a_new_key_for_that_image_is_not_lost(comfy, client):
    """Undo when the newest key is applied already (an undo op in its turn), then at once a new key for
    the same image: the image gets the new route, nothing hangs, no key is lost."""
    folder, out = new_dataset(comfy)
    g = SortGraph(folder, out)
    mark = client.mark()
    client.queue(g.prompt())
    sid = next_show(client, mark)["sort"]["session"]
    assert client.post(names.ROUTE_SORT_DECIDE, {"session": sid, "file": ORDER[0], "route": 1})[0] == 200
    deadline = time.time() + 60                               # applied and saved; image 2 waits
    while time.time() < deadline and not (pending_file(client) == ORDER[1]):
        time.sleep(0.05)
    assert client.post(names.ROUTE_SORT_UNDO, {"session": sid})[0] == 200
    status, data = client.post(names.ROUTE_SORT_DECIDE, {"session": sid, "file": ORDER[0], "route": 2})
    assert status == 200, data
    assert client.post(names.ROUTE_SORT_DECIDE, {"session": sid, "file": ORDER[1], "route": 3})[0] == 200
    deadline = time.time() + 60
    while time.time() < deadline:
        entries = live(log_of(comfy, folder)[1])
        if len(entries) >= 2 and pending_file(client) == ORDER[2]:
            break
        time.sleep(0.1)
    assert entries == [(ORDER[0], 2), (ORDER[1], 3)]
    assert os.path.isfile(comfy.folder(f"output/{out}/reject/cat_01.png"))
    assert not os.path.exists(comfy.folder(f"output/{out}/keep/cat_01.png"))
    client.reset()


@pytest.mark.parametrize("when", ["ahead", "at_its_pause"])
def test_a_crop_sent_with_a_sort_key_is_in_the_log_and_saved_losslessly(comfy, client, when):
    """The crop rides with the key both when the key waits for its image's prompt ("ahead") and when the
    gate already waits for it (the key answers the pause directly): both paths keep it."""
    folder, out = new_dataset(comfy)
    g = SortGraph(folder, out, fmt="original")
    mark = client.mark()
    client.queue(g.prompt())
    sid = next_show(client, mark)["sort"]["session"]
    with Image.open(os.path.join(SAMPLE, ORDER[1])) as im:               # cat_02.jpg
        w, h = im.size
        source = np.asarray(im.convert("RGB"))
    crop = {"x": 8, "y": 4, "width": 128, "height": 96}
    bad = {"session": sid, "file": ORDER[1], "route": 2, "crop": {"x": w - 10, "y": 0, "width": 128, "height": 96}}
    assert client.post(names.ROUTE_SORT_DECIDE, bad)[0] == 400
    mark = client.mark()
    assert client.post(names.ROUTE_SORT_DECIDE, {"session": sid, "file": ORDER[0], "route": 1})[0] == 200
    if when == "at_its_pause":
        assert next_show(client, mark)["sort"]["file"] == ORDER[1]
    assert client.post(names.ROUTE_SORT_DECIDE, {"session": sid, "file": ORDER[1], "route": 2, "crop": crop,
                                                 "bucket": "1024x768"})[0] == 200
    deadline = time.time() + 60
    while time.time() < deadline and len(live(log_of(comfy, folder)[1])) < 2:
        time.sleep(0.1)
    entry = [e for e in log_of(comfy, folder)[1] if e["type"] == "decision" and e["file"] == ORDER[1]][0]
    assert entry["crop"] == crop and entry["bucket"] == "1024x768"
    saved_png = comfy.folder(f"output/{out}/reject/cat_02.png")             # a JPEG cut: lossless PNG
    with Image.open(saved_png) as im:
        assert im.size == (128, 96)
        got = np.asarray(im.convert("RGB"))
    assert np.abs(got.astype(int) - source[4:100, 8:136].astype(int)).max() <= 1
    client.reset()
