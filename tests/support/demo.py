"""One way for a test module to serve the demo Akeneo: `demo = demo_fixture(products=20)`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Literal

import pytest

from demo_akeneo.server import DemoServer, start_demo_server


def demo_fixture(
    products: int, *, scope: Literal["function", "module", "session"] = "module", **options: Any
) -> Callable[..., Iterator[DemoServer]]:
    """A fixture serving `start_demo_server(products=products, **options)`, stopped at the end of its scope.

    Bind it to the name tests ask for (`demo = demo_fixture(...)`; `connection` and `hostile` use `demo`)."""

    @pytest.fixture(scope=scope)
    def serve() -> Iterator[DemoServer]:
        server = start_demo_server(products=products, **options)
        try:
            yield server
        finally:
            server.stop()

    return serve
