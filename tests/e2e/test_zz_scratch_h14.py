import time
from harness.graphs import noise_image
from harness.ui import GatePanel, build_gate_graph, run_to_pause


def test_scratch(server, api, new_page):
    img = noise_image(server.folder("input"), 200, 100, name="scr.png", seed=5)
    fails = 0
    for k in range(5):
        page = new_page(server)
        logs = []
        page.page.on("console", lambda m: logs.append(f"{m.type}: {m.text}"[:300]))
        build_gate_graph(page, img, routes=2, labels="a,b", prefix=f"scr{k}")
        pid = run_to_pause(page, api)
        GatePanel(page).click_mask()
        t0 = time.time()
        try:
            page.page.wait_for_selector("#maskEditorCanvasContainer", timeout=40000)
            print("OK", k, round(time.time() - t0, 1))
        except Exception:
            fails += 1
            print("FAIL", k, GatePanel(page).status_text(), page.js("() => [...document.querySelectorAll('.dsg-panel button')].map(b => [b.textContent, b.disabled])"))
            print("pending", api.pending()[0].get("full_ready"))
            print("ERRS", page.errors[:5])
            print("LOGS", logs[-15:])
            print("SERVER", server.log_tail(60))
        api.reset()
    assert fails == 0
