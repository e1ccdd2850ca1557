"""Catalog resources a migration reads beyond products: enriched categories and their media, the deprecated
measure families, older-PIM server options (legacy measurements, refused flags), and the option/media endpoints
of attributes, asset families and reference entities."""

from __future__ import annotations

import json
import re

import requests

from .helpers import API, Client
from .test_media import assert_png

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
VALUE_KEY = re.compile(
    rf"^(?P<code>[a-z_]+)\|(?P<uuid>{UUID})(?:\|(?P<channel>[a-z]+))?(?:\|(?P<locale>[a-z]{{2}}_[A-Z]{{2}}))?$"
)


def enriched(client: Client, **params: str) -> list[dict]:
    return client.follow(API + "/categories", limit=100, with_enriched_attributes="true", **params)


# ------------------------------------------------------------------------------------------- enriched categories
def test_categories_carry_no_values_without_the_flag(client):
    for params in ({}, {"with_enriched_attributes": "false"}, {"with_position": "true"}):
        categories = client.follow(API + "/categories", limit=100, **params)
        assert categories and not any("values" in c for c in categories)
    assert "values" not in client.json(API + "/categories/master")
    assert "values" not in client.json(API + "/categories/master", with_enriched_attributes="0")


def test_a_third_of_categories_are_enriched_with_akeneo_shaped_values(client):
    categories = enriched(client)
    with_values = [c for c in categories if c["values"]]
    assert all("values" in c for c in categories)  # the others say `values: null`, like Akeneo
    assert all(c["values"] is None for c in categories if not c["values"])
    assert len(with_values) == len(categories) // 3
    channels = {ch["code"]: ch for ch in client.json(API + "/channels")["_embedded"]["items"]}
    types = set()
    for category in with_values:
        for key, value in category["values"].items():
            match = VALUE_KEY.match(key)
            assert match, key
            assert value["attribute_code"] == f"{match['code']}|{match['uuid']}"
            assert value["channel"] == match["channel"] and value["locale"] == match["locale"]
            if value["channel"]:
                assert value["locale"] in channels[value["channel"]]["locales"]
            types.add(value["type"])
            if value["type"] == "text":
                assert value["data"] == category["labels"][value["locale"]]
            elif value["type"] == "richtext":
                assert value["data"].startswith("<p>")
            elif value["type"] == "textarea":
                assert "\n" in value["data"]
            else:
                assert value["type"] == "image" and match["channel"] is None and match["locale"] is None
                assert set(value["data"]) == {
                    "size",
                    "extension",
                    "file_path",
                    "mime_type",
                    "original_filename",
                }
                assert re.fullmatch(
                    r"([0-9a-f]/){4}[0-9a-f]{40}_banner_\d{5}\.png", value["data"]["file_path"]
                )
    assert types == {"text", "textarea", "richtext", "image"}
    # one uuid per template attribute, whichever category carries it
    uuids = {}
    for category in with_values:
        for value in category["values"].values():
            code, uuid = value["attribute_code"].split("|")
            assert uuids.setdefault(code, uuid) == uuid


def test_enriched_values_and_position_together_in_lists_and_items(client):
    both = enriched(client, with_position="true")
    assert [c["code"] for c in both] == [c["code"] for c in enriched(client)]
    sample = next(c for c in both if c["values"])
    assert list(sample)[-2:] == ["position", "values"]  # Akeneo's normalizer order
    item = client.json(
        API + f"/categories/{sample['code']}", with_enriched_attributes="true", with_position="true"
    )
    assert item == {k: v for k, v in sample.items() if k != "_links"}
    only_values = client.json(API + f"/categories/{sample['code']}", with_enriched_attributes="true")
    assert "position" not in only_values and only_values["values"] == sample["values"]
    plain = next(c for c in both if not c["values"])
    assert (
        client.json(API + f"/categories/{plain['code']}", with_enriched_attributes="true")["values"] is None
    )
    # search and the flag keep working together, and `next` links carry the flag
    page = client.json(
        API + "/categories",
        limit=2,
        with_enriched_attributes="true",
        search=json.dumps({"code": [{"operator": "IN", "value": [c["code"] for c in both[:5]]}]}),
    )
    assert "with_enriched_attributes=true" in page["_links"]["next"]["href"]
    assert all("values" in c for c in page["_embedded"]["items"])
    bad = client.get(API + "/categories", with_enriched_attributes="maybe")
    assert bad.status_code == 422 and "with_enriched_attributes" in bad.json()["message"]


