"""`akeneo_migrate --dry-run`: the demo's counts, nothing written (no run, no catalog row, no mapping, no media)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from catalog.models import CATALOG_MODELS
from migrations_runs.models import Mapping, MigrationRun
from tests.factories import connection_for
from tests.support.demo import demo_fixture

pytestmark = pytest.mark.django_db(transaction=True)


demo = demo_fixture(products=40)


def dry_run(connection, entities: str = "all") -> dict[str, list[int]]:
    out = StringIO()
    call_command("akeneo_migrate", str(connection.pk), "--entities", entities, "--dry-run", stdout=out)
    text = out.getvalue()
    assert "Dry run: nothing was written to the catalog." in text
    rows = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 7 and parts[1].isdigit():
            rows[parts[0]] = [int(value) for value in parts[1:]]
    return rows


def test_dry_run_reports_the_demo_counts_and_writes_nothing(demo):
    connection = connection_for(demo)
    rows = dry_run(connection)
    # source, create, update, unchanged, skipped, failed
    assert rows["products-uuid"] == [40, 40, 0, 0, 0, 0]
    assert rows["locales"][0] == rows["locales"][1] > 0
    assert rows["attribute-options"][0] > 0  # sub-resources are read under parents taken from the source
    assert rows["reference-entity-records"][0] > 0
    assert all(model.objects.count() == 0 for model in CATALOG_MODELS)
    assert MigrationRun.objects.count() == 0 and Mapping.objects.count() == 0


def test_after_a_migration_the_dry_run_says_unchanged_and_sees_a_local_change(demo):
    from catalog.models import Locale

    connection = connection_for(demo)
    call_command(
        "akeneo_migrate",
        str(connection.pk),
        "--entities",
        "locales,currencies",
        "--sync",
        stdout=StringIO(),
        stderr=StringIO(),
    )
    locale = Locale.objects.order_by("code").first()
    Locale.objects.filter(pk=locale.pk).update(checksum="changed")
    rows = dry_run(connection, "locales,currencies")
    total = rows["locales"][0]
    assert rows["locales"] == [total, 0, 1, total - 1, 0, 0]
    assert rows["currencies"][0] == rows["currencies"][3]
    assert MigrationRun.objects.count() == 1
