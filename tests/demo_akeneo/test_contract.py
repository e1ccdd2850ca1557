"""Contract: every kind of answer the demo serves validates against Akeneo's own OpenAPI (Swagger 2.0) spec.

Validation is JSON Schema Draft 4 over the spec, `$ref`s resolved through a `referencing` registry holding the
whole spec document, with exactly two relaxations (see `relax`):
  1. Swagger 2.0 has no `nullable`, yet Akeneo returns null for `locale`, `scope`, `parent`, `family`,
     `metric_family`, `max_characters`, ...: a *property* whose spec type is a single non-array type
     (string, object, integer, number, boolean) also accepts null. Arrays and array items are not relaxed.
  2. Every value's `data` is typed `object` in the spec although it is a string, number, boolean, list or
     object depending on the attribute: a property named `data` typed `object` accepts any JSON value.

Nothing else is relaxed. Where the spec contradicts *itself* (its own examples break its own schemas) the exact
validation error is listed in SPEC_ERRATA, each one proven by the spec's own example failing the same way; any
other error fails the test. The spec lives in the repo's sibling `shared/` checkout; without it these tests skip.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from .helpers import API, Client

SPEC_PATH = Path(__file__).resolve().parents[2] / ".." / "shared" / "akeneo-api" / "akeneo-web-api.json"

pytestmark = pytest.mark.skipif(
    not SPEC_PATH.exists(),
    reason=f"Akeneo OpenAPI spec not found at {SPEC_PATH.resolve()} (needs the repo's sibling shared/ checkout)",
)
jsonschema = pytest.importorskip(
    "jsonschema", reason="jsonschema is not installed (pip install -e '.[test]')"
)
referencing = pytest.importorskip(
    "referencing", reason="referencing (a jsonschema dependency) is not installed"
)
from jsonschema import Draft4Validator, ValidationError  # noqa: E402
from referencing.jsonschema import DRAFT4  # noqa: E402

SPEC_URI = "urn:akeneo:web-api-spec"
EXAMPLE_KEYS = {"example", "examples", "x-example", "x-examples", "x-examples-per-version"}
NON_ARRAY_TYPES = {"string", "object", "integer", "number", "boolean"}


# ------------------------------------------------------------------------------------------- the relaxations
def relax(node: Any) -> Any:
    """A copy of a spec (sub)tree with the two relaxations applied to every `properties` entry."""
    if isinstance(node, list):
        return [relax(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in EXAMPLE_KEYS:
            out[key] = value  # payloads, not schemas
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: _relax_property(name, schema) for name, schema in value.items()}
        else:
            out[key] = relax(value)
    return out


def _relax_property(name: str, schema: Any) -> Any:
    schema = relax(schema)
    if not isinstance(schema, dict):
        return schema
    declared = schema.get("type")
    if name == "data" and declared == "object":  # relaxation 2: `data` is any JSON value
        return {k: v for k, v in schema.items() if k not in ("type", "properties", "additionalProperties")}
    if isinstance(declared, str) and declared in NON_ARRAY_TYPES:  # relaxation 1: nullable
        schema = {**schema, "type": [declared, "null"]}
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
    return schema


@dataclass(frozen=True)
class Erratum:
    """A validation error caused by the spec contradicting itself, not by the demo."""

    name: str
    why: str
    matches: Callable[[ValidationError], bool]


def _last(error: ValidationError) -> Any:
    return error.absolute_path[-1] if error.absolute_path else None


SPEC_ERRATA = [
    Erratum(
        "attribute-type-enum-lacks-table",
        "Attribute.type's enum has no pim_catalog_table although the spec defines table_configuration and its "
        "own /attributes example lists a pim_catalog_table attribute",
        lambda e: e.validator == "enum" and e.instance == "pim_catalog_table" and _last(e) == "type",
    ),
    Erratum(
        "asset-attribute-media-type-required-for-all-types",
        "asset family attributes require media_type, which only media_file/media_link attributes have; the "
        "spec's own /asset-families/{code}/attributes example omits it on single_option and text attributes",
        lambda e: e.validator == "required" and e.message == "'media_type' is a required property",
    ),
]
EXAMPLE_ONLY_ERRATA = [
    Erratum(
        "quality-scores-typed-object",
        "quality_scores is typed object but the examples (with_quality_scores) show a list; the demo never sends it",
        lambda e: _last(e) == "quality_scores" and e.validator == "type" and isinstance(e.instance, list),
    ),
    Erratum(
        "asset-attribute-max-characters-as-string",
        "the asset attributes example gives max_characters as the string '50' where the schema says integer",
        lambda e: _last(e) == "max_characters" and e.instance == "50",
    ),
    Erratum(
        "asset-family-transformation-operations-typed-object",
        "transformations[].operations is typed object, the asset family examples give a list of operations; "
        "the demo sends no transformations",
        lambda e: _last(e) == "operations" and e.validator == "type" and isinstance(e.instance, list),
    ),
    Erratum(
        "asset-family-product-selection-value-typed-string",
        "product_selections[].value is typed string, the examples give a list for the IN operator; the demo "
        "sends no product link rules",
        lambda e: (
            _last(e) == "value" and "product_selections" in e.absolute_path and isinstance(e.instance, list)
        ),
    ),
]


# ------------------------------------------------------------------------------------------- schema access
@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text())


@pytest.fixture(scope="module")
def schemas(spec):
    return Schemas(spec)


class Schemas:
    """Validators for `#/definitions/...` and path responses, relaxed or strict, sharing one registry."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.registries = {
            relaxed: referencing.Registry().with_resource(
                SPEC_URI, DRAFT4.create_resource(relax(spec) if relaxed else copy.deepcopy(spec))
            )
            for relaxed in (True, False)
        }

    def validator(self, pointer: str, *, relaxed: bool = True) -> Draft4Validator:
        return Draft4Validator({"$ref": f"{SPEC_URI}#{pointer}"}, registry=self.registries[relaxed])

    def definition(self, name: str, *, relaxed: bool = True) -> Draft4Validator:
        return self.validator(f"/definitions/{name}", relaxed=relaxed)

    def response(
        self, path: str, status: int | str, method: str = "get", *, relaxed: bool = True
    ) -> Draft4Validator:
        segments = ["paths", path, method, "responses", str(status), "schema"]
        pointer = "/" + "/".join(quote(s.replace("~", "~0").replace("/", "~1"), safe="") for s in segments)
        return self.validator(pointer, relaxed=relaxed)

    def has_response(self, path: str, status: int, method: str = "get") -> bool:
        return "schema" in self.spec["paths"][path][method]["responses"].get(str(status), {})


