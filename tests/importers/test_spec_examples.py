"""The official spec's example payloads are real Akeneo records: each one must import, unchanged but for _links."""

from __future__ import annotations

import copy

import pytest

from catalog import models
from connections.akeneo.resources import RESOURCES
from migrations_runs.importers import IMPORTERS
from tests.support.source import without_links
from tests.support.spec_examples import (
    PARENTS,
    SPEC,
    as_served,
    embedded,
    example_body,
    load_spec,
)

from .helpers import MODELS, PARENT_COLUMN

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not SPEC.exists(), reason=f"Akeneo's spec is not at {SPEC} (../shared is absent)"),
]


def spec_path_of(spec: dict, template: str) -> str | None:
    """The spec's GET path for a table path: `{parent}`, `{parent1}` are the spec's parameters at those places."""
    pattern = template.replace("{parent}", "{*}").replace("{parent1}", "{*}").split("/")
    for path in spec["paths"]:
        parts = path.split("/")
        if len(parts) == len(pattern) and all(
            want == got or (want == "{*}" and got.startswith("{"))
            for want, got in zip(pattern, parts, strict=True)
        ):
            return path
    return None


def cases() -> list[tuple[str, str]]:
    if not SPEC.exists():
        return []
    spec = load_spec()
    found = []
    for name, definition in RESOURCES.items():
        path = spec_path_of(spec, definition.path)
        if path is not None and example_body(spec, path) is not None:
            found.append((name, path))
    return found


def example_items(resource: str, spec_path: str) -> list[dict]:
    spec = load_spec()
    body = as_served(copy.deepcopy(example_body(spec, spec_path)), RESOURCES[resource].pagination)
    return embedded(body)


def test_every_table_path_is_a_get_endpoint_of_the_spec():
    spec = load_spec()
    missing = [name for name, definition in RESOURCES.items() if spec_path_of(spec, definition.path) is None]
    assert not missing
    for definition in RESOURCES.values():
        assert "get" in spec["paths"][spec_path_of(spec, definition.path)], definition.name


def test_every_resource_has_a_spec_example():
    assert {resource for resource, _path in cases()} == set(RESOURCES)


def parents_of(resource: str) -> tuple[str, ...]:
    return {"asset-family-attribute-options": ("packshots", "shot_angle"),
            "reference-entity-attribute-options": ("brand", "country")}.get(resource) or (
        (PARENTS[resource],) if resource in PARENTS else ()
    )  # fmt: skip


@pytest.mark.parametrize(("resource", "spec_path"), cases())
def test_each_spec_example_imports_without_failure(resource, spec_path):
    items = example_items(resource, spec_path)
    parent = parents_of(resource)
    if RESOURCES[resource].model is None:  # a fallback: imported, converted, as the resource it stands for
        items = [RESOURCES[resource].converter(item) for item in items]
        resource = next(name for name, spec in RESOURCES.items() if spec.fallback == resource)

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
        elif len(parent) == 2:
            row = MODELS[resource].objects.get(code=item["code"], attribute_code=parent[1])
        elif resource in PARENT_COLUMN:
            row = MODELS[resource].objects.get(code=item["code"], **{PARENT_COLUMN[resource]: parent[0]})
        else:
            row = MODELS[resource].objects.get(code=item["code"])
        assert row.data == without_links(item)
