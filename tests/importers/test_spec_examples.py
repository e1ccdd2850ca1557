"""The official spec's example payloads are real Akeneo records: each one must import, unchanged but for _links."""

from __future__ import annotations

import copy

import pytest

from catalog import models
from connections.akeneo.client import RESOURCES
from migrations_runs.importers import IMPORTERS
from tests.client.test_client_spec_examples import (
    PARENTS,
    SPEC,
    as_served,
    cases,
    embedded,
    example_body,
    load_spec,
)

from .helpers import MODELS, PARENT_COLUMN, without_links

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not SPEC.exists(), reason=f"Akeneo's spec is not at {SPEC} (../shared is absent)"),
]


def example_items(resource: str, spec_path: str) -> list[dict]:
    spec = load_spec()
    body = as_served(copy.deepcopy(example_body(spec, spec_path)), RESOURCES[resource].pagination)
    return embedded(body)


def test_every_resource_has_a_spec_example():
    assert {resource for resource, _path in cases()} == set(RESOURCES)


@pytest.mark.parametrize(("resource", "spec_path"), cases())
def test_each_spec_example_imports_without_failure(resource, spec_path):
    items = example_items(resource, spec_path)
    parent = PARENTS.get(resource)

    result = IMPORTERS[resource].import_page(items, parent=parent)
    again = IMPORTERS[resource].import_page(items, parent=parent)

    assert result.failed == 0, result.problems
    assert result.created == len(items) == MODELS[resource].objects.count()
    assert again.unchanged == len(items)
    for item in items:
        if MODELS[resource] is models.Product:
            row = (
                models.Product.objects.get(uuid=item["uuid"])
                if "uuid" in item
                else models.Product.objects.get(identifier=item["identifier"])
            )
        elif resource in PARENT_COLUMN:
            row = MODELS[resource].objects.get(code=item["code"], **{PARENT_COLUMN[resource]: parent})
        else:
            row = MODELS[resource].objects.get(code=item["code"])
        assert row.data == without_links(item)