def errors(validator: Draft4Validator, instance: Any) -> list[ValidationError]:
    return list(validator.iter_errors(instance))


def unexplained(found: list[ValidationError], errata: list[Erratum]) -> list[str]:
    return [
        f"{list(e.absolute_path)}: {e.message[:200]}"
        for e in found
        if not any(erratum.matches(e) for erratum in errata)
    ]


def assert_valid(validator: Draft4Validator, instance: Any, errata: list[Erratum] = SPEC_ERRATA) -> None:
    problems = unexplained(errors(validator, instance), errata)
    assert not problems, "\n".join(problems[:20])


# ------------------------------------------------------------------------------------------- what the demo serves
# demo list URL (relative to /api/rest/v1) -> (spec path, item definition)
PAGED_LISTS = [
    ("/products-uuid", "/api/rest/v1/products-uuid", "ProductUuidList"),
    (
        "/products-uuid?pagination_type=search_after&with_attribute_options=true",
        "/api/rest/v1/products-uuid",
        "ProductUuidList",
    ),
    ("/products", "/api/rest/v1/products", "ProductList"),
    (
        "/products?pagination_type=search_after&scope=ecommerce&locales=fr_FR",
        "/api/rest/v1/products",
        "ProductList",
    ),
    ("/product-models", "/api/rest/v1/product-models", "ProductModelList"),
    ("/product-models?pagination_type=search_after", "/api/rest/v1/product-models", "ProductModelList"),
    ("/media-files?with_count=true", "/api/rest/v1/media-files", "MediaFileList"),
    ("/locales", "/api/rest/v1/locales", "LocaleList"),
    ("/currencies", "/api/rest/v1/currencies", "CurrencyList"),
    ("/channels", "/api/rest/v1/channels", "ChannelList"),
    ("/categories?with_position=true", "/api/rest/v1/categories", "CategoryList"),
    ("/categories?with_enriched_attributes=true", "/api/rest/v1/categories", "CategoryList"),
    (
        "/categories?with_position=true&with_enriched_attributes=true",
        "/api/rest/v1/categories",
        "CategoryList",
    ),
    ("/measure-families", "/api/rest/v1/measure-families", "MeasureFamilyList"),
    ("/attribute-groups", "/api/rest/v1/attribute-groups", "AttributeGroupList"),
    ("/attributes?with_table_select_options=true", "/api/rest/v1/attributes", "AttributeList"),
    ("/attributes/color/options", "/api/rest/v1/attributes/{attribute_code}/options", "AttributeOptionList"),
    (
        "/attributes/keywords/options",
        "/api/rest/v1/attributes/{attribute_code}/options",
        "AttributeOptionList",
    ),
    ("/families", "/api/rest/v1/families", "FamilyList"),
    ("/families/clothing/variants", "/api/rest/v1/families/{family_code}/variants", "FamilyVariantList"),
    ("/families/shoes/variants", "/api/rest/v1/families/{family_code}/variants", "FamilyVariantList"),
    ("/association-types", "/api/rest/v1/association-types", "AssociationTypeList"),
    ("/reference-entities", "/api/rest/v1/reference-entities", "ReferenceEntityList"),
    (
        "/reference-entities/brands/records",
        "/api/rest/v1/reference-entities/{reference_entity_code}/records",
        "ReferenceEntityRecordList",
    ),
    (
        "/reference-entities/designers/records",
        "/api/rest/v1/reference-entities/{reference_entity_code}/records",
        "ReferenceEntityRecordList",
    ),
    ("/asset-families", "/api/rest/v1/asset-families", "AssetFamilyList"),
    (
        "/asset-families/packshots/assets",
        "/api/rest/v1/asset-families/{asset_family_code}/assets",
        "AssetList",
    ),
    (
        "/asset-families/user_guides/assets?channel=ecommerce",
        "/api/rest/v1/asset-families/{asset_family_code}/assets",
        "AssetList",
    ),
    ("/asset-families/videos/assets", "/api/rest/v1/asset-families/{asset_family_code}/assets", "AssetList"),
]


