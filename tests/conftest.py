"""Fixtures shared by the test modules."""

import pytest
from httpserver import LocalServer


@pytest.fixture
def local_server():
    """A real HTTP server on 127.0.0.1 serving tests/fixtures/pages/ (see httpserver.py)."""
    with LocalServer() as server:
        yield server
