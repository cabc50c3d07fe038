"""Markers by folder: tests/unit -> unit, tests/integration -> integration, tests/e2e -> e2e, tests/soak -> soak."""
import pathlib

import pytest

pytest_plugins = ["harness.fixtures"]


def pytest_collection_modifyitems(config, items):
    for item in items:
        parts = pathlib.Path(str(item.fspath)).parts
        for kind in ("unit", "integration", "e2e", "soak"):
            if kind in parts:
                item.add_marker(getattr(pytest.mark, kind))
        # `make test` runs on two pytest-xdist workers (--dist loadgroup): the tests of one
        # server (a backend, or a backend x frontend) stay on one worker, which starts it once.
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "frontend" in params or "backend" in params:
            item.add_marker(pytest.mark.xdist_group(f"{params.get('backend', '')}-{params.get('frontend', '')}"))