def pages(client: Client, url: str) -> Iterator[dict[str, Any]]:
    separator = "&" if "?" in url else "?"
    has_limit = not any(p in url for p in ("/records", "/assets", "/reference-entities", "/asset-families"))
    page = client.json(API + url + (f"{separator}limit=100" if has_limit else ""))
    while True:
        yield page
        nxt = page["_links"].get("next")
        if not nxt:
            return
        page = client.json(nxt["href"])


@pytest.mark.parametrize(
    ("url", "spec_path", "item_definition"), PAGED_LISTS, ids=[u for u, _p, _d in PAGED_LISTS]
)
def test_every_page_and_item_of_each_list_validates(client, schemas, url, spec_path, item_definition):
    page_validator = schemas.response(spec_path, 200)
    item_validator = schemas.definition(item_definition)
    count = 0
    for page in pages(client, url):
        assert_valid(page_validator, page)
        paging = "Pagination" if "current_page" in page else "SearchAfterPagination"
        assert_valid(schemas.definition(paging), page)
        for item in page["_embedded"]["items"]:
            assert_valid(item_validator, item)
            count += 1
    assert count


UNPAGED_LISTS = [
    (
        "/reference-entities/brands/attributes",
        "/api/rest/v1/reference-entities/{reference_entity_code}/attributes",
    ),
    (
        "/reference-entities/designers/attributes",
        "/api/rest/v1/reference-entities/{reference_entity_code}/attributes",
    ),
    (
        "/reference-entities/brands/attributes/country/options",
        "/api/rest/v1/reference-entities/{reference_entity_code}/attributes/{attribute_code}/options",
    ),
    ("/asset-families/packshots/attributes", "/api/rest/v1/asset-families/{asset_family_code}/attributes"),
    ("/asset-families/videos/attributes", "/api/rest/v1/asset-families/{asset_family_code}/attributes"),
    ("/asset-families/user_guides/attributes", "/api/rest/v1/asset-families/{asset_family_code}/attributes"),
    (
        "/asset-families/packshots/attributes/shot_angle/options",
        "/api/rest/v1/asset-families/{asset_family_code}/attributes/{attribute_code}/options",
    ),
]


