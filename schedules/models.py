"""A connection's schedule: which run (full or incremental, which entities) Celery beat starts, and when.

Each Schedule owns one django-celery-beat PeriodicTask (task `schedules.run_scheduled`, args `[schedule id]`,
never credentials): saving a schedule creates or updates it, deleting one deletes it (see schedules.services),
so beat's table is always derived from ours and never edited by hand.
"""

from __future__ import annotations

from celery.schedules import crontab as celery_crontab
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models, transaction
from django_celery_beat.models import PeriodicTask
from django_celery_beat.validators import crontab_validator

from connections.models import Connection
from migrations_runs.entities import ENTITY_CODES
from migrations_runs.models import MigrationRun

CRONTAB_HELP = (
    "Five fields: minute hour day-of-month month day-of-week, e.g. “0 2 * * *” for every night at 02:00 "
    "or “*/30 8-18 * * 1-5” for every 30 minutes in office hours."
)


def crontab_problem(expression: str) -> str | None:
    """Why a crontab expression cannot be scheduled (a sentence for the user), or None when it can.

    Checked by django-celery-beat's validator (ranges, names) and by building celery's crontab, which also
    refuses days that never occur ("31 2": the 31st of February) rather than letting beat never fire.
    """
    fields = expression.split()
    if len(fields) != 5:
        return (
            f"it has {len(fields)} field(s), five are needed (minute hour day-of-month month day-of-week), "
            "e.g. “0 2 * * *”."
        )
    try:
        crontab_validator(expression)
        minute, hour, day_of_month, month_of_year, day_of_week = fields
        celery_crontab(
            minute=minute,
            hour=hour,
            day_of_month=day_of_month,
            month_of_year=month_of_year,
            day_of_week=day_of_week,
        )
    except ValidationError as exc:
        return "; ".join(_readable(message) for message in exc.messages) + "."
    except ValueError as exc:
        return f"{str(exc).rstrip('.')}."
    return None


def _readable(message: str) -> str:
    """django-celery-beat's validator messages, without their stray quotes and jargon."""
    message = message.strip('"')
    if message.startswith("No enumeration for "):
        field, _, value = message.removeprefix("No enumeration for ").partition(": ")
        return f"{field}: {value} is not a number, a range, a step or a name"
    return message


class Schedule(models.Model):
    class Mode(models.TextChoices):
        FULL = "full", "Full"
        INCREMENTAL = "incremental", "Incremental"

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="schedules")
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.INCREMENTAL)
    entities = models.JSONField(
        default=list,
        blank=True,
        help_text="Entity codes. Empty: the connection's saved choice (Run a Migration) when the run starts, "
        "or all entities if it has none.",
    )
    interval_minutes = models.PositiveIntegerField(
        "every (minutes)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Start a run every N minutes. Give this or a crontab.",
    )
    crontab = models.CharField(max_length=200, blank=True, help_text=CRONTAB_HELP)
    enabled = models.BooleanField(default=True)
    periodic_task = models.OneToOneField(
        PeriodicTask,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="akeneo_schedule",
        help_text="The Celery beat entry that fires this schedule (kept in sync on save).",
    )
    last_run_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_outcome = models.TextField(blank=True, editable=False)
    last_run = models.ForeignKey(
        MigrationRun, null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["connection", "pk"]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} {self.cadence} ({self.connection})"

    def save(self, *args, **kwargs) -> None:
        """Save and bring the owned beat entry in line, in one transaction (beat never sees half of it).

        clean() runs here too: a schedule saved from code must not reach beat without a valid cadence."""
        from schedules.services import sync_periodic_task

        self.clean()
        with transaction.atomic():
            super().save(*args, **kwargs)
            sync_periodic_task(self)

    @property
    def cadence(self) -> str:
        """When it fires, in words: "every 15 minutes", "cron 0 2 * * * (UTC)"."""
        if self.interval_minutes:
            return "every minute" if self.interval_minutes == 1 else f"every {self.interval_minutes} minutes"
        if self.crontab:
            from django.conf import settings

            return f"cron {self.crontab_expression} ({settings.TIME_ZONE})"
        return "never"

    @property
    def crontab_expression(self) -> str:
        return " ".join(self.crontab.split())

    def clean(self) -> None:
        """Exactly one cadence, a crontab celery can parse, known entity codes."""
        errors: dict[str, str] = {}
        crontab = self.crontab_expression
        if self.interval_minutes and crontab:
            errors["crontab"] = "Give an interval in minutes or a crontab, not both."
        elif not self.interval_minutes and not crontab:
            errors["interval_minutes"] = (
                "Give an interval in minutes or a crontab (e.g. “0 2 * * *” for every night at 02:00)."
            )
        elif crontab:
            problem = crontab_problem(crontab)
            if problem:
                errors["crontab"] = f"“{crontab}” is not a valid crontab: {problem}"
        unknown = [code for code in self.entities or [] if code not in ENTITY_CODES]
        if unknown:
            errors["entities"] = f"Unknown entities: {', '.join(map(str, unknown))}."
        if errors:
            raise ValidationError(errors)
        self.crontab = crontab
