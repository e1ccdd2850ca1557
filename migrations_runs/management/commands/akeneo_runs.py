"""`akeneo_runs list|show|log|cancel|delete`: the migration history of the admin's run pages, for scripts.

Deleting runs deletes history (steps, log, per-record results), never the imported catalog.
"""

from __future__ import annotations

from django.core.management.base import CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from connections.management.commands.akeneo_connection import connection_or_error
from connections.terminal import TerminalCommand, for_terminal
from migrations_runs.entities import ENTITY_CODES
from migrations_runs.filters import describe
from migrations_runs.models import ACTIVE_STATUSES, MigrationLog, MigrationRun, Status
from migrations_runs.progress import log_lines, step_progress
from migrations_runs.services import request_cancel, stale_reason

STATUSES = [value for value, _label in Status.choices]
LEVELS = [value for value, _label in MigrationLog.Level.choices]


def moment(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def table(rows: list[tuple]) -> list[str]:
    """Left-aligned columns, every cell made safe for the terminal."""
    cells = [[for_terminal(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    ]


def run_id(text: str) -> int:
    """A run as a user names it: `12` or `#12`."""
    digits = text.strip().removeprefix("#")
    if not digits.isdigit():
        raise CommandError(
            f"{for_terminal(text)!r} is not a run id (a number, see: manage.py akeneo_runs list)"
        )
    return int(digits)


def run_or_error(text: str) -> MigrationRun:
    run = MigrationRun.objects.select_related("connection", "user").filter(pk=run_id(text)).first()
    if run is None:
        raise CommandError(f"No migration run #{run_id(text)} (see: manage.py akeneo_runs list)")
    return run


class Command(TerminalCommand):
    help = "List, show, read the log of, cancel or delete migration runs."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        listing = actions.add_parser("list", help="Migration runs, newest first.")
        listing.add_argument("--connection", metavar="ID|NAME", help="only this connection's runs")
        listing.add_argument("--status", help=f"only runs in this status: {', '.join(STATUSES)}")
        listing.add_argument("--limit", type=int, default=50, help="at most this many (0: all; default 50)")
        show = actions.add_parser("show", help="A run: status, entities, filters, steps, reconciliation.")
        show.add_argument("run", metavar="RUN", help="the run id")
        log = actions.add_parser("log", help="A run's log, oldest first (tab-separated).")
        log.add_argument("run", metavar="RUN", help="the run id")
        log.add_argument("--level", help=f"only lines of this level: {', '.join(LEVELS)}")
        log.add_argument("--entity", help="only lines of this entity's step, e.g. products")
        cancel = actions.add_parser("cancel", help="Stop a queued or running run.")
        cancel.add_argument("run", metavar="RUN", help="the run id")
        delete = actions.add_parser(
            "delete", help="Delete runs (their history); the imported catalog is kept."
        )
        delete.add_argument("runs", metavar="RUN", nargs="+", help="run ids")
        delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        delete.add_argument(
            "--no-input", "--noinput", dest="interactive", action="store_false", help="do not ask (as --yes)"
        )

    def handle(self, *args, **options) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _list(self, options: dict) -> None:
        runs = MigrationRun.objects.select_related("connection").order_by("-created_at", "-pk")
        if options["connection"]:
            runs = runs.filter(connection=connection_or_error(options["connection"]))
        if options["status"]:
            status = options["status"].strip().lower()
            if status not in STATUSES:
                raise CommandError(
                    f"--status: unknown status {for_terminal(options['status'])!r} (one of: {', '.join(STATUSES)})"
                )
            runs = runs.filter(status=status)
        if options["limit"] < 0:
            raise CommandError("--limit: 0 (all) or more")
        if options["limit"]:
            runs = runs[: options["limit"]]
        rows = [("ID", "CONNECTION", "STATUS", "CREATED", "FINISHED", "ENTITIES")]
        rows += [
            (
                run.pk,
                run.connection.name,
                run.get_status_display(),
                moment(run.created_at),
                moment(run.finished_at),
                ",".join(run.entities),
            )
            for run in runs
        ]
        for line in table(rows):
            self.stdout.write(line)

    def _show(self, options: dict) -> None:
        run = run_or_error(options["run"])
        write = self.stdout.write
        write(f"Migration run #{run.pk}")
        write(f"Connection:  {for_terminal(run.connection.name)} (id {run.connection_id})")
        status = run.get_status_display()
        if run.is_active and run.cancel_requested:
            status += " (cancel requested)"
        write(f"Status:      {status}")
        if run.error:
            write(f"Error:       {for_terminal(run.error)}")
        write(f"Started by:  {for_terminal(run.user or 'command line or schedule')}")
        write(f"Created:     {moment(run.created_at)}")
        write(f"Started:     {moment(run.started_at)}")
        write(f"Finished:    {moment(run.finished_at)}")
        write(f"Entities:    {', '.join(run.entities)}")
        filters = describe(run.filters)
        write("Filters:     " + ("none (everything)" if not filters else ""))
        for label, text in filters:
            write(f"  {label}: {for_terminal(text)}")
        write("")
        now = timezone.now()
        rows = [
            (
                "ENTITY",
                "STATUS",
                "READ",
                "TOTAL",
                "%",
                "CREATED",
                "UPDATED",
                "UNCHANGED",
                "SKIPPED",
                "FAILED",
                "MEDIA",
            )
        ]
        for step in run.steps.order_by("position"):
            shown = step_progress(step, now)
            rows.append(
                (
                    step.entity,
                    shown["status_display"],
                    step.read,
                    "-" if step.total is None else step.total,
                    "-" if shown["percent"] is None else f"{shown['percent']:.0f}",
                    step.created,
                    step.updated,
                    step.unchanged,
                    step.skipped,
                    step.failed,
                    step.media,
                )
            )
        for line in table(rows):
            write(line)
        errors = [(step.entity, step.error) for step in run.steps.order_by("position") if step.error]
        for entity, error in errors:
            write(f"{entity}: {for_terminal(error)}")
        if run.reconciliation:
            write("")
            write("Reconciliation (Akeneo vs local catalog):")
            rows = [("ENTITY", "AKENEO", "LOCAL", "DIFFERENCE", "")]
            for row in run.reconciliation:
                counted = row.get("counted")
                source = f"{row.get('source')}" + (f" ({counted})" if counted and counted != "Akeneo" else "")
                difference = row.get("difference")
                rows.append(
                    (
                        row.get("entity", ""),
                        source,
                        row.get("local"),
                        "0" if row.get("match") else ("≠" if difference is None else f"{difference:+d}"),
                        "ok" if row.get("match") else "MISMATCH",
                    )
                )
            for line in table(rows):
                write(line)
        counts = run.record_counts()
        if counts["total"]:
            write("")
            write(
                "Records: "
                + ", ".join(f"{name} {count}" for name, count in counts.items() if name != "total" and count)
            )

    def _log(self, options: dict) -> None:
        run = run_or_error(options["run"])
        level = (options["level"] or "").strip().lower() or None
        if level is not None and level not in LEVELS:
            raise CommandError(
                f"--level: unknown level {for_terminal(options['level'])!r} (one of: {', '.join(LEVELS)})"
            )
        entity = (options["entity"] or "").strip() or None
        if entity is not None and entity not in ENTITY_CODES:
            raise CommandError(
                f"--entity: unknown entity {for_terminal(entity)!r} (one of: {', '.join(ENTITY_CODES)})"
            )
        if entity is not None and entity not in run.entities:
            raise CommandError(
                f"--entity: run #{run.pk} did not migrate {entity} (it migrated: {', '.join(run.entities)})"
            )
        for line in log_lines(run, level=level, entity=entity):
            self.stdout.write(
                "\t".join(
                    for_terminal(cell)
                    for cell in (
                        line.created_at.isoformat(),
                        line.level.upper(),
                        line.step.entity,
                        line.code,
                        line.message,
                    )
                )
            )

    def _cancel(self, options: dict) -> None:
        run = run_or_error(options["run"])
        if not run.is_active:
            raise CommandError(
                f"Migration run #{run.pk} is already {run.get_status_display().lower()}: nothing to cancel"
            )
        if request_cancel(run) == Status.CANCELLED:
            run.refresh_from_db()
            self.stdout.write(f"Migration run #{run.pk} was cancelled: {for_terminal(run.error)}")
        else:
            run.refresh_from_db()
            if run.is_active:
                self.stdout.write(f"Migration run #{run.pk} will stop after the page being imported.")
            else:  # it ended on its own meanwhile
                self.stdout.write(
                    f"Migration run #{run.pk} ended meanwhile: {run.get_status_display().lower()}."
                )

    def _delete(self, options: dict) -> None:
        ids = sorted({run_id(text) for text in options["runs"]})
        runs = list(MigrationRun.objects.filter(pk__in=ids).select_related("connection").order_by("pk"))
        missing = sorted(set(ids) - {run.pk for run in runs})
        if missing:
            raise CommandError(
                f"No migration run {', '.join(f'#{pk}' for pk in missing)}: nothing was deleted"
            )
        busy = [run for run in runs if run.status in ACTIVE_STATUSES and stale_reason(run) is None]
        if busy:
            raise CommandError(
                f"Migration run {', '.join(f'#{run.pk}' for run in busy)} is still "
                f"{busy[0].get_status_display().lower()}: cancel it first (akeneo_runs cancel); nothing was deleted"
            )
        names = ", ".join(f"#{run.pk}" for run in runs)
        question = f"Delete migration run {names} (its steps, log and record results)? The catalog is kept."
        if not options["yes"] and options["interactive"] and not self.confirm(question):
            raise CommandError("Not deleted (answer 'yes', or pass --yes).")
        with transaction.atomic():
            MigrationRun.objects.filter(pk__in=[run.pk for run in runs]).delete()
        self.stdout.write(f"Deleted migration run {names}; the imported catalog is kept.")
