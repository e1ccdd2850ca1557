"""Per-record results: a run writes one row per record it created, updated, failed on or skipped (never for an
unchanged one), browsable per run in the admin, filterable by outcome and entity, searchable by key and
identifier; the run page shows the counts with links. Real HTTP to the demo Akeneo, `akeneo_migrate --sync`."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import Attribute, Product
from catalog.records import checksum_of
from migrations_runs.models import MigrationRun, RecordResult, Status
from migrations_runs.records import RECORD_RESULTS_BATCH, outcome_counts, record_results
from tests.factories import connection_for
from tests.hostile_akeneo import HostileAkeneo
from tests.support.demo import demo_fixture

pytestmark = pytest.mark.django_db(transaction=True)

PRODUCTS = 120
ENTITIES = "attributes,products"
BAD_UUID = "ffffffff-0000-4000-8000-000000000001"


demo = demo_fixture(products=PRODUCTS)


class OneBadProduct(HostileAkeneo):
    """The demo behind a proxy that adds to the first products page one product whose categories are not a
    list of codes: a record Akeneo could never send, which the importer refuses alone."""

    bad_sent = False

    def _tamper_page(self, document: dict, raw_path: str, query: str, loop: int) -> dict:
        document = super()._tamper_page(document, raw_path, query, loop)
        items = document["_embedded"]["items"]
        if (
            raw_path.endswith("/products-uuid")
            and "with_count=true" not in query
            and items
            and not self.bad_sent
        ):
            self.bad_sent = True
            items.append({**items[0], "uuid": BAD_UUID, "categories": "shoes"})
        return document


def migrate(connection, entities: str = ENTITIES) -> MigrationRun:
    call_command(
        "akeneo_migrate",
        str(connection.pk),
        "--entities",
        entities,
        "--sync",
        stdout=StringIO(),
        stderr=StringIO(),
    )
    run = MigrationRun.objects.latest("pk")
    assert run.status == Status.COMPLETED, run.error
    return run


def results(run: MigrationRun, **filters) -> dict[str, str]:
    return dict(run.record_results.filter(**filters).values_list("key", "outcome"))


def records_url(**params) -> str:
    query = "&".join(f"{name}={value}" for name, value in params.items())
    return reverse("admin:migrations_runs_recordresult_changelist") + (f"?{query}" if query else "")


def test_created_then_only_the_changed_record_is_updated_and_unchanged_ones_are_not_written(demo, admin):
    connection = connection_for(demo)
    first = migrate(connection)
    created = results(first, entity="products-uuid")
    assert len(created) == PRODUCTS and set(created.values()) == {"created"}
    assert set(results(first).values()) == {"created"}
    steps = {step.entity: step for step in first.steps.all()}
    assert first.record_results.count() == sum(step.created for step in steps.values())
    product = Product.objects.exclude(identifier=None).order_by("pk").first()
    row = first.record_results.get(key=str(product.uuid))
    assert (row.entity, row.label, row.step_id, row.connection_id) == (
        "products-uuid", product.identifier, steps["products"].pk, connection.pk,
    )  # fmt: skip

    # the local copy drifts from Akeneo: the next run puts it back, and says so for that record only
    altered = {**product.data, "enabled": not product.data.get("enabled", True)}
    Product.objects.filter(pk=product.pk).update(data=altered, checksum=checksum_of(altered))
    with CaptureQueriesContext(db_connection) as queries:
        second = migrate(connection)
    touching = [q["sql"] for q in queries.captured_queries if '"migrations_runs_recordresult"' in q["sql"]]
    assert len(touching) == 1 and touching[0].startswith("INSERT")  # unchanged pages write nothing
    assert results(second) == {str(product.uuid): "updated"}
    assert outcome_counts(second.pk) == {
        "created": 0, "updated": 1, "deleted": 0, "failed": 0, "skipped": 0, "total": 1,
    }  # fmt: skip
    assert second.steps.get(entity="products").unchanged == PRODUCTS - 1

    # the run page: counts from one aggregate query, links to the list narrowed to the run
    html = admin.get(reverse("admin:migrations_runs_migrationrun_change", args=[first.pk])).content.decode()
    total = first.record_results.count()
    assert f"{total} created</a>" in html and "0 updated," in html
    assert f'href="{records_url(run__id__exact=first.pk)}" data-browse-records>browse all {total}</a>' in html
    html = admin.get(reverse("admin:migrations_runs_migrationrun_change", args=[second.pk])).content.decode()
    assert f'{records_url(run__id__exact=second.pk)}&amp;outcome=updated">1 updated</a>' in html

    # the list: per run, by outcome, by entity, searched by identifier or key
    page = admin.get(records_url(run__id__exact=second.pk))
    assert page.status_code == 200 and f"Records of migration run #{second.pk}" in page.content.decode()
    assert [r.key for r in page.context["cl"].result_list] == [str(product.uuid)]
    page = admin.get(records_url(run__id__exact=first.pk, outcome="created", entity="products-uuid"))
    assert page.context["cl"].result_count == PRODUCTS
    page = admin.get(records_url(run__id__exact=first.pk, entity="attributes"))
    assert {r.entity for r in page.context["cl"].result_list} == {"attributes"}
    assert page.context["cl"].result_count == Attribute.objects.count()
    page = admin.get(records_url(run__id__exact=first.pk, q=product.identifier))
    assert [r.key for r in page.context["cl"].result_list] == [str(product.uuid)]
    page = admin.get(records_url(q=str(product.uuid)))  # every run
    assert sorted(r.outcome for r in page.context["cl"].result_list) == ["created", "updated"]
    page = admin.get(records_url(run__id__exact=first.pk, outcome="updated"))
    assert page.context["cl"].result_count == 0
    detail = admin.get(reverse("admin:migrations_runs_recordresult_change", args=[row.pk]))
    assert detail.status_code == 200 and product.identifier in detail.content.decode()
    assert admin.get(reverse("admin:migrations_runs_recordresult_add")).status_code == 403


def test_a_failed_record_is_listed_with_its_message(demo, admin):
    proxy = OneBadProduct(demo)
    try:
        run = migrate(connection_for(proxy, name="through a proxy"))
    finally:
        proxy.stop()
    failed = run.record_results.get(outcome="failed")
    assert (failed.key, failed.entity) == (BAD_UUID, "products-uuid")
    assert "list of codes" in failed.message
    assert run.steps.get(entity="products").failed == 1
    page = admin.get(records_url(run__id__exact=run.pk, outcome="failed"))
    html = page.content.decode()
    assert page.context["cl"].result_count == 1 and BAD_UUID in html and "list of codes" in html
    html = admin.get(reverse("admin:migrations_runs_migrationrun_change", args=[run.pk])).content.decode()
    assert f'{records_url(run__id__exact=run.pk)}&amp;outcome=failed">1 failed</a>' in html


def test_one_insert_per_page_and_the_writer_for_deletions_and_events(demo):
    connection = connection_for(demo)
    run = migrate(connection, entities="attributes")
    step = run.steps.get()
    keys = [f"gone-{n}" for n in range(1200)]
    with CaptureQueriesContext(db_connection) as queries:
        written = record_results(
            run.pk, step.pk, "attributes", "deleted", keys, "no longer in Akeneo", connection_id=connection.pk
        )
    fields = [f for f in RecordResult._meta.concrete_fields if not f.primary_key]
    batch = min(RECORD_RESULTS_BATCH, db_connection.ops.bulk_batch_size(fields, keys) or RECORD_RESULTS_BATCH)
    assert written == 1200
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    statements = [word for word in statements if word not in ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")]
    assert statements == ["INSERT"] * -(-1200 // batch)  # no SELECT, no per-row query
    assert outcome_counts(run.pk)["deleted"] == 1200
    record_results(
        None, None, "products-uuid", "updated", ["u-1"], source="event", labels={"u-1": "SKU-1"},
        connection_id=connection.pk,
    )  # fmt: skip
    event = RecordResult.objects.get(source="event")
    assert (event.run_id, event.connection_id, event.label, event.outcome) == (
        None, connection.pk, "SKU-1", "updated",
    )  # fmt: skip
    record_results(run.pk, None, "attributes", "failed", ["x"], "boom")  # the connection read from the run
    assert run.record_results.get(outcome="failed").connection_id == connection.pk
    with pytest.raises(ValueError, match="unknown outcomes"):
        record_results(run.pk, step.pk, "attributes", "vanished", ["x"])


def test_results_go_with_their_run_for_whoever_may_delete_runs(demo, client, django_user_model):
    run = migrate(connection_for(demo), entities="attributes")
    assert run.record_results.exists()
    staff = django_user_model.objects.create_user(
        username="history", password="pw-for-tests-123", is_staff=True
    )
    staff.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="migrations_runs",
            codename__in=["view_migrationrun", "delete_migrationrun"],
        )
    )
    client.force_login(staff)
    assert client.get(records_url(run__id__exact=run.pk)).status_code == 200  # seeing runs is seeing results
    response = client.post(
        reverse("admin:migrations_runs_migrationrun_delete", args=[run.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not MigrationRun.objects.filter(pk=run.pk).exists() and not RecordResult.objects.exists()
