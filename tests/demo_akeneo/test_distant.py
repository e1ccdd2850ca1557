"""The demo plays a distant Akeneo: per-kind latency, Akeneo's concurrency limit per access token, and the most
calls seen in flight (what a test asserts "never more than 4 calls in flight per connection" with)."""

from __future__ import annotations

import threading
import time

import requests

from demo_akeneo.faults import FaultConfig
from demo_akeneo.server import STATS_PATH
from devtools.benchmark import demo_server, demo_stats

from .helpers import API, Client


def media_href(client: Client) -> str:
    for product in client.json(API + "/products-uuid", limit=20)["_embedded"]["items"]:
        for values in product["values"].values():
            for value in values:
                if "_links" in value:
                    return value["_links"]["download"]["href"]
    raise AssertionError("no media value in the first products")


def elapsed(call) -> float:
    start = time.perf_counter()
    response = call()
    assert response.status_code == 200
    return time.perf_counter() - start


def test_media_latency_applies_to_downloads_page_latency_to_the_rest(make_server):
    slow_media = make_server(page_latency_ms=0, media_latency_ms=400)
    client = Client(slow_media)
    href = media_href(client)
    assert elapsed(lambda: client.get(href)) >= 0.4
    assert slow_media.stats.media_calls == 1 and slow_media.stats.page_calls == 1

    slow_pages = make_server(page_latency_ms=400, media_latency_ms=0)
    client = Client(slow_pages)
    assert elapsed(lambda: client.get(API + "/products-uuid", limit=5)) >= 0.4
    assert elapsed(lambda: client.get(API + "/locales/en_US")) >= 0.4  # item GETs are pages too
    assert slow_pages.stats.page_calls == 2 and slow_pages.stats.media_calls == 0


def test_latency_ms_is_the_default_of_both_kinds(make_server):
    server = make_server(latency_ms=250, media_latency_ms=50)
    assert server.page_latency == 0.25 and server.media_latency == 0.05
    server = make_server(latency_ms=250)
    assert server.page_latency == server.media_latency == 0.25


def concurrent_calls(server, tokens: list[str], path: str) -> list[tuple[str, int, str | None]]:
    """One call per entry of `tokens`, all at once; (token, status, Retry-After) per call."""
    results: list[tuple[str, int, str | None]] = []
    barrier = threading.Barrier(len(tokens))

    def call(token: str) -> None:
        with requests.Session() as session:
            barrier.wait()
            response = session.get(
                server.base_url + API + path,
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                timeout=30,
            )
            results.append((token, response.status_code, response.headers.get("Retry-After")))

    threads = [threading.Thread(target=call, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_more_than_n_calls_per_token_answer_429_with_retry_after(make_server):
    server = make_server(faults="max_concurrent_per_token=2,slow_every=1,slow_seconds=1.5")
    a, b = Client(server).token, Client(server).token
    results = concurrent_calls(server, [a, a, a, b, b], "/locales")
    by_token = {t: sorted(status for token, status, _ in results if token == t) for t in (a, b)}
    assert by_token[a] == [200, 200, 429]  # the third call under token a is one too many
    assert by_token[b] == [200, 200]  # token b has its own budget
    assert [retry for _, status, retry in results if status == 429] == ["1"]
    assert server.stats.faults["concurrency_per_token"] == 1
    assert server.stats.max_in_flight_per_token == 3  # the refused call was in flight too
    assert server.stats.max_in_flight_by_token == {a: 3, b: 2}
    # The four accepted calls last 1.5 s each, so they overlap; the refused one is answered at once and may be
    # gone before the last accepted call arrives.
    assert server.stats.max_in_flight in (4, 5)


def test_a_client_keeping_to_four_calls_is_never_refused(make_server):
    server = make_server(products=120, faults="max_concurrent_per_token=4", page_latency_ms=20)
    token = Client(server).token
    paths = [f"/products-uuid?limit=10&page={n}" for n in range(1, 13)]
    lock = threading.Lock()
    statuses: list[int] = []

    def worker() -> None:
        with requests.Session() as session:
            while True:
                with lock:
                    if not paths:
                        return
                    path = paths.pop()
                response = session.get(
                    server.base_url + API + path, headers={"Authorization": f"Bearer {token}"}, timeout=30
                )
                statuses.append(response.status_code)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 12
    assert 1 <= server.stats.max_in_flight_per_token <= 4
    assert server.stats.max_in_flight <= 4


def test_stats_reset_clears_the_maxima(make_server):
    server = make_server()
    Client(server).get(API + "/locales")
    assert server.stats.max_in_flight == 1 and server.stats.page_calls == 1
    server.stats.reset()
    snapshot = server.stats.snapshot()
    assert snapshot["max_in_flight"] == snapshot["page_calls"] == snapshot["max_in_flight_per_token"] == 0
    assert server.stats.max_in_flight_by_token == {}


def test_stats_endpoint_is_not_counted(make_server):
    server = make_server()
    client = Client(server)
    client.get(API + "/locales")
    client.get(media_href(client))
    snapshot = requests.get(server.base_url + STATS_PATH, timeout=10).json()
    assert snapshot["page_calls"] == 2 and snapshot["media_calls"] == 1
    assert snapshot["max_in_flight"] == snapshot["max_in_flight_per_token"] == 1
    assert requests.get(server.base_url + STATS_PATH, timeout=10).json()["total"] == snapshot["total"]


def test_serve_command_takes_per_kind_latency_flags():
    """The benchmark's subprocess demo: `serve_demo_akeneo --page-latency-ms --media-latency-ms --faults`."""
    with demo_server(
        30, 0, page_latency_ms=120, media_latency_ms=0, faults="max_concurrent_per_token=4"
    ) as credentials:
        session = requests.Session()
        token = session.post(
            credentials.base_url + "/api/oauth/v1/token",
            auth=(credentials.client_id, credentials.secret),
            json={
                "grant_type": "password",
                "username": credentials.username,
                "password": credentials.password,
            },
            timeout=10,
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        start = time.perf_counter()
        assert session.get(credentials.base_url + API + "/locales", headers=headers, timeout=10).ok
        assert time.perf_counter() - start >= 0.12
        stats = demo_stats(credentials.base_url)
        assert stats["page_calls"] == 1 and stats["max_in_flight_per_token"] == 1


def test_spec_takes_max_concurrent_per_token():
    assert FaultConfig.parse("max_concurrent_per_token=4").max_concurrent_per_token == 4
    assert FaultConfig.parse("max_concurrent_per_token=4").active
