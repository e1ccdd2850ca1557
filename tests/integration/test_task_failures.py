"""A worker task that fails outside its step's body (here: in the step's own failure handling) still ends its
run, with the reason in the run log: the chain's later tasks never run, and the run must not stay `running`."""

from __future__ import annotations

import pytest

from demo_akeneo.server import start_demo_server
from migrations_runs.models import MigrationLog, MigrationStep, Status
from migrations_runs.services import start_run
from migrations_runs.tasks import enqueue_run
from tests.factories import connection_for
from tests.support.services import wait_for_end

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_task_failing_outside_the_step_ends_its_run_failed(celery_worker):
    demo = start_demo_server(products=5)
    try:
        connection = connection_for(demo)
        run = start_run(connection, ["locales", "currencies"], enqueue=False)
        # A step no code knows: the step fails, and so does the code that records its failure (it names the
        # entity), so the exception leaves the task and breaks the chain.
        MigrationStep.objects.filter(run=run, entity="locales").update(entity="widgets")
        enqueue_run(run)
        run = wait_for_end(run, timeout=30)
    finally:
        demo.stop()
    steps = dict(run.steps.values_list("entity", "status"))
    assert run.status == Status.FAILED
    assert steps == {"widgets": Status.FAILED, "currencies": Status.CANCELLED}
    assert "The worker task migrations_runs.execute_step failed: KeyError" in run.error
    assert MigrationLog.objects.filter(step__run=run, level="error", message=run.error).exists()
