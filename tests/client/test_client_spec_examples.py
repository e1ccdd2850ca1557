"""The official spec's own example payloads are real Akeneo answers: the client must read every one unchanged."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from connections.akeneo.auth import Credentials
from connections.akeneo.client import RESOURCES, AkeneoClient, ClientSettings
from tests.fake_akeneo import VALID

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "akeneo-api" / "akeneo-web-api.json"
pytestmark = pytest.mark.skipif(
    not SPEC.exists(), reason=f"Akeneo's spec is not at {SPEC} (../shared is absent)"
)

PARENTS = {"attribute-options": "color", "family-variants": "shoes", "reference-entity-records": "brand",
           "assets": "packshots", "asset-family-attributes": "packshots", "reference-entity-attributes": "brand"}  # fmt: skip


def load_spec() -> dict:
    return json.loads(SPEC.read_text())


def example_body(spec: dict, path: str) -> object | None:
    """The 200 example of GET `path`: its list example, else the example of one item of it (products)."""
    response = spec["paths"][path]["get"]["responses"]["200"]
    if isinstance(response.get("examples"), dict):
        return response["examples"]
    if "example" in response.get("schema", {}):
        return response["schema"]["example"]
    for item_path in (f"{path}/{{uuid}}", f"{path}/{{code}}"):
        if item_path in spec["paths"]:
            return example_body(spec, item_path)
    return None


def as_served(body: object, pagination: str) -> object:
    """Item examples become a one-item page (or a one-item array for unpaginated resources)."""
    if pagination == "none":
        return body if isinstance(body, list) else [body]
    if isinstance(body, dict) and "_embedded" not in body:
        return {"_links": {}, "_embedded": {"items": [body]}}
    return body


def embedded(body: object) -> list:
    if isinstance(body, list):
        return body
    return body["_embedded"].get("items", body["_embedded"].get("_items"))


def relative_links(body: object) -> object:
    """Real Akeneo sends absolute links; some compatible servers send relative ones. Serve relative ones."""
    if isinstance(body, dict):
        return {
            key: (urlsplit(value).path + (f"?{urlsplit(value).query}" if urlsplit(value).query else ""))
            if key == "href" and isinstance(value, str)
            else relative_links(value)
            for key, value in body.items()
        }
    if isinstance(body, list):
        return [relative_links(item) for item in body]
    return body


def cases() -> list[tuple[str, str]]:
    if not SPEC.exists():
        return []
    spec = load_spec()
    found = []
    for resource, definition in RESOURCES.items():
        spec_path = definition.path.replace("{parent}", _spec_parameter(spec, definition.path))
        if spec_path in spec["paths"] and example_body(spec, spec_path) is not None:
            found.append((resource, spec_path))
    return found


def _spec_parameter(spec: dict, template: str) -> str:
    prefix, _, suffix = template.partition("{parent}")
    for path in spec["paths"]:
        if path.startswith(prefix) and path.endswith(suffix) and path.count("/") == template.count("/"):
            return path[len(prefix) : len(path) - len(suffix)]
    return "{parent}"


def test_the_spec_has_examples_for_the_resources_a_migration_reads():
    resources = {resource for resource, _path in cases()}
    assert {
        "locales",
        "channels",
        "categories",
        "attributes",
        "families",
        "product-models",
        "products",
    } <= resources


@pytest.mark.parametrize(("resource", "spec_path"), cases())
def test_client_reads_every_spec_example_unchanged(fake_akeneo, resource, spec_path):
    spec = load_spec()
    body = as_served(copy.deepcopy(example_body(spec, spec_path)), RESOURCES[resource].pagination)
    expected_items = embedded(body)
    served = relative_links(body)
    client = AkeneoClient(
        Credentials(base_url=fake_akeneo.base_url(), **VALID), ClientSettings(max_attempts=1)
    )
    client._products_path = RESOURCES[resource].path if resource.startswith("products") else None
    first = urlsplit(client.list_url(resource, parent=PARENTS.get(resource)))
    fake_akeneo.routes.clear()
    fake_akeneo.routes[first.path] = served
    next_link = (served.get("_links", {}).get("next") or {}).get("href") if isinstance(served, dict) else None
    if next_link:  # the example's next page: serve an empty last page there
        fake_akeneo.routes[next_link] = {"_links": {}, "_embedded": {"items": []}}
    try:
        pages = list(client.pages(resource, parent=PARENTS.get(resource)))
    finally:
        fake_akeneo.routes.clear()
        client.close()
    items = [item for page in pages for item in page.items]
    assert [_strip_links(item) for item in items] == [_strip_links(item) for item in expected_items]
    assert len(pages) == (2 if next_link else 1)


def _strip_links(item: object) -> object:
    return relative_links(item)
