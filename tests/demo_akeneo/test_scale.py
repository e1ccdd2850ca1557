"""Determinism (same seed, same bytes) and scale: a 100k-product catalog is generated on the fly, never built."""

from __future__ import annotations

import time
from pathlib import Path

from demo_akeneo.api import encode_cursor

from .helpers import API, Client


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0  # pragma: no cover - not Linux


def first_page(server, path="/products-uuid?limit=100") -> bytes:
    client = Client(server)
    response = client.session.get(server.base_url + API + path, headers={"Host": "demo.test"}, timeout=30)
    assert response.status_code == 200
    return response.content


def test_same_seed_same_bytes_other_seed_other_bytes(make_server):
    a, b, c = make_server(seed=5), make_server(seed=5), make_server(seed=6)
    assert first_page(a) == first_page(b)
    assert first_page(a) != first_page(c)
    for path in (
        "/product-models?limit=100",
        "/reference-entities/brands/records",
        "/asset-families/packshots/assets",
    ):
        assert first_page(a, path) == first_page(b, path)


def test_uuid_order_is_generation_order(make_server):
    catalog = make_server(products=2000).catalog
    uuids = [catalog.product_uuid(i) for i in range(2000)]
    assert uuids == sorted(uuids) and len(set(uuids)) == 2000
    assert all(catalog.product_index_of_uuid(u) == i for i, u in enumerate(uuids))


def test_100k_catalog_pages_are_fast_and_memory_stays_flat(make_server):
    before = rss_mb()
    start = time.perf_counter()
    server = make_server(products=100_000)
    assert time.perf_counter() - start < 1.0  # nothing per product is built
    client = Client(server)

    start = time.perf_counter()
    page = client.json(API + "/products-uuid", pagination_type="search_after", limit=100)
    first = time.perf_counter() - start
    assert len(page["_embedded"]["items"]) == 100

    cursor = encode_cursor(server.catalog.product_uuid(99_899))
    start = time.perf_counter()
    page = client.json(API + "/products-uuid", pagination_type="search_after", limit=100, search_after=cursor)
    deep = time.perf_counter() - start
    assert [i["uuid"][-6:] for i in page["_embedded"]["items"]] == [
        f"{n:06d}" for n in range(99_900, 100_000)
    ]
    last = client.json(
        page["_links"]["next"]["href"]
    )  # a full last page still links to an empty one, like Akeneo
    assert last["_embedded"]["items"] == [] and "next" not in last["_links"]

    start = time.perf_counter()
    counted = client.json(API + "/products", limit=100, page=100, with_count="true")
    assert counted["items_count"] == server.catalog.identifier_count_below(100_000) < 100_000
    assert len(counted["_embedded"]["items"]) == 100
    models = client.json(
        API + "/product-models",
        pagination_type="search_after",
        limit=100,
        search_after=encode_cursor(server.catalog.model_code(19_000)),
    )
    assert len(models["_embedded"]["items"]) == 100
    rest = time.perf_counter() - start

    assert first < 1.0 and deep < 1.0 and rest < 2.0, (first, deep, rest)
    assert rss_mb() - before < 40, (before, rss_mb())
