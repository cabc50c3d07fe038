"""E2e fixtures: the server of the test's backend and frontend, and an API client on it."""
import pytest

from harness.comfy import idle_client
from harness.fixtures import server_for


@pytest.fixture
def server(backend, frontend):
    return server_for(frontend, backend)


@pytest.fixture
def api(server):
    with idle_client(server.url) as c:
        yield c
