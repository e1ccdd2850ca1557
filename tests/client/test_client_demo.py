"""The Akeneo client against the demo Akeneo server over real HTTP: paging, resume, tokens, faults, media, memory."""

from __future__ import annotations

import hashlib
import io
import logging
import threading
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from connections.akeneo.auth import Credentials
from connections.akeneo.client import AkeneoClient, ClientSettings
from connections.akeneo.errors import AkeneoMalformedResponse, AkeneoUnreachable
from demo_akeneo.server import DemoServer, start_demo_server
from tests.support.demo import demo_fixture


@contextmanager
def demo(**options) -> Iterator[DemoServer]:
    server = start_demo_server(**{"products": 250, **options})
    try:
        yield server
    finally:
        server.stop()


def make_client(server: DemoServer, *, sleeps: list[float] | None = None, **settings) -> AkeneoClient:
    recorded = sleeps if sleeps is not None else []
    return AkeneoClient(
        Credentials(base_url=server.base_url, **server.credentials),
        ClientSettings(**{"backoff_base": 0.01, "backoff_max": 0.05, **settings}),
        sleep=lambda seconds: (recorded.append(seconds), time.sleep(min(seconds, 0.05))),
    )


server = demo_fixture(products=250)


def product_keys(items) -> list[str]:
    return [item["uuid"] for item in items]


# --- paging


def test_search_after_lists_every_product_once_including_identifierless(server):
    with make_client(server) as client:
        pages = list(client.pages("products-uuid"))
    uuids = product_keys(item for page in pages for item in page.items)
    assert len(uuids) == len(set(uuids)) == 250
    assert any(not item.get("identifier") for page in pages for item in page.items)
    assert all("pagination_type=search_after" in page.url for page in pages)
    assert pages[-1].next_url is None and all(page.next_url for page in pages[:-1])
    assert len(pages) == 3  # limit=100


def test_page_pagination_follows_next_links(server):
    with make_client(server, page_size=10) as client:
        pages = list(client.pages("categories"))
        codes = [item["code"] for page in pages for item in page.items]
        assert len(pages) > 3 and "page=2" in pages[1].url
        assert len(codes) == len(set(codes)) == len(list(client.items("categories", prefetch=False)))


def test_every_resource_can_be_listed(server):
    with make_client(server) as client:
        counts = {
            resource: len(list(client.items(resource)))
            for resource in (
                "locales", "currencies", "measurement-families", "channels", "categories", "attribute-groups",
                "attributes", "families", "association-types", "product-models", "asset-families",
                "reference-entities",
            )
        }  # fmt: skip
        assert all(counts.values()), counts
        select = next(
            a["code"] for a in client.items("attributes") if a["type"] == "pim_catalog_simpleselect"
        )
        assert list(client.items("attribute-options", parent=select))
        family = next(
            f["code"]
            for f in client.items("families")
            if list(client.items("family-variants", parent=f["code"]))
        )
        assert family
        asset_families = [a["code"] for a in client.items("asset-families")]
        assert any(list(client.items("assets", parent=code)) for code in asset_families)
        assert list(client.items("asset-family-attributes", parent=asset_families[0]))
        entity = next(iter(client.items("reference-entities")))["code"]
        assert list(client.items("reference-entity-records", parent=entity))
        assert list(client.items("reference-entity-attributes", parent=entity))


def test_resume_from_a_saved_cursor_loses_and_repeats_nothing(server):
    with make_client(server, page_size=40) as client:
        seen, cursor = [], None
        for index, page in enumerate(client.pages("products-uuid")):
            seen += product_keys(page.items)
            cursor = page.next_url
            if index == 2:
                break  # the worker dies after committing page 3
    with make_client(server, page_size=40) as fresh:
        seen += product_keys(
            item for page in fresh.pages("products-uuid", start_url=cursor) for item in page.items
        )
    assert len(seen) == len(set(seen)) == 250


def test_products_fall_back_to_the_identifier_endpoint_on_older_servers():
    with demo(products_uuid=False) as old, make_client(old) as client:
        assert client.products_path() == "/api/rest/v1/products"
        items = list(client.items("products-uuid"))
    assert items and all(item.get("identifier") for item in items)  # /products skips identifier-less ones


def test_search_filters_are_encoded_as_akeneo_expects(server):
    with make_client(server) as client:
        family = "clothing"  # the demo's biggest family ("accessories" is deliberately empty)
        search = {
            "family": [{"operator": "IN", "value": [family]}],
            "enabled": [{"operator": "=", "value": True}],
        }
        items = list(client.items("products-uuid", params={"search": search}))
    assert items and all(item["family"] == family and item["enabled"] for item in items)


