"""Faults on the real server: SIGTERM during a pause, Cancel during a save, a folder that changes."""
import os
import shutil
import signal
import time

import numpy as np
from PIL import Image

from gates.core.names import ROUTE_PENDING
from harness.comfy import Client, ComfyServer
from harness.graphs import Graph, gate_graph, noise_image


def load_and_save(folder, index, out_folder):
    """FolderImageLoader -> SaveImageToFolder (overwrite); returns (prompt, saver node)."""
    g = Graph()
    load = g.node("FolderImageLoader", folder=folder, index=index, depth=0)
    saver = g.node("SaveImageToFolder", image=load.out(0), folder=out_folder, filename=load.out(3), format="png",
                   on_conflict="overwrite", save_empty_mask=False)
    return g.prompt(), saver


def partial_files(root):
    """Temp or partial files anywhere under ``root`` (our .dsg-*.part, anything *.part / *.tmp)."""
    out = []
    for d, _, files in os.walk(root):
        out += [os.path.join(d, f) for f in files if f.endswith((".part", ".tmp")) or f.startswith(".dsg-")]
    return out


def test_sigterm_during_a_pause_exits_fast_and_leaves_nothing_pending(tmp_path, backend):
    base = str(tmp_path / "base")
    srv = ComfyServer(base=base, backend=backend).start()
    try:
        c = Client(srv.url)
        image = noise_image(srv.folder("input"), 1024, 1024)     # big enough that the full PNG is being written
        prompt, prefix = gate_graph(image, routes=2)
        c.queue(prompt)
        c.wait_gate()
        t0 = time.monotonic()
        os.killpg(srv.proc.pid, signal.SIGTERM)
        srv.proc.wait(10)                                  # raises if it takes longer than 10 s
        took = time.monotonic() - t0
        c.close()
    finally:
        srv.stop()
    print(f"\nSIGTERM during a pause: exited in {took * 1000:.0f} ms")
    assert took < 10
    assert partial_files(os.path.join(base, "output")) == []
    assert not [f for f in os.listdir(os.path.join(base, "output")) if f.startswith(prefix)]

    again = ComfyServer(base=base, backend=backend).start()     # the same folders, restarted
    try:
        c = Client(again.url)
        assert c.get(ROUTE_PENDING)[1] == {"pending": []}
        q = c.get("/queue")[1]
        assert q["queue_running"] == [] and q["queue_pending"] == []
        prompt, prefix = gate_graph(image, routes=2)     # and a gate works after the restart
        pid = c.queue(prompt)
        c.choose(c.wait_gate(), 1)
        assert c.wait_history(pid)["status"]["status_str"] == "success"
        c.close()
    finally:
        again.stop()


def test_cancel_during_a_save_leaves_the_old_file_or_the_whole_new_one(comfy, client):
    src = comfy.folder("input/fault_save")
    os.makedirs(src, exist_ok=True)
    out = comfy.folder("output/fault_save")
    os.makedirs(out, exist_ok=True)
    target = os.path.join(out, "big.png")
    results = []
    for i, delay in enumerate((0.0, 0.15, 0.4)):            # cancel at several points of the write
        noise_image(src, 3072, 3072, "big.png", seed=i)      # a new source each time (no cached run), slow to save
        Image.new("RGB", (8, 8), (255, 0, 0)).save(target)
        old = open(target, "rb").read()
        prompt, saver = load_and_save("fault_save", 0, "fault_save")
        m = client.mark()
        pid = client.queue(prompt)
        client.wait_event("executing", pid, 120, since=m, node=saver.id)
        time.sleep(delay)
        client.post("/interrupt", {})
        end = client.wait_end(pid, 120, since=m)
        data = open(target, "rb").read()
        if data == old:
            results.append((delay, end["type"], "old file"))
        else:
            with Image.open(target) as im:
                im.load()                                    # a half-written PNG would fail here
                assert im.size == (3072, 3072)
            results.append((delay, end["type"], "whole new file"))
        assert partial_files(out) == []
        client.post("/queue", {"clear": True})
    print(f"\nCancel during a save: {results}")


def test_loader_follows_a_folder_that_changes_between_runs(comfy, client):
    name = f"changing_{int(time.time() * 1000)}"
    folder = comfy.folder(f"input/{name}")
    os.makedirs(folder)
    for stem, color in (("img1", 10), ("img3", 30)):
        Image.new("RGB", (16, 16), (color, 0, 0)).save(os.path.join(folder, stem + ".png"))
    out = comfy.folder(f"output/{name}")

    def run(index):
        prompt, _ = load_and_save(name, index, name)
        m = client.mark()
        pid = client.queue(prompt)
        end = client.wait_end(pid, 60, since=m)
        return end

    def red(stem):
        return int(np.asarray(Image.open(os.path.join(out, stem + ".png")))[0, 0, 0])

    assert run(1)["type"] == "execution_success" and red("img3") == 30
    Image.new("RGB", (16, 16), (20, 0, 0)).save(os.path.join(folder, "img2.png"))   # added between runs
    assert run(1)["type"] == "execution_success" and red("img2") == 20             # not a stale cached result
    os.remove(os.path.join(folder, "img1.png"))                                      # removed between runs
    os.remove(os.path.join(out, "img3.png"))
    assert run(1)["type"] == "execution_success" and red("img3") == 30
    end = run(5)                                                                     # past the end: clear error
    assert end["type"] == "execution_error"
    assert "past the end" in end["data"]["exception_message"] and name in end["data"]["exception_message"]
    with open(os.path.join(folder, "img2.png"), "wb") as f:                          # a file broken in between
        f.write(b"\x89PNG\r\n\x1a\n broken")
    end = run(0)
    assert end["type"] == "execution_error"
    assert "img2.png" in end["data"]["exception_message"]
    shutil.rmtree(folder)                                                            # the folder is gone
    end = run(0)
    assert end["type"] == "execution_error" and name in end["data"]["exception_message"]