@pytest.mark.parametrize(("url", "spec_path"), UNPAGED_LISTS, ids=[u for u, _p in UNPAGED_LISTS])
def test_unpaged_lists_validate(client, schemas, url, spec_path):
    payload = client.json(API + url)
    assert isinstance(payload, list) and payload
    assert_valid(schemas.response(spec_path, 200), payload)


CATEGORY_VALUE_POINTER = "/definitions/Category/properties/values/properties/" + quote(
    "attributeCode|attributeUuid|channelCode|localeCode", safe=""
)


def test_enriched_category_values_validate_value_by_value(client, schemas):
    # `values` is an open object keyed `code|uuid[|channel][|locale]`: check every value against the documented one
    value_validator = schemas.validator(CATEGORY_VALUE_POINTER)
    types = set()
    for category in client.follow(API + "/categories", limit=100, with_enriched_attributes="true"):
        for key, value in (category["values"] or {}).items():
            assert_valid(value_validator, value)
            assert set(value) == {"data", "type", "channel", "locale", "attribute_code"}
            assert key.startswith(value["attribute_code"])
            types.add(value["type"])
    assert types == {"text", "textarea", "richtext", "image"}


def test_measurement_families_validate_element_by_element(client, schemas):
    # the spec types this answer as ONE family although Akeneo (and the spec's own x-examples) return an array
    families = client.json(API + "/measurement-families")
    assert isinstance(families, list)
    for family in families:
        assert_valid(schemas.definition("MeasurementFamilyList"), family)
        assert_valid(schemas.response("/api/rest/v1/measurement-families", 200), family)


def item_urls(client: Client) -> Iterator[tuple[str, str]]:
    """(demo URL, spec path) of one or more items of every item endpoint."""
    c = client
    product = c.json(API + "/products-uuid", limit=100)["_embedded"]["items"]
    for p in product[:12]:
        yield f"/products-uuid/{p['uuid']}", "/api/rest/v1/products-uuid/{uuid}"
        if p["values"].get("sku"):
            yield f"/products/{p['values']['sku'][0]['data']}", "/api/rest/v1/products/{code}"
    for m in c.json(API + "/product-models", limit=8)["_embedded"]["items"]:
        yield f"/product-models/{m['code']}", "/api/rest/v1/product-models/{code}"
    for media in c.json(API + "/media-files", limit=3)["_embedded"]["items"]:
        yield f"/media-files/{media['code']}", "/api/rest/v1/media-files/{code}"
    for plural in (
        "locales",
        "currencies",
        "channels",
        "categories",
        "attribute-groups",
        "attributes",
        "families",
        "association-types",
    ):
        for item in c.follow(API + f"/{plural}", limit=100):
            yield f"/{plural}/{item['code']}", f"/api/rest/v1/{plural}/{{code}}"
    for category in c.follow(API + "/categories", limit=100, with_enriched_attributes="true"):
        if category["values"]:
            yield (
                f"/categories/{category['code']}?with_enriched_attributes=true&with_position=true",
                "/api/rest/v1/categories/{code}",
            )
    for family in c.follow(API + "/measure-families", limit=100):
        yield f"/measure-families/{family['code']}", "/api/rest/v1/measure-families/{code}"
    yield "/attributes/color/options/black", "/api/rest/v1/attributes/{attribute_code}/options/{code}"
    yield (
        "/families/clothing/variants/clothing_color_size",
        "/api/rest/v1/families/{family_code}/variants/{code}",
    )
    for entity in ("brands", "designers", "certifications"):
        yield f"/reference-entities/{entity}", "/api/rest/v1/reference-entities/{code}"
        for attribute in c.json(API + f"/reference-entities/{entity}/attributes"):
            yield (
                f"/reference-entities/{entity}/attributes/{attribute['code']}",
                "/api/rest/v1/reference-entities/{reference_entity_code}/attributes/{code}",
            )
    yield (
        "/reference-entities/brands/attributes/country/options/italy",
        "/api/rest/v1/reference-entities/{reference_entity_code}/attributes/{attribute_code}/options/{code}",
    )
    for entity in ("brands", "designers"):
        record = c.json(API + f"/reference-entities/{entity}/records")["_embedded"]["items"][0]
        yield (
            f"/reference-entities/{entity}/records/{record['code']}",
            "/api/rest/v1/reference-entities/{reference_entity_code}/records/{code}",
        )
    for family in ("packshots", "user_guides", "videos", "lookbooks"):
        yield f"/asset-families/{family}", "/api/rest/v1/asset-families/{code}"
        for attribute in c.json(API + f"/asset-families/{family}/attributes"):
            yield (
                f"/asset-families/{family}/attributes/{attribute['code']}",
                "/api/rest/v1/asset-families/{asset_family_code}/attributes/{code}",
            )
        assets = c.json(API + f"/asset-families/{family}/assets")["_embedded"]["items"]
        if assets:
            yield (
                f"/asset-families/{family}/assets/{assets[0]['code']}",
                "/api/rest/v1/asset-families/{asset_family_code}/assets/{code}",
            )
    yield (
        "/asset-families/packshots/attributes/shot_angle/options/front",
        "/api/rest/v1/asset-families/{asset_family_code}/attributes/{attribute_code}/options/{code}",
    )
    yield "", "/api/rest/v1"
    yield "/system-information", "/api/rest/v1/system-information"