# --- tokens


def test_token_is_reused_across_calls(server):
    with make_client(server) as client:
        list(client.items("categories"))
        list(client.items("attributes"))
        assert (client.stats["logins"], client.stats["refreshes"]) == (1, 0)


def test_token_refreshed_before_expiry_mid_iteration():
    with (
        demo(token_ttl=2, latency_ms=150, products=300) as server,
        make_client(server, page_size=20, refresh_buffer=1.5) as client,
    ):
        uuids = product_keys(client.items("products-uuid"))
    assert len(set(uuids)) == 300
    assert client.stats["logins"] == 1
    assert client.stats["refreshes"] >= 2


def test_401_mid_run_refreshes_once_and_replays(server):
    with make_client(server, page_size=50, refresh_buffer=0) as client:
        uuids, pages = [], 0
        for page in client.pages("products-uuid", prefetch=False):
            uuids += product_keys(page.items)
            pages += 1
            server.tokens.expire_all()  # the token expires between pages: Akeneo answers 401
    assert len(set(uuids)) == 250
    assert client.stats["logins"] == 1 and client.stats["refreshes"] == pages - 1


def test_spent_refresh_token_means_logging_in_again(server):
    with make_client(server) as client:
        client.authenticate()
        stale = client._token
        list(client.items("locales"))
        # Another process used our refresh token: Akeneo now answers 422 to it.
        client._renew(stale)
        client._expires_at = 0  # force renewal with the spent refresh token
        client._token = stale
        assert list(client.items("currencies"))
        assert client.stats["logins"] == 2


# --- faults


def test_429_honours_retry_after():
    sleeps: list[float] = []
    with (
        demo(faults="throttle_every=3") as server,
        make_client(server, page_size=25, sleeps=sleeps) as client,
    ):
        uuids = product_keys(client.items("products-uuid"))
    assert len(set(uuids)) == 250
    assert client.stats["retries"] >= 3
    assert sleeps and all(seconds == 1.0 for seconds in sleeps)  # the server's Retry-After: 1


def test_429_without_retry_after_backs_off():
    sleeps: list[float] = []
    with (
        demo(faults="throttle_every=3,throttle_no_retry_after=1") as server,
        make_client(server, page_size=25, sleeps=sleeps) as client,
    ):
        assert len(set(product_keys(client.items("products-uuid")))) == 250
    assert sleeps and all(0 < seconds <= 0.05 for seconds in sleeps)


def test_5xx_then_success():
    with demo(faults="error_rate=0.3") as server, make_client(server, page_size=25, max_attempts=8) as client:
        assert len(set(product_keys(client.items("products-uuid")))) == 250
    assert client.stats["retries"] >= 1
    assert server.stats.by_status.get(500, 0) + server.stats.by_status.get(503, 0) >= 1


def test_connection_resets_are_retried():
    with demo(faults="reset_every=4") as server, make_client(server, page_size=25) as client:
        assert len(set(product_keys(client.items("products-uuid")))) == 250
    assert client.stats["retries"] >= 1


def test_timeout_is_retried_then_reported():
    with demo(faults="slow_every=2,slow_seconds=1.5") as server:
        with make_client(server, page_size=50, read_timeout=0.5) as client:
            assert len(set(product_keys(client.items("products-uuid", prefetch=False)))) == 250
            assert client.stats["retries"] >= 1
        with (
            make_client(server, read_timeout=0.5, max_attempts=1) as impatient,
            pytest.raises(AkeneoUnreachable, match=r"no answer within 0\.5 seconds"),
        ):
            for _ in range(4):
                list(impatient.items("locales"))


def test_malformed_page_is_a_clear_error_and_nothing_after_it_is_yielded():
    with demo(faults="malformed_page=2") as server, make_client(server, max_attempts=1) as client:
        yielded = []
        with pytest.raises(AkeneoMalformedResponse, match="not valid JSON"):
            for page in client.pages("products-uuid"):
                yielded.append(page)
    assert len(yielded) == 1  # page 1 only: the broken page is never handed to an importer


def test_malformed_page_is_retried_when_attempts_remain():
    with demo(faults="malformed_page=2") as server, make_client(server) as client:
        assert len(set(product_keys(client.items("products-uuid")))) == 250
    assert client.stats["retries"] == 1


