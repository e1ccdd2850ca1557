"""Benchmark: how fast the client reads products, against a bare `requests` loop over the same pages.

Not a test: it prints numbers (pages/s, MB/s, products/s, peak RSS, and the client/bare time ratio, which is
the client's overhead). By default it starts the demo Akeneo server in a subprocess (so the two do not share a
GIL); `--base-url` and the AKENEO_* variables point it at another server instead.
"""

from __future__ import annotations

import os
import resource
import time

from django.core.management.base import BaseCommand, CommandParser

from connections.akeneo.auth import Credentials
from connections.akeneo.client import AkeneoClient, ClientSettings
from devtools.benchmark import bare_read, demo_server

DEMO_CREDENTIALS = {
    "client_id": "bench-client",
    "secret": "bench-secret",
    "username": "bench",
    "password": "bench-pw",
}


class Command(BaseCommand):
    help = "Measure the Akeneo client's read speed and overhead against a bare requests loop."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--products", type=int, default=20000, help="catalog size for the demo server")
        parser.add_argument("--limit", type=int, default=0, help="stop after this many products (0 = all)")
        parser.add_argument("--latency-ms", type=int, default=0, help="demo server latency per response")
        parser.add_argument(
            "--base-url", help="benchmark this server instead (credentials from AKENEO_* vars)"
        )
        parser.add_argument("--no-prefetch", action="store_true", help="disable the client's page prefetch")
        parser.add_argument(
            "--work-ms",
            type=float,
            default=0,
            help="simulated import work per page (shows what prefetch overlaps)",
        )
        parser.add_argument(
            "--repeat", type=int, default=2, help="alternate client and bare runs, keep the best"
        )

    def handle(self, *args, **options) -> None:
        if options["base_url"]:
            credentials = Credentials(
                base_url=options["base_url"].rstrip("/"),
                client_id=os.environ["AKENEO_CLIENT_ID"],
                secret=os.environ["AKENEO_SECRET"],
                username=os.environ["AKENEO_USERNAME"],
                password=os.environ["AKENEO_PASSWORD"],
            )
            self._run(credentials, options)
        else:
            with demo_server(options["products"], options["latency_ms"]) as credentials:
                self._run(credentials, options)

    def _run(self, credentials: Credentials, options: dict) -> None:
        limit = options["limit"] or None
        work = options["work_ms"] / 1000
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        client_result = bare_result = None
        for _ in range(max(options["repeat"], 1)):  # alternate, so neither side always meets a cold server
            run = self._with_client(credentials, limit, prefetch=not options["no_prefetch"], work=work)
            client_result = min(filter(None, [client_result, run]), key=lambda r: r["seconds"])
            run = bare_read(credentials, client_result["urls"], work=work)
            bare_result = min(filter(None, [bare_result, run]), key=lambda r: r["seconds"])
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self._report("client", client_result)
        self._report("bare requests", bare_result)
        ratio = client_result["seconds"] / bare_result["seconds"] if bare_result["seconds"] else float("nan")
        self.stdout.write(f"client/bare time ratio: {ratio:.2f}")
        self.stdout.write(f"peak RSS growth while the client read: {(rss_after - rss_before) / 1024:.1f} MB")

    def _with_client(
        self, credentials: Credentials, limit: int | None, *, prefetch: bool, work: float
    ) -> dict:
        client = AkeneoClient(credentials, ClientSettings.from_django())
        urls, products, started = [], 0, time.perf_counter()
        with client:
            for page in client.pages("products-uuid", prefetch=prefetch):
                urls.append(page.url)
                products += len(page.items)
                time.sleep(work)
                self._progress(products, limit, started)
                if limit and products >= limit:
                    break
            bytes_read = client.stats["bytes"]
        self.stderr.write("")
        return {
            "pages": len(urls),
            "products": products,
            "bytes": bytes_read,
            "seconds": time.perf_counter() - started,
            "urls": urls,
        }

    def _progress(self, done: int, limit: int | None, started: float) -> None:
        rate = done / max(time.perf_counter() - started, 1e-9)
        if limit:
            filled = int(30 * done / limit)
            bar = "#" * filled + "-" * (30 - filled)
            self.stderr.write(f"\r[{bar}] {done}/{limit} products  {rate:,.0f}/s", ending="")
        else:
            self.stderr.write(f"\r{done} products  {rate:,.0f}/s", ending="")
        self.stderr.flush()

    def _report(self, label: str, result: dict) -> None:
        seconds = result["seconds"] or 1e-9
        self.stdout.write(
            f"{label:>14}: {result['pages']} pages, {result['products']} products in {seconds:.2f}s — "
            f"{result['pages'] / seconds:,.1f} pages/s, {result['products'] / seconds:,.0f} products/s, "
            f"{result['bytes'] / seconds / 1e6:,.2f} MB/s"
        )
