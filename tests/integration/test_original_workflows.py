"""The original project's workflows without surprises: a loader folder relative to ComfyUI's base
folder (``input/ds``), and a Sidecar name holding a path (its path part dropped, with a warning)."""
import os
import shutil
import uuid

import numpy as np
from PIL import Image

from harness.comfy import REPO

SAMPLE = os.path.join(REPO, "example_data", "sample_dataset")


def add(prompt: dict, class_type: str, **inputs) -> str:
    nid = str(len(prompt) + 1)
    prompt[nid] = {"class_type": class_type, "inputs": inputs}
    return nid


def run(client, prompt, timeout=120):
    mark = client.mark()
    pid = client.queue(prompt)
    end = client.wait_end(pid, timeout=timeout, since=mark)
    return end, (client.wait_history(pid) if end["type"] == "execution_success" else None)


def loader_prompt(folder):
    p = {}
    load = add(p, "FolderImageLoader", folder=folder, index=1, depth=0)
    save = add(p, "SaveImageToFolder", image=[load, 0], folder=f"out_{uuid.uuid4().hex[:6]}",
               filename=[load, 3], format="png", on_conflict="suffix")
    return p, load, save


def test_a_loader_folder_relative_to_comfyuis_base_folder_loads_it(comfy, client):
    ds = f"ds_{uuid.uuid4().hex[:6]}"
    shutil.copytree(SAMPLE, comfy.folder(f"input/{ds}"))
    names = sorted(os.listdir(comfy.folder(f"input/{ds}")))
    for folder in (f"input/{ds}", ds, os.path.join(comfy.base, "input", ds)):   # base-, input-relative, absolute
        p, _, save = loader_prompt(folder)
        end, hist = run(client, p)
        assert end["type"] == "execution_success", (folder, end, comfy.log_tail())
        out = p[save]["inputs"]["folder"]
        saved = os.listdir(comfy.folder(f"output/{out}"))
        assert len([f for f in saved if f.endswith(".png")]) == 1, saved
        stem = os.path.splitext([f for f in saved if f.endswith(".png")][0])[0]
        assert any(os.path.splitext(n)[0] == stem for n in names)                 # the folder's second image
    end, _ = run(client, loader_prompt(f"input/nope_{ds}")[0])                    # missing: named under input
    assert end["type"] == "execution_error"
    assert f"folder not found: {comfy.folder('input')}/input/nope_{ds}" in end["data"]["exception_message"]


def sidecar_prompt(name, prefix):
    p = {}
    img = os.path.basename(prefix) + ".png"
    load = add(p, "LoadImage", image=img)
    text = add(p, "PrimitiveString", value="a caption")
    sc = add(p, "Sidecar", content=[text, 0], name=name, extension=".txt")
    add(p, "SaveImageSidecars", images=[load, 0], filename_prefix=prefix, output_folder="output",
        sidecar=[sc, 0])
    return p


def test_a_sidecar_name_with_a_path_drops_the_path_part_as_the_original(comfy, client):
    for name, bare in (("sub/v", "v"), ("../evil", "evil")):
        prefix = "sc" + uuid.uuid4().hex[:8]
        Image.fromarray(np.full((64, 64, 3), 90, np.uint8)).save(comfy.folder(f"input/{prefix}.png"))
        end, _ = run(client, sidecar_prompt(name, prefix))
        assert end["type"] == "execution_success", (name, end, comfy.log_tail())
        out = comfy.folder("output")
        assert sorted(f for f in os.listdir(out) if f.startswith(prefix)) == \
            [f"{prefix}_00001_.png", f"{prefix}_00001_{bare}.txt"]
        assert open(os.path.join(out, f"{prefix}_00001_{bare}.txt")).read() == "a caption"
        assert f"sidecar name {name!r} holds a path; its path part is dropped: {bare!r}" in comfy.log_text()
        assert not os.path.exists(os.path.join(out, "sub")) and not any(
            f.startswith("evil") for f in os.listdir(comfy.base))
    prefix = "sc" + uuid.uuid4().hex[:8]                                        # still leaving: refused
    Image.fromarray(np.full((64, 64, 3), 90, np.uint8)).save(comfy.folder(f"input/{prefix}.png"))
    end, _ = run(client, sidecar_prompt("sub/..", prefix))
    assert end["type"] == "execution_error"
    assert "'sub/..' contains '..'" in end["data"]["exception_message"]
    assert not [f for f in os.listdir(comfy.folder("output")) if f.startswith(prefix)]