def test_every_item_endpoint_validates(client, schemas):
    seen_paths = set()
    for url, spec_path in item_urls(client):
        response = client.get(API + url)
        assert response.status_code == 200, url
        problems = unexplained(errors(schemas.response(spec_path, 200), response.json()), SPEC_ERRATA)
        assert not problems, (url, problems[:10])
        seen_paths.add(spec_path)
    served = {
        route.template.replace("{media_code}", "{code}")
        for route in client.server.api.routes
        if route.kind.endswith(":item") or route.kind in ("root", "system")
    }
    assert served == seen_paths  # every item endpoint the demo routes was checked, under the spec's own path


def test_token_answers_validate(demo, schemas):
    import requests

    token_path = "/api/oauth/v1/token"
    creds = demo.credentials
    ok = requests.post(
        demo.base_url + token_path,
        auth=(creds["client_id"], creds["secret"]),
        json={"grant_type": "password", "username": creds["username"], "password": creds["password"]},
        timeout=10,
    )
    assert ok.status_code == 200
    assert_valid(schemas.response(token_path, 200, "post"), ok.json())
    answers = [
        requests.post(
            demo.base_url + token_path, data="{", headers={"Content-Type": "application/json"}, timeout=10
        ),
        requests.post(
            demo.base_url + token_path, data="x", headers={"Content-Type": "text/plain"}, timeout=10
        ),
        requests.post(demo.base_url + token_path, json={"grant_type": "password"}, timeout=10),
        requests.post(
            demo.base_url + token_path,
            json={"grant_type": "password", "username": "x", "password": "y"},
            auth=("a", "b"),
            timeout=10,
        ),
    ]
    assert [a.status_code for a in answers] == [400, 415, 422, 422]
    for answer in answers:
        assert_valid(schemas.response(token_path, answer.status_code, "post"), answer.json())
        assert_valid(schemas.definition("Error"), answer.json())


