"""`make demo`: a real ComfyUI with this pack and its example workflows.

Serves http://127.0.0.1:8188 (DEMO_PORT to change) from a persistent base folder
.demo/ (sorted images land in .demo/output/sorted/). Ctrl-C stops it cleanly.
Nothing is copied into input/: the examples read the sample dataset the pack
ships (folder `dataset_gates_sample`, see gates/core/samples.py), as in any ComfyUI.
"""
import os
import shutil
import signal
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests"))

from harness.comfy import ComfyServer  # noqa: E402
from harness.sample import SAMPLE, SAMPLE_FOLDER  # noqa: E402

port = int(os.environ.get("DEMO_PORT", "8188"))
base = os.environ.get("DEMO_BASE") or os.path.join(REPO, ".demo")
srv = ComfyServer(port=port, base=base, frontend=os.environ.get("DG_FRONTEND"))
wf_dir = srv.folder("user/default/workflows")
os.makedirs(wf_dir, exist_ok=True)
for name, title in (("sort_dataset", "sort a folder"), ("pick_from_batch", "pick the good ones from a batch")):
    shutil.copy(os.path.join(REPO, "example_workflows", f"{name}.json"),
                os.path.join(wf_dir, f"Dataset Gates - {title}.json"))


def stop(*_):
    print("\nstopping ComfyUI...", flush=True)
    srv.stop()
    sys.exit(0)


signal.signal(signal.SIGINT, stop)
signal.signal(signal.SIGTERM, stop)
print(f"starting ComfyUI (log: {srv.log_path}) ...", flush=True)
srv.start()
print(f"""
Dataset Gates demo is running at  {srv.url}

  1. Open the workflow: press W (Workflows sidebar) and click "Dataset Gates - sort a folder"
     (it is also under Templates > Custom Nodes > comfyui-dataset-gates > sort_dataset).
  2. Press Run once. The Image Gate shows the first sample image, its caption and "1 / 8".
  3. Click a route per image: keep / reject / fix (keys 1 2 3). The next image follows by itself
     until the folder is done. Backspace or Z undoes the last decision, Esc stops, M opens the
     mask editor. Run again later: it resumes at the first image without a decision.
  Sorted files land in {srv.folder('output/sorted')}/{{keep,reject,fix}}, the decision log in
  {srv.folder('output/dataset_gates_logs')}.
  The other example, "Dataset Gates - pick the good ones from a batch", shows a batch as a grid.
  Both read the pack's sample dataset in place ({SAMPLE}, folder "{SAMPLE_FOLDER}");
  for your own images, put a folder in {srv.folder('input')} (or use an absolute path) and set "folder".

Ctrl-C stops the server.""", flush=True)
while srv.proc.poll() is None:
    time.sleep(0.5)
print(f"ComfyUI exited with {srv.proc.returncode}; see {srv.log_path}")
sys.exit(srv.proc.returncode or 1)
