"""E2e fixtures: the server of the test's frontend, and an API client on it."""
import pytest

from harness.comfy import Client
from harness.fixtures import server_for


@pytest.fixture
def server(frontend):
    return server_for(frontend)


@pytest.fixture
def api(server):
    c = Client(server.url)
    c.reset()
    yield c
    c.reset()
    c.close()
