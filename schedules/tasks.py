"""Celery adapter: the task Celery beat sends for a schedule. Its only argument is the schedule's id."""

from celery import shared_task

from schedules import services


@shared_task(name=services.TASK_NAME, ignore_result=True)
def run_scheduled(schedule_id: int) -> str:
    """Start the schedule's run, or skip it (another run active, connection disabled): see services."""
    return services.run_schedule(schedule_id)