def test_category_image_values_download_as_pngs(client, demo):
    images = [
        value["data"]
        for category in enriched(client)
        for value in (category["values"] or {}).values()
        if value["type"] == "image"
    ]
    assert len(images) >= 5
    for data in images[:5]:
        url = f"{API}/category-media-files/{data['file_path']}/download"
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == data["mime_type"] == "image/png"
        assert len(response.content) == data["size"]
        assert data["original_filename"] in response.headers["Content-Disposition"]
        assert_png(response.content)
        assert client.get(url).content == response.content
    assert requests.get(demo.base_url + url, timeout=10).status_code == 401
    # forged, unknown, out-of-range or other-kind paths are 404
    product_code = client.json(API + "/media-files", limit=1)["_embedded"]["items"][0]["code"]
    forged = images[0]["file_path"][:-9] + "99999.png"
    for path in ("a/b/c/d/nope.png", product_code, forged, images[0]["file_path"].replace("/", "", 1)):
        missing = client.get(f"{API}/category-media-files/{path}/download")
        assert missing.status_code == 404 and missing.json()["code"] == 404
    assert client.get(f"{API}/media-files/{images[0]['file_path']}/download").status_code == 404


def test_enriched_categories_are_deterministic(make_server):
    a, b, c = make_server(seed=5), make_server(seed=5), make_server(seed=6)

    def raw(server):
        client = Client(server)
        url = API + "/categories?limit=100&with_enriched_attributes=true"
        return client.session.get(server.base_url + url, headers={"Host": "demo.test"}, timeout=10).content

    assert raw(a) == raw(b)
    assert raw(a) != raw(c)


# ------------------------------------------------------------------------------------------- measure families
def test_measure_families_serve_the_measurement_data_in_the_pre_5_shape(client):
    current = {f["code"]: f for f in client.json(API + "/measurement-families")}
    page = client.json(API + "/measure-families", with_count="true")
    assert page["current_page"] == 1 and page["items_count"] == len(current)
    legacy = page["_embedded"]["items"]
    assert [f["code"] for f in legacy] == sorted(current)
    for family in legacy:
        assert family["_links"]["self"]["href"].endswith(f"/measure-families/{family['code']}")
        source = current[family["code"]]
        assert family["standard"] == source["standard_unit_code"]
        assert [u["code"] for u in family["units"]] == list(source["units"])
        for unit in family["units"]:
            ops = source["units"][unit["code"]]["convert_from_standard"]
            assert unit["convert"] == {op["operator"]: op["value"] for op in ops}
            assert unit["symbol"] == source["units"][unit["code"]]["symbol"]
        item = client.json(API + f"/measure-families/{family['code']}")
        assert item == {k: v for k, v in family.items() if k != "_links"}
    fahrenheit = next(
        u for u in client.json(API + "/measure-families/Temperature")["units"] if u["code"] == "FAHRENHEIT"
    )
    assert list(fahrenheit["convert"].items()) == [("sub", "32"), ("div", "1.8"), ("add", "273.15")]
    paged = client.follow(API + "/measure-families", limit=2)
    assert [f["code"] for f in paged] == [f["code"] for f in legacy]
    missing = client.get(API + "/measure-families/Nope")
    assert missing.status_code == 404 and missing.json() == {
        "code": 404,
        "message": 'Measure family "Nope" does not exist.',
    }


def test_legacy_measurements_server_has_no_measurement_families(make_server, demo):
    old = make_server(legacy_measurements=True)
    client = Client(old)
    response = client.get(API + "/measurement-families")
    assert response.status_code == 404
    assert response.json()["message"] == 'No route found for "GET /api/rest/v1/measurement-families"'
    assert client.json(API + "/measure-families")["_embedded"]["items"]
    routes = requests.get(old.base_url + API, timeout=10).json()["routes"]
    assert "pim_api_measurement_family_get" not in routes and "pim_api_measure_family_list" in routes
    default_routes = requests.get(demo.base_url + API, timeout=10).json()["routes"]
    assert {"pim_api_measurement_family_get", "pim_api_measure_family_list"} <= set(default_routes)


