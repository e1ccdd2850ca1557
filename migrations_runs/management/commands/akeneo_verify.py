"""`akeneo_verify CONNECTION [--entities all|code,code…]`: prove the local catalog equals the source.

Prints one line per resource (source, local, identical, missing, extra, differing), then every listed difference
with the record's key and the differing fields. Exit status 0 only when everything is identical.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from migrations_runs.management.commands.akeneo_migrate import find_connection
from migrations_runs.models import Status
from migrations_runs.verify import VERIFY_CODES, execute_report, report_text, start_report


class Command(BaseCommand):
    help = "Compare the local catalog with what an Akeneo connection serves, record by record and media by checksum."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("connection", help="connection id or name")
        parser.add_argument(
            "--entities",
            default="all",
            help=f"'all' or a comma-separated list of: {', '.join(VERIFY_CODES)} (media: stored files by checksum)",
        )

    def handle(self, *args, **options) -> None:
        connection = find_connection(options["connection"])
        raw = options["entities"].strip()
        codes = VERIFY_CODES if raw == "all" else [code.strip() for code in raw.split(",") if code.strip()]
        try:
            report = start_report(connection, codes)
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Verify #{report.pk} of {connection}: {', '.join(report.entities)}")
        report = execute_report(report.pk)
        self.stdout.write(report_text(report), ending="")
        if report.status != Status.COMPLETED:
            raise CommandError(f"Verify #{report.pk} failed: {report.error}")
        if not report.identical:
            raise CommandError(
                f"Verify #{report.pk}: {report.differences_total} differences: the local catalog differs from Akeneo."
            )
        self.stdout.write(f"Verify #{report.pk}: the local catalog is identical to Akeneo.")
