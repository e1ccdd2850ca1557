"""Benchmark a whole migration from the demo Akeneo (in a subprocess): wall time against the lower bound the
configured latencies allow, page and media calls, products/s, peak memory, and the products step against the
time a bare `requests` loop takes just to download the same pages.

The bound: Akeneo answers at most `--max-in-flight` calls at once (4 per API connection on SaaS), so a migration
that makes P page calls and M media calls against latencies Lp and Lm cannot finish before
`(P * Lp + M * Lm) / max_in_flight`. `wall/bound` says how much of that concurrency budget the run left idle.

Several sizes (`--products 10000,50000`) run one after the other, each in a fresh child process by default so
each peak RSS is that size's own (`--in-process` keeps them in this process: the peaks are then cumulative). By
default the migration runs in the measuring process (`execute_run`, the `--sync` path, no Celery workers); with
`--workers N` it runs on N real Celery worker processes (each `--concurrency 1`) on a private redis-server, started
with `start_run(enqueue=True)` as the admin does, and the peak RSS is the largest among the workers' processes.
The database is whatever DATABASE_URL says (SQLite or PostgreSQL: the "db" column).

It writes into the configured database (point DATABASE_URL / VAR_DIR elsewhere to keep your catalog clean);
the benchmark's connection and runs are deleted at the end, the imported catalog stays.
"""

from __future__ import annotations

import contextlib
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection as db_connection
from django.test.utils import override_settings

from connections.models import Connection
from devtools.benchmark import bare_follow, demo_server, demo_stats
from devtools.workers import BenchSetupError, WorkerPool, celery_workers
from migrations_runs.entities import ENTITY_BY_CODE, ENTITY_CODES
from migrations_runs.models import ACTIVE_STATUSES, MigrationRun, MigrationStep, Status
from migrations_runs.services import MigrationNotStarted, execute_run, make_client, request_cancel, start_run

ROW_MARKER = "BENCH-ROW "
POLL_SECONDS = 0.1  # how often the end of a run on workers is looked for: the wall time's resolution
COLUMNS = (
    ("products", "products"),
    ("db", "db"),
    ("workers", "workers"),
    ("entities", "entities"),
    ("page ms", "page_latency_ms"),
    ("media ms", "media_latency_ms"),
    ("page calls", "page_calls"),
    ("media calls", "media_calls"),
    ("max in flight", "max_in_flight"),
    ("429s", "throttled"),
    ("bound s", "bound_seconds"),
    ("wall s", "wall_seconds"),
    ("wall/bound", "ratio"),
    ("products/s", "products_per_second"),
    ("peak RSS MB", "peak_rss_mb"),
    ("status", "status"),
)


def _sizes(raw: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise CommandError(f"--products {raw!r}: expected numbers separated by commas") from None
    if not sizes or any(size < 0 for size in sizes):
        raise CommandError(f"--products {raw!r}: expected numbers >= 0 separated by commas")
    return sizes


def _cell(value: Any, key: str) -> str:
    if value is None:
        return "—"
    if key.endswith("_latency_ms"):
        return f"{value:g}"
    if isinstance(value, float):
        return f"{value:.2f}" if key == "ratio" else f"{value:,.1f}" if value < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}" if key != "products" else str(value)
    return str(value)


def markdown_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| " + " | ".join(title for title, _ in COLUMNS) + " |",
        "| " + " | ".join("---" for _ in COLUMNS) + " |",
    ]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(key), key) for _, key in COLUMNS) + " |")
    return lines