# ------------------------------------------------------------------------------------------- refused flags
def test_refused_flags_answer_422_wherever_they_appear(make_server, client):
    strict = Client(make_server(refuse_flags=("with_enriched_attributes",)))
    expected = {"code": 422, "message": 'The "with_enriched_attributes" query parameter is not supported.'}
    for path, params in (
        ("/categories", {"with_enriched_attributes": "true"}),
        ("/categories", {"with_enriched_attributes": "false", "limit": "5"}),
        ("/categories/master", {"with_enriched_attributes": "true"}),
    ):
        response = strict.get(API + path, **params)
        assert response.status_code == 422 and response.json() == expected
    assert strict.json(API + "/categories", with_position="true")["_embedded"]["items"]
    assert "values" not in strict.json(API + "/categories/master")
    # the default server, like Akeneo, ignores query parameters it does not know
    assert client.get(API + "/categories", some_future_flag="true").status_code == 200
    assert strict.get(API + "/categories", some_future_flag="true").status_code == 200


def test_a_single_string_refuses_one_flag(make_server):
    strict = Client(make_server(refuse_flags="with_table_select_options"))
    assert strict.get(API + "/attributes", with_table_select_options="true").status_code == 422
    assert strict.get(API + "/attributes").status_code == 200


# ------------------------------------------------------------------------------------------- already served
def test_table_select_options_in_the_attribute_list(client):
    plain = {a["code"]: a for a in client.follow(API + "/attributes", limit=100)}
    rich = {
        a["code"]: a for a in client.follow(API + "/attributes", limit=100, with_table_select_options="true")
    }
    tables = [code for code, a in plain.items() if a["type"] == "pim_catalog_table"]
    assert tables
    for code in tables:
        assert not any("options" in column for column in plain[code]["table_configuration"])
        columns = [c for c in rich[code]["table_configuration"] if c["data_type"] == "select"]
        assert columns and all(c["options"] and {"code", "labels"} <= set(c["options"][0]) for c in columns)
    assert {code: a for code, a in rich.items() if code not in tables} == {
        code: a for code, a in plain.items() if code not in tables
    }


def test_asset_family_and_reference_entity_attribute_options(client):
    checked = set()
    for kind, parents in (
        ("asset-families", [f["code"] for f in client.follow(API + "/asset-families")]),
        ("reference-entities", [e["code"] for e in client.follow(API + "/reference-entities")]),
    ):
        for parent in parents:
            for attribute in client.json(API + f"/{kind}/{parent}/attributes"):
                url = API + f"/{kind}/{parent}/attributes/{attribute['code']}/options"
                if attribute["type"] in ("single_option", "multiple_options"):
                    options = client.json(url)
                    assert options and all(set(o) == {"code", "labels"} for o in options)
                    assert client.json(f"{url}/{options[-1]['code']}") == options[-1]
                    assert client.get(f"{url}/no_such_option").status_code == 404
                    checked.add((kind, attribute["type"]))
                else:
                    assert client.get(url).status_code == 404
    assert checked == {
        ("asset-families", "single_option"),
        ("asset-families", "multiple_options"),
        ("reference-entities", "single_option"),
        ("reference-entities", "multiple_options"),
    }


def test_reference_entity_images_and_asset_media_download(client):
    entities = client.follow(API + "/reference-entities")
    with_image = [e for e in entities if e["image"]]
    assert with_image and any(e["image"] is None for e in entities)
    for entity in with_image:
        href = entity["_links"]["image_download"]["href"]
        assert href.endswith(f"/reference-entities-media-files/{entity['image']}")
        assert (
            client.json(API + f"/reference-entities/{entity['code']}")["_links"]["image_download"]["href"]
            == href
        )
        image = client.session.get(href, timeout=10)
        assert image.status_code == 200 and image.headers["Content-Type"] == "image/png"
        assert_png(image.content)
    downloaded = 0
    for family in client.follow(API + "/asset-families"):
        for asset in client.follow(API + f"/asset-families/{family['code']}/assets")[:3]:
            for code, values in asset["values"].items():
                for value in values:
                    if "_links" in value:
                        download = client.session.get(value["_links"]["download"]["href"], timeout=10)
                        assert download.status_code == 200, (family["code"], code)
                        assert download.headers["Content-Type"] in ("image/png", "application/pdf")
                        downloaded += 1
    assert downloaded > 0
