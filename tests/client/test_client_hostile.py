"""The Akeneo client against a hostile or broken Akeneo (tests/hostile_akeneo.py) over real HTTP.

Each test is a way a server can hurt a run: leak the token elsewhere, loop forever, trickle or flood bytes,
stall the run with Retry-After, or send junk among the records.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from connections.akeneo.auth import Credentials
from connections.akeneo.client import AkeneoClient, ClientSettings
from connections.akeneo.errors import (
    AkeneoDeadline,
    AkeneoForeignLink,
    AkeneoPagingLoop,
    AkeneoTooLarge,
    AkeneoWaitTooLong,
)
from tests.hostile_akeneo import HostileAkeneo
from tests.support.demo import demo_fixture

PRODUCTS = 30
MEDIA_PATH = "/api/rest/v1/media-files/"


demo = demo_fixture(products=PRODUCTS)


def make_client(server, *, sleeps: list[float] | None = None, **settings) -> AkeneoClient:
    """A client whose waits are recorded, never slept (the retry budget is about what it would wait)."""
    recorded = sleeps if sleeps is not None else []
    return AkeneoClient(
        Credentials(base_url=server.base_url, **server.credentials),
        ClientSettings(**{"page_size": 10, "backoff_base": 0.01, "backoff_max": 0.05, **settings}),
        sleep=recorded.append,
    )


def media_href(client: AkeneoClient) -> str:
    """The download link of the first product image the (tampered) pages carry."""
    for item in client.items("products-uuid", prefetch=False):
        for entries in item["values"].values():
            for entry in entries:
                href = (entry.get("_links") or {}).get("download", {}).get("href")
                if href:
                    return href
    raise AssertionError("no media in the demo catalog")


def api_gets(server: HostileAkeneo, marker: str) -> list[dict]:
    return [entry for entry in server.requests if entry["method"] == "GET" and marker in entry["path"]]


# --- 1. credentials only go to the connection's own server


@pytest.mark.parametrize("prefetch", [True, False])
def test_a_next_link_to_another_host_is_refused_and_that_host_gets_nothing(hostile, prefetch):
    server = hostile(foreign_next=True)
    foreign = urlsplit(server.foreign.base_url)
    with make_client(server) as client:
        yielded = []
        with pytest.raises(AkeneoForeignLink) as refused:
            for page in client.pages("products-uuid", prefetch=prefetch):
                yielded.append(page)
                assert len(yielded) < 5, "the foreign link was followed"
        token = client._token.access_token
    message = str(refused.value)
    assert f"http://127.0.0.1:{foreign.port}" in message and "not followed" in message
    assert token not in message
    assert server.foreign.requests == []  # neither the token nor even a request reached it
    assert not refused.value.retryable
    assert yielded == []  # the page carrying the foreign link is not handed over (no cursor to save)


def test_a_media_link_to_another_host_is_refused_and_that_host_gets_nothing(hostile):
    server = hostile(foreign_media=True)
    with make_client(server) as client:
        href = media_href(client)
        assert href.startswith(server.foreign.base_url)
        with pytest.raises(AkeneoForeignLink, match=rf"http://127\.0\.0\.1:{urlsplit(href).port}"):
            client.download(href, io.BytesIO())
    assert server.foreign.requests == []


def test_relative_links_are_followed_on_the_connection_s_own_server(hostile):
    server = hostile(relative_links=True)
    with make_client(server) as client:
        pages = list(client.pages("products-uuid"))
        href = media_href(client)
        assert href.startswith("/api/rest/v1/")
        buffer = io.BytesIO()
        result = client.download(href, buffer)
    assert len({item["uuid"] for page in pages for item in page.items}) == PRODUCTS
    assert all(page.next_url.startswith(server.base_url + "/api/rest/v1/") for page in pages[:-1])
    assert result.size == len(buffer.getvalue()) > 0


# --- 7. paging that goes round


@pytest.mark.parametrize("prefetch", [True, False])
def test_a_next_link_back_to_a_page_already_read_stops_the_iteration(hostile, prefetch):
    server = hostile(self_next=True)
    with make_client(server) as client:
        yielded = []
        with pytest.raises(
            AkeneoPagingLoop, match="Akeneo's next link repeats a page already read: "
        ) as loop:
            for page in client.pages("products-uuid", prefetch=prefetch):
                yielded.append(page)
                assert len(yielded) < 10, "the same page is read again and again"
    assert "/api/rest/v1/products-uuid?" in str(loop.value)
    assert not loop.value.retryable
    # The page whose next link points at itself is handed over once, then the iteration stops; at most one
    # further read (the first URL and the self link may be spelled differently).
    assert 1 <= len(yielded) <= 2
    assert len(api_gets(server, "/products-uuid?")) == len(yielded)


def test_next_links_that_never_end_stop_far_past_the_expected_count(hostile):
    server = hostile(endless_next=True)
    with make_client(server, page_size=10) as client:
        read = 0
        with pytest.raises(AkeneoPagingLoop) as endless:
            for page in client.pages("products-uuid", expected_count=PRODUCTS):
                read += len(page.items)
                assert read < 1000, "the endless next links were followed on and on"
    ceiling = PRODUCTS * 2 + 10 * 10
    assert f"{ceiling + 10} items read where it counted {PRODUCTS}" in str(endless.value)
    assert read == ceiling + 10
    assert not endless.value.retryable


def test_an_honest_iteration_is_not_stopped_by_the_guards(demo):
    with make_client(demo, page_size=7) as client:
        pages = list(client.pages("products-uuid", expected_count=PRODUCTS))
    assert sum(len(page.items) for page in pages) == PRODUCTS and pages[-1].next_url is None


# --- 8. media downloads: an overall deadline and a maximum size


def test_a_trickling_media_download_stops_at_its_deadline(hostile, demo):
    server = hostile(drip_media=0.2)  # 5 bytes a second: the 5 s read timeout never trips
    with make_client(server, read_timeout=5, media_deadline=1) as client:
        href = media_href(client)
        target = io.BytesIO()
        started = time.monotonic()
        with pytest.raises(AkeneoDeadline, match=r"did not finish within 1 s") as late:
            client.download(href, target)
        elapsed = time.monotonic() - started
    with make_client(demo) as honest:
        size = honest.download(href.replace(server.base_url, demo.base_url), io.BytesIO()).size
    assert size * 0.2 > 30  # dripped whole, the file would take more than 30 s...
    assert elapsed < 10  # ...the watchdog cut it at its deadline (1 s), not after the last byte
    assert not late.value.retryable
    assert len(api_gets(server, MEDIA_PATH)) == 1  # not retried


def test_a_trickling_list_page_stops_at_its_deadline(hostile):
    server = hostile(drip_pages=0.2)  # 5 bytes a second: the 5 s read timeout never trips
    with make_client(server, read_timeout=5, answer_deadline=1) as client:
        started = time.monotonic()
        with pytest.raises(
            AkeneoDeadline, match=r"did not finish within 1 s \(AKENEO_ANSWER_DEADLINE\)"
        ) as late:
            list(client.pages("locales"))
        elapsed = time.monotonic() - started
    assert elapsed < 10  # a locales page dripped whole takes minutes: the watchdog cut it at 1 s
    assert not late.value.retryable


@pytest.mark.parametrize(
    ("announced", "said"), [(True, "announces 2000000 bytes"), (False, "grew past the limit")]
)
def test_a_media_file_over_the_maximum_size_is_refused(hostile, announced, said):
    server = hostile(huge_media=2_000_000, huge_media_length=announced)
    with make_client(server, media_max_bytes=100_000) as client:
        href = media_href(client)
        target = io.BytesIO()
        with pytest.raises(AkeneoTooLarge, match=said) as refused:
            client.download(href, target)
    assert "100000 bytes accepted" in str(refused.value) and not refused.value.retryable
    assert len(target.getvalue()) <= 100_000
    assert len(api_gets(server, MEDIA_PATH)) == 1


# --- 9. Retry-After cannot stall a run


def test_a_huge_retry_after_fails_at_once_without_waiting(hostile):
    server = hostile(retry_after=100000)
    sleeps: list[float] = []
    with (
        make_client(server, sleeps=sleeps, max_retry_wait=300) as client,
        pytest.raises(AkeneoWaitTooLong) as refused,
    ):
        list(client.items("locales"))
    message = str(refused.value)
    assert "Akeneo asked to wait 100000 s" in message and "300 s" in message and "HTTP 429" in message
    assert not refused.value.retryable
    assert sleeps == []
    assert len(api_gets(server, "/api/rest/v1/locales")) == 1


def test_the_total_wait_of_one_request_is_capped(hostile):
    server = hostile(retry_after=2)
    sleeps: list[float] = []
    with (
        make_client(server, sleeps=sleeps, max_retry_wait=5, max_attempts=6) as client,
        pytest.raises(AkeneoWaitTooLong, match=r"Akeneo asked to wait 2 s .* the 1 s left of the 5 s"),
    ):
        list(client.items("locales"))
    assert sleeps == [2.0, 2.0]
    assert len(api_gets(server, "/api/rest/v1/locales")) == 3


# --- 10. pages: a byte cap, junk entries


def test_a_page_over_the_byte_cap_is_refused(hostile):
    server = hostile(huge_page=2000)  # about 5 MB in one page, whatever `limit` said
    with (
        make_client(server, max_page_bytes=1024**2) as client,
        pytest.raises(AkeneoTooLarge, match=r"announces \d+ bytes, more than the 1048576 bytes") as big,
    ):
        list(client.pages("products-uuid"))
    assert "AKENEO_MAX_PAGE_BYTES" in str(big.value) and not big.value.retryable


def test_a_page_under_the_cap_with_more_items_than_asked_is_returned_whole(hostile):
    server = hostile(huge_page=300)
    with make_client(server, page_size=10) as client:
        first = next(iter(client.pages("products-uuid")))
    assert len(first.items) == 300


def test_entries_that_are_not_records_are_dropped_and_counted(hostile):
    server = hostile(null_items=True)
    with make_client(server) as client:
        pages = list(client.pages("products-uuid"))
        locales = list(client.pages("locales"))
    items = [item for page in pages for item in page.items]
    assert all(isinstance(item, dict) for item in items)
    assert len({item["uuid"] for item in items}) == PRODUCTS
    assert [page.dropped for page in pages] == [3] * len(pages)
    assert locales[0].dropped == 3 and all(isinstance(item, dict) for item in locales[0].items)


# --- a server without Content-Length (a body read until the connection closes), and untrusted counts


@contextmanager
def raw_akeneo(page_body: bytes) -> Iterator[str]:
    """A minimal Akeneo: any token is granted; every API GET answers `page_body` with no Content-Length."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # the body ends when the connection closes

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.dumps({"access_token": "t0ken-xyz", "refresh_token": "r", "expires_in": 3600})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            for start in range(0, len(page_body), 65536):
                self.wfile.write(page_body[start : start + 65536])

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def raw_client(base_url: str, **settings) -> AkeneoClient:
    return AkeneoClient(
        Credentials(base_url=base_url, client_id="c", secret="s", username="u", password="p"),
        ClientSettings(max_attempts=1, **settings),
    )


def test_a_page_growing_past_the_byte_cap_without_content_length_is_cut():
    records = [{"code": f"c{index}", "labels": {"en_US": "x" * 200}} for index in range(5000)]
    body = json.dumps({"_links": {}, "_embedded": {"items": records}}).encode()
    with (
        raw_akeneo(body) as base_url,
        raw_client(base_url, max_page_bytes=100_000) as client,
        pytest.raises(AkeneoTooLarge, match="grew past the limit"),
    ):
        list(client.pages("channels"))


@pytest.mark.parametrize("count", [-5, "12", 1.5, True, None])
def test_items_count_is_only_a_non_negative_integer(count):
    body = json.dumps({"_links": {}, "items_count": count, "_embedded": {"items": [{"code": "a"}]}}).encode()
    with raw_akeneo(body) as base_url, raw_client(base_url) as client:
        page = next(iter(client.pages("channels")))
        assert page.items_count is None
        assert client.count("channels") is None
