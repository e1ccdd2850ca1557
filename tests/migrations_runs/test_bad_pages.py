"""Pages a broken or hostile Akeneo serves: entries that are not records, a page far bigger than asked."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from catalog.models import Product
from connections.akeneo.client import AkeneoClient
from migrations_runs.media import media_references
from migrations_runs.models import MigrationLog, MigrationRun, MigrationStep, Status
from migrations_runs.services import execute_run, start_run
from tests.factories import connection_for
from tests.hostile_akeneo import HostileAkeneo, start_hostile
from tests.support.demo import demo_fixture

pytestmark = pytest.mark.django_db(transaction=True)


demo = demo_fixture(products=12)


def migrate(connection, entities: str) -> tuple[MigrationRun, str]:
    out, err = StringIO(), StringIO()
    call_command(
        "akeneo_migrate", str(connection.pk), "--entities", entities, "--sync", stdout=out, stderr=err
    )
    return MigrationRun.objects.get(connection=connection), err.getvalue()


def test_null_and_scalar_items_are_skipped_and_logged_the_rest_is_imported(demo, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    hostile = start_hostile(demo, null_items=True)
    try:
        run, _ = migrate(connection_for(hostile), "locales,products")
    finally:
        hostile.stop()
    assert run.status == Status.COMPLETED, run.error
    products = run.steps.get(entity="products")
    assert (products.read, products.created, products.failed) == (12, 12, 0)
    assert products.media > 0  # the good records' media came after the bad entries
    assert Product.objects.count() == 12
    skipped = MigrationLog.objects.filter(
        step=products, level="warning", message__contains="were not records"
    )
    assert skipped.exists() and "3 items" in skipped.first().message


def test_media_references_skip_entries_that_are_not_records():
    record = {
        "uuid": "u-1",
        "values": {
            "image": [
                {"data": "a/b/c/d/x.jpg", "_links": {"download": {"href": "http://h/api/rest/v1/x"}}},
                {"data": "bad-links", "_links": "nope"},
                "not an entry",
            ]
        },
    }
    refs = media_references(AkeneoClient.__new__(AkeneoClient), "products-uuid", [None, "x", 5, record], None)
    assert [(ref.code, ref.record) for ref in refs] == [("a/b/c/d/x.jpg", "u-1")]


def test_a_page_far_bigger_than_asked_is_imported_in_slices(demo, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    settings.AKENEO_PAGE_SIZE = 50
    hostile = HostileAkeneo(demo, huge_page=600)
    committed: list[int] = []  # the records the database holds as read, at each progress call
    try:
        run = start_run(connection_for(hostile), ["products"], enqueue=False)
        run = execute_run(
            run, progress=lambda step: committed.append(MigrationStep.objects.get(pk=step.pk).read)
        )
    finally:
        hostile.stop()
    assert run.status == Status.COMPLETED, run.error
    step = run.steps.get()
    assert (step.read, step.created, step.failed) == (600, 600, 0)
    assert Product.objects.count() == 600
    # One commit per slice of AKENEO_PAGE_SIZE records: the records read after each commit go 50, 100, ... 600
    # (then the call of the completed step).
    assert committed == [*range(50, 601, 50), 600]