def run_in_threads(count: int, work) -> list[Exception]:
    """Run `work` in `count` threads at once; return what they raised."""
    errors: list[Exception] = []

    def guarded() -> None:
        try:
            work()
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guarded) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_at_most_four_requests_in_flight():
    """The demo answers 429 past 4 concurrent calls, like Akeneo SaaS; 8 threads share one client."""
    with demo(faults="max_concurrent=4", latency_ms=50) as server:
        with make_client(server, max_attempts=1) as client:
            errors = run_in_threads(
                8, lambda: [list(client.items("locales", prefetch=False)) for _ in range(5)]
            )
        assert errors == []
        assert server.stats.by_status.get(429, 0) == 0
        with make_client(server, max_attempts=1, max_in_flight=8) as greedy:
            failures = run_in_threads(8, lambda: list(greedy.items("locales", prefetch=False)))
        assert failures  # without the gate the same load is throttled: the test can fail


# --- media and memory


def test_media_download_streams_with_size_and_checksum(server, tmp_path):
    with make_client(server) as client:
        product = next(p for p in client.items("products-uuid") if "main_image" in p["values"])
        value = product["values"]["main_image"][0]
        assert "/" in value["data"]
        href = value["_links"]["download"]["href"]
        target = tmp_path / "image.png"
        with target.open("wb") as handle:
            result = client.download(href, handle)
        assert client.media_download_path("product", value["data"]) in href
    data = target.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert result.size == len(data)
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.content_type == "image/png"


def test_download_retry_rewinds_the_target():
    with demo(faults="reset_every=2") as server, make_client(server) as client:
        product = next(
            p for p in client.items("products-uuid", prefetch=False) if "main_image" in p["values"]
        )
        href = product["values"]["main_image"][0]["_links"]["download"]["href"]
        buffers = []
        for _ in range(3):
            buffer = io.BytesIO()
            result = client.download(href, buffer)
            buffers.append(buffer.getvalue())
        assert len(set(buffers)) == 1 and result.size == len(buffers[0])


def test_memory_stays_flat_over_a_large_iteration():
    """Only the current and the prefetched page are held: reading 10x more products must not grow the peak."""
    with demo(products=3000) as server, make_client(server) as client:

        def peak_after(count: int) -> int:
            tracemalloc.start()
            seen = 0
            for page in client.pages("products-uuid"):
                seen += len(page.items)
                if seen >= count:
                    break
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            return peak

        small, large = peak_after(300), peak_after(3000)
    assert large < small * 1.5 + 2_000_000, (small, large)


def test_asset_and_reference_entity_media_download(server):
    with make_client(server) as client:
        asset = next(a for a in client.items("assets", parent="packshots") if a["values"].get("media"))
        asset_media = asset["values"]["media"][0]
        record = next(
            r for r in client.items("reference-entity-records", parent="brands") if r["values"].get("image")
        )
        record_code = record["values"]["image"][0]["data"]
        # Assets bring their download link; record images only their code (with slashes): the client builds it.
        asset_buffer, record_buffer = io.BytesIO(), io.BytesIO()
        asset_result = client.download(asset_media["_links"]["download"]["href"], asset_buffer)
        record_result = client.download(
            client.media_download_path("reference-entity", record_code), record_buffer
        )
    for result, buffer in ((asset_result, asset_buffer), (record_result, record_buffer)):
        data = buffer.getvalue()
        assert data.startswith(b"\x89PNG") and result.size == len(data)
        assert result.sha256 == hashlib.sha256(data).hexdigest()


def test_no_token_or_secret_in_logs_or_errors(caplog):
    """Through refreshes, 401s, throttling, 5xx and a final failure: nothing secret is logged or raised."""
    caplog.set_level(logging.DEBUG)
    with demo(faults="throttle_every=4,error_rate=0.2") as server:
        client = make_client(server, page_size=50, refresh_buffer=0, max_attempts=8)
        tokens = set()
        for _page in client.pages("products-uuid", prefetch=False):
            tokens.add(client._token.access_token)
            tokens.add(client._token.refresh_token)
            server.tokens.expire_all()  # the next page meets a 401 and a refresh
        bad = AkeneoClient(
            Credentials(base_url=server.base_url + "/nowhere", **server.credentials),
            ClientSettings(max_attempts=1),
        )
        with pytest.raises(Exception) as raised:
            list(bad.items("locales"))
        client.close()
    shown = caplog.text + str(raised.value) + repr(raised.value)
    assert client.stats["refreshes"] >= 1 and client.stats["retries"] >= 1
    for secret in [server.credentials["secret"], server.credentials["password"], *tokens]:
        assert secret and secret not in shown
