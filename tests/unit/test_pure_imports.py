"""The pure core and the node modules import without torch or ComfyUI."""
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_core_imports_pull_in_neither_torch_nor_comfyui():
    code = ("import sys; "
            "import gates.pauses, gates.names, gates.scan, gates.files, gates.gate, gates.loader, gates.saver, "
            "gates.chooser, gates.originals, gates.tags, gates.query, gates.tokens; "
            "bad = [m for m in ('torch', 'comfy', 'server', 'folder_paths', 'aiohttp') if m in sys.modules]; "
            "assert not bad, bad")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
