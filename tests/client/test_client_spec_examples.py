"""The official spec's own example payloads are real Akeneo answers: the client must read every one unchanged."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from connections.akeneo.auth import Credentials
from connections.akeneo.client import RESOURCES, AkeneoClient, ClientSettings
from tests.hostile_akeneo import HostileAkeneo
from tests.support.spec_examples import (
    PARENTS,
    SPEC,
    as_served,
    embedded,
    example_body,
    load_spec,
    relative_links,
)

pytestmark = pytest.mark.skipif(
    not SPEC.exists(), reason=f"Akeneo's spec is not at {SPEC} (../shared is absent)"
)


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


@pytest.fixture(scope="module")
def spec_server(fake_akeneo) -> Iterator[tuple[HostileAkeneo, dict[str, object]]]:
    """The demo, logging in for real, with chosen GET paths answering chosen documents (the spec's examples)."""
    pages: dict[str, object] = {}
    server = HostileAkeneo(fake_akeneo.demo, pages=pages)
    yield server, pages
    server.stop()


@pytest.mark.parametrize(("resource", "spec_path"), cases())
def test_client_reads_every_spec_example_unchanged(spec_server, resource, spec_path):
    server, served_at = spec_server
    spec = load_spec()
    body = as_served(copy.deepcopy(example_body(spec, spec_path)), RESOURCES[resource].pagination)
    expected_items = embedded(body)
    served = relative_links(body)
    client = AkeneoClient(
        Credentials(base_url=server.base_url, **server.credentials), ClientSettings(max_attempts=1)
    )
    client._products_path = RESOURCES[resource].path if resource.startswith("products") else None
    first = urlsplit(client.list_url(resource, parent=PARENTS.get(resource)))
    served_at.clear()
    served_at[first.path] = served
    next_link = (served.get("_links", {}).get("next") or {}).get("href") if isinstance(served, dict) else None
    if next_link:  # the example's next page: serve an empty last page there
        served_at[next_link] = {"_links": {}, "_embedded": {"items": []}}
    try:
        pages = list(client.pages(resource, parent=PARENTS.get(resource)))
    finally:
        served_at.clear()
        client.close()
    items = [item for page in pages for item in page.items]
    assert [_strip_links(item) for item in items] == [_strip_links(item) for item in expected_items]
    assert len(pages) == (2 if next_link else 1)


def _strip_links(item: object) -> object:
    return relative_links(item)
