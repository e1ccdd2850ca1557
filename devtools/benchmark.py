"""What the benchmark commands share: a demo Akeneo in a subprocess, and the bare `requests` floor."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests

from connections.akeneo.auth import Credentials, request_password_token
from demo_akeneo.auth import DEFAULT_CREDENTIALS
from demo_akeneo.server import STATS_PATH


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def demo_server(
    products: int,
    latency_ms: float,
    *,
    page_latency_ms: float | None = None,
    media_latency_ms: float | None = None,
    faults: str = "",
) -> Iterator[Credentials]:
    """Serve the demo from `manage.py serve_demo_akeneo` in a subprocess (so its CPU and memory are not the
    benchmark's) and yield its credentials once its token endpoint answers; `demo_stats()` reads its counters."""
    port = free_port()
    manage = Path(__file__).resolve().parents[1] / "manage.py"
    command = [
        sys.executable,
        str(manage),
        "serve_demo_akeneo",
        "--port",
        str(port),
        "--products",
        str(products),
    ]
    command += ["--latency-ms", str(latency_ms)]
    if page_latency_ms is not None:
        command += ["--page-latency-ms", str(page_latency_ms)]
    if media_latency_ms is not None:
        command += ["--media-latency-ms", str(media_latency_ms)]
    if faults:
        command += ["--faults", faults]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603
    credentials = Credentials(base_url=f"http://127.0.0.1:{port}", **DEFAULT_CREDENTIALS)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                request_password_token(credentials, timeout=(1, 5))
                break
            except Exception:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"demo server did not start: {process.stderr.read().decode()[-2000:]}"
                    ) from None
                time.sleep(0.2)
        yield credentials
    finally:
        process.terminate()
        process.wait(timeout=10)


def demo_stats(base_url: str) -> dict:
    """The demo's counters (`DemoServer.stats.snapshot()`: page and media calls, most calls in flight...)."""
    response = requests.get(base_url + STATS_PATH, timeout=(5, 30))
    response.raise_for_status()
    return response.json()


def bare_read(credentials: Credentials, urls: list[str], *, work: float = 0.0) -> dict:
    """The floor: the same URLs, one session, one token, JSON parsed, nothing else."""
    session = requests.Session()
    token = request_password_token(credentials, timeout=(5, 60), session=session).access_token
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    products = bytes_read = 0
    started = time.perf_counter()
    for url in urls:
        response = session.get(url, headers=headers, timeout=(5, 60))
        response.raise_for_status()
        bytes_read += len(response.content)
        products += len(response.json()["_embedded"]["items"])
        time.sleep(work)
    session.close()
    return {
        "pages": len(urls),
        "products": products,
        "bytes": bytes_read,
        "seconds": time.perf_counter() - started,
    }


def bare_follow(credentials: Credentials, first_url: str) -> dict:
    """The floor for a whole resource: follow `_links.next` with bare requests, JSON parsed, nothing else."""
    session = requests.Session()
    token = request_password_token(credentials, timeout=(5, 60), session=session).access_token
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    url: str | None = first_url
    pages = products = bytes_read = 0
    started = time.perf_counter()
    while url:
        response = session.get(url, headers=headers, timeout=(5, 60))
        response.raise_for_status()
        body = response.json()
        pages += 1
        bytes_read += len(response.content)
        products += len(body["_embedded"]["items"])
        url = (body.get("_links", {}).get("next") or {}).get("href")
    session.close()
    return {
        "pages": pages,
        "products": products,
        "bytes": bytes_read,
        "seconds": time.perf_counter() - started,
    }
