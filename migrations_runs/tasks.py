"""Celery adapters over migrations_runs.services. Arguments are ids only, never credentials."""

import logging

from celery import Task, chain, shared_task
from django.conf import settings

from migrations_runs import services
from migrations_runs.models import MigrationRun

logger = logging.getLogger(__name__)


class RecordingTask(Task):
    """A task whose failure, wherever it happens (a database error before or after the step body, a crash that
    breaks the chain), is recorded on its step and run: the run ends failed with the reason in its log, instead
    of staying active and blocking its connection."""

    abstract = True

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        reason = f"The worker task {self.name} failed: {type(exc).__name__}: {exc}"
        target = {"step_id": args[0]} if self.name == execute_step_task.name else {"run_id": args[0]}
        try:
            services.fail_from_task(**target, reason=reason)
        except Exception:  # the database may still be down: the run then goes stale, and is ended later
            logger.exception("Could not record the failure of task %s (%s)", task_id, target)


@shared_task(
    bind=True,
    base=RecordingTask,
    name="migrations_runs.execute_step",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,
)
def execute_step_task(self, step_id: int) -> str:
    """acks_late: a worker killed mid-step gets the task redelivered, and the step resumes from its cursor.

    A redelivery while the first worker is still alive (Redis visibility timeout) finds the step's lease held
    and waits, rather than running the same step twice.
    """
    try:
        return services.execute_step(step_id, on_celery=True).status
    except services.StepBusy as busy:
        # Look again within the lease: a dead worker's step is taken over soon after its heartbeat stops.
        raise self.retry(
            exc=busy, countdown=max(1, min(60, settings.MIGRATION_STEP_LEASE_SECONDS // 2))
        ) from None


@shared_task(name="migrations_runs.execute_partitions", acks_late=True, reject_on_worker_lost=True)
def execute_partitions_task(step_id: int) -> None:
    """Read partitions of a big step beside the worker running it (any worker may take this task). A helper's
    failure is recorded on its partition; the step's own task ends the step and the run."""
    services.execute_partitions(step_id)


def enqueue_partition_helpers(step_id: int, count: int) -> None:
    for _ in range(max(0, count)):
        execute_partitions_task.delay(step_id)


@shared_task(base=RecordingTask, name="migrations_runs.finish_run", acks_late=True)
def finish_run_task(run_id: int) -> str:
    return services.finish_run(run_id).status


def enqueue_run(run: MigrationRun) -> None:
    """One task per step, in dependency order, then the closing task: a Celery chain."""
    step_ids = list(run.steps.order_by("position").values_list("pk", flat=True))
    chain(*(execute_step_task.si(step_id) for step_id in step_ids), finish_run_task.si(run.pk)).apply_async()


@shared_task(name="migrations_runs.execute_report", acks_late=True)
def execute_report_task(report_id: int) -> str:
    """A verify or a preview (dry run) of a connection: see migrations_runs.verify. Reads only: re-running it
    after a lost worker is harmless (a report already running or over is left as it is)."""
    from migrations_runs.verify import execute_report

    return execute_report(report_id).status


def enqueue_report(report) -> None:
    execute_report_task.delay(report.pk)
