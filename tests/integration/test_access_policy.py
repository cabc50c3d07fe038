"""Who may read and write where, on real servers: a ComfyUI listening on 0.0.0.0 refuses folders
outside input/output and the listed roots; the default loopback one accepts them as before."""
import json
import os
import uuid

import pytest
from PIL import Image

from gates.core import access, names
from harness.comfy import REPO, Client, ComfyServer


def add(prompt: dict, class_type: str, **inputs) -> str:
    nid = str(len(prompt) + 1)
    prompt[nid] = {"class_type": class_type, "inputs": inputs}
    return nid


def run(client, prompt):
    mark = client.mark()
    pid = client.queue(prompt)
    return client.wait_end(pid, timeout=120, since=mark)


def load_graph(folder):
    p = {}
    load = add(p, "FolderImageLoader", folder=folder, index=0, depth=0)
    add(p, "PreviewImage", images=[load, 0])
    return p


def save_graph(src_rel, folder, stem):
    """Loader (from the input folder) -> Save Image To Folder with a .json sidecar."""
    p = {}
    load = add(p, "FolderImageLoader", folder=src_rel, index=0, depth=0)
    text = add(p, "PrimitiveString", value='{"route": "keep"}')
    sc = add(p, "Sidecar", content=[text, 0], name="", extension=".json")
    add(p, "SaveImageToFolder", image=[load, 0], folder=folder, filename=stem, format="png",
        on_conflict="suffix", sidecar=[sc, 0])
    return p


def sidecar_graph(src_rel, folder, prefix):
    """Loader -> the original's Save Image (Sidecars) with a .txt sidecar (the caption)."""
    p = {}
    load = add(p, "FolderImageLoader", folder=src_rel, index=0, depth=0)
    sc = add(p, "Sidecar", content=[load, 1], name="", extension=".txt")
    add(p, "SaveImageSidecars", images=[load, 0], filename_prefix=prefix, output_folder=folder, sidecar=[sc, 0])
    return p


def dataset(folder):
    os.makedirs(folder, exist_ok=True)
    Image.new("RGB", (64, 48), (10, 200, 30)).save(os.path.join(folder, "a.png"))
    with open(os.path.join(folder, "a.txt"), "w") as f:
        f.write("a green image")


def all_files(folder):
    return sorted(os.path.relpath(os.path.join(d, f), folder) for d, _, fs in os.walk(folder) for f in fs)


def check_everything_works(client, server, outside, tag):
    """Loader, saver + sidecar, and Save Image (Sidecars) on the folder ``outside``."""
    assert run(client, load_graph(os.path.join(outside, "src")))["type"] == "execution_success"
    dataset(server.folder(f"input/src_{tag}"))
    end = run(client, save_graph(f"src_{tag}", os.path.join(outside, f"saved_{tag}"), "a"))
    assert end["type"] == "execution_success", end
    assert all_files(os.path.join(outside, f"saved_{tag}")) == ["a.json", "a.png"]
    end = run(client, sidecar_graph(f"src_{tag}", os.path.join(outside, f"sc_{tag}"), "ds"))
    assert end["type"] == "execution_success", end
    assert all_files(os.path.join(outside, f"sc_{tag}")) == ["ds_00001_.png", "ds_00001_.txt"]


def listening_on(server) -> set:
    import psutil

    procs = [psutil.Process(server.proc.pid)] + psutil.Process(server.proc.pid).children(recursive=True)
    return {c.laddr.ip for p in procs for c in p.net_connections("inet")
            if c.status == psutil.CONN_LISTEN and c.laddr.port == server.port}


@pytest.fixture
def lan_server(tmp_path, backend):
    """A ComfyUI that listens on every address (the tests still talk to 127.0.0.1), with one listed root."""
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    srv = ComfyServer(base=str(tmp_path / "base"), backend=backend, extra_args=["--listen", "0.0.0.0"],
                      env={access.ENV: str(allowed)}).start()
    c = Client(srv.url)
    try:
        yield srv, c, str(allowed)
    finally:
        c.close()
        srv.stop()


