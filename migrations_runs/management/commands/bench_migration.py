"""Benchmark a whole migration from the demo Akeneo (in a subprocess): wall time, products/s, peak memory,
and the products step against the time a bare `requests` loop takes just to download the same pages.

It writes into the configured database (point DATABASE_URL / VAR_DIR elsewhere to keep your catalog clean);
the benchmark's connection and runs are deleted at the end, the imported catalog stays.
"""

from __future__ import annotations

import resource
import time

from django.core.management.base import BaseCommand, CommandParser

from connections.models import Connection
from demo_akeneo.benchmark import bare_follow, demo_server
from migrations_runs.entities import ENTITY_BY_CODE, ENTITY_CODES
from migrations_runs.models import MigrationStep
from migrations_runs.services import execute_run, make_client, start_run


class Command(BaseCommand):
    help = "Measure a full migration from the demo Akeneo server (products/s, peak memory, vs bare download)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--products", type=int, default=10000)
        parser.add_argument("--entities", default="all", help="'all' or comma-separated entity codes")
        parser.add_argument("--latency-ms", type=int, default=0, help="demo server latency per response")

    def handle(self, *args, **options) -> None:
        entities = ENTITY_CODES if options["entities"] == "all" else options["entities"].split(",")
        with demo_server(options["products"], options["latency_ms"]) as credentials:
            connection = Connection(
                name=f"bench-{time.time_ns()}", base_url=credentials.base_url, username=credentials.username
            )
            connection.set_credentials(
                client_id=credentials.client_id, secret=credentials.secret, password=credentials.password
            )
            connection.save()
            try:
                run = start_run(connection, entities, enqueue=False)
                started = time.perf_counter()
                run = execute_run(run, progress=self._progress)
                wall = time.perf_counter() - started
                peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                with make_client(connection) as client:
                    first_products_page = client.list_url("products-uuid")
                bare = bare_follow(credentials, first_products_page)
                self._report(run, wall, peak, bare)
            finally:
                connection.delete()

    def _progress(self, step: MigrationStep) -> None:
        line = f"\r{ENTITY_BY_CODE[step.entity].label:<28} {step.read:>8} read  {step.media:>6} media"
        self.stderr.write(line, ending="\n" if step.status == "completed" else "")
        self.stderr.flush()

    def _report(self, run, wall: float, peak_mb: float, bare: dict) -> None:
        self.stdout.write(
            f"run #{run.pk}: {run.get_status_display()} in {wall:.1f}s wall, peak RSS {peak_mb:.0f} MB"
        )
        for step in run.steps.order_by("position"):
            seconds = (
                (step.finished_at - step.started_at).total_seconds()
                if step.finished_at and step.started_at
                else 0
            )
            rate = step.read / seconds if seconds else 0
            self.stdout.write(
                f"  {ENTITY_BY_CODE[step.entity].label:<28} {step.read:>8} records {seconds:>7.1f}s {rate:>9,.0f}/s "
                f"media {step.media:>6} failed {step.failed}"
            )
        products = run.steps.filter(entity="products").first()
        if products and products.finished_at:
            seconds = (products.finished_at - products.started_at).total_seconds()
            self.stdout.write(
                f"products step: {products.read} products in {seconds:.1f}s ({products.read / seconds:,.0f}/s, "
                f"{products.media} media); bare download of the same pages: {bare['seconds']:.1f}s "
                f"({bare['products'] / bare['seconds']:,.0f}/s) — ratio {seconds / bare['seconds']:.2f}"
            )
        mismatches = [row for row in run.reconciliation if not row["match"]]
        self.stdout.write(
            f"reconciliation: {len(run.reconciliation) - len(mismatches)} entities match, {len(mismatches)} mismatch"
        )