def test_error_answers_validate(client, demo, schemas, make_server):
    import requests

    uuid_path = "/api/rest/v1/products-uuid"
    cases = [
        (requests.get(demo.base_url + API + "/products-uuid", timeout=10), uuid_path),
        (
            client.session.get(
                demo.base_url + API + "/products-uuid", headers={"Accept": "text/html"}, timeout=10
            ),
            uuid_path,
        ),
        (client.get(API + "/products-uuid", limit=101), uuid_path),
        (client.get(API + "/products-uuid", search='{"x": 1}'), uuid_path),
        (client.get(API + "/products-uuid/nope"), "/api/rest/v1/products-uuid/{uuid}"),
        (client.get(API + "/products/nope"), "/api/rest/v1/products/{code}"),
        (client.get(API + "/families/nope"), "/api/rest/v1/families/{code}"),
        (client.get(API + "/media-files/a/b/c/d/nope.png"), "/api/rest/v1/media-files/{code}"),
        (
            client.get(API + "/reference-entities/nope/records/x"),
            "/api/rest/v1/reference-entities/{reference_entity_code}/records/{code}",
        ),
        (
            client.get(API + "/asset-families/nope/assets/x"),
            "/api/rest/v1/asset-families/{asset_family_code}/assets/{code}",
        ),
        (client.get(API + "/products-uuid", search="{"), uuid_path),
        (
            client.get(API + "/category-media-files/a/b/c/d/nope.png/download"),
            "/api/rest/v1/category-media-files/{file_path}/download",
        ),
        (client.get(API + "/measure-families/nope"), "/api/rest/v1/measure-families/{code}"),
        (
            Client(make_server(refuse_flags=("with_enriched_attributes",))).get(
                API + "/categories", with_enriched_attributes="true"
            ),
            "/api/rest/v1/categories",
        ),
        (Client(make_server(legacy_measurements=True)).get(API + "/measurement-families"), None),
        (client.get(API + "/nothing-here"), None),
    ]
    faulty = Client(make_server(faults="throttle_every=2"))
    faulty.get(API + "/locales")
    cases.append((faulty.get(API + "/locales"), None))
    statuses = set()
    for response, spec_path in cases:
        body = response.json()
        statuses.add(response.status_code)
        assert body["code"] == response.status_code
        assert_valid(schemas.definition("Error"), body)
        if spec_path and schemas.has_response(spec_path, response.status_code):
            assert_valid(schemas.response(spec_path, response.status_code), body)
    assert statuses == {400, 401, 404, 406, 422, 429}


