"""Crop at the gate: the route carries that region of the full-resolution image (and of the mask), bad crops
get 400 while the pause keeps waiting, and a crop framed for a bucket goes through Bucket Resize uncut."""
import io
import os

import numpy as np
from PIL import Image

from harness.graphs import Graph, gate_graph, noise_image, saved


def read(comfy, prefix, kind):
    (name,) = [f for f in saved(comfy.folder("output"), prefix) if f"_{kind}_" in f]
    return np.asarray(Image.open(os.path.join(comfy.folder("output"), name)).convert("RGB"))


def test_a_crop_routes_that_region_of_the_image_and_of_the_mask(comfy, client):
    name = noise_image(comfy.folder("input"), 300, 200, seed=21)
    source = np.asarray(Image.open(comfy.folder(f"input/{name}")).convert("RGB"))
    prompt, prefix = gate_graph(name, routes=2)
    pid = client.queue(prompt)
    show = client.wait_gate()
    assert show["buckets"] and [1280, 1280] in show["buckets"]       # Bucket Resize's rule at its defaults
    m = Image.new("L", (300, 200), 0)
    m.paste(255, (0, 0, 150, 200))                                   # the left half painted
    buf = io.BytesIO()
    m.save(buf, "PNG")
    assert client.post_mask(show, buf.getvalue())[0] == 200
    crop = {"x": 100, "y": 30, "width": 120, "height": 150}
    status, _ = client.post("/datasete_gate/choice", {"id": show["id"], "token": show["token"], "message": 2,
                                                      "crop": crop, "bucket": "832x1216"})
    assert status == 200
    hist = client.wait_history(pid)
    assert hist["status"]["status_str"] == "success"
    out = read(comfy, prefix, "route2")
    assert out.shape == (150, 120, 3) and np.array_equal(out, source[30:180, 100:220])
    mask = read(comfy, prefix, "mask")[..., 0]
    assert mask.shape == (150, 120)
    assert mask[:, :49].min() == 255 and mask[:, 51:].max() == 0      # painted up to x=150 of the source
    decision = next(v["gate_decision"][0] for v in hist["outputs"].values() if "gate_decision" in v)
    assert decision["crop"] == crop and decision["bucket"] == "832x1216"


def test_bad_crops_get_400_and_the_pause_still_routes(comfy, client):
    name = noise_image(comfy.folder("input"), 300, 200, seed=22)
    prompt, prefix = gate_graph(name, routes=2)
    pid = client.queue(prompt)
    show = client.wait_gate()
    base = {"id": show["id"], "token": show["token"], "message": 1}
    for crop in ({"x": 250, "y": 0, "width": 100, "height": 100}, {"x": 0, "y": 0, "width": 63, "height": 100},
                 {"x": "a", "y": 0, "width": 100, "height": 100}, {"x": 0, "y": 0, "width": 100},
                 "0,0,100,100", {"x": -5, "y": 0, "width": 100, "height": 100}):
        status, data = client.post("/datasete_gate/choice", {**base, "crop": crop})
        assert status == 400 and "error" in data, (crop, status, data)
    assert client.post("/datasete_gate/choice", {**base, "bucket": "huge"})[0] == 400
    assert [p["token"] for p in client.pending()] == [show["token"]]
    assert client.post("/datasete_gate/choice", base)[0] == 200
    assert client.wait_history(pid)["status"]["status_str"] == "success"
    assert read(comfy, prefix, "route1").shape == (200, 300, 3)


def test_a_crop_framed_for_a_bucket_is_resized_to_it_without_another_cut(comfy, client):
    """The gate's crop then Bucket Resize equals core ImageCrop of the same box then Bucket Resize, and is
    exactly the bucket: Bucket Resize does not cut a crop that already has the bucket's aspect."""
    name = noise_image(comfy.folder("input"), 1100, 1700, seed=23)
    crop = {"x": 40, "y": 60, "width": 1000, "height": round(1000 * 1216 / 832)}      # 832x1216's aspect
    g = Graph()
    src = g.node("LoadImage", image=name)
    gate = g.node("ImageGate", image=src.out(0), routes=1, labels="keep", timeout_seconds=0, on_timeout="stop")
    ours = g.node("BucketResize", image=gate.out(1), resolution=1024, divisible=64, max_upscale=1.5,
                  bucket_list="832x1216")
    core = g.node("ImageCrop", image=src.out(0), width=crop["width"], height=crop["height"], x=crop["x"], y=crop["y"])
    ref = g.node("BucketResize", image=core.out(0), resolution=1024, divisible=64, max_upscale=1.5,
                 bucket_list="832x1216")
    prefix = "bk" + os.urandom(4).hex()
    g.node("SaveImage", images=ours.out(0), filename_prefix=f"{prefix}_gate")
    g.node("SaveImage", images=ref.out(0), filename_prefix=f"{prefix}_core")
    pid = client.queue(g.prompt())
    show = client.wait_gate(timeout=120)
    assert client.post("/datasete_gate/choice", {"id": show["id"], "token": show["token"], "message": 1,
                                                 "crop": crop, "bucket": "832x1216"})[0] == 200
    assert client.wait_history(pid, timeout=120)["status"]["status_str"] == "success"
    a, b = read(comfy, prefix, "gate"), read(comfy, prefix, "core")
    assert a.shape == (1216, 832, 3) and np.array_equal(a, b)
    # and no cut: the same as resizing the crop straight to the bucket
    region = np.asarray(Image.open(comfy.folder(f"input/{name}")).convert("RGB"), dtype=np.float32)[
        crop["y"]:crop["y"] + crop["height"], crop["x"]:crop["x"] + crop["width"]] / 255.0
    direct = np.stack([np.asarray(Image.fromarray(region[..., c]).resize((832, 1216), Image.LANCZOS))
                       for c in range(3)], axis=-1)
    expect = np.clip(np.round(np.clip(direct, 0, 1) * 255), 0, 255).astype(np.uint8)
    assert np.abs(a.astype(int) - expect.astype(int)).max() <= 1
