"""Fixtures and drivers for the real ComfyUI, its page and the benchmarks.

The harness reads the pack's published names (``gates.core.names``), so the repo
root must be importable also when a script (demo, bench) imports the harness.
"""
import os
import sys

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)