# ------------------------------------------------------------------------------------------- the relaxation itself
def list_examples(spec: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(spec path, label, example) for every list endpoint example the spec ships."""
    for path, operations in spec["paths"].items():
        response = operations.get("get", {}).get("responses", {}).get("200", {})
        found = []
        if "examples" in response:
            found.append(("examples", response["examples"]))
        if "x-examples" in response:
            found.append(("x-examples", response["x-examples"]))
        per_version = response.get("x-examples-per-version")
        if isinstance(per_version, dict):
            found.append(("x-example", per_version["x-example"]))
        elif isinstance(per_version, list):
            found += [(f"v{e['x-version']}", e["x-example"]) for e in per_version]
        for label, example in found:
            if (
                isinstance(example, list)
                or (isinstance(example, dict) and "_embedded" in example)
                or path.endswith("/variants")
            ):
                yield path, label, example


ITEM_DEFINITIONS = {
    "/api/rest/v1/products-uuid": "ProductUuidList",
    "/api/rest/v1/products": "ProductList",
    "/api/rest/v1/product-models": "ProductModelList",
    "/api/rest/v1/published-products": "PublishedProductList",
    "/api/rest/v1/media-files": "MediaFileList",
    "/api/rest/v1/families": "FamilyList",
    "/api/rest/v1/families/{family_code}/variants": "FamilyVariantList",
    "/api/rest/v1/attributes": "AttributeList",
    "/api/rest/v1/attributes/{attribute_code}/options": "AttributeOptionList",
    "/api/rest/v1/attribute-groups": "AttributeGroupList",
    "/api/rest/v1/association-types": "AssociationTypeList",
    "/api/rest/v1/channels": "ChannelList",
    "/api/rest/v1/locales": "LocaleList",
    "/api/rest/v1/categories": "CategoryList",
    "/api/rest/v1/currencies": "CurrencyList",
    "/api/rest/v1/measure-families": "MeasureFamilyList",
    "/api/rest/v1/measurement-families": "MeasurementFamilyList",
    "/api/rest/v1/reference-entities": "ReferenceEntityList",
    "/api/rest/v1/reference-entities/{reference_entity_code}/records": "ReferenceEntityRecordList",
    "/api/rest/v1/asset-families": "AssetFamilyList",
    "/api/rest/v1/asset-families/{asset_family_code}/assets": "AssetList",
    "/api/rest/v1/assets": "DeprecatedAssetList",
    "/api/rest/v1/asset-categories": "DeprecatedAssetCategoryList",
    "/api/rest/v1/asset-tags": "DeprecatedAssetTagList",
}


def example_errors(
    schemas: Schemas, path: str, example: Any, *, relaxed: bool = True
) -> list[ValidationError]:
    """Page schema for pages, item definition for each item (`items`, or the spec's `_items` typo)."""
    found: list[ValidationError] = []
    item_definition = ITEM_DEFINITIONS.get(path)
    if path == "/api/rest/v1/measurement-families":  # typed as one family, the example is an array of them
        for family in example:
            found += errors(schemas.definition(item_definition, relaxed=relaxed), family)
        return found
    if isinstance(example, list) or "_embedded" in example:
        found += errors(schemas.response(path, 200, relaxed=relaxed), example)
    if isinstance(example, dict) and item_definition:
        embedded = example.get("_embedded")
        items = (embedded.get("items") or embedded.get("_items") or []) if embedded else [example]
        for item in items:
            found += errors(schemas.definition(item_definition, relaxed=relaxed), item)
    return found


def test_spec_list_examples_validate_under_the_relaxed_schemas(spec, schemas):
    checked = 0
    for path, label, example in list_examples(spec):
        problems = unexplained(example_errors(schemas, path, example), SPEC_ERRATA + EXAMPLE_ONLY_ERRATA)
        assert not problems, (path, label, problems[:10])
        checked += 1
    assert checked >= 25


def test_every_erratum_shows_up_in_the_specs_own_examples(spec, schemas):
    hit = set()
    for path, _label, example in list_examples(spec):
        for error in example_errors(schemas, path, example):
            for erratum in SPEC_ERRATA + EXAMPLE_ONLY_ERRATA:
                if erratum.matches(error):
                    hit.add(erratum.name)
    assert hit == {e.name for e in SPEC_ERRATA + EXAMPLE_ONLY_ERRATA}


def test_both_relaxations_are_needed(spec, schemas, client):
    strict_failures: dict[str, set[str]] = {"null": set(), "data": set()}
    for path, _label, example in list_examples(spec):
        for error in example_errors(schemas, path, example, relaxed=False):
            if error.instance is None:
                strict_failures["null"].add(path)
            elif _last(error) == "data":
                strict_failures["data"].add(path)
    assert strict_failures["null"] and strict_failures["data"], strict_failures
    product = client.json(API + "/products-uuid", limit=1)["_embedded"]["items"][0]
    strict = errors(schemas.definition("ProductUuidList", relaxed=False), product)
    assert any(e.instance is None for e in strict) and any(_last(e) == "data" for e in strict)


@pytest.mark.parametrize(
    ("mutate", "why"),
    [
        (lambda p: p.update(enabled="yes"), "a boolean stays a boolean"),
        (lambda p: p.update(categories=None), "arrays are not nullable"),
        (lambda p: p.update(categories=[None]), "array items are not nullable"),
        (lambda p: p["values"]["sku"][0].update(locale=5), "locale is a string or null"),
        (lambda p: p["values"].update(sku={"data": "x"}), "a value list stays a list"),
        (lambda p: p.update(family=5), "family is a string or null"),
        (lambda p: p.update(values=[]), "values is an object"),
    ],
)
def test_nothing_else_is_relaxed(client, schemas, mutate, why):
    product = copy.deepcopy(client.json(API + "/products-uuid", limit=1)["_embedded"]["items"][0])
    assert_valid(schemas.definition("ProductUuidList"), product)
    mutate(product)
    assert errors(schemas.definition("ProductUuidList"), product), why