def test_listening_beyond_loopback_refuses_outside_folders_and_accepts_listed_roots(lan_server, tmp_path):
    srv, client, allowed = lan_server
    assert listening_on(srv) == {"0.0.0.0"}                     # really beyond loopback
    outside = str(tmp_path / "outside")
    dataset(os.path.join(outside, "src"))
    dataset(srv.folder("input/src_lan"))
    before = all_files(outside)

    for prompt, node_type in ((load_graph(os.path.join(outside, "src")), "FolderImageLoader"),
                              (save_graph("src_lan", os.path.join(outside, "saved"), "a"), "SaveImageToFolder"),
                              (sidecar_graph("src_lan", os.path.join(outside, "sc"), "ds"), "SaveImageSidecars")):
        end = run(client, prompt)
        assert end["type"] == "execution_error", end
        msg = end["data"]["exception_message"]
        assert end["data"]["node_type"] == node_type
        assert outside in msg and access.ENV in msg and os.path.join(srv.folder("user"), access.SETTINGS_FILE) in msg
    assert all_files(outside) == before                          # nothing written, no folder created

    # a link inside an allowed root that leads out of it counts as outside
    os.symlink(outside, os.path.join(allowed, "link"))
    end = run(client, load_graph(os.path.join(allowed, "link", "src")))
    assert end["type"] == "execution_error" and "a link to" in end["data"]["exception_message"]
    # Dataset Summary too
    p = {}
    add(p, "DatasetSummary", folder=outside, depth=-1, relative_to="output", min_size=0, duplicates="off")
    end = run(client, p)
    assert end["type"] == "execution_error" and outside in end["data"]["exception_message"]
    # Dataset Export: the target obeys the savers' rule (and a source the loader's)
    for source, target in ((srv.folder("input/src_lan"), os.path.join(outside, "export")),
                           (os.path.join(outside, "src"), os.path.join(allowed, "export"))):
        p = {}
        add(p, "DatasetExport", source=source, target=target, layout="kohya", name="x", repeats=1,
            caption_ext=".txt", uncaptioned="include", masks="auto", on_conflict="error", dry_run=False)
        end = run(client, p)
        assert end["type"] == "execution_error" and outside in end["data"]["exception_message"], end
    assert all_files(outside) == before and not os.path.exists(os.path.join(allowed, "export"))
    p = {}
    add(p, "DatasetExport", source=srv.folder("input/src_lan"), target=os.path.join(allowed, "export"),
        layout="kohya", name="x", repeats=1, caption_ext=".txt", uncaptioned="include", masks="auto",
        on_conflict="error", dry_run=False)
    assert run(client, p)["type"] == "execution_success"
    assert all_files(os.path.join(allowed, "export")) == ["1_x/a.png", "1_x/a.txt", "manifest.jsonl"]

    # under the listed root everything works
    dataset(os.path.join(allowed, "src"))
    check_everything_works(client, srv, allowed, "lan")

    # the settings file in the user folder lists roots too, read at each check
    extra = tmp_path / "extra"
    dataset(str(extra / "src"))
    with open(os.path.join(srv.folder("user"), access.SETTINGS_FILE), "w") as f:
        f.write(json.dumps({"allowed_roots": [str(extra)]}))
    assert run(client, load_graph(str(extra / "src")))["type"] == "execution_success"


def test_the_default_loopback_server_accepts_the_same_folder(comfy, client, tmp_path):
    outside = str(tmp_path / "outside")
    dataset(os.path.join(outside, "src"))
    check_everything_works(client, comfy, outside, uuid.uuid4().hex[:6])


def test_the_shipped_sample_is_read_beyond_loopback_and_never_written(lan_server):
    """The examples' folder `dataset_gates_sample` with nothing in input/: the pack's own sample,
    read (the loader, Folder Image Batch) on a server that listens on 0.0.0.0, never written."""
    srv, client, _ = lan_server
    assert os.listdir(srv.folder("input")) in ([], ["3d"])
    p = {}
    load = add(p, "FolderImageLoader", folder=names.SAMPLE_FOLDER, index=0, depth=0)
    batch = add(p, "FolderImageBatch", folder=names.SAMPLE_FOLDER, start=0, count=8, depth=0, width=64, height=64)
    add(p, "PreviewImage", images=[load, 0])
    add(p, "PreviewImage", images=[batch, 0])
    assert run(client, p)["type"] == "execution_success"
    shipped = os.path.join(REPO, "example_data", "sample_dataset")
    before = all_files(shipped)
    end = run(client, save_graph(names.SAMPLE_FOLDER, os.path.join(shipped, "out"), "a"))
    assert end["type"] == "execution_error" and "never write" in end["data"]["exception_message"], end
    assert all_files(shipped) == before and not os.path.exists(os.path.join(shipped, "out"))
