"""One demo Akeneo per test module, every page read from it once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connections.akeneo.auth import Credentials
from connections.akeneo.client import AkeneoClient
from demo_akeneo.server import DemoServer
from tests.support.demo import demo_fixture

from .helpers import Served

demo_server = demo_fixture(products=120)


@pytest.fixture(scope="module")
def served(demo_server: DemoServer) -> Iterator[Served]:
    client = AkeneoClient(Credentials(base_url=demo_server.base_url, **demo_server.credentials))
    yield Served(client)
    client.close()
