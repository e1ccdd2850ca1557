"""Celery adapters over migrations_runs.services. Arguments are ids only, never credentials."""

from celery import chain, shared_task

from migrations_runs import services
from migrations_runs.models import MigrationRun


@shared_task(name="migrations_runs.execute_step", acks_late=True, reject_on_worker_lost=True)
def execute_step_task(step_id: int) -> str:
    """acks_late: a worker killed mid-step gets the task redelivered, and the step resumes from its cursor."""
    return services.execute_step(step_id).status


@shared_task(name="migrations_runs.finish_run", acks_late=True)
def finish_run_task(run_id: int) -> str:
    return services.finish_run(run_id).status


def enqueue_run(run: MigrationRun) -> None:
    """One task per step, in dependency order, then the closing task: a Celery chain."""
    step_ids = list(run.steps.order_by("position").values_list("pk", flat=True))
    chain(*(execute_step_task.si(step_id) for step_id in step_ids), finish_run_task.si(run.pk)).apply_async()
