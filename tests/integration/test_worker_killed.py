"""A worker process killed mid-step: the task is redelivered and the step resumes from its saved cursor."""

from __future__ import annotations

import os
import signal
import time

import pytest

from demo_akeneo.server import start_demo_server
from devtools.workers import child_pids
from migrations_runs.importers import IMPORTERS
from migrations_runs.models import MigrationStep, Status
from migrations_runs.services import start_run
from tests.factories import connection_for
from tests.support.services import wait_for_end

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker_env() -> dict[str, str]:
    # Small pages, a short lease and short Akeneo slots, so the kill lands mid-step and the takeover is quick (the
    # killed process's in-flight slots in the shared Redis limiter free themselves after AKENEO_SLOT_TTL).
    return {"AKENEO_PAGE_SIZE": "20", "MIGRATION_STEP_LEASE_SECONDS": "3", "AKENEO_SLOT_TTL": "3"}


def test_killed_pool_process_resumes_and_ends_with_exactly_the_source(celery_worker):
    demo = start_demo_server(products=200, latency_ms=100)
    try:
        connection = connection_for(demo)
        run = start_run(connection, ["products"])
        step = MigrationStep.objects.get(run=run)
        deadline = time.monotonic() + 60
        while not (step.status == Status.RUNNING and step.read >= 40):
            assert time.monotonic() < deadline, "the step never got going"
            time.sleep(0.05)
            step.refresh_from_db()
        [child] = child_pids(celery_worker.process.pid)  # --concurrency 1: the process running the step
        os.kill(child, signal.SIGKILL)

        run = wait_for_end(run, timeout=120)
        step.refresh_from_db()
        assert run.status == Status.COMPLETED, run.error
        assert "WorkerLostError" in celery_worker.output() or "SIGKILL" in celery_worker.output()
        # The uncommitted page died with the process and was read again; committed pages were not.
        assert (step.read, step.created, step.failed) == (200, 200, 0)
        assert IMPORTERS["products-uuid"].model.objects.count() == 200
    finally:
        demo.stop()
