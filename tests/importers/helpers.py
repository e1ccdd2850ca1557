"""Reading every resource of a demo Akeneo once, and importing pages the way the step runner does."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from catalog import models
from connections.akeneo.client import AkeneoClient
from migrations_runs.importers import IMPORTERS, PageResult
from tests.support.source import without_links

SELECT_TYPES = ("pim_catalog_simpleselect", "pim_catalog_multiselect")


def _codes(model: type[models.AkeneoRecord], **filters: Any) -> Callable[[], list[str]]:
    """Parents of a sub-resource: taken from what was imported, like the step runner does."""
    return lambda: sorted(model.objects.filter(**filters).values_list("code", flat=True))


# (resource, parents of a sub-resource or None), in dependency order
ORDER: list[tuple[str, Callable[[], list[str]] | None]] = [
    ("locales", None),
    ("currencies", None),
    ("measurement-families", None),
    ("categories", None),
    ("channels", None),
    ("attribute-groups", None),
    ("attributes", None),
    ("attribute-options", _codes(models.Attribute, type__in=SELECT_TYPES)),
    ("families", None),
    ("family-variants", _codes(models.Family)),
    ("association-types", None),
    ("asset-families", None),
    ("asset-family-attributes", _codes(models.AssetFamily)),
    ("assets", _codes(models.AssetFamily)),
    ("reference-entities", None),
    ("reference-entity-attributes", _codes(models.ReferenceEntity)),
    ("reference-entity-records", _codes(models.ReferenceEntity)),
    ("product-models", None),
    ("products-uuid", None),
]
PARENTS = dict(ORDER)

# resource -> (model, key columns built from (parent, record))
MODELS: dict[str, type[models.AkeneoRecord]] = {
    "locales": models.Locale,
    "currencies": models.Currency,
    "measurement-families": models.MeasurementFamily,
    "categories": models.Category,
    "channels": models.Channel,
    "attribute-groups": models.AttributeGroup,
    "attributes": models.Attribute,
    "attribute-options": models.AttributeOption,
    "families": models.Family,
    "family-variants": models.FamilyVariant,
    "association-types": models.AssociationType,
    "asset-families": models.AssetFamily,
    "asset-family-attributes": models.AssetFamilyAttribute,
    "assets": models.Asset,
    "reference-entities": models.ReferenceEntity,
    "reference-entity-attributes": models.ReferenceEntityAttribute,
    "asset-family-attribute-options": models.AssetFamilyAttributeOption,
    "reference-entity-attribute-options": models.ReferenceEntityAttributeOption,
    "reference-entity-records": models.ReferenceEntityRecord,
    "product-models": models.ProductModel,
    "products-uuid": models.Product,
    "products": models.Product,
}
PARENT_COLUMN = {
    "attribute-options": "attribute_code",
    "family-variants": "family_code",
    "asset-family-attributes": "asset_family_code",
    "assets": "asset_family_code",
    "reference-entity-attributes": "reference_entity_code",
    "reference-entity-records": "reference_entity_code",
}


class Served:
    """Every page the demo server serves, fetched once per (resource, parent) and reused by the tests."""

    def __init__(self, client: AkeneoClient) -> None:
        self.client = client
        self._pages: dict[tuple[str, str | None], list[list[dict]]] = {}

    def pages(self, resource: str, parent: str | None = None) -> list[list[dict]]:
        """Deep copies, so a test may alter them."""
        key = (resource, parent)
        if key not in self._pages:
            self._pages[key] = [page.items for page in self.client.pages(resource, parent=parent)]
        return copy.deepcopy(self._pages[key])


@dataclass
class Imported:
    """What one resource's import did: totals, served records with their parent, queries per page."""

    totals: PageResult = field(default_factory=PageResult)
    records: list[tuple[str | None, dict]] = field(default_factory=list)
    queries: list[tuple[int, int]] = field(default_factory=list)  # (records in the page, queries)
    statements: list[str] = field(default_factory=list)


def import_pages(
    resource: str, pages: Iterable[list[dict]], parent: str | None = None, into: Imported | None = None
) -> Imported:
    """Import pages like the step runner: each page inside transaction.atomic(), queries counted per page."""
    imported = into or Imported()
    importer = IMPORTERS[resource]
    for page in pages:
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            result = importer.import_page(page, parent=parent)
        imported.queries.append((len(page), len(queries.captured_queries)))
        imported.statements.extend(query["sql"] for query in queries.captured_queries)
        add(imported.totals, result)
        imported.records.extend((parent, record) for record in page)
    return imported


PARENT_RESOURCE = {
    "attribute-options": "attributes",
    "family-variants": "families",
    "asset-family-attributes": "asset-families",
    "assets": "asset-families",
    "reference-entity-attributes": "reference-entities",
    "reference-entity-records": "reference-entities",
}


def served_parents(served: Served, resource: str) -> list[str]:
    """A sub-resource's parent codes read from the source (for importing children before their parents)."""
    return sorted(
        record["code"]
        for page in served.pages(PARENT_RESOURCE[resource])
        for record in page
        if resource != "attribute-options" or record["type"] in SELECT_TYPES
    )


def import_resource(
    served: Served, resource: str, *, reverse: bool = False, parents_from_source: bool = False
) -> Imported:
    """Every page of a resource (under every parent for sub-resources), optionally in reverse order.

    Parents come from the catalog like in a migration, or from the source when children go first.
    """
    if resource in PARENT_RESOURCE:
        parents = served_parents(served, resource) if parents_from_source else PARENTS[resource]()
    else:
        parents = [None]
    imported = Imported()
    for parent in parents:
        pages = served.pages(resource, parent)
        if reverse:
            pages = [list(reversed(page)) for page in reversed(pages)]
        import_pages(resource, pages, parent, imported)
    return imported


def import_everything(
    served: Served, order: list[str] | None = None, *, reverse: bool = False
) -> dict[str, Imported]:
    return {
        resource: import_resource(served, resource, reverse=reverse, parents_from_source=reverse)
        for resource in (order or [resource for resource, _ in ORDER])
    }


def add(total: PageResult, result: PageResult) -> None:
    for name in ("created", "updated", "unchanged", "skipped", "failed"):
        setattr(total, name, getattr(total, name) + getattr(result, name))
    total.problems.extend(result.problems)


def stored_by_key(resource: str) -> dict[tuple, models.AkeneoRecord]:
    model = MODELS[resource]
    if model is models.Product:
        return {(str(row.uuid),): row for row in model.objects.all()}
    parent_column = PARENT_COLUMN.get(resource)
    if parent_column:
        return {(getattr(row, parent_column), row.code): row for row in model.objects.all()}
    return {(row.code,): row for row in model.objects.all()}


def served_key(resource: str, parent: str | None, record: dict) -> tuple:
    if MODELS[resource] is models.Product:
        return (record["uuid"],)
    if resource in PARENT_COLUMN:
        return (parent, record["code"])
    return (record["code"],)


def differences(resource: str, imported: Imported) -> list[str]:
    """Every field where the stored record differs from the served one minus _links, by code and field."""
    stored = stored_by_key(resource)
    found = []
    for parent, record in imported.records:
        key = served_key(resource, parent, record)
        row = stored.get(key)
        if row is None:
            found.append(f"{resource} {key}: not stored")
            continue
        expected = without_links(record)
        for name in sorted(set(expected) | set(row.data)):
            if expected.get(name, "<absent>") != row.data.get(name, "<absent>"):
                found.append(f"{resource} {key} field {name!r}: stored {row.data.get(name, '<absent>')!r}")
    return found
