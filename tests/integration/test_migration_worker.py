"""A whole migration from the demo Akeneo, run as a Celery chain by a real worker process on real Redis."""

from __future__ import annotations

import pytest

from demo_akeneo.server import start_demo_server
from migrations_runs.entities import ENTITY_CODES
from migrations_runs.importers import IMPORTERS
from migrations_runs.models import Status
from migrations_runs.services import start_run
from tests.factories import connection_for
from tests.support.services import wait_for_end
from tests.support.source import export_differences, source_records

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_start_migration_runs_every_step_on_the_worker(celery_worker):
    demo = start_demo_server(products=80)
    try:
        connection = connection_for(demo)
        run = wait_for_end(
            start_run(connection, ["products", "locales", "families", "attributes", "categories"])
        )
        assert run.status == Status.COMPLETED, run.error
        assert [s.entity for s in run.steps.order_by("position")] == [
            "locales", "categories", "attributes", "families", "products",
        ]  # fmt: skip
        assert all(step.status == Status.COMPLETED and step.failed == 0 for step in run.steps.all())
        assert IMPORTERS["products-uuid"].model.objects.count() == 80
        assert run.steps.get(entity="products").read == 80
    finally:
        demo.stop()


def test_full_migration_on_the_worker_exports_exactly_the_source(celery_worker, tmp_path):
    """Every entity, every attribute type, 2-level variants, associations, media: then export == source."""
    from io import StringIO

    from django.core.management import call_command

    demo = start_demo_server(products=120)
    try:
        connection = connection_for(demo)
        served = source_records(demo)
        run = wait_for_end(start_run(connection, ENTITY_CODES), timeout=240)
        assert run.status == Status.COMPLETED, run.error
        assert all(row["match"] for row in run.reconciliation), run.reconciliation
        out = tmp_path / "export"
        call_command(
            "export_catalog", "--out", str(out), "--connection", str(connection.pk), stdout=StringIO()
        )
        differences = export_differences(out, served)
        assert not differences, "\n".join(differences[:30])
    finally:
        demo.stop()
