"""`akeneo_migrate CONNECTION --entities all|code,code [--sync] [--dry-run]`: the admin's Start migration (and
its Preview: `--dry-run`), for scripts."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from connections.akeneo.errors import AkeneoError
from connections.crypto import CredentialsUnreadable
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
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="read the source and print per resource how many records it holds and would be created / "
            "updated / left unchanged; write nothing (no run, no catalog row, no media)",
        )

    def handle(self, *args, **options) -> None:
        connection = self._connection(options["connection"])
        raw = options["entities"].strip()
        entities = ENTITY_CODES if raw == "all" else [code.strip() for code in raw.split(",") if code.strip()]
        if options["dry_run"]:
            self._dry_run(connection, entities)
            return
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
        return find_connection(key)

    def _dry_run(self, connection: Connection, entities) -> None:
        """Per resource: what the source holds and what a run would create / update / leave unchanged."""
        from migrations_runs.entities import in_dependency_order
        from migrations_runs.preview import COUNTS, preview
        from migrations_runs.services import make_client

        try:
            codes = in_dependency_order(list(entities))
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if not codes:
            raise CommandError("Choose at least one entity to migrate.")
        self.stdout.write(f"Dry run of {connection}: {', '.join(codes)} (nothing is written)")
        try:
            with make_client(connection) as client:
                rows = preview(client, codes)
        except (AkeneoError, CredentialsUnreadable) as error:
            raise CommandError(f"Dry run failed: {error}") from None
        self.stdout.write(f"{'resource':<36}" + "".join(f"{name:>11}" for name in COUNTS))
        for row in rows:
            self.stdout.write(f"{row['resource']:<36}" + "".join(f"{row[name]:>11}" for name in COUNTS))
        self.stdout.write("Dry run: nothing was written to the catalog.")

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


def find_connection(key: str) -> Connection:
    """A connection by id or name; CommandError when there is none."""
    found = Connection.objects.filter(pk=int(key)) if key.isdigit() else Connection.objects.none()
    found = found or Connection.objects.filter(name=key)
    if not found:
        raise CommandError(f"No connection with id or name {key!r} (see: manage.py akeneo_connection list)")
    return found[0]
