"""`akeneo_migrate CONNECTION --entities all|code,code [--sync]`: the admin's Start migration, for scripts."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from connections.models import Connection
from migrations_runs.entities import ENTITY_BY_CODE, ENTITY_CODES
from migrations_runs.models import MigrationStep, Status
from migrations_runs.services import MigrationNotStarted, StepBusy, execute_run, start_run


class Command(BaseCommand):
    help = "Start a migration from an Akeneo connection (enqueued on Celery, or in this process with --sync)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("connection", help="connection id or name")
        parser.add_argument(
            "--entities", default="all", help=f"'all' or a comma-separated list of: {', '.join(ENTITY_CODES)}"
        )
        parser.add_argument("--sync", action="store_true", help="run here, with a progress line per entity")

    def handle(self, *args, **options) -> None:
        connection = self._connection(options["connection"])
        raw = options["entities"].strip()
        entities = ENTITY_CODES if raw == "all" else [code.strip() for code in raw.split(",") if code.strip()]
        try:
            run = start_run(connection, entities, enqueue=not options["sync"])
        except MigrationNotStarted as exc:
            raise CommandError(str(exc)) from None
        if not options["sync"]:
            self.stdout.write(f"Migration run #{run.pk} queued: {', '.join(run.entities)}")
            return
        self.stdout.write(f"Migration run #{run.pk}: {', '.join(run.entities)}")
        self._started: dict[int, float] = {}
        try:
            run = execute_run(run, progress=self._progress)
        except StepBusy as busy:
            raise CommandError(str(busy)) from None
        except DatabaseError as error:  # even the failure could not be recorded: the run goes stale
            raise CommandError(
                f"Migration run #{run.pk} stopped on a database error ({type(error).__name__}: {error}). "
                f"It is ended by the next start or a Cancel once its lease "
                f"({settings.MIGRATION_STEP_LEASE_SECONDS} s) has run out."
            ) from None
        for step in run.steps.order_by("position"):
            self.stdout.write(
                f"{ENTITY_BY_CODE[step.entity].label:<28} {step.get_status_display():<10} read {step.read} "
                f"created {step.created} updated {step.updated} unchanged {step.unchanged} "
                f"skipped {step.skipped} failed {step.failed}"
            )
        if run.status != Status.COMPLETED:
            raise CommandError(f"Migration run #{run.pk} {run.get_status_display().lower()}: {run.error}")
        self.stdout.write(f"Migration run #{run.pk} completed.")

    def _connection(self, key: str) -> Connection:
        found = Connection.objects.filter(pk=int(key)) if key.isdigit() else Connection.objects.none()
        found = found or Connection.objects.filter(name=key)
        if not found:
            raise CommandError(
                f"No connection with id or name {key!r} (see: manage.py akeneo_connection list)"
            )
        return found[0]

    def _progress(self, step: MigrationStep) -> None:
        """One line per entity, rewritten in place: records read, rate, and the outcome counters."""
        started = self._started.setdefault(step.pk, time.monotonic())
        rate = step.read / max(time.monotonic() - started, 1e-6)
        done = step.status == Status.COMPLETED
        bar = "#" * 20 if done else ("#" * (int(time.monotonic() - started) % 20)).ljust(20, "-")
        line = (
            f"\r{ENTITY_BY_CODE[step.entity].label:<28} [{bar}] {step.read:>8} read {rate:>8,.0f}/s "
            f"(+{step.created} ~{step.updated} ={step.unchanged} !{step.failed})"
        )
        self.stderr.write(line, ending="\n" if done else "")
        self.stderr.flush()
