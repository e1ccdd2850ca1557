"""Deletions against the demo Akeneo: records that disappear from the source are flagged deleted by the run that saw
it (kept, hidden from exports, filterable in the admin), purged on demand, restored when they come back; filtered
and incremental runs flag only inside their filter; a record another connection still provides stays.

The demo's products are index-based (uuid = prefix + index), so swapping its catalog for a smaller one with the
same seed deletes the last products (and the product models of the missing slots)."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from catalog.models import (
    Attribute,
    AttributeOption,
    Category,
    Family,
    FamilyVariant,
    Product,
    ProductModel,
    SourceGone,
)
from demo_akeneo.catalog import Catalog
from migrations_runs.deletions import mark_deleted, refresh_variants
from migrations_runs.models import Mapping, MigrationRun, RecordResult, Status
from migrations_runs.services import execute_run, make_client, start_run
from tests.factories import connection_for
from tests.support.demo import demo_fixture

pytestmark = pytest.mark.django_db(transaction=True)

SEED = 42
FULL, SMALL = 60, 50


# A demo per test: the tests change its catalog.
demo = demo_fixture(products=FULL, seed=SEED, scope="function")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "storage"


def shrink(demo, products: int = SMALL) -> Catalog:
    """Akeneo loses its last products (and the models of their slots)."""
    demo.api.catalog = Catalog(products=products, seed=SEED)
    return demo.api.catalog


def migrate(connection, entities, **kwargs) -> MigrationRun:
    run = execute_run(start_run(connection, entities, enqueue=False, **kwargs))
    assert run.status == Status.COMPLETED, run.error
    return run


def gone_uuids(demo) -> set[str]:
    return {demo.catalog.product_uuid(index) for index in range(SMALL, FULL)}


def export_lines(out: Path, name: str) -> list[dict]:
    return [json.loads(line) for line in (out / f"{name}.jsonl").read_text().splitlines()]


def test_gone_products_are_flagged_by_the_run_hidden_from_export_purged_and_restored(demo, tmp_path):
    connection = connection_for(demo)
    migrate(connection, ["products"])
    assert Product.objects.count() == FULL and not Product.objects.filter(deleted_at__isnull=False).exists()

    shrink(demo)
    run = migrate(connection, ["products"])
    deleted = Product.objects.filter(deleted_at__isnull=False)
    assert {str(u) for u in deleted.values_list("uuid", flat=True)} == gone_uuids(demo)
    assert set(deleted.values_list("deleted_by_run_id", flat=True)) == {run.pk}
    assert Product.objects.count() == FULL  # kept, not erased
    results = RecordResult.objects.filter(run=run, outcome="deleted")
    assert {r.key for r in results} == gone_uuids(demo) and {r.entity for r in results} == {"products-uuid"}

    # hidden from export_catalog unless --include-deleted
    call_command("export_catalog", "--out", str(tmp_path / "a"), stdout=StringIO())
    assert {line["uuid"] for line in export_lines(tmp_path / "a", "products")} == {
        demo.catalog.product_uuid(i) for i in range(SMALL)
    }
    call_command("export_catalog", "--out", str(tmp_path / "b"), "--include-deleted", stdout=StringIO())
    assert len(export_lines(tmp_path / "b", "products")) == FULL

    # a second run changes nothing more (already flagged, by the first run that saw it)
    migrate(connection, ["products"])
    assert set(
        Product.objects.filter(deleted_at__isnull=False).values_list("deleted_by_run_id", flat=True)
    ) == {run.pk}

    # they come back: the next run restores them
    demo.api.catalog = demo.catalog
    back = migrate(connection, ["products"])
    assert not Product.objects.filter(deleted_at__isnull=False).exists()
    assert not SourceGone.objects.exists()
    restored = RecordResult.objects.filter(run=back, outcome="updated")
    assert {r.key for r in restored} >= gone_uuids(demo)  # (and those whose associations named them)

    # gone again, then purged for good (with their mappings)
    shrink(demo)
    migrate(connection, ["products"])
    call_command("purge_deleted", "--older-than", "1", stdout=(dry := StringIO()))
    assert "Erased 0 records" in dry.getvalue() and Product.objects.count() == FULL  # flagged just now
    call_command("purge_deleted", "--dry-run", stdout=(dry := StringIO()))
    assert "Would erase 10 records" in dry.getvalue() and Product.objects.count() == FULL
    call_command("purge_deleted", stdout=(done := StringIO()))
    assert "Erased 10 records" in done.getvalue() and "products" in done.getvalue()
    assert Product.objects.count() == SMALL
    assert Mapping.objects.filter(connection=connection, resource="products-uuid").count() == SMALL
    assert not SourceGone.objects.exists()


def test_gone_structure_is_flagged_and_a_gone_parent_takes_its_children(demo):
    connection = connection_for(demo)
    migrate(connection, ["categories", "attributes", "families"])
    catalog = demo.catalog
    removed_category = next(
        c["code"]
        for c in catalog.categories
        if c["parent"] and c["code"] not in {p["parent"] for p in catalog.categories}
    )  # a leaf
    catalog.categories = [c for c in catalog.categories if c["code"] != removed_category]
    catalog.attribute_options["size"] = catalog.attribute_options["size"][1:]  # one option gone
    removed_option = AttributeOption.objects.get(
        attribute_code="size",
        code=next(
            o
            for o in AttributeOption.objects.filter(attribute_code="size").values_list("code", flat=True)
            if o not in {x["code"] for x in catalog.attribute_options["size"]}
        ),
    )
    catalog.attributes = [a for a in catalog.attributes if a["code"] != "color"]  # with its options
    family = catalog.families[0]["code"]
    catalog.families = catalog.families[1:]  # with its variants

    run = migrate(connection, ["categories", "attributes", "families"])
    flagged = {
        "categories": set(Category.objects.filter(deleted_at__isnull=False).values_list("code", flat=True)),
        "attributes": set(Attribute.objects.filter(deleted_at__isnull=False).values_list("code", flat=True)),
        "options": set(
            AttributeOption.objects.filter(deleted_at__isnull=False).values_list("attribute_code", "code")
        ),
        "families": set(Family.objects.filter(deleted_at__isnull=False).values_list("code", flat=True)),
        "variants": set(
            FamilyVariant.objects.filter(deleted_at__isnull=False).values_list("family_code", flat=True)
        ),
    }
    assert flagged["categories"] == {removed_category}
    assert flagged["attributes"] == {"color"}
    color_options = set(
        AttributeOption.objects.filter(attribute_code="color").values_list("attribute_code", "code")
    )
    assert flagged["options"] == color_options | {("size", removed_option.code)}
    assert flagged["families"] == {family}
    assert flagged["variants"] <= {family}
    assert FamilyVariant.objects.filter(family_code=family).count() == len(
        FamilyVariant.objects.filter(family_code=family, deleted_at__isnull=False)
    )
    assert {row.deleted_by_run_id for row in AttributeOption.objects.filter(deleted_at__isnull=False)} == {
        run.pk
    }


def test_a_filtered_run_flags_only_inside_its_filter(demo):
    connection = connection_for(demo)
    migrate(connection, ["products"])
    small = shrink(demo)
    families = {demo.catalog.product_header(i).family for i in range(SMALL, FULL)} - {None}
    family = sorted(families)[0]
    inside = {
        demo.catalog.product_uuid(i)
        for i in range(SMALL, FULL)
        if demo.catalog.product_header(i).family == family
    }
    assert inside and inside != gone_uuids(demo)

    run = migrate(connection, ["products"], filters={"families": [family]})
    flagged = {
        str(u) for u in Product.objects.filter(deleted_at__isnull=False).values_list("uuid", flat=True)
    }
    assert flagged == inside  # the deleted products of other families were not looked at
    assert set(
        Product.objects.filter(deleted_at__isnull=False).values_list("deleted_by_run_id", flat=True)
    ) == {run.pk}
    # a product that left the filter (still in Akeneo) is not flagged: nothing but the gone ones
    assert all(small.product_index_of_uuid(uuid) is None for uuid in flagged)


def test_an_incremental_run_lists_keys_and_flags_what_went(demo):
    connection = connection_for(demo)
    migrate(connection, ["attributes", "product-models", "products"])
    small = shrink(demo)
    demo.stats.reset()
    run = migrate(connection, ["product-models", "products"], incremental=True)
    assert run.filters["incremental"]["since"]  # reads only what changed (nothing, in the demo)
    products = run.steps.get(entity="products")
    assert products.read == 0
    flagged = {
        str(u) for u in Product.objects.filter(deleted_at__isnull=False).values_list("uuid", flat=True)
    }
    assert flagged == gone_uuids(demo)
    models_gone = {demo.catalog.model_code(i) for i in range(small.model_count, demo.catalog.model_count)}
    assert (
        set(ProductModel.objects.filter(deleted_at__isnull=False).values_list("code", flat=True))
        == models_gone
    )
    assert products.logs.filter(message__contains="no longer in Akeneo").exists()
    # the key listing asked for the identifier attribute's values only, without the date criterion
    listings = [e.path for e in demo.stats.log if e.path.startswith("/api/rest/v1/products-uuid?")]
    assert any("attributes=sku" in path and "updated" not in path for path in listings), listings


def test_a_record_another_connection_still_provides_stays(demo, tmp_path):
    first, second = connection_for(demo), connection_for(demo)
    migrate(first, ["products"])
    migrate(second, ["products"])
    shrink(demo)
    migrate(first, ["products"])
    assert not Product.objects.filter(deleted_at__isnull=False).exists()  # the second still has them
    assert SourceGone.objects.filter(connection=first).count() == FULL - SMALL
    call_command(
        "export_catalog", "--out", str(tmp_path / "first"), "--connection", str(first.pk), stdout=StringIO()
    )
    assert len(export_lines(tmp_path / "first", "products")) == SMALL  # gone for this connection
    call_command("export_catalog", "--out", str(tmp_path / "all"), stdout=StringIO())
    assert len(export_lines(tmp_path / "all", "products")) == FULL

    run = migrate(second, ["products"])
    flagged = Product.objects.filter(deleted_at__isnull=False)
    assert flagged.count() == FULL - SMALL and {
        r for r in flagged.values_list("deleted_by_run_id", flat=True)
    } == {run.pk}


def test_mark_deleted_for_events_takes_children_and_only_this_connections_records(demo):
    connection, other = connection_for(demo), connection_for(demo)
    migrate(connection, ["attributes"])
    options = AttributeOption.objects.filter(attribute_code="color").count()
    assert options
    assert mark_deleted(other.pk, "attributes", ["color"]) == 0  # never imported by `other`
    assert mark_deleted(connection.pk, "attributes", ["color"]) == 1 + options
    assert Attribute.objects.get(code="color").deleted_at is not None
    assert Attribute.objects.get(code="color").deleted_by_run_id is None  # an event, no run
    assert RecordResult.objects.filter(
        source="event", outcome="deleted", entity="attributes", key="color"
    ).exists()
    # the next run finds color in Akeneo: restored
    migrate(connection, ["attributes"])
    assert not Attribute.objects.filter(deleted_at__isnull=False).exists()
    assert not AttributeOption.objects.filter(deleted_at__isnull=False).exists()


def test_variants_of_a_changed_product_model_are_read_again(demo):
    connection = connection_for(demo)
    migrate(connection, ["product-models", "products"])
    catalog = demo.catalog
    model = (
        ProductModel.objects.filter(parent_code__isnull=True, variants__isnull=False).order_by("code").first()
    )
    variants = set(Product.objects.filter(parent_code=model.code).values_list("uuid", flat=True))
    variants |= set(
        Product.objects.filter(
            parent_code__in=ProductModel.objects.filter(parent_code=model.code).values("code")
        ).values_list("uuid", flat=True)
    )
    assert variants
    original_model, original_product = catalog.product_model, catalog.product

    def changed_model(index):
        record = original_model(index)
        if record["code"] == model.code:
            record["categories"] = [*record["categories"], "changed_here"]
        return record

    def changed_product(index, *, by_uuid=True):
        record = original_product(index, by_uuid=by_uuid)
        if catalog.product_uuid(index) in {str(u) for u in variants}:
            record["categories"] = [*record["categories"], "changed_here"]  # inherited in Akeneo
        return record

    catalog.product_model = changed_model
    catalog.product = changed_product
    run = migrate(connection, ["product-models"])  # products are not in this run: the variants are re-read
    step = run.steps.get()
    assert step.updated == 1
    refreshed = Product.objects.filter(uuid__in=variants)
    assert all("changed_here" in row.data["categories"] for row in refreshed)
    assert step.logs.filter(message__startswith=f"Re-read {len(variants)} variant products").exists()
    assert RecordResult.objects.filter(run=run, entity="products-uuid", outcome="updated").count() == len(
        variants
    )

    # and directly: nothing changed since, nothing updated
    with make_client(connection) as client:
        counts = refresh_variants(client, connection, None, [model.code])  # an event: no run
    assert counts["read"] == len(variants) and counts["updated"] == 0


def test_the_catalog_admin_filters_and_shows_deleted_records(demo, client, superuser):
    connection = connection_for(demo)
    migrate(connection, ["products"])
    shrink(demo)
    run = migrate(connection, ["products"])
    client.force_login(superuser)
    url = reverse("admin:catalog_product_changelist")
    everything = client.get(url)
    assert everything.status_code == 200 and "deleted in Akeneo" in everything.text
    assert everything.context["cl"].result_count == FULL  # all shown by default
    deleted = client.get(url, {"deleted": "yes"})
    assert {str(p.uuid) for p in deleted.context["cl"].result_list} == gone_uuids(demo)
    present = client.get(url, {"deleted": "no"})
    assert present.context["cl"].result_count == SMALL
    row = Product.objects.filter(deleted_at__isnull=False).first()
    page = client.get(reverse("admin:catalog_product_change", args=[row.pk]))
    assert page.status_code == 200 and f"by migration run #{run.pk}" in page.text
    options = client.get(reverse("admin:catalog_attributeoption_changelist"), {"deleted": "yes"})
    assert options.status_code == 200


def test_after_deletions_reconciliation_matches_and_verify_finds_the_copy_identical(demo):
    """Records flagged gone are what the copy should say: reconciliation counts them out, verify does not call
    them extra."""
    connection = connection_for(demo)
    migrate(connection, ["products"])
    shrink(demo)
    run = migrate(connection, ["products"])
    (row,) = run.reconciliation
    assert (row["source"], row["local"], row["difference"]) == (SMALL, SMALL, 0), row
    out = StringIO()
    call_command(
        "akeneo_verify", str(connection.pk), "--entities", "products", stdout=out
    )  # CommandError if not
    assert "identical to Akeneo" in out.getvalue()


def test_a_deletion_check_run_again_after_its_keys_were_cleared_flags_nothing(demo):
    """A step resumed after its deletion check (the process died before the step was marked completed) runs the
    check again with no key recorded as read: it must not take that as "everything is gone"."""
    from migrations_runs.deletions import after_step

    connection = connection_for(demo)
    run = migrate(connection, ["products"])
    step = run.steps.get()
    client = make_client(connection)
    try:
        assert after_step(step, client) == 0
    finally:
        client.close()
    assert not Product.objects.filter(deleted_at__isnull=False).exists()
    assert not SourceGone.objects.exists()
