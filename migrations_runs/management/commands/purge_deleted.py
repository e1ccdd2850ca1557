"""`purge_deleted [--older-than DAYS] [--dry-run]`: erase for good the catalog records flagged deleted."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from migrations_runs.deletions import purge


class Command(BaseCommand):
    help = (
        "Erase the catalog records flagged deleted (gone from Akeneo), with their mappings. Prints the count per "
        "catalog model."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=int,
            metavar="DAYS",
            help="only records flagged deleted more than DAYS days ago",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would be erased, erase nothing"
        )

    def handle(self, *args, **options) -> None:
        days = options["older_than"]
        if days is not None and days < 0:
            raise CommandError("--older-than takes a number of days, 0 or more")
        counts = purge(older_than_days=days, dry_run=options["dry_run"])
        for name, count in counts.items():
            if count:
                self.stdout.write(f"{name:<36} {count:>9}")
        total = sum(counts.values())
        verb = "Would erase" if options["dry_run"] else "Erased"
        self.stdout.write(f"{verb} {total} records flagged deleted")
