"""Schedules: keeping Celery beat's table in line with ours, and starting a scheduled run.

Beat (django-celery-beat's DatabaseScheduler) reads PeriodicTask rows; each Schedule owns exactly one, derived
from it on every save and deleted with it. The task beat sends carries the schedule's id only: what to run is read
from the database when it fires, so editing a schedule takes effect at its next firing and no credential ever
travels through the broker.

A scheduled run goes through the same `start_run` as the admin and the CLI, so the same guards hold: never a
second active run on a connection, never a run on a disabled connection. A refused start is not an error for a
schedule: it is skipped, logged, and recorded on the schedule (last_run_at, last_outcome).
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from migrations_runs.entities import ENTITY_CODES, in_dependency_order
from migrations_runs.models import MigrationRun
from migrations_runs.services import MigrationNotStarted, retry_on_lock, start_run
from schedules.models import Schedule

logger = logging.getLogger(__name__)

TASK_NAME = "schedules.run_scheduled"
# A firing not picked up by a worker within this long is dropped (the worker was down): when it comes back it
# must not work through a backlog of stale firings, the next one is due soon anyway.
MAX_EXPIRY_SECONDS = 3600


def periodic_task_name(schedule: Schedule) -> str:
    """Unique in beat's table (the schedule id comes first); the rest is for people reading beat's admin/log."""
    return f"Akeneo schedule #{schedule.pk}: {schedule.get_mode_display().lower()} of {schedule.connection}"[
        :200
    ]


def sync_periodic_task(schedule: Schedule) -> PeriodicTask:
    """Create or update the schedule's beat entry from the schedule (call inside the saving transaction).

    PeriodicTask.save() tells beat that its table changed; a queryset update() would not, so saves only.
    """
    interval = crontab = None
    if schedule.interval_minutes:
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=schedule.interval_minutes, period=IntervalSchedule.MINUTES
        )
        expires = min(schedule.interval_minutes * 60, MAX_EXPIRY_SECONDS)
    else:
        minute, hour, day_of_month, month_of_year, day_of_week = schedule.crontab_expression.split()
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute,
            hour=hour,
            day_of_month=day_of_month,
            month_of_year=month_of_year,
            day_of_week=day_of_week,
            timezone=settings.TIME_ZONE,
        )
        expires = MAX_EXPIRY_SECONDS
    task = schedule.periodic_task or PeriodicTask(task=TASK_NAME)
    task.name = periodic_task_name(schedule)
    task.task = TASK_NAME
    task.args = json.dumps([schedule.pk])
    task.kwargs = "{}"
    task.interval = interval
    task.crontab = crontab
    task.enabled = schedule.enabled
    task.expire_seconds = expires
    task.description = (
        f"Starts a {schedule.mode} run of connection #{schedule.connection_id} ({schedule.cadence})."
    )
    task.save()
    if schedule.periodic_task_id != task.pk:
        Schedule.objects.filter(pk=schedule.pk).update(periodic_task=task)  # not save(): no recursion
        schedule.periodic_task = task
    return task


def delete_periodic_task(schedule: Schedule) -> None:
    """The schedule is gone: so is its beat entry (delete() on the instance, so beat notices the change)."""
    if schedule.periodic_task_id is None:
        return
    task = PeriodicTask.objects.filter(pk=schedule.periodic_task_id).first()
    if task is not None:
        task.delete()


def entities_for(schedule: Schedule) -> list[str]:
    """The schedule's entities; empty means the connection's saved choice, and with none saved, everything."""
    chosen = [code for code in schedule.entities or [] if code in ENTITY_CODES]
    if not chosen:
        chosen = [code for code in schedule.connection.migration_entities or [] if code in ENTITY_CODES]
    return in_dependency_order(chosen or list(ENTITY_CODES))


def _record(schedule_id: int, outcome: str, run: MigrationRun | None = None) -> None:
    """Write the outcome with update(): a save() would rewrite the beat entry on every firing."""

    def write() -> None:
        fields = {"last_run_at": timezone.now(), "last_outcome": outcome}
        if run is not None:
            fields["last_run"] = run
        with transaction.atomic():
            Schedule.objects.filter(pk=schedule_id).update(**fields)

    retry_on_lock(write, f"Recording the outcome of schedule #{schedule_id}")


def run_schedule(schedule_id: int) -> str:
    """What beat's firing does: start the schedule's run, or skip (and say why). Returns the outcome text."""
    schedule = Schedule.objects.select_related("connection").filter(pk=schedule_id).first()
    if schedule is None:
        logger.warning("Schedule #%s no longer exists: nothing started.", schedule_id)
        return "missing"
    connection = schedule.connection
    if not schedule.enabled:
        outcome = "Skipped: the schedule is disabled."
    elif not connection.enabled:
        outcome = "Skipped: the connection is disabled."
    else:
        entities = entities_for(schedule)
        try:
            # filters=None: the connection's saved import filters apply, as for a run started by hand;
            # incremental: reads products and product models from the last completed run's watermark.
            run = start_run(
                connection,
                entities,
                user=None,
                filters=None,
                enqueue=True,
                incremental=schedule.mode == Schedule.Mode.INCREMENTAL,
            )
        except MigrationNotStarted as exc:
            outcome = f"Skipped: {exc}"
        else:
            outcome = f"Started run #{run.pk} ({schedule.mode}, {len(run.entities)} entities)."
            logger.info("Schedule #%s on connection %r: %s", schedule.pk, connection.name, outcome)
            _record(schedule.pk, outcome, run)
            return outcome
    logger.warning("Schedule #%s on connection %r: %s", schedule.pk, connection.name, outcome)
    _record(schedule.pk, outcome)
    return outcome
