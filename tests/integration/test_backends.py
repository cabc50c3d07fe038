"""Each test session says which ComfyUI it runs on, and no test runs on the wrong one."""
import pytest

from harness.comfy import ComfyServer, new_backend
from harness.fixtures import backend_skip_reason


def test_the_newer_comfyui_is_in_the_matrix(pytestconfig):
    """One skipped test, with the reason, when ComfyUI 0.33.0 is not run (never a silent gap)."""
    why = backend_skip_reason(pytestconfig)
    if why:
        pytest.skip(why)
    assert new_backend() in pytestconfig._dg_backends


def test_system_stats_reports_the_backend_under_test(comfy, client, backend):
    status, stats = client.get("/system_stats")
    assert status == 200
    if backend != "own":
        assert stats["system"]["comfyui_version"] == backend == comfy.comfyui_version


def test_a_server_reporting_another_version_fails_loudly(comfy, tmp_path):
    probe = ComfyServer(port=comfy.port, base=str(tmp_path), backend=comfy.backend)
    probe.backend = "0.0.1"
    with pytest.raises(RuntimeError, match=r"expected ComfyUI 0\.0\.1, but /system_stats .* reports"):
        probe.check_version()
