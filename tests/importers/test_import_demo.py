"""Every resource of a demo Akeneo, read over real HTTP and imported page by page like a migration step does."""

from __future__ import annotations

import pytest

from catalog import models
from migrations_runs.importers import IMPORTERS

from .helpers import (
    MODELS,
    ORDER,
    differences,
    import_everything,
    import_pages,
    import_resource,
    stored_by_key,
)

pytestmark = pytest.mark.django_db

RESOURCES = [resource for resource, _parents in ORDER]
WRITES = ("INSERT", "UPDATE", "DELETE")
FIRST_IMPORT_MAX_QUERIES = 8  # existing rows, targets, INSERT, incoming links, + the identifier attribute
REIMPORT_MAX_QUERIES = 3  # existing rows, targets (+ the identifier attribute for products): reads only


def test_every_resource_is_stored_whole_once_and_with_few_queries_per_page(served):
    imported = import_everything(served)

    for resource, result in imported.items():
        served_count = len(result.records)
        totals = result.totals
        assert served_count > 0, f"the demo serves no {resource}"
        assert (totals.created, totals.failed, totals.skipped, totals.updated) == (served_count, 0, 0, 0), (
            resource
        )
        assert MODELS[resource].objects.count() == served_count, resource
        assert not [p for p in totals.problems if p.level == "error"], resource
        assert max(queries for _size, queries in result.queries) <= FIRST_IMPORT_MAX_QUERIES, (
            resource,
            result.queries,
        )
    # the number of queries does not grow with the page: a 100-record page costs what a 3-record page costs
    assert any(size == 100 for size, _ in imported["products-uuid"].queries)

    found = [difference for resource in RESOURCES for difference in differences(resource, imported[resource])]
    assert found == [], "\n".join(found[:20])


def test_a_second_import_of_the_same_pages_changes_nothing_and_only_reads(served):
    first = import_everything(served)
    before = {
        resource: {key: row.updated_at for key, row in stored_by_key(resource).items()}
        for resource in RESOURCES
    }

    second = import_everything(served)

    for resource, result in second.items():
        totals = result.totals
        assert totals.unchanged == len(first[resource].records), resource
        assert (totals.created, totals.updated, totals.failed, totals.skipped) == (0, 0, 0, 0), resource
        writes = [sql for sql in result.statements if sql.lstrip().upper().startswith(WRITES)]
        assert writes == [], (resource, writes[:3])
        assert max(queries for _size, queries in result.queries) <= REIMPORT_MAX_QUERIES, (
            resource,
            result.queries,
        )
        after = {key: row.updated_at for key, row in stored_by_key(resource).items()}
        assert after == before[resource], resource


def test_changed_records_are_updated_in_bulk(served):
    import_everything(served, ["attributes", "product-models", "products-uuid"])
    pages = served.pages("products-uuid")
    for page in pages:
        for record in page:
            record["enabled"] = not record["enabled"]
            record["values"]["sku"] = [{"locale": None, "scope": None, "data": "NEW-" + record["uuid"]}]

    result = import_pages("products-uuid", pages)

    count = sum(len(page) for page in pages)
    assert (result.totals.updated, result.totals.created, result.totals.unchanged) == (count, 0, 0)
    assert max(queries for _size, queries in result.queries) <= 6, result.queries
    product = models.Product.objects.get(uuid=pages[0][0]["uuid"])
    assert product.enabled == pages[0][0]["enabled"]
    assert product.identifier == "NEW-" + pages[0][0]["uuid"]  # the identifier attribute's value
    assert product.data["values"]["sku"] == pages[0][0]["values"]["sku"]


