"""`make demo`'s script: serves the page with the pack and the example workflows (nothing copied into
input/); Ctrl-C stops it all."""
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

from harness.comfy import REPO, free_port


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.read()


def test_demo_serves_the_pack_and_stops_cleanly_on_ctrl_c():
    port = free_port()
    base = tempfile.mkdtemp(prefix="dg-demo-")
    proc = subprocess.Popen([sys.executable, os.path.join(REPO, "scripts", "demo.py")],
                            env={**os.environ, "DEMO_PORT": str(port), "DEMO_BASE": base},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines = []
    try:
        deadline = time.time() + 180
        while time.time() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "demo is running at" in line:
                break
        assert f"http://127.0.0.1:{port}" in "".join(lines), "".join(lines)
        assert get(f"http://127.0.0.1:{port}/")[0] == 200
        assert b"ImageGate" in get(f"http://127.0.0.1:{port}/object_info/ImageGate")[1]
        assert b"Dataset Gates - sort a folder.json" in get(f"http://127.0.0.1:{port}/api/userdata?dir=workflows")[1]
        # nothing copied: the examples read the pack's sample in place
        assert os.listdir(os.path.join(base, "input")) == []
        os.killpg(proc.pid, signal.SIGINT)                # what Ctrl-C in a terminal does
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    out = subprocess.run(["pgrep", "-f", f"--port {port}"], capture_output=True, text=True).stdout
    assert out.strip() == "", f"stray processes: {out}"
    try:
        get(f"http://127.0.0.1:{port}/")
        raise AssertionError("the server still answers after Ctrl-C")
    except OSError:
        pass
