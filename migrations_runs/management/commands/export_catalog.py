"""`export_catalog --out DIR [--connection ID|NAME] [--include-deleted]`: the local catalog as JSON lines in Akeneo's
standard format (records gone from Akeneo are left out unless --include-deleted)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connections.services import find_connection
from migrations_runs.export import export_catalog


class Command(BaseCommand):
    help = "Write the local catalog as one JSON-lines file per Akeneo resource (plus media bytes) into --out."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--out", required=True, type=Path, help="directory to write into (created if missing)"
        )
        parser.add_argument("--connection", help="only what this connection (id or name) imported")
        parser.add_argument(
            "--include-deleted",
            action="store_true",
            help="also the records gone from Akeneo (flagged deleted, kept until purge_deleted)",
        )

    def handle(self, *args, **options) -> None:
        out: Path = options["out"]
        connection_id = None
        if options["connection"]:
            connection = find_connection(options["connection"])
            if connection is None:
                raise CommandError(f"No connection with id or name {options['connection']!r}")
            connection_id = connection.pk
        counts = export_catalog(
            out,
            connection_id=connection_id,
            include_deleted=options["include_deleted"],
            on_file=lambda name, count: self.stdout.write(f"{name:<28} {count:>9}"),
        )
        self.stdout.write(f"Exported {sum(counts.values())} records and media files to {out}")
