"""Soak: many gated runs in a row with random answers, on a real ComfyUI and a real page.

``DG_SOAK_RUNS`` runs (30 in ``make test``, 200 in ``make soak``), each answered
at random: a route clicked in the page or posted, a mask then a route, Stop,
ComfyUI's Cancel, a 1 s timeout (stop or route 2), or a page reload then a
click. Afterwards the queue is empty, nothing is pending, every routed image
was saved exactly once by the right saver, and RSS and the gate's temp files
stay within the benchmark's bounds. The tally is printed.
"""
import collections
import os
import random
import time

import numpy as np
from PIL import Image

from gates.core.names import ROUTE_PENDING, TEMP_SUBFOLDER
from harness.comfy import Client, ComfyServer
from harness.fixtures import Page
from harness.graphs import gate_graph, kinds, noise_image, png_bytes, saved
from harness.ui import build_gate_graph, click_route, wait_buttons

RUNS = int(os.environ.get("DG_SOAK_RUNS", "30"))
SEED = int(os.environ.get("DG_SOAK_SEED", "20261127"))
LABELS = ["a", "b", "c"]
ACTIONS = {"click": 30, "post": 20, "mask": 10, "stop": 10, "cancel": 10, "timeout": 10, "reload": 10}
RSS_BOUND_MB = 50


def white_mask(w, h):
    im = Image.new("L", (w, h), 0)
    im.paste(255, (0, 0, w // 2, h // 2))
    return png_bytes(im)


def test_soak(browser):
    rng = random.Random(SEED)
    srv = ComfyServer().start()
    tally = collections.Counter()
    expected = {}
    t_start = time.time()
    try:
        c = Client(srv.url)
        image = noise_image(srv.folder("input"), 256, 192, "soak.png")
        page = Page(browser.new_page(), srv).open()
        gate_id = str(build_gate_graph(page, image, routes=3, labels=",".join(LABELS), prefix="soak_page"))
        time.sleep(1.5)                                   # let the frontend persist the workflow (for reloads)

        def one(i, action):
            timeout, on_timeout = (1, rng.choice(["stop", "route 2"])) if action == "timeout" else (0, "stop")
            prompt, prefix = gate_graph(image, routes=3, labels=",".join(LABELS), prefix=f"soak{i:04d}",
                                        timeout=timeout, on_timeout=on_timeout, gate_id=gate_id)
            m = c.mark()
            pid = c.queue(prompt)
            show = c.wait_gate(gate_id, 60, m)
            route = rng.randint(1, 3)
            want, painted = [], False
            if action in ("click", "reload"):
                if action == "reload":
                    page.page.reload()
                    page.page.wait_for_function("() => window.app && app.graph && app.canvas", timeout=60000)
                wait_buttons(page)
                click_route(page, LABELS[route - 1])
                want = ["mask", f"route{route}"]
            elif action in ("post", "mask"):
                if action == "mask":
                    assert c.post_mask(show, white_mask(64, 48))[0] == 200
                    painted = True
                assert c.choose(show, route)[0] == 200
                want = ["mask", f"route{route}"]
            elif action == "stop":
                assert c.choose(show, "__cancel__")[0] == 200
            elif action == "cancel":
                c.post("/interrupt", {})
            elif action == "timeout" and on_timeout == "route 2":
                want, action = ["mask", "route2"], "timeout-route"
            end = c.wait_end(pid, 60, m)
            assert end["type"] == ("execution_success" if want else "execution_interrupted"), (i, action, end)
            expected[prefix] = (want, painted)
            tally[action] += 1

        for i in range(3):                                # warm-up, then measure
            one(-1 - i, "post")
        time.sleep(1)
        rss0 = srv.rss_mb()
        names = list(ACTIONS)
        for i in range(RUNS):
            one(i, rng.choices(names, weights=[ACTIONS[a] for a in names])[0])
        time.sleep(1)
        rss1 = srv.rss_mb()

        q = c.get("/queue")[1]
        assert q["queue_running"] == [] and q["queue_pending"] == []
        assert c.get(ROUTE_PENDING)[1] == {"pending": []}
        out = srv.folder("output")
        for prefix, (want, painted) in expected.items():
            got = kinds(out, prefix)
            assert got == want, f"{prefix}: saved {got}, expected {want}"      # exactly once, the right saver
            if want:
                (mask,) = [f for f in saved(out, prefix) if "_mask_" in f]
                peak = np.asarray(Image.open(os.path.join(out, mask)).convert("L")).max()
                assert (peak > 0) == painted, f"{prefix}: mask painted={painted} but peak {peak}"
        gate_temp = srv.folder(f"temp/{TEMP_SUBFOLDER}")
        left = os.listdir(gate_temp) if os.path.isdir(gate_temp) else []
        assert left == [], f"preview files left behind: {left[:5]}"
        growth = rss1 - rss0
        print(f"\nsoak: {RUNS} runs in {time.time() - t_start:.0f} s, seed {SEED}; tally {dict(tally)}; "
              f"RSS {rss0:.0f} -> {rss1:.0f} MB ({growth:+.1f} MB); gate temp files left: {len(left)}")
        assert growth <= RSS_BOUND_MB
        assert page.real_errors() == []
        page.page.close()
        c.close()
    finally:
        srv.stop()
        srv.cleanup()
