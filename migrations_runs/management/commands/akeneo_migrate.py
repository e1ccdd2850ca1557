"""`akeneo_migrate CONNECTION --entities all|code,code [--sync] [--dry-run] [--incremental] [filters…]`: the
admin's Start migration (and its Preview: `--dry-run`), for scripts. Filter flags (`--channel`, `--families`,
`--updated-since`… see --help) define this run's filters on top of the connection's saved ones, never saved."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.db import DatabaseError

from connections.akeneo.errors import AkeneoError
from connections.crypto import CredentialsUnreadable
from connections.models import Connection
from connections.terminal import TerminalCommand, for_terminal
from migrations_runs.entities import ENTITY_BY_CODE, ENTITY_CODES
from migrations_runs.filters import FilterError, check_filters, describe
from migrations_runs.models import Status
from migrations_runs.progress import TerminalProgress
from migrations_runs.services import MigrationNotStarted, StepBusy, execute_run, start_run


class Command(TerminalCommand):
    help = "Start a migration from an Akeneo connection (enqueued on Celery, or in this process with --sync)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("connection", help="connection id or name")
        parser.add_argument(
            "--entities", default="all", help=f"'all' or a comma-separated list of: {', '.join(ENTITY_CODES)}"
        )
        parser.add_argument("--sync", action="store_true", help="run here, with a progress line per entity")
        parser.add_argument(
            "--incremental",
            action="store_true",
            help="products and product models updated since the start of the connection's last completed run "
            "(minus MIGRATION_INCREMENTAL_OVERLAP_SECONDS); structure in full; no completed run: a full read",
        )
        filters = parser.add_argument_group(
            "import filters",
            "Akeneo's own query for products and product models. They start from the connection's saved filters "
            "(Import Filters tab); a flag given here replaces that filter for this run only (nothing is saved).",
        )
        filters.add_argument(
            "--no-saved-filters", action="store_true", help="ignore the connection's saved filters"
        )
        filters.add_argument("--channel", help="channel code: only its values (and products in its tree)")
        filters.add_argument("--locales", help="comma-separated locale codes: only their values")
        filters.add_argument("--attributes", help="comma-separated attribute codes: only their values")
        filters.add_argument("--families", help="comma-separated family codes")
        filters.add_argument("--status", choices=["enabled", "disabled"])
        filters.add_argument(
            "--completeness", type=int, metavar="N", help="at least N %% complete on --channel"
        )
        updated = filters.add_mutually_exclusive_group()
        updated.add_argument("--updated-since", metavar="DATE", help="YYYY-MM-DD[ hh:mm:ss], UTC")
        updated.add_argument("--updated-days", type=int, metavar="N", help="updated in the last N days")
        updated.add_argument("--updated-between", metavar="D1,D2", help="two dates, UTC")
        filters.add_argument("--categories", help="comma-separated category codes (their children included)")
        filters.add_argument("--identifiers", help="comma-separated product identifiers (read 100 a request)")
        media = filters.add_mutually_exclusive_group()
        media.add_argument(
            "--with-media", action="store_true", help="only products with an image or file value"
        )
        media.add_argument("--without-media", action="store_true", help="only products without any")
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
        filters = self._filters(connection, options)
        try:
            run = start_run(
                connection,
                entities,
                filters=filters,
                incremental=options["incremental"],
                enqueue=not options["sync"],
            )
        except MigrationNotStarted as exc:
            raise CommandError(str(exc)) from None
        for label, text in describe(run.filters):
            self.stdout.write(f"{label}: {text}")
        if not options["sync"]:
            self.stdout.write(f"Migration run #{run.pk} queued: {', '.join(run.entities)}")
            return
        self.stdout.write(f"Migration run #{run.pk}: {', '.join(run.entities)}")
        progress = TerminalProgress(self.stderr)
        try:
            run = execute_run(run, progress=progress)
        except StepBusy as busy:
            raise CommandError(str(busy)) from None
        except DatabaseError as error:  # even the failure could not be recorded: the run goes stale
            raise CommandError(
                f"Migration run #{run.pk} stopped on a database error ({type(error).__name__}: {error}). "
                f"It is ended by the next start or a Cancel once its lease "
                f"({settings.MIGRATION_STEP_LEASE_SECONDS} s) has run out."
            ) from None
        finally:
            progress.close()
        for step in run.steps.order_by("position"):
            self.stdout.write(
                f"{ENTITY_BY_CODE[step.entity].label:<28} {step.get_status_display():<10} read {step.read} "
                f"created {step.created} updated {step.updated} unchanged {step.unchanged} "
                f"skipped {step.skipped} failed {step.failed}"
            )
        if run.status != Status.COMPLETED:
            raise CommandError(
                f"Migration run #{run.pk} {run.get_status_display().lower()}: {for_terminal(run.error)}"
            )
        self.stdout.write(f"Migration run #{run.pk} completed.")

    def _connection(self, key: str) -> Connection:
        return find_connection(key)

    def _filters(self, connection: Connection, options: dict) -> dict:
        """The run's filters: the saved ones (unless --no-saved-filters), each flag given replacing its filter;
        checked against the source when a flag was given (the saved ones were checked when saved)."""
        filters = {} if options["no_saved_filters"] else dict(connection.import_filters or {})
        given: dict = {}
        for name in ("channel", "locales", "attributes", "families", "status", "completeness", "categories"):
            if options.get(name) is not None:
                given[name] = options[name]
        if options.get("identifiers") is not None:
            given["identifiers"] = options["identifiers"]
        if options.get("updated_since") is not None:
            given["updated"] = {"since": options["updated_since"]}
        elif options.get("updated_days") is not None:
            given["updated"] = {"days": options["updated_days"]}
        elif options.get("updated_between") is not None:
            given["updated"] = {"between": options["updated_between"]}
        if options.get("with_media") or options.get("without_media"):
            given["media"] = "with" if options["with_media"] else "without"
        if not given:
            return filters
        filters.update(given)
        try:
            return check_filters(connection, filters)
        except FilterError as error:
            raise CommandError(f"Import filters: {error}") from None

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
        self.stdout.write(f"Dry run of {for_terminal(connection)}: {', '.join(codes)} (nothing is written)")
        try:
            with make_client(connection) as client:
                rows = preview(client, codes)
        except (AkeneoError, CredentialsUnreadable) as error:
            raise CommandError(f"Dry run failed: {error}") from None
        self.stdout.write(f"{'resource':<36}" + "".join(f"{name:>11}" for name in COUNTS))
        for row in rows:
            self.stdout.write(f"{row['resource']:<36}" + "".join(f"{row[name]:>11}" for name in COUNTS))
        self.stdout.write("Dry run: nothing was written to the catalog.")


def find_connection(key: str) -> Connection:
    """A connection by id or name; CommandError when there is none."""
    found = Connection.objects.filter(pk=int(key)) if key.isdigit() else Connection.objects.none()
    found = found or Connection.objects.filter(name=key)
    if not found:
        raise CommandError(
            f"No connection with id or name {for_terminal(key)!r} (see: manage.py akeneo_connection list)"
        )
    return found[0]