def check_references() -> None:
    """Every foreign key points at the row its Akeneo code names (when that row was imported)."""
    categories = models.Category.objects.exclude(parent_code=None)
    assert categories.exists()
    assert all(
        category.parent.code == category.parent_code for category in categories.select_related("parent")
    )
    sub_models = models.ProductModel.objects.exclude(parent_code=None).select_related("parent")
    assert sub_models.exists()
    assert all(model.parent.code == model.parent_code for model in sub_models)
    variants = models.Product.objects.exclude(parent_code=None).select_related("parent")
    assert variants.exists()
    assert all(product.parent.code == product.parent_code for product in variants)
    for model, fk, code_field in [
        (models.AttributeOption, "attribute", "attribute_code"),
        (models.FamilyVariant, "family", "family_code"),
        (models.AssetFamilyAttribute, "asset_family", "asset_family_code"),
        (models.Asset, "asset_family", "asset_family_code"),
        (models.ReferenceEntityAttribute, "reference_entity", "reference_entity_code"),
        (models.ReferenceEntityRecord, "reference_entity", "reference_entity_code"),
    ]:
        rows = model.objects.select_related(fk)
        assert rows.exists() and all(getattr(row, fk).code == getattr(row, code_field) for row in rows), model


def test_references_are_resolved_in_dependency_order(served):
    import_everything(served)
    check_references()


def test_references_are_resolved_when_children_come_first_and_by_resolve_references(served):
    # everything backwards: products before models, sub-models before roots, child categories before parents,
    # options before their attribute, records before their entity... and each page reversed too
    backwards = [
        "products-uuid",
        "product-models",
        "categories",
        "attribute-options",
        "family-variants",
        "asset-family-attributes",
        "assets",
        "reference-entity-attributes",
        "reference-entity-records",
        "attributes",
        "families",
        "asset-families",
        "reference-entities",
    ]
    imported = import_everything(served, backwards, reverse=True)
    assert all(result.totals.failed == 0 for result in imported.values())
    check_references()

    # keys lost (rows written by an interrupted step, say): resolve_references() puts every one back
    expected = {}
    for resource, model in [
        ("categories", models.Category),
        ("product-models", models.ProductModel),
        ("products-uuid", models.Product),
        ("attribute-options", models.AttributeOption),
        ("family-variants", models.FamilyVariant),
        ("assets", models.Asset),
        ("reference-entity-records", models.ReferenceEntityRecord),
    ]:
        fk, code_field = model.code_links[0]
        expected[resource] = model.objects.exclude(**{code_field: None}).count()
        model.objects.update(**{fk: None})
    for resource, count in expected.items():
        assert IMPORTERS[resource].resolve_references() == count, resource
        assert IMPORTERS[resource].resolve_references() == 0, resource
    check_references()


def test_products_imported_before_attributes_get_their_identifier_on_the_next_import(served):
    first = import_resource(served, "products-uuid")
    assert first.totals.created == 120
    assert models.Product.objects.exclude(identifier=None).count() == 0  # no identifier attribute known yet
    import_resource(served, "attributes")

    again = import_resource(served, "products-uuid")

    assert (again.totals.unchanged, again.totals.updated, again.totals.created) == (120, 0, 0)
    with_identifier = models.Product.objects.exclude(identifier=None)
    assert with_identifier.count() == 119  # the demo has one product without identifier
    product = with_identifier.first()
    assert product.identifier == product.data["values"]["sku"][0]["data"]


def test_products_from_the_products_endpoint_without_uuid_are_keyed_by_identifier(served):
    from migrations_runs.importers.products import uuid_for_identifier

    pages = served.pages("products")
    for page in pages:
        for record in page:
            del record["uuid"]  # an Akeneo older than 7.0
    count = sum(len(page) for page in pages)

    first = import_pages("products", pages)
    again = import_pages("products", pages)

    assert first.totals.created == count == models.Product.objects.count()
    assert again.totals.unchanged == count
    for product in models.Product.objects.all():
        assert product.uuid == uuid_for_identifier(product.identifier)
        assert "uuid" not in product.data and product.data["identifier"] == product.identifier


def test_products_endpoint_records_update_the_products_read_by_uuid(served):
    import_resource(served, "attributes")
    import_resource(served, "products-uuid")
    pages = served.pages("products")
    for page in pages:
        for record in page:
            del record["uuid"]

    result = import_pages("products", pages)

    assert result.totals.created == 0 and result.totals.updated == sum(len(page) for page in pages)
    assert models.Product.objects.count() == 120
