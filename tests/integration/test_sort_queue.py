"""The next image of a folder sort is queued inside ComfyUI, not over HTTP: it runs on a ComfyUI
served over TLS (where a request to its own port in plain http fails), and goes through what
ComfyUI's POST /prompt does (extensions' on_prompt handlers, validation) on every backend."""
import os
import shutil
import subprocess
import textwrap
import time
import urllib.request
import uuid
from contextlib import closing

import pytest

from gates.core import names
from harness.comfy import REPO, Client, ComfyServer
from harness.graphs import SortGraph

SAMPLE = os.path.join(REPO, "example_data", "sample_dataset")
FILES = ["cat_01.png", "cat_02.jpg", "cat_10.webp"]            # the first three in natural order
NOT_QUEUED = "could not queue the next image of the sort"

# A custom node that registers an on_prompt handler, as extensions do. For a sort of a folder
# named *_breaknext it removes the gate's image input from the second prompt of that folder
# (the first one the gate queues), so that prompt fails ComfyUI's validation.
HOOK = textwrap.dedent('''\
    from server import PromptServer

    _seen = {}


    def _break_the_first_requeue(json_data):
        prompt = json_data.get("prompt") or {}
        for node in list(prompt.values()):
            folder = str(node.get("inputs", {}).get("folder", ""))
            if node.get("class_type") == "FolderImageLoader" and folder.endswith("_breaknext"):
                _seen[folder] = _seen.get(folder, 0) + 1
                if _seen[folder] == 2:
                    for other in prompt.values():
                        if other.get("class_type") == "ImageGate":
                            other["inputs"].pop("image", None)
        return json_data


    PromptServer.instance.add_on_prompt_handler(_break_the_first_requeue)
    NODE_CLASS_MAPPINGS = {}
''')


