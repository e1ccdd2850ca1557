"""The test Akeneo of the connection tests: the demo server, its token faults chosen by Base URL path.

`TokenAkeneo.base_url("forbidden")` is a Base URL whose token call meets that fault (demo_akeneo.faults lists
them, `silent` among them); `base_url()` and any other prefix (`base_url("pim")`) log in for real with VALID.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload
from urllib.parse import urlsplit

from demo_akeneo.auth import NO_USER
from demo_akeneo.server import DemoServer, LogEntry, Stats, start_demo_server

__all__ = [
    "NO_USER",
    "VALID",
    "Endpoint",
    "RequestLog",
    "TokenAkeneo",
    "closed_port_url",
    "start_token_akeneo",
]

# Not the demo's defaults: a test passing only because client and server share defaults would prove nothing.
VALID = {
    "client_id": "fake-client-id",
    "secret": "S3cr3t-Value-9f8e",
    "username": "api_user",
    "password": "Pa55-Word-7c6d",
}


class RequestLog(Sequence[LogEntry]):
    """What the server answered since the last `clear()`, oldest first (a live view of its stats log)."""

    __hash__ = None  # type: ignore[assignment]  # compared by content, like the list it stands for

    def __init__(self, stats: Stats) -> None:
        self._stats = stats

    @overload
    def __getitem__(self, index: int) -> LogEntry: ...
    @overload
    def __getitem__(self, index: slice) -> list[LogEntry]: ...
    def __getitem__(self, index: int | slice) -> LogEntry | list[LogEntry]:
        return list(self._stats.log)[index]

    def __len__(self) -> int:
        return len(self._stats.log)

    def __iter__(self) -> Iterator[LogEntry]:
        return iter(list(self._stats.log))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    def __repr__(self) -> str:
        return f"RequestLog({list(self)!r})"

    def clear(self) -> None:
        self._stats.reset()


@dataclass(frozen=True)
class Endpoint:
    url: str


class TokenAkeneo:
    """A demo Akeneo (no products: only its token endpoint matters) whose credentials are VALID, and live."""

    def __init__(self, demo: DemoServer) -> None:
        self.demo = demo

    def base_url(self, fault: str = "") -> str:
        return f"{self.demo.base_url}/{fault}" if fault else self.demo.base_url

    @property
    def port(self) -> int:
        return urlsplit(self.demo.base_url).port or 80

    @property
    def valid(self) -> dict[str, str]:
        """The credentials the server accepts: change them to play a secret rotated on Akeneo's side."""
        return self.demo.credentials

    @property
    def requests(self) -> RequestLog:
        return RequestLog(self.demo.stats)

    def stop(self) -> None:
        self.demo.stop()


def start_token_akeneo() -> TokenAkeneo:
    return TokenAkeneo(start_demo_server(products=0, **VALID))


def closed_port_url() -> str:
    """A loopback URL on which nothing listens (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
