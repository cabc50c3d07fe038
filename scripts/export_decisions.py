"""Export a folder sort's decision log as CSV (stdlib only; no ComfyUI needed).

    python scripts/export_decisions.py <ComfyUI>/output/dataset_gates_logs/<folder>-<hash>.jsonl > decisions.csv

One row per image that has a decision now (undone ones are left out), in the
order they were decided: seq, file, fingerprint, route, label, files, mask,
caption_changed, time.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from gates.core.sort_log import to_csv  # noqa: E402

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.stdout.write(to_csv(sys.argv[1]))
