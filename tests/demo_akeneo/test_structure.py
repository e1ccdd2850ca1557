"""The catalog structure: every attribute type, families and variants, associations, the route listing."""

from __future__ import annotations

import requests

from .helpers import API, Client

ALL_TYPES = {
    "pim_catalog_identifier",
    "pim_catalog_text",
    "pim_catalog_textarea",
    "pim_catalog_number",
    "pim_catalog_metric",
    "pim_catalog_price_collection",
    "pim_catalog_boolean",
    "pim_catalog_date",
    "pim_catalog_simpleselect",
    "pim_catalog_multiselect",
    "pim_catalog_image",
    "pim_catalog_file",
    "akeneo_reference_entity",
    "akeneo_reference_entity_collection",
    "pim_catalog_asset_collection",
    "pim_catalog_table",
}


def test_measurement_families_are_one_unpaginated_array(client):
    families = client.json(API + "/measurement-families")
    assert isinstance(families, list)
    assert {"Weight", "Length"} <= {f["code"] for f in families}
    weight = next(f for f in families if f["code"] == "Weight")
    assert weight["units"]["GRAM"]["convert_from_standard"] == [{"operator": "mul", "value": "0.001"}]
    # `limit` is not a thing here
    assert client.json(API + "/measurement-families", limit=1) == families


def test_locales_currencies_channels(client):
    locales = client.follow(API + "/locales", limit=100)
    assert {"en_US", "fr_FR", "de_DE", "ja_JP", "ru_RU"} <= {loc["code"] for loc in locales if loc["enabled"]}
    assert any(not loc["enabled"] for loc in locales)
    currencies = {c["code"]: c for c in client.follow(API + "/currencies", limit=100)}
    assert {"USD", "EUR", "JPY"} <= set(currencies)
    channels = client.follow(API + "/channels", limit=100)
    assert len(channels) >= 2
    for channel in channels:
        assert channel["category_tree"] in ("master", "print_catalog")
        assert channel["labels"] and channel["locales"] and channel["currencies"]
        assert all(currencies[c]["enabled"] for c in channel["currencies"])


def test_category_trees_are_deep_with_parents_first(client):
    categories = client.follow(API + "/categories", limit=100)
    seen, depth = set(), {}
    for category in categories:
        assert category["parent"] is None or category["parent"] in seen
        depth[category["code"]] = 1 if category["parent"] is None else depth[category["parent"]] + 1
        seen.add(category["code"])
        assert category["labels"]["ja_JP"] and category["labels"]["ru_RU"]
    assert [c for c, d in depth.items() if d == 1] == ["master", "print_catalog"]
    assert max(depth.values()) >= 4
    positioned = client.json(API + "/categories/clothing_men", with_position="true")
    assert positioned["position"] == 1


def test_every_attribute_type_with_akeneo_flags(client):
    attributes = {a["code"]: a for a in client.follow(API + "/attributes", limit=100)}
    assert {a["type"] for a in attributes.values()} >= ALL_TYPES
    for attribute in attributes.values():
        for flag in (
            "localizable",
            "scopable",
            "unique",
            "useable_as_grid_filter",
            "group",
            "sort_order",
            "labels",
        ):
            assert flag in attribute
    assert attributes["description"]["localizable"] and attributes["description"]["scopable"]
    assert attributes["description"]["wysiwyg_enabled"] is True
    assert attributes["weight"]["metric_family"] == "Weight" and attributes["weight"]["default_metric_unit"]
    assert attributes["sku"]["unique"] is True
    assert attributes["brand"]["reference_data_name"] == "brands"
    table = attributes["nutrition"]["table_configuration"]
    assert table[0]["data_type"] == "select"
    with_options = client.json(API + "/attributes/nutrition", with_table_select_options="true")
    assert with_options["table_configuration"][0]["options"]
    groups = client.follow(API + "/attribute-groups", limit=100)
    assert sorted(a for g in groups for a in g["attributes"]) == sorted(attributes)


def test_families_variants_and_empty_family(client):
    families = {f["code"]: f for f in client.follow(API + "/families", limit=100)}
    attributes = {a["code"] for a in client.follow(API + "/attributes", limit=100)}
    for family in families.values():
        assert set(family["attributes"]) <= attributes
        assert family["attribute_as_label"] in family["attributes"]
        assert set(family["attribute_requirements"]) == {"ecommerce", "mobile", "print"}
    products = client.follow(API + "/products-uuid", limit=100)
    used = {p["family"] for p in products}
    empty = [code for code in families if code not in used]
    assert empty == ["accessories"]
    variants = client.follow(API + "/families/clothing/variants")
    levels = {v["code"]: len(v["variant_attribute_sets"]) for v in variants}
    assert levels == {"clothing_color_size": 2, "clothing_size": 1}
    two = next(v for v in variants if v["code"] == "clothing_color_size")
    assert [s["axes"] for s in two["variant_attribute_sets"]] == [["color"], ["size"]]
    assert client.follow(API + "/families/accessories/variants") == []
    assert client.get(API + "/families/nope/variants").status_code == 404