class Command(BaseCommand):
    help = (
        "Measure a full migration from the demo Akeneo server: page and media calls, the lower bound the "
        "latencies allow, wall time and ratio, products/s, peak memory (one Markdown row per catalog size)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--products", default="10000", help="catalog size, or several: 10000,50000 (one row each)"
        )
        parser.add_argument("--entities", default="all", help="'all' or comma-separated entity codes")
        parser.add_argument(
            "--latency-ms", type=float, default=0, help="demo latency per answer (default of the two below)"
        )
        parser.add_argument(
            "--page-latency-ms", type=float, default=None, help="demo latency of pages and item GETs"
        )
        parser.add_argument("--media-latency-ms", type=float, default=None, help="demo latency of media")
        parser.add_argument(
            "--max-in-flight",
            type=int,
            default=4,
            help="calls Akeneo answers at once, the bound's divisor (default 4: Akeneo SaaS per connection)",
        )
        parser.add_argument(
            "--faults", default="", help="demo fault SPEC, e.g. max_concurrent_per_token=4 (429 past 4)"
        )
        parser.add_argument(
            "--skip-bare", action="store_true", help="skip the bare download of the products pages"
        )
        parser.add_argument(
            "--in-process",
            action="store_true",
            help="run several sizes in this process (peak RSS is then cumulative) instead of one child each",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=0,
            help="run the migration on N Celery worker processes (each --concurrency 1) on a private "
            "redis-server; 0 (default): in this process (execute_run)",
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=3600,
            help="with --workers: seconds to wait for the run to end before cancelling it (default 3600)",
        )
        parser.add_argument("--row-json", action="store_true", help="(internal) print the row as JSON")

    def handle(self, *args, **options) -> None:
        sizes = _sizes(str(options["products"]))
        if options["max_in_flight"] < 1:
            raise CommandError("--max-in-flight must be >= 1")
        if options["workers"] < 0:
            raise CommandError("--workers must be >= 0")
        if options["timeout"] <= 0:
            raise CommandError("--timeout must be > 0")
        entities = ENTITY_CODES if options["entities"] == "all" else options["entities"].split(",")
        unknown = [code for code in entities if code not in ENTITY_BY_CODE]
        if unknown:
            raise CommandError(f"unknown entities: {', '.join(unknown)}")
        if options["row_json"]:
            row = self._measure(sizes[0], entities, options)
            self.stdout.write(ROW_MARKER + json.dumps(row))
            return
        isolate = len(sizes) > 1 and not options["in_process"]
        rows = [
            self._child(size, options) if isolate else self._measure(size, entities, options)
            for size in sizes
        ]
        self.stdout.write("")
        for line in markdown_table(rows):
            self.stdout.write(line)
        scope = (
            "each size in its own child process"
            if isolate
            else "one process for all sizes, so each peak includes the earlier sizes"
            if len(sizes) > 1
            else "this process"
        )
        bound = (
            f"\nbound = (page calls * page latency + media calls * media latency) / {options['max_in_flight']} "
            "(calls Akeneo answers at once); max in flight = most API calls the demo saw at once. "
        )
        if options["workers"]:
            self.stdout.write(
                bound + "workers = Celery worker processes (each --concurrency 1, prefork) on a private "
                "redis-server, the run enqueued with start_run as the admin does; wall = from start_run to the "
                "run's end seen in the database. Peak RSS: the largest VmHWM among the workers' main and pool "
                "processes (which one: in each size's report above); the measuring process only waits; the "
                "workers run with DEBUG=0, as in production; the demo server runs in its own process and is not "
                "counted. products/s: the products step."
            )
            return
        self.stdout.write(
            bound + f"Peak RSS: ru_maxrss of the migrating process ({scope}); no Celery workers (execute_run "
            "in-process); the demo server runs in its own process and is not counted; Django's query log is "
            "off (DEBUG=0, as in production). products/s: the products step."
        )

    # ------------------------------------------------------------------------------------------ one size
    def _measure(self, products: int, entities: list[str], options: dict[str, Any]) -> dict[str, Any]:
        latency = float(options["latency_ms"])
        page_ms = latency if options["page_latency_ms"] is None else float(options["page_latency_ms"])
        media_ms = latency if options["media_latency_ms"] is None else float(options["media_latency_ms"])
        with demo_server(
            products,
            latency,
            page_latency_ms=page_ms,
            media_latency_ms=media_ms,
            faults=str(options["faults"] or ""),
        ) as credentials:
            connection = Connection(
                name=f"bench-{time.time_ns()}", base_url=credentials.base_url, username=credentials.username
            )
            connection.set_credentials(
                client_id=credentials.client_id, secret=credentials.secret, password=credentials.password
            )
            connection.save()
            try:
                workers = int(options["workers"])
                with contextlib.ExitStack() as stack:
                    if workers:
                        try:
                            pool = stack.enter_context(celery_workers(workers))
                        except BenchSetupError as error:
                            raise CommandError(str(error)) from None
                        before = demo_stats(credentials.base_url)
                        started = time.perf_counter()
                        # DEBUG keeps every SQL statement in memory: the polling must not grow this process
                        with override_settings(DEBUG=False):
                            try:
                                run = start_run(connection, entities, enqueue=True)
                            except MigrationNotStarted as error:
                                raise CommandError(f"the run could not be queued: {error}") from None
                            run = self._wait(run, pool, float(options["timeout"]))
                        wall = time.perf_counter() - started
                        largest = pool.peak_rss()  # before the workers stop: /proc forgets them
                        peak, peak_of = (largest.megabytes, largest.which) if largest else (None, None)
                    else:
                        run = start_run(connection, entities, enqueue=False)
                        before = demo_stats(credentials.base_url)
                        started = time.perf_counter()
                        # DEBUG keeps every SQL statement in memory (up to 9,000): not the migration's own memory
                        with override_settings(DEBUG=False):
                            run = execute_run(run, progress=self._progress)
                        wall = time.perf_counter() - started
                        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                        peak_of = None
                after = demo_stats(credentials.base_url)
                bare = None
                if not options["skip_bare"] and "products" in entities:
                    with make_client(connection) as client:
                        first_products_page = client.list_url("products-uuid")
                    bare = bare_follow(credentials, first_products_page)
                self._report(run, wall, peak, bare, peak_of, workers=workers)
                page_calls = after["page_calls"] - before["page_calls"]
                media_calls = after["media_calls"] - before["media_calls"]
                throttled = after["by_status"].get("429", 0) - before["by_status"].get("429", 0)
                bound = (page_calls * page_ms + media_calls * media_ms) / 1000 / options["max_in_flight"]
                step = run.steps.filter(entity="products").first()
                rate = None
                if step and step.finished_at and step.started_at:
                    seconds = (step.finished_at - step.started_at).total_seconds()
                    rate = step.read / seconds if seconds else None
                return {
                    "products": products,
                    "db": db_connection.vendor,
                    "workers": workers,
                    "entities": "all" if options["entities"] == "all" else ",".join(entities),
                    "page_latency_ms": page_ms,
                    "media_latency_ms": media_ms,
                    "page_calls": page_calls,
                    "media_calls": media_calls,
                    "max_in_flight": after["max_in_flight"],
                    "max_in_flight_per_token": after["max_in_flight_per_token"],
                    "throttled": throttled,
                    "bound_seconds": bound,
                    "wall_seconds": wall,
                    "ratio": wall / bound if bound else None,
                    "products_per_second": rate,
                    "peak_rss_mb": peak,
                    "peak_rss_of": peak_of,
                    "status": run.status,
                }
            finally:
                connection.delete()

    def _child(self, products: int, options: dict[str, Any]) -> dict[str, Any]:
        """Measure one size in a fresh process, so its peak RSS is its own."""
        manage = Path(__file__).resolve().parents[3] / "manage.py"
        command = [sys.executable, str(manage), "bench_migration", "--row-json", "--products", str(products)]
        command += ["--entities", str(options["entities"]), "--latency-ms", str(options["latency_ms"])]
        command += ["--max-in-flight", str(options["max_in_flight"])]
        command += ["--workers", str(options["workers"]), "--timeout", str(options["timeout"])]
        for flag in ("page_latency_ms", "media_latency_ms"):
            if options[flag] is not None:
                command += [f"--{flag.replace('_', '-')}", str(options[flag])]
        if options["faults"]:
            command += ["--faults", str(options["faults"])]
        if options["skip_bare"]:
            command.append("--skip-bare")
        result = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)  # noqa: S603
        row = None
        for line in result.stdout.splitlines():
            if line.startswith(ROW_MARKER):
                row = json.loads(line[len(ROW_MARKER) :])
            else:
                self.stdout.write(line)
        if result.returncode or row is None:
            raise CommandError(f"the {products}-product benchmark failed (exit {result.returncode})")
        return row

    def _wait(self, run: MigrationRun, pool: WorkerPool, timeout: float) -> MigrationRun:
        """Until the workers end the run (it is read from the database, as the admin's run page does)."""
        deadline = time.monotonic() + timeout
        shown: dict[int, tuple] = {}
        last_progress = 0.0
        while True:
            run.refresh_from_db()
            if run.status not in ACTIVE_STATUSES:
                break
            if time.monotonic() - last_progress >= 1:
                last_progress = time.monotonic()
                for step in run.steps.exclude(status=Status.QUEUED).order_by("position"):
                    seen = (step.read, step.media, step.status)
                    if shown.get(step.pk) != seen and shown.get(step.pk, (0, 0, ""))[2] != "completed":
                        shown[step.pk] = seen
                        self._progress(step)
            dead = pool.dead()
            if dead:
                request_cancel(run)
                raise CommandError(
                    f"{len(dead)} Celery worker(s) exited during run #{run.pk}:\n{pool.describe_failure()}"
                )
            if time.monotonic() > deadline:
                request_cancel(run)
                raise CommandError(
                    f"run #{run.pk} did not end within --timeout {timeout:g} s (status {run.status}): "
                    "cancelled. Give a longer --timeout for this size and latency."
                )
            time.sleep(POLL_SECONDS)
        for step in run.steps.order_by("position"):  # the last numbers of the steps not shown as completed
            if shown.get(step.pk, (0, 0, ""))[2] != Status.COMPLETED and step.status == Status.COMPLETED:
                self._progress(step)
        return run

    # ------------------------------------------------------------------------------------------ output
    def _progress(self, step: MigrationStep) -> None:
        line = f"\r{ENTITY_BY_CODE[step.entity].label:<28} {step.read:>8} read  {step.media:>6} media"
        self.stderr.write(line, ending="\n" if step.status == Status.COMPLETED else "")
        self.stderr.flush()

    def _report(
        self,
        run,
        wall: float,
        peak_mb: float | None,
        bare: dict | None,
        peak_of: str | None = None,
        *,
        workers: int = 0,
    ) -> None:
        peak = "unknown" if peak_mb is None else f"{peak_mb:.0f} MB"
        self.stdout.write(
            f"run #{run.pk}: {run.get_status_display()} in {wall:.1f}s wall, peak RSS {peak}"
            + (f" ({peak_of})" if peak_of else "")
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
        if workers and products and products.partitions.exists():
            # one owner per reader (the step's own process, each helper task): how widely the step was spread
            readers = products.partitions.exclude(owner="").values("owner").distinct().count()
            self.stdout.write(
                f"products partitions: {products.partitions.count()}, read by {readers} reader(s) "
                "(the step's process and its helper tasks)"
            )
        if products and products.finished_at and bare and bare["seconds"]:
            seconds = (products.finished_at - products.started_at).total_seconds()
            self.stdout.write(
                f"products step: {products.read} products in {seconds:.1f}s "
                f"({products.read / seconds if seconds else 0:,.0f}/s, {products.media} media); bare download "
                f"of the same pages: {bare['seconds']:.1f}s ({bare['products'] / bare['seconds']:,.0f}/s) — "
                f"ratio {seconds / bare['seconds']:.2f}"
            )
        mismatches = [row for row in run.reconciliation if not row["match"]]
        self.stdout.write(
            f"reconciliation: {len(run.reconciliation) - len(mismatches)} entities match, {len(mismatches)} mismatch"
        )
