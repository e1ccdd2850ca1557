"""Akeneo's two pagination types: absolute links, next until absent, every item exactly once, the limits."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from demo_akeneo.api import MAX_PAGES_MESSAGE, encode_cursor
from demo_akeneo.catalog import Catalog

from .helpers import API, SMALL_CATALOG

CATALOG = Catalog(SMALL_CATALOG, 42)
ALL_UUIDS = [CATALOG.product_uuid(i) for i in range(SMALL_CATALOG)]
IDENTIFIED = [CATALOG.product_sort_identifier(i) for i in range(SMALL_CATALOG) if CATALOG.has_identifier(i)]


def assert_absolute_links(page, base_url):
    for name, link in page["_links"].items():
        assert link["href"].startswith(base_url + API), (name, link)
    for item in page["_embedded"]["items"]:
        assert item["_links"]["self"]["href"].startswith(base_url + API)


def test_catalog_has_identifierless_products():
    assert 0 < SMALL_CATALOG - len(IDENTIFIED) < 5


@pytest.mark.parametrize("limit", [100, 7])
def test_products_uuid_page_pagination_lists_everything_once(client, demo, limit):
    items = client.follow(API + "/products-uuid", limit=limit)
    uuids = [item["uuid"] for item in items]
    assert uuids == ALL_UUIDS  # sorted by uuid == generation order, no duplicates, nothing missing
    identifierless = [i for i in items if "sku" not in i["values"]]
    assert len(identifierless) == SMALL_CATALOG - len(IDENTIFIED)


def test_products_search_after_lists_every_identified_product_once(client):
    items = client.follow(API + "/products", pagination_type="search_after", limit=100)
    assert [item["identifier"] for item in items] == IDENTIFIED
    assert all(item["identifier"] for item in items)


def test_products_page_pagination_skips_identifierless(client):
    items = client.follow(API + "/products", limit=33)
    assert [item["identifier"] for item in items] == IDENTIFIED


def test_products_uuid_search_after(client, demo):
    page = client.json(API + "/products-uuid", pagination_type="search_after", limit=100)
    assert "current_page" not in page
    assert "previous" not in page["_links"]
    assert_absolute_links(page, demo.base_url)
    cursor = parse_qs(urlsplit(page["_links"]["next"]["href"]).query)["search_after"][0]
    assert cursor and ALL_UUIDS[99] not in cursor  # opaque
    items = client.follow(API + "/products-uuid", pagination_type="search_after", limit=100)
    assert [i["uuid"] for i in items] == ALL_UUIDS


def test_page_links_and_count(client, demo):
    page = client.json(API + "/products-uuid", limit=10, page=3, with_count="true")
    assert page["current_page"] == 3
    assert page["items_count"] == SMALL_CATALOG
    assert_absolute_links(page, demo.base_url)
    links = page["_links"]
    assert set(links) == {"self", "first", "previous", "next"}
    assert parse_qs(urlsplit(links["previous"]["href"]).query)["page"] == ["2"]
    assert parse_qs(urlsplit(links["next"]["href"]).query)["page"] == ["4"]
    assert parse_qs(urlsplit(links["first"]["href"]).query)["page"] == ["1"]
    assert [i["uuid"] for i in page["_embedded"]["items"]] == ALL_UUIDS[20:30]


def test_links_follow_the_host_header(client, demo):
    response = client.session.get(
        demo.base_url + API + "/channels", headers={"Host": "pim.example.test:8443"}, timeout=10
    )
    page = response.json()
    assert page["_links"]["self"]["href"].startswith("http://pim.example.test:8443/api/rest/v1/channels?")


def test_last_page_without_count_has_no_next_when_partial(client):
    page = client.json(API + "/products-uuid", limit=100, page=3)
    assert len(page["_embedded"]["items"]) == 50
    assert "next" not in page["_links"]


def test_default_limit_is_10(client):
    assert len(client.json(API + "/products-uuid")["_embedded"]["items"]) == 10
    assert len(client.json(API + "/categories")["_embedded"]["items"]) == 10


def test_limit_over_100_is_422(client):
    for path in (
        "/products-uuid",
        "/products",
        "/product-models",
        "/categories",
        "/attributes/keywords/options",
    ):
        response = client.get(API + path, limit=101)
        assert response.status_code == 422, path
        assert response.json() == {"code": 422, "message": "You cannot request more than 100 items."}


def test_bad_paging_params_are_422(client):
    assert client.get(API + "/products-uuid", limit="abc").status_code == 422
    assert client.get(API + "/products-uuid", page="0").status_code == 422
    assert client.get(API + "/products-uuid", with_count="maybe").status_code == 422
    assert client.get(API + "/products-uuid", pagination_type="cursor").status_code == 422
    response = client.get(API + "/categories", pagination_type="search_after")
    assert response.status_code == 422


def test_page_past_10000_items_is_422(make_server):
    from .helpers import Client

    big = Client(make_server(products=10_050))
    assert big.get(API + "/products-uuid", limit=100, page=100).status_code == 200
    for path in ("/products-uuid", "/products", "/product-models"):
        response = big.get(API + path, limit=100, page=101)
        assert response.status_code == 422, path
        assert response.json() == {"code": 422, "message": MAX_PAGES_MESSAGE}
    assert big.get(API + "/products-uuid", limit=10, page=1000).status_code == 200  # offset 9 990
    assert big.get(API + "/products-uuid", limit=10, page=1001).status_code == 422
    # search_after has no such window
    cursor = encode_cursor(big.server.catalog.product_uuid(9_999))
    page = big.json(API + "/products-uuid", pagination_type="search_after", limit=100, search_after=cursor)
    assert [i["uuid"][-5:] for i in page["_embedded"]["items"]] == [f"{n:05d}" for n in range(10_000, 10_050)]
    assert "next" not in page["_links"]


def test_product_models_both_paginations_list_roots_and_subs_once(client):
    expected = [CATALOG.model_code(i) for i in range(CATALOG.model_count)]
    assert expected == sorted(expected)
    by_page = [m["code"] for m in client.follow(API + "/product-models", limit=17)]
    by_cursor = [
        m["code"] for m in client.follow(API + "/product-models", pagination_type="search_after", limit=100)
    ]
    assert by_page == by_cursor == expected
    models = {m["code"]: m for m in client.follow(API + "/product-models", limit=100)}
    subs = [m for m in models.values() if m["parent"]]
    assert subs and all(models[m["parent"]]["parent"] is None for m in subs)
    assert {m["family_variant"] for m in models.values()} >= {"clothing_color_size", "clothing_size"}


def test_variant_products_point_at_existing_models(client):
    models = {m["code"] for m in client.follow(API + "/product-models", limit=100)}
    products = client.follow(API + "/products-uuid", limit=100)
    parents = {p["parent"] for p in products if p["parent"]}
    assert parents and parents <= models
    simple = [p for p in products if not p["parent"]]
    assert simple and any(p["family"] is None for p in simple)
    assert any(not p["categories"] for p in simple)


def test_records_and_assets_are_search_after_only(client, demo):
    records = client.follow(API + "/reference-entities/brands/records")
    codes = [r["code"] for r in records]
    assert len(codes) == 120 and codes == sorted(codes) and len(set(codes)) == 120
    first = client.json(API + "/reference-entities/brands/records")
    assert len(first["_embedded"]["items"]) == 100
    assert "search_after=" in first["_links"]["next"]["href"]
    assert_absolute_links(first, demo.base_url)
    assets = client.follow(API + "/asset-families/packshots/assets")
    assert len({a["code"] for a in assets}) == 150
    assert client.follow(API + "/asset-families/lookbooks/assets") == []
    assert client.follow(API + "/reference-entities/certifications/records") == []


def test_options_are_paged(client):
    options = client.follow(API + "/attributes/keywords/options", limit=100)
    assert len(options) == 150
    assert client.get(API + "/attributes/name/options").status_code == 404