def test_association_types_and_associations(client):
    types = {t["code"]: t for t in client.follow(API + "/association-types")}
    assert any(t["is_quantified"] for t in types.values())
    assert any(t["is_two_way"] for t in types.values())
    products = {p["uuid"]: p for p in client.follow(API + "/products-uuid", limit=100)}
    quantified = [p for p in products.values() if p["quantified_associations"]]
    assert quantified
    pack = quantified[0]["quantified_associations"]["PACK"]
    assert all(set(item) == {"uuid", "quantity"} for item in pack["products"])
    for product in products.values():
        assert set(product["associations"]) == {t for t, v in types.items() if not v["is_quantified"]}
        for partner in product["associations"]["COMPATIBLE"]["products"]:
            assert product["uuid"] in products[partner]["associations"]["COMPATIBLE"]["products"]  # two-way
    by_identifier = client.json(API + "/products", limit=1)["_embedded"]["items"][0]
    assert all(ref.startswith("SKU-") for ref in by_identifier["associations"]["X_SELL"]["products"])


def test_values_in_standard_format(client):
    products = client.follow(API + "/products-uuid", limit=100)
    seen = {}
    for product in products:
        for code, values in product["values"].items():
            for value in values:
                assert {"locale", "scope", "data"} <= set(value)
                seen.setdefault(code, value["data"])
    assert set(seen["weight"]) == {"amount", "unit"}
    assert all(set(p) == {"amount", "currency"} for p in seen["price"])
    assert isinstance(seen["power"], str)  # decimals allowed -> string
    assert isinstance(seen["stock_quantity"], int)
    assert isinstance(seen["collection"], list)
    assert isinstance(seen["nutrition"], list) and isinstance(seen["nutrition"][0], dict)
    assert seen["release_date"].endswith("T00:00:00+00:00")
    assert isinstance(seen["pictures"], list)


def test_item_endpoints_and_404s(client):
    product = client.json(API + "/products-uuid", limit=1)["_embedded"]["items"][0]
    item = client.json(API + f"/products-uuid/{product['uuid']}")
    assert item["uuid"] == product["uuid"] and "_links" not in item
    assert client.json(API + "/products/SKU-0000001")["identifier"] == "SKU-0000001"
    assert client.get(API + "/products/SKU-9999999").status_code == 404
    assert client.get(API + "/products-uuid/00000000-0000-4000-8000-000000000000").status_code == 404
    model = client.json(API + "/product-models/model-000000-a")
    assert model["parent"] is None
    assert client.get(API + "/product-models/model-999999-a").status_code == 404
    assert client.json(API + "/attributes/color/options/black")["attribute"] == "color"
    assert client.get(API + "/attributes/color/options/plaid").status_code == 404
    assert client.json(API + "/families/clothing/variants/clothing_size")["code"] == "clothing_size"
    record = client.json(API + "/reference-entities/designers/records")["_embedded"]["items"][0]
    assert (
        client.json(API + f"/reference-entities/designers/records/{record['code']}")["code"] == record["code"]
    )
    assert client.get(API + "/reference-entities/nope/records").status_code == 404
    assert (
        client.json(API + "/asset-families/packshots/attributes/shot_angle/options/front")["code"] == "front"
    )
    assert [o["code"] for o in client.json(API + "/reference-entities/brands/attributes/country/options")]


def test_route_listing_and_no_products_uuid(make_server, demo):
    routes = requests.get(demo.base_url + API, timeout=10).json()["routes"]
    assert routes["pim_api_product_uuid_list"] == {"route": "/api/rest/v1/products-uuid", "methods": ["GET"]}
    old = make_server(products_uuid=False)
    listing = requests.get(old.base_url + API, timeout=10).json()
    assert listing["host"] == old.base_url
    assert not any("uuid" in name for name in listing["routes"])
    old_client = Client(old)
    assert old_client.get(API + "/products-uuid").status_code == 404
    assert old_client.get(API + "/products").status_code == 200


def test_non_loopback_host_is_refused():
    from demo_akeneo.server import DemoServer

    try:
        DemoServer("0.0.0.0")
    except ValueError as exc:
        assert "non-loopback" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("0.0.0.0 was accepted")
