"""Fixtures for the demo Akeneo tests: real servers on loopback, real HTTP through `requests`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from demo_akeneo.server import DemoServer, start_demo_server
from tests.support.demo import demo_fixture

from .helpers import SMALL_CATALOG, Client

demo = demo_fixture(products=SMALL_CATALOG, seed=42, scope="session")


@pytest.fixture(scope="session")
def client(demo: DemoServer) -> Client:
    return Client(demo)


@pytest.fixture
def make_server() -> Iterator[Any]:
    """Start extra servers (faults, options) for one test and always stop them."""
    started: list[DemoServer] = []

    def make(**options: Any) -> DemoServer:
        options.setdefault("products", 60)
        server = start_demo_server(**options)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()
