"""Image Pool (Grid) and Pool Profile in the real frontend (full e2e variants): drop two images on the
pool, click the second, paint its mask in the MaskEditor, Run -> that image and its mask come out;
picking a profile shows its images in the connected pool at once."""
import io
import os
import time
import uuid

import numpy as np
from PIL import Image

from harness.comfy import multipart
from harness.mask_editor import MaskEditor
from harness.pool_ui import PoolNode
from harness.ui import queue

P = "/datasete_gate/pool"


def wait_output(server, prefix, timeout=60):
    out = server.folder("output")
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = sorted(f for f in os.listdir(out) if f.startswith(prefix) and f.endswith(".png"))
        if found:
            time.sleep(0.3)
            return np.asarray(Image.open(os.path.join(out, found[-1])).convert("RGB"))
        time.sleep(0.2)
    raise AssertionError(f"no {prefix}* in the output folder")


def test_drop_two_click_the_second_paint_its_mask_and_run(server, api, new_page):
    page = new_page(server)
    pool = PoolNode(page)
    prefix = "pool" + uuid.uuid4().hex[:8]
    # Node id 1 showed another image before (a LoadImage): the frontend keeps that output for id 1 and copies
    # it into the pool's node.images while the MaskEditor is open; the save must still be told from that copy.
    Image.new("RGB", (64, 64), (9, 99, 9)).save(os.path.join(server.folder("input"), f"{prefix}_before.png"))
    pool.load_image_first(f"{prefix}_before.png")
    ids = pool.build(prefix)
    assert str(ids["pool"]) == "1"                                 # the id the LoadImage had
    colors = [(200, 30, 30), (30, 60, 220)]
    pool.drop(colors)
    pool.wait_cells(2)
    pool_id = page.js(f"() => app.graph.getNodeById({ids['pool']}).widgets.find(w => w.name === 'pool_id').value")
    assert pool_id and pool_id != "default"                         # a new node gets its own pool
    assert page.js(f"() => app.graph.getNodeById({ids['pool']}).widgets.find(w => w.name === 'pool_id').hidden")
    assert sorted(os.listdir(server.folder(f"input/grid_pool/{pool_id}"))) == [
        "img_0001.png", "img_0002.png", "manifest.json"]
    pool.click_thumb(1)
    pool.wait_cell(1, "active")
    pool.click_mask(1)
    editor = MaskEditor(page)
    editor.wait_open()
    assert editor.canvas_size() == [64, 48]
    editor.paint_stroke(0.1, 0.4, 0.5)
    editor.save()
    pool.wait_cell(1, "mask")
    editor.wait_closed()
    cells = pool.cells()
    assert [(c["active"], c["mask"]) for c in cells] == [(False, False), (True, True)]
    queue(page)
    img = wait_output(server, f"{prefix}_img")
    mask = wait_output(server, f"{prefix}_mask")
    assert img.shape[:2] == (48, 64) and np.abs(img[5, 60].astype(int) - colors[1]).max() < 4
    assert mask[24, 10:20].min() > 200 and mask[:, 50:].max() == 0   # the stroke, and only there
    # right-click "Detach pool (new id)": a new, empty pool; the old one stays on disk
    new_id = page.js(f"""() => {{ const n = app.graph.getNodeById({ids['pool']}); const opts = [];
        n.getExtraMenuOptions(app.canvas, opts); opts.find(o => o?.content === 'Detach pool (new id)').callback();
        return n.widgets.find(w => w.name === 'pool_id').value; }}""")
    assert new_id != pool_id
    pool.wait_cells(0)
    assert os.path.exists(server.folder(f"input/grid_pool/{pool_id}/img_0002.mask.png"))
    assert page.real_errors() == []


def make_profile(api, name, colors):
    st, e = api.post(f"{P}/profiles/create", {"name": name})
    assert st == 200, e
    for c in colors:
        buf = io.BytesIO()
        Image.new("RGB", (32, 32), c).save(buf, "PNG")
        body, ctype = multipart({"pool_id": e["id"]}, {"image": ("x.png", buf.getvalue())})
        assert api.post(f"{P}/add", raw=body, headers={"Content-Type": ctype})[0] == 200
    return e


def test_switching_the_pool_profile_shows_its_images_at_once(server, api, new_page):
    a = make_profile(api, "A " + uuid.uuid4().hex[:6], [(250, 0, 0), (0, 250, 0), (0, 0, 250)])
    b = make_profile(api, "B " + uuid.uuid4().hex[:6], [(9, 9, 9)])
    page = new_page(server)
    pool = PoolNode(page)
    ids = pool.build("prof" + uuid.uuid4().hex[:6], profile=True)
    pool.wait_profile_option(b["id"])
    pool.pick_profile(a["id"])
    pool.wait_cells(3)
    assert all(f"grid_pool%2F{a['id']}" in c["src"] for c in pool.cells())
    pool.pick_profile(b["id"])
    pool.wait_cells(1)
    assert f"grid_pool%2F{b['id']}" in pool.cells()[0]["src"]
    widgets = page.js(f"""() => {{ const p = app.graph.getNodeById({ids['profile']});
        const g = app.graph.getNodeById({ids['pool']});
        return [p.widgets.find(w => w.name === 'profile').value, p.widgets.find(w => w.name === 'profile_id').value,
                g.widgets.find(w => w.name === 'pool_id').value]; }}""")
    assert widgets == [b["name"], b["id"], b["id"]]
    assert page.real_errors() == []


def test_upload_and_paste_add_to_the_pool_and_label_and_remove_work(server, api, new_page, tmp_path):
    page = new_page(server)
    pool = PoolNode(page)
    ids = pool.build("up" + uuid.uuid4().hex[:6])
    path = tmp_path / "up.jpg"
    Image.new("RGB", (30, 20), (10, 200, 10)).save(path, "JPEG")
    pool.upload(str(path))
    pool.wait_cells(1)
    pool.paste(ids["pool"], (200, 10, 200))
    pool.wait_cells(2)
    pool_id = page.js(f"() => app.graph.getNodeById({ids['pool']}).widgets.find(w => w.name === 'pool_id').value")
    m = api.get(f"{P}/list?pool_id={pool_id}")[1]
    assert [s["image"] for s in m["slots"]] == ["img_0001.png", "img_0002.png"]
    pool.set_label(1, "pasted one")
    page.page.wait_for_function("id => fetch(`/datasete_gate/pool/list?pool_id=${id}`).then(r => r.json())"
                                ".then(m => m.slots[1].label === 'pasted one')", arg=pool_id, timeout=15000)
    pool.remove(0)
    pool.wait_cells(1)
    assert [s["label"] for s in api.get(f"{P}/list?pool_id={pool_id}")[1]["slots"]] == ["pasted one"]
    assert page.real_errors() == []
