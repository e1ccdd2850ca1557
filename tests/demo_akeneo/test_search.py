"""`search` filters, `scope`, `locales` and `attributes` behave like Akeneo's, checked against the full listing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from .helpers import API


@pytest.fixture(scope="module")
def everything(client):
    """All products and models as the API lists them, to filter on the client side for the expected answer."""
    products = client.follow(API + "/products-uuid", limit=100)
    models = client.follow(API + "/product-models", limit=100)
    categories = client.follow(API + "/categories", limit=100)
    return products, models, categories


def search(client, path, filters, **params):
    return client.follow(API + path, limit=100, search=json.dumps(filters), **params)


def uuids(items):
    return [i["uuid"] for i in items]


def ts(iso_value):
    return datetime.fromisoformat(iso_value)


def test_updated_greater_than(client, everything):
    products = everything[0]
    moment = sorted(ts(p["updated"]) for p in products)[len(products) // 2]
    value = moment.strftime("%Y-%m-%d %H:%M:%S")
    got = search(client, "/products-uuid", {"updated": [{"operator": ">", "value": value}]})
    expected = [p for p in products if ts(p["updated"]) > moment]
    assert uuids(got) == uuids(expected)
    assert 0 < len(got) < len(products)


def test_updated_lower_than_and_between(client, everything):
    products = everything[0]
    times = sorted(ts(p["updated"]) for p in products)
    lo, hi = times[50], times[150]
    fmt = "%Y-%m-%d %H:%M:%S"
    got = search(
        client,
        "/products-uuid",
        {"updated": [{"operator": "BETWEEN", "value": [lo.strftime(fmt), hi.strftime(fmt)]}]},
    )
    assert uuids(got) == uuids([p for p in products if lo <= ts(p["updated"]) <= hi])
    got = search(client, "/products-uuid", {"updated": [{"operator": "<", "value": lo.strftime(fmt)}]})
    assert uuids(got) == uuids([p for p in products if ts(p["updated"]) < lo])


def test_since_last_n_days(client, everything):
    everything_ago = (datetime.now(UTC) - datetime(2019, 1, 1, tzinfo=UTC)).days
    assert len(
        search(
            client,
            "/products-uuid",
            {"updated": [{"operator": "SINCE LAST N DAYS", "value": everything_ago}]},
        )
    ) == len(everything[0])
    assert (
        search(client, "/products-uuid", {"updated": [{"operator": "SINCE LAST N DAYS", "value": 1}]}) == []
    )


def test_family_filters(client, everything):
    products = everything[0]
    got = search(client, "/products-uuid", {"family": [{"operator": "IN", "value": ["shoes", "food"]}]})
    assert uuids(got) == uuids([p for p in products if p["family"] in ("shoes", "food")])
    got = search(client, "/products-uuid", {"family": [{"operator": "NOT IN", "value": ["clothing"]}]})
    assert uuids(got) == uuids([p for p in products if p["family"] != "clothing"])
    got = search(client, "/products-uuid", {"family": [{"operator": "EMPTY"}]})
    assert got and uuids(got) == uuids([p for p in products if p["family"] is None])
    assert search(client, "/products-uuid", {"family": [{"operator": "IN", "value": ["accessories"]}]}) == []


def test_enabled_filter_and_combination(client, everything):
    products = everything[0]
    got = search(client, "/products-uuid", {"enabled": [{"operator": "=", "value": False}]})
    assert got and uuids(got) == uuids([p for p in products if not p["enabled"]])
    got = search(
        client,
        "/products-uuid",
        {
            "enabled": [{"operator": "!=", "value": False}],
            "family": [{"operator": "IN", "value": ["clothing"]}],
        },
    )
    assert uuids(got) == uuids([p for p in products if p["enabled"] and p["family"] == "clothing"])


def test_category_filters(client, everything):
    products, _models, categories = everything
    children = {}
    for c in categories:
        children.setdefault(c["parent"], []).append(c["code"])

    def below(code):
        out = {code}
        for child in children.get(code, []):
            out |= below(child)
        return out

    leaf = "clothing_men_sale_20"
    got = search(client, "/products-uuid", {"categories": [{"operator": "IN", "value": [leaf]}]})
    assert uuids(got) == uuids([p for p in products if leaf in p["categories"]])
    got = search(
        client, "/products-uuid", {"categories": [{"operator": "IN CHILDREN", "value": ["clothing"]}]}
    )
    tree = below("clothing")
    assert got and uuids(got) == uuids([p for p in products if tree & set(p["categories"])])
    got = search(client, "/products-uuid", {"categories": [{"operator": "UNCLASSIFIED"}]})
    assert got and uuids(got) == uuids([p for p in products if not p["categories"]])
    got = search(client, "/products-uuid", {"categories": [{"operator": "NOT IN", "value": [leaf]}]})
    assert uuids(got) == uuids([p for p in products if leaf not in p["categories"]])
    got = search(
        client, "/products-uuid", {"categories": [{"operator": "IN OR UNCLASSIFIED", "value": [leaf]}]}
    )
    assert uuids(got) == uuids([p for p in products if not p["categories"] or leaf in p["categories"]])


def test_identifier_and_uuid_filters(client, everything):
    products = everything[0]
    wanted = [p for p in products if p["values"].get("sku")][3:8]
    skus = [p["values"]["sku"][0]["data"] for p in wanted]
    got = client.follow(
        API + "/products",
        limit=100,
        search=json.dumps({"identifier": [{"operator": "IN", "value": [*skus, "SKU-nope"]}]}),
    )
    assert [p["identifier"] for p in got] == skus
    got = search(client, "/products-uuid", {"uuid": [{"operator": "IN", "value": uuids(wanted)}]})
    assert uuids(got) == uuids(wanted)
    got = search(client, "/products-uuid", {"identifier": [{"operator": "=", "value": skus[0]}]})
    assert uuids(got) == uuids(wanted[:1])


def test_parent_filter_on_models_and_products(client, everything):
    products, models, _categories = everything
    got = client.follow(
        API + "/product-models", limit=100, search=json.dumps({"parent": [{"operator": "EMPTY"}]})
    )
    assert [m["code"] for m in got] == [m["code"] for m in models if m["parent"] is None]
    root = got[0]["code"]
    subs = client.follow(
        API + "/product-models", limit=100, search=json.dumps({"parent": [{"operator": "=", "value": root}]})
    )
    assert subs and [m["code"] for m in subs] == [m["code"] for m in models if m["parent"] == root]
    got = search(client, "/products-uuid", {"parent": [{"operator": "IN", "value": [subs[0]["code"]]}]})
    assert got and uuids(got) == uuids([p for p in products if p["parent"] == subs[0]["code"]])


def test_model_updated_filter_with_search_after(client, everything):
    models = everything[1]
    moment = sorted(ts(m["updated"]) for m in models)[10]
    got = client.follow(
        API + "/product-models",
        pagination_type="search_after",
        limit=7,
        search=json.dumps({"updated": [{"operator": ">", "value": moment.strftime("%Y-%m-%d %H:%M:%S")}]}),
    )
    assert [m["code"] for m in got] == [m["code"] for m in models if ts(m["updated"]) > moment]


def test_filtered_search_after_paging_lists_each_match_once(client, everything):
    products = everything[0]
    filters = {"family": [{"operator": "IN", "value": ["clothing"]}]}
    got = client.follow(
        API + "/products-uuid", pagination_type="search_after", limit=9, search=json.dumps(filters)
    )
    assert uuids(got) == uuids([p for p in products if p["family"] == "clothing"])


def test_with_count_counts_matches(client, everything):
    page = client.json(
        API + "/products-uuid",
        with_count="true",
        search=json.dumps({"family": [{"operator": "IN", "value": ["food"]}]}),
    )
    assert page["items_count"] == len([p for p in everything[0] if p["family"] == "food"])


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("{not json", 400),
        ('"family"', 422),
        ('{"family": {"operator": "IN", "value": ["x"]}}', 422),
        ('{"family": [{"value": ["x"]}]}', 422),
        ('{"colour": [{"operator": "IN", "value": ["x"]}]}', 422),
        ('{"family": [{"operator": "LIKE", "value": "x"}]}', 422),
        ('{"updated": [{"operator": ">", "value": "2020-01-01T00:00:00Z"}]}', 422),
        ('{"enabled": [{"operator": "=", "value": "yes"}]}', 422),
        ('{"categories": [{"operator": "IN", "value": "master"}]}', 422),
        ('{"categories": [{"operator": "IN", "value": ["no_such_category"]}]}', 422),
    ],
)
def test_bad_search_is_rejected_like_akeneo(client, raw, status):
    response = client.get(API + "/products-uuid", search=raw)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == status and body["message"]


def test_scope_keeps_products_of_the_channel_tree_and_its_values(client, everything):
    products, _models, categories = everything
    roots = {}
    parents = {c["code"]: c["parent"] for c in categories}
    for code in parents:
        root = code
        while parents[root]:
            root = parents[root]
        roots[code] = root
    got = client.follow(API + "/products-uuid", limit=100, scope="print")
    expected = [p for p in products if any(roots[c] == "print_catalog" for c in p["categories"])]
    assert got and uuids(got) == uuids(expected)
    for product in got:
        for values in product["values"].values():
            for value in values:
                assert value["scope"] in (None, "print")
                assert value["locale"] in (None, "de_DE", "en_US", "ru_RU")
    assert client.get(API + "/products-uuid", scope="nowhere").status_code == 422


def test_locales_and_attributes_params_trim_values(client):
    page = client.json(API + "/products-uuid", limit=50, locales="ja_JP", attributes="name,description,sku")
    seen = set()
    for product in page["_embedded"]["items"]:
        assert set(product["values"]) <= {"name", "description", "sku"}
        for code, values in product["values"].items():
            seen.add(code)
            assert all(v["locale"] in (None, "ja_JP") for v in values)
    assert {"name", "sku"} <= seen
    assert client.get(API + "/products-uuid", locales="xx_XX").status_code == 422
    assert client.get(API + "/products-uuid", attributes="nope").status_code == 422


def test_with_attribute_options_adds_linked_data(client):
    page = client.json(API + "/products-uuid", limit=20, with_attribute_options="true")
    linked = [v for p in page["_embedded"]["items"] for v in p["values"].get("color", [])]
    assert linked and all(v["linked_data"]["labels"]["ja_JP"] for v in linked)


def test_structure_searches(client):
    roots = client.follow(
        API + "/categories", limit=100, search=json.dumps({"is_root": [{"operator": "=", "value": True}]})
    )
    assert [c["code"] for c in roots] == ["master", "print_catalog"]
    enabled = client.follow(
        API + "/locales", limit=100, search=json.dumps({"enabled": [{"operator": "=", "value": True}]})
    )
    assert {loc["code"] for loc in enabled} == {"de_DE", "en_US", "fr_FR", "ja_JP", "ru_RU"}
    some = client.follow(
        API + "/attributes",
        limit=100,
        search=json.dumps({"type": [{"operator": "IN", "value": ["pim_catalog_table"]}]}),
    )
    assert [a["code"] for a in some] == ["nutrition"]
    records = client.follow(
        API + "/reference-entities/brands/records",
        search=json.dumps({"updated": [{"operator": ">", "value": "2022-06-01T00:00:00+00:00"}]}),
    )
    assert records and all(ts(r["updated"]) > datetime(2022, 6, 1, tzinfo=UTC) for r in records)
