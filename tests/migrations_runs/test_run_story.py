"""The run log tells a run's life: who queued what with which filters, each entity's start and outcome (counts,
media, duration), the reconciliation, and how the run ended and why."""

from __future__ import annotations

import pytest

from migrations_runs.models import MigrationLog, Status
from migrations_runs.services import execute_run, request_cancel, start_run
from tests.support.demo import demo_fixture

pytestmark = pytest.mark.django_db(transaction=True)


demo = demo_fixture(products=30)


def messages(run) -> list[str]:
    return list(MigrationLog.objects.filter(step__run=run).order_by("pk").values_list("message", flat=True))


def test_a_completed_run_logs_its_whole_life(demo, connection, superuser):
    run = start_run(connection, ["products", "locales"], superuser, enqueue=False)
    run = execute_run(run)
    assert run.status == Status.COMPLETED, run.error
    log = messages(run)
    assert log[0] == "Run queued by root: Locales, Products. Import filters: none."
    assert "Locales: started" in log and "Products: started" in log
    finished = [line for line in log if line.startswith("Products: finished in ")]
    assert len(finished) == 1
    assert "30 read, 30 created, 0 updated, 0 unchanged, 0 skipped, 0 failed;" in finished[0]
    assert finished[0].endswith("media files downloaded")
    assert log[-2] == "Reconciliation: all 2 entities match the source"
    assert log[-1].startswith("Run completed in ") and "media files downloaded" in log[-1]
    # in order: queued, then each entity started before it finished, the end last
    assert log.index("Locales: started") < log.index("Products: started") < log.index(finished[0])


def test_a_cancelled_run_says_so_with_its_reason(demo, connection):
    run = start_run(connection, ["locales", "products"], enqueue=False)

    def cancel(step):
        if step.entity == "locales":  # the products step then stops before it starts
            request_cancel(run)

    run = execute_run(run, progress=cancel)
    assert run.status == Status.CANCELLED
    log = messages(run)
    assert log[0].startswith("Run queued by the command line or a schedule: Locales, Products.")
    assert "Cancelled by a user." in log
    assert log[-1].startswith("Run cancelled in ") and log[-1].endswith("Reason: Cancelled by a user.")
    level = MigrationLog.objects.filter(step__run=run).order_by("-pk").values_list("level", flat=True)[0]
    assert level == MigrationLog.Level.WARNING
