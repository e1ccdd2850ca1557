"""`export_catalog --out DIR`: the local catalog as JSON lines in Akeneo's standard format."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser

from migrations_runs.export import export_catalog


class Command(BaseCommand):
    help = "Write the local catalog as one JSON-lines file per Akeneo resource (plus media bytes) into --out."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--out", required=True, type=Path, help="directory to write into (created if missing)"
        )

    def handle(self, *args, **options) -> None:
        out: Path = options["out"]
        counts = export_catalog(out, on_file=lambda name, count: self.stdout.write(f"{name:<28} {count:>9}"))
        self.stdout.write(f"Exported {sum(counts.values())} records and media files to {out}")