@pytest.fixture(scope="module")
def tls_comfy(backend, tmp_path_factory):
    """A ComfyUI of the backend served over TLS only (a self-signed certificate made by openssl)."""
    if not shutil.which("openssl"):
        pytest.skip("no openssl command to make a self-signed certificate")
    d = tmp_path_factory.mktemp("tls")
    key, cert = str(d / "key.pem"), str(d / "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    hook = d / "dg_test_prompt_hook"
    hook.mkdir()
    (hook / "__init__.py").write_text(HOOK)
    srv = ComfyServer(backend=backend, extra_args=["--tls-keyfile", key, "--tls-certfile", cert],
                      extra_nodes=[str(hook)]).start()
    yield srv
    srv.stop()
    srv.cleanup()


def dataset(srv, suffix=""):
    """Three sample images in a new folder under ComfyUI's input (the access policy's own ground)."""
    folder = f"sortq_{uuid.uuid4().hex[:6]}{suffix}"
    os.makedirs(srv.folder(f"input/{folder}"))
    for name in FILES:
        shutil.copy(os.path.join(SAMPLE, name), srv.folder(f"input/{folder}/{name}"))
    return folder, folder.replace("sortq_", "sortedq_")


def next_gate(c, srv, mark):
    try:
        return c.wait_gate(since=mark, timeout=60)
    except TimeoutError as e:
        raise AssertionError(f"{e}\nserver log:\n{srv.log_tail(40)}") from None


def saved(srv, out):
    return {r: sorted(f for f in os.listdir(srv.folder(f"output/{out}/{r}")) if not f.endswith(".txt"))
            for r in ("keep", "reject", "fix") if os.path.isdir(srv.folder(f"output/{out}/{r}"))}


def our_prompts(c, folder):
    """History entries of the prompts that sorted ``folder``, by queue number."""
    hist = c.get("/history?max_items=100")[1]
    items = [h for h in hist.values()
             if any(n.get("inputs", {}).get("folder") == folder for n in h["prompt"][2].values())]
    return sorted(items, key=lambda h: h["prompt"][0])


def test_the_server_really_refuses_plain_http(tls_comfy):
    """What the gate used to do (POST http://<host>:<port>/prompt) cannot work on this server."""
    assert tls_comfy.url.startswith("https://")
    with pytest.raises(OSError):                  # URLError, a reset or a closed connection
        with urllib.request.urlopen(f"http://127.0.0.1:{tls_comfy.port}/object_info/ImageGate", timeout=10) as r:
            r.read()


def test_a_sort_over_tls_goes_on_by_answers_alone(tls_comfy):
    folder, out = dataset(tls_comfy)
    with closing(Client(tls_comfy.url)) as c:    # https and wss, like a browser on this server
        c.reset()
        mark = c.mark()
        c.queue(SortGraph(folder, out).prompt())  # the only Run
        runs, pids = [], []
        for i, route in enumerate((1, 2, 3)):
            show = next_gate(c, tls_comfy, mark)
            assert (show["sort"]["index"], show["sort"]["file"]) == (i + 1, FILES[i])
            pids.append(show["prompt_id"])
            if i:        # the prompt before, finished: in the history until the next image's prompt starts
                runs.append(c.wait_history(pids[-2]))
            mark = c.mark()
            assert c.choose(show, route) == (200, {"ok": True, "taken": route})
        done = c.wait_for(lambda e: e.get("type") == names.EVENT_SORT and e["data"]["state"] == "done",
                          since=mark, timeout=60)["data"]
        assert done["counts"] == {"keep": 1, "reject": 1, "fix": 1}
        runs.append(c.wait_history(pids[-1]))
        assert saved(tls_comfy, out) == {"keep": ["cat_01.png"], "reject": ["cat_02.png"], "fix": ["cat_10.png"]}
        # ComfyUI's history keeps the sort's newest finished prompts, not one per image
        assert [h["prompt"][1] for h in our_prompts(c, folder)] == pids[1:]
        assert NOT_QUEUED not in tls_comfy.log_text()
        # The two prompts the gate queued went through the queue as POST /prompt puts them there:
        # a later number, a fresh id, this client's id and a create_time in their extra data.
        assert len(runs) == 3 and all(h["status"]["status_str"] == "success" for h in runs)
        numbers = [h["prompt"][0] for h in runs]
        assert numbers == sorted(numbers) and len(set(numbers)) == 3
        assert len({h["prompt"][1] for h in runs}) == 3
        for h in runs[1:]:
            assert str(uuid.UUID(h["prompt"][1])) == h["prompt"][1]
            extra = h["prompt"][3]
            assert extra["client_id"] == c.client_id and isinstance(extra.get("create_time"), int)
            assert "extra_pnginfo" not in extra or isinstance(extra["extra_pnginfo"], dict)
            assert all("is_changed" not in n for n in h["prompt"][2].values())
        time.sleep(0.5)
        q = c.get("/queue")[1]
        assert not q["queue_running"] and not q["queue_pending"]   # nothing more is queued at the end


def test_an_invalid_next_prompt_stops_the_sort_with_a_warning_and_run_resumes(tls_comfy):
    """The gate's prompt goes through the extensions' on_prompt handlers and ComfyUI's validation:
    one a handler makes invalid is not queued, the log says why, and Run goes on from there."""
    folder, out = dataset(tls_comfy, "_breaknext")
    with closing(Client(tls_comfy.url)) as c:
        c.reset()
        mark = c.mark()
        c.queue(SortGraph(folder, out).prompt())
        show = next_gate(c, tls_comfy, mark)
        mark = c.mark()
        assert c.choose(show, 1)[0] == 200        # its next prompt loses the gate's image input
        deadline = time.time() + 30
        while time.time() < deadline and NOT_QUEUED not in tls_comfy.log_text():
            time.sleep(0.2)
        warning = next((ln for ln in tls_comfy.log_text().splitlines() if NOT_QUEUED in ln), "")
        print(f"\n{warning}")
        assert "Required input is missing" in warning and "ImageGate" in warning, tls_comfy.log_tail(40)
        deadline = time.time() + 30
        while time.time() < deadline:
            q = c.get("/queue")[1]
            if not q["queue_running"] and not q["queue_pending"]:
                break
            time.sleep(0.2)
        assert not q["queue_running"] and not q["queue_pending"]   # the sort stopped
        assert c.pending() == []
        assert saved(tls_comfy, out) == {"keep": ["cat_01.png"]}   # the answered image was saved
        mark = c.mark()
        c.queue(SortGraph(folder, out).prompt())  # Run again: resumes at the next image
        for i, route in ((1, 2), (2, 3)):
            show = next_gate(c, tls_comfy, mark)
            assert show["sort"]["file"] == FILES[i]
            mark = c.mark()
            assert c.choose(show, route)[0] == 200
        c.wait_for(lambda e: e.get("type") == names.EVENT_SORT and e["data"]["state"] == "done",
                   since=mark, timeout=60)
        deadline = time.time() + 30
        while time.time() < deadline and saved(tls_comfy, out).get("fix") != ["cat_10.png"]:
            time.sleep(0.2)
        assert saved(tls_comfy, out) == {"keep": ["cat_01.png"], "reject": ["cat_02.png"], "fix": ["cat_10.png"]}
