"""Incremental runs against the demo Akeneo: products and product models updated after the start of the
connection's last completed run minus the overlap, in Akeneo's product date format and UTC, whatever Django's
TIME_ZONE. The demo's `updated` dates are deterministic: many products are capped at CATALOG_NOW
(2025-01-01 00:00:00 UTC), the rest spread over 2020-2024."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.models import Product
from demo_akeneo.catalog import CATALOG_NOW
from demo_akeneo.server import start_demo_server
from migrations_runs.models import Mapping, MigrationLog, MigrationRun, Status
from migrations_runs.services import execute_run, start_run
from tests.factories import connection_for
from tests.support.demo import demo_fixture

pytestmark = pytest.mark.django_db(transaction=True)

OVERLAP = 300
NOW = datetime.fromtimestamp(CATALOG_NOW, UTC)  # 2025-01-01 00:00:00 UTC


demo = demo_fixture(products=240)


@pytest.fixture(autouse=True)
def overlap(settings):
    settings.MIGRATION_INCREMENTAL_OVERLAP_SECONDS = OVERLAP


def completed_run(connection, started_at: datetime, entities=("products", "product-models"), filters=None):
    run = MigrationRun.objects.create(
        connection=connection, entities=list(entities), filters=filters or {}, status=Status.COMPLETED
    )
    MigrationRun.objects.filter(pk=run.pk).update(started_at=started_at, finished_at=started_at)
    return run


def read_uuids(connection) -> set[str]:
    ids = Mapping.objects.filter(connection=connection, resource="products-uuid").values("object_id")
    return {str(uuid) for uuid in Product.objects.filter(pk__in=ids).values_list("uuid", flat=True)}


def updated_after(demo, moment: int) -> set[str]:
    catalog = demo.catalog
    return {
        catalog.product_header(i).uuid
        for i in range(catalog.product_count)
        if catalog.product_header(i).updated > moment
    }


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata"])
def test_a_product_updated_one_second_after_the_watermark_is_read(demo, settings, zone):
    settings.TIME_ZONE = zone
    connection = connection_for(demo)
    # started 1 s after the newest products' `updated` + the overlap: the watermark is 1 s before them
    base = completed_run(connection, (NOW + timedelta(seconds=OVERLAP - 1)).astimezone(ZoneInfo(zone)))
    run = execute_run(start_run(connection, ["products"], incremental=True, enqueue=False))
    assert run.status == Status.COMPLETED, run.error
    assert run.filters["incremental"]["since"] == "2024-12-31 23:59:59"
    assert run.filters["incremental"]["base_run"] == base.pk
    assert run.filters["queries"]["products-uuid"] == [
        {"search": {"updated": [{"operator": ">", "value": "2024-12-31 23:59:59"}]}}
    ]
    newest = updated_after(demo, CATALOG_NOW - 1)
    assert newest and read_uuids(connection) == newest
    well_before = [
        demo.catalog.product_header(i).uuid
        for i in range(demo.catalog.product_count)
        if demo.catalog.product_header(i).updated < CATALOG_NOW - 30 * 86400
    ]
    assert well_before and not set(well_before) & read_uuids(connection)
    log = MigrationLog.objects.get(step__run=run, message__startswith="Incremental")
    assert "updated after 2024-12-31 23:59:59 UTC" in log.message


def test_a_product_updated_at_the_watermark_itself_is_not_read(demo, settings):
    """`>` is strict: updated exactly at the watermark second is not newer (the overlap covers that second)."""
    settings.TIME_ZONE = "Europe/Paris"
    connection = connection_for(demo)
    completed_run(connection, NOW + timedelta(seconds=OVERLAP))
    run = execute_run(start_run(connection, ["products"], incremental=True, enqueue=False))
    assert run.filters["incremental"]["since"] == "2025-01-01 00:00:00"
    assert updated_after(demo, CATALOG_NOW) == set()
    assert read_uuids(connection) == set()
    assert run.steps.get().read == 0


def test_without_a_completed_run_it_reads_everything_and_says_so(demo):
    connection = connection_for(demo)
    completed_run(connection, NOW, entities=("families",))  # did not read products: not a base
    failed = completed_run(connection, NOW, entities=("products",))
    MigrationRun.objects.filter(pk=failed.pk).update(status=Status.FAILED)
    run = execute_run(start_run(connection, ["products"], incremental=True, enqueue=False))
    assert run.filters["incremental"]["since"] is None
    assert len(read_uuids(connection)) == demo.catalog.product_count
    message = MigrationLog.objects.get(step__run=run, message__startswith="Incremental").message
    assert message.endswith(": a full read")
    assert "no completed run" in message


def test_the_base_run_must_have_covered_the_same_scope(demo):
    connection = connection_for(demo, import_filters={"families": ["shoes"]})
    other = completed_run(connection, NOW, filters={"families": ["food"]})
    assert other  # read other families: changes to shoes before its start were never read
    run = start_run(connection, ["products"], incremental=True, enqueue=False)
    assert run.filters["incremental"]["since"] is None
    MigrationRun.objects.filter(pk=run.pk).update(status=Status.CANCELLED)
    unfiltered = completed_run(connection, NOW + timedelta(days=1))
    run = start_run(connection, ["products"], incremental=True, enqueue=False)
    assert run.filters["incremental"]["base_run"] == unfiltered.pk
    assert run.filters["families"] == ["shoes"]


def value_pages(demo, kind: str) -> int:
    """List requests of `kind` that carry values: not the deletion check's key listings (`attributes=` the
    identifier only), nor the 1-item count call."""
    return sum(
        1
        for entry in demo.stats.log
        if entry.kind == kind and "attributes=" not in entry.path and "with_count=true" not in entry.path
    )


def test_incremental_of_an_unchanged_catalog_reads_far_fewer_pages(settings):
    settings.AKENEO_PAGE_SIZE = 50
    demo = start_demo_server(products=500)
    try:
        connection = connection_for(demo)
        # attributes too: the deletion check then lists keys with `attributes=` the identifier only
        full = execute_run(start_run(connection, ["attributes", "product-models", "products"], enqueue=False))
        assert full.status == Status.COMPLETED
        full_pages = {kind: value_pages(demo, kind) for kind in ("products-uuid:list", "product-models:list")}
        demo.stats.reset()
        out = StringIO()
        call_command(
            "akeneo_migrate", connection.name, "--entities", "product-models,products", "--incremental",
            "--sync", stdout=out, stderr=StringIO(),
        )  # fmt: skip
        incremental = MigrationRun.objects.order_by("-pk").first()
        pages = {kind: value_pages(demo, kind) for kind in ("products-uuid:list", "product-models:list")}
        assert incremental.status == Status.COMPLETED
        assert incremental.filters["incremental"]["base_run"] == full.pk
        assert "Incremental: products and product models updated after" in out.getvalue()
        assert sum(step.read for step in incremental.steps.all()) == 0
        # the full run: 10 pages of 50 products (+ the empty last one); the incremental: 1 empty page (each)
        assert full_pages["products-uuid:list"] >= 10
        assert pages["products-uuid:list"] == 1
        assert pages["product-models:list"] == 1 < full_pages["product-models:list"]
    finally:
        demo.stop()


def test_schedules_ask_with_the_incremental_key_on_top_of_the_saved_filters(demo):
    connection = connection_for(demo, import_filters={"status": "enabled"})
    completed_run(connection, NOW + timedelta(days=1))
    run = start_run(connection, ["products"], filters={"incremental": True}, enqueue=False)
    assert run.filters["status"] == "enabled"
    assert run.filters["incremental"]["since"] == "2025-01-01 23:55:00"


def test_cli_filter_flags_define_the_run_and_are_not_saved(demo):
    connection = connection_for(demo, import_filters={"families": ["food"]})
    out = StringIO()
    call_command(
        "akeneo_migrate", str(connection.pk), "--entities", "products", "--status", "disabled",
        "--updated-between", "2021-01-01,2023-12-31", "--sync", stdout=out, stderr=StringIO(),
    )  # fmt: skip
    run = MigrationRun.objects.get(connection=connection)
    assert run.status == Status.COMPLETED
    assert run.filters["families"] == ["food"]  # saved filters stay, flags add to them
    assert run.filters["status"] == "disabled"
    assert run.filters["updated"] == {"between": ["2021-01-01 00:00:00", "2023-12-31 23:59:59"]}
    assert "Status: disabled" in out.getvalue()
    connection.refresh_from_db()
    assert connection.import_filters == {"families": ["food"]}
    catalog = demo.catalog
    expected = set()
    for i in range(catalog.product_count):
        header = catalog.product_header(i)
        low = datetime(2021, 1, 1, tzinfo=UTC).timestamp()
        high = datetime(2023, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()
        if header.family == "food" and not header.enabled and low <= header.updated <= high:
            expected.add(header.uuid)
    assert read_uuids(connection) == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--channel", "web"], "Channel 'web' does not exist in Akeneo"),
        (["--completeness", "80"], "Completeness is computed per channel: choose a channel too."),
        (["--updated-days", "0"], "the number of days must be positive"),
        (["--updated-since", "last week"], "'last week' is not a date"),
        (["--families", "boats,food"], "Families that do not exist in Akeneo: boats."),
    ],
)
def test_cli_refuses_bad_filters_with_a_clear_message(demo, args, message):
    connection = connection_for(demo)
    with pytest.raises(CommandError, match="Import filters: ") as caught:
        call_command("akeneo_migrate", connection.name, "--entities", "products", *args, stdout=StringIO())
    assert message in str(caught.value)
    assert not MigrationRun.objects.exists()
