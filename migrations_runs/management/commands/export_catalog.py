"""`export_catalog --out DIR [--connection ID|NAME] [--include-deleted]`: the local catalog as JSON lines in Akeneo's
standard format (records gone from Akeneo are left out unless --include-deleted)."""

import os
from pathlib import Path

from django.core.management.base import CommandError, CommandParser

from connections.services import find_connection
from connections.terminal import TerminalCommand, for_terminal
from migrations_runs.export import export_catalog


def writable_directory(out: Path) -> None:
    """Refuse, in one line and before anything is read, an --out that cannot take the export: an existing
    file, a parent that is not a directory, a place this user may not write."""
    shown = for_terminal(out)
    if out.exists() and not out.is_dir():
        raise CommandError(f"--out {shown}: exists and is not a directory")
    existing = out
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise CommandError(f"--out {shown}: {for_terminal(existing)} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise CommandError(f"--out {shown}: no permission to write in {for_terminal(existing)}")


class Command(TerminalCommand):
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
        writable_directory(out)
        connection_id = None
        if options["connection"]:
            connection = find_connection(options["connection"])
            if connection is None:
                raise CommandError(f"No connection with id or name {for_terminal(options['connection'])!r}")
            connection_id = connection.pk
        try:
            counts = export_catalog(
                out,
                connection_id=connection_id,
                include_deleted=options["include_deleted"],
                on_file=lambda name, count: self.stdout.write(f"{name:<28} {count:>9}"),
            )
        except OSError as error:  # refused by the file system mid-way (read-only, full, /proc…): no traceback
            where = for_terminal(error.filename or out)
            raise CommandError(
                f"--out {for_terminal(out)}: cannot write {where}: {error.strerror or error}"
            ) from None
        self.stdout.write(f"Exported {sum(counts.values())} records and media files to {for_terminal(out)}")
