"""The parents of a sub-resource are read several at once, and the walk still hands their pages over in the
order (and with the cursors) of a walk reading them one at a time.

All against the demo Akeneo over real HTTP; small page sizes give parents many pages."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from connections.akeneo.auth import Credentials
from connections.akeneo.client import AkeneoClient, ClientSettings
from connections.akeneo.errors import AkeneoHTTPError
from demo_akeneo.server import DemoServer, start_demo_server
from migrations_runs.source import SourcePage, walk
from tests.support.demo import demo_fixture

SUB_RESOURCES = [
    "attribute-options",
    "family-variants",
    "asset-family-attributes",
    "reference-entity-records",
]


demo = demo_fixture(products=60)


@pytest.fixture
def make_server() -> Iterator:
    """Servers a test may change (latency, deleted parents, broken parents); always stopped."""
    started: list[DemoServer] = []

    def make(**options) -> DemoServer:
        server = start_demo_server(products=60, **options)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


def demo_client(demo: DemoServer, **settings) -> AkeneoClient:
    client = AkeneoClient(Credentials(base_url=demo.base_url, **demo.credentials), ClientSettings(**settings))
    client.authenticate()
    return client


def shape(pages: list[SourcePage]) -> list[tuple]:
    """What a consumer sees of each page, in order (records by their own code)."""
    return [
        (
            page.parents,
            page.url,
            tuple(item.get("code") for item in page.items),
            page.cursor["next_url"],
            page.gone is not None,
        )
        for page in pages
    ]


def walk_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith("akeneo-walk")]


def settled_calls(server: DemoServer) -> int:
    """The demo's page calls once they stop growing (threads done or waiting for room)."""
    last = server.stats.page_calls
    for _ in range(50):
        time.sleep(0.2)
        now = server.stats.page_calls
        if now == last:
            return now
        last = now
    raise AssertionError("the page calls kept growing")


@pytest.mark.parametrize("resource", SUB_RESOURCES)
def test_pages_come_in_the_order_of_a_sequential_walk(demo, resource):
    with demo_client(demo, page_size=3) as client:
        sequential = list(walk(client, resource, parallel=1))
        parallel = list(walk(client, resource))
    assert len({page.parents for page in sequential}) > 1  # several parents, so the order means something
    assert shape(parallel) == shape(sequential)
    assert [page.cursor for page in parallel] == [page.cursor for page in sequential]
    assert not walk_threads()


def test_parents_are_read_several_at_once_within_the_connection_budget(make_server):
    server = make_server(page_latency_ms=60)
    with demo_client(server, page_size=3, max_in_flight=3) as client:
        parents = [(code,) for code in sorted(server.catalog.attribute_options)]
        server.stats.reset()
        pages = list(walk(client, "attribute-options", parents=parents))
    assert {page.parents for page in pages} == set(parents)
    assert 1 < server.stats.max_in_flight <= 3
    assert server.stats.max_in_flight_per_token <= 3


def test_parallel_one_reads_one_parent_at_a_time(make_server):
    server = make_server(page_latency_ms=30)
    with demo_client(server) as client:
        server.stats.reset()
        pages = list(
            walk(
                client,
                "family-variants",
                parents=[(code,) for code in server.catalog.family_by_code],
                parallel=1,
                prefetch=False,
            )
        )
    assert len(pages) == len(server.catalog.family_by_code)
    assert server.stats.max_in_flight == 1


def test_a_resumed_walk_gives_the_pages_left(demo):
    with demo_client(demo, page_size=3) as client:
        pages = list(walk(client, "attribute-options", parallel=1))
        # in the middle of a parent with more pages, and at the end of a parent
        middle = next(
            i
            for i, page in enumerate(pages)
            if page.next_url and i > 0 and pages[i - 1].parents == page.parents
        )
        end = next(i for i, page in enumerate(pages) if not page.next_url and i + 1 < len(pages))
        for index in (middle, end):
            resumed = list(walk(client, "attribute-options", start=pages[index].cursor))
            assert shape(resumed) == shape(pages[index + 1 :]), index
    assert pages[middle].cursor["next_url"] and pages[end].cursor["next_url"] is None


def test_a_parent_gone_since_it_was_listed_yields_its_gone_page_in_its_place(make_server):
    server = make_server()
    with demo_client(server, page_size=1) as client:
        families = sorted(item["code"] for item in client.items("families"))
        deleted = families[2]
        del server.catalog.family_by_code[deleted]  # deleted in Akeneo after the walk's caller listed it
        given = [(code,) for code in families] + [("m_never_existed",)]
        pages = list(walk(client, "family-variants", parents=given))
        expected = list(walk(client, "family-variants", parents=given, parallel=1))
    gone = [page.parents for page in pages if page.gone]
    assert gone == sorted([(deleted,), ("m_never_existed",)])
    assert all("404" in page.gone for page in pages if page.gone)
    assert shape(pages) == shape(expected)
    assert [page.parents for page in pages] == sorted(page.parents for page in pages)


def test_closing_the_walk_early_stops_every_thread(make_server):
    server = make_server(page_latency_ms=20)
    with demo_client(server, page_size=1) as client:
        parents = [(code,) for code in sorted(server.catalog.attribute_options)]
        full = sum(len(options) for options in server.catalog.attribute_options.values())
        server.stats.reset()
        pages = walk(client, "attribute-options", parents=parents)
        first = next(pages)
        # While the walk waits, its threads read ahead only a few pages (per parent and in parents).
        ahead = settled_calls(server)
        assert ahead < 20 < full
        pages.close()
        assert not walk_threads()
        closed = server.stats.page_calls
        assert settled_calls(server) == closed
    assert first.parents == parents[0]


def test_a_failing_parent_raises_where_its_pages_would_come(make_server):
    server = make_server()
    with demo_client(server, max_attempts=1) as client:
        families = sorted(server.catalog.family_by_code)
        expected = list(walk(client, "family-variants", parallel=1))
        broken = families[3]
        server.catalog.family_variants[broken] = None  # the demo answers 500 for this family's variants
        seen = []
        with pytest.raises(AkeneoHTTPError) as raised:
            for page in walk(client, "family-variants"):
                seen.append(page)
    assert raised.value.status == 500 and broken in str(raised.value)
    before = [page for page in expected if page.parents < (broken,)]
    assert shape(seen) == shape(before)
    assert not walk_threads()


def test_an_error_in_the_walks_consumer_stops_the_threads(make_server):
    server = make_server(page_latency_ms=20)
    with demo_client(server, page_size=1) as client:
        parents = [(code,) for code in sorted(server.catalog.attribute_options)]

        class Cancelled(Exception):
            pass

        with pytest.raises(Cancelled):
            for _page in walk(client, "attribute-options", parents=parents):
                raise Cancelled
        assert not walk_threads()
        stopped = server.stats.page_calls
        assert settled_calls(server) == stopped
