"""`manage.py serve_demo_akeneo`: run the demo Akeneo in the foreground (thin adapter over demo_akeneo.server)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from demo_akeneo.auth import DEFAULT_CREDENTIALS
from demo_akeneo.faults import FaultConfig, FaultSpecError
from demo_akeneo.server import DemoServer


class Command(BaseCommand):
    help = (
        "Serve a demo Akeneo REST API (generated catalog, Akeneo auth and paging, optional fault injection) "
        "until Ctrl-C. Prints the base URL and the credentials to enter in a Connection."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host", default="127.0.0.1", help="listen address (loopback unless --allow-remote)"
        )
        parser.add_argument("--port", type=int, default=8081)
        parser.add_argument("--allow-remote", action="store_true", help="allow a non-loopback --host")
        parser.add_argument("--products", type=int, default=1000, help="number of products (default 1000)")
        parser.add_argument("--seed", type=int, default=42, help="catalog seed (default 42)")
        parser.add_argument("--latency-ms", type=float, default=0, help="fixed delay added to every answer")
        parser.add_argument(
            "--page-latency-ms",
            type=float,
            default=None,
            help="delay of every answer but media downloads (list pages, item GETs); default --latency-ms",
        )
        parser.add_argument(
            "--media-latency-ms",
            type=float,
            default=None,
            help="delay of media downloads; default --latency-ms",
        )
        parser.add_argument("--faults", default="", help="fault SPEC, e.g. throttle_every=7,error_rate=0.05")
        parser.add_argument("--token-ttl", type=int, default=3600, help="access token lifetime in seconds")
        parser.add_argument(
            "--no-products-uuid", action="store_true", help="behave like Akeneo < 7 (no /products-uuid)"
        )
        parser.add_argument(
            "--legacy-measurements",
            action="store_true",
            help="behave like Akeneo < 5 (/measurement-families answers 404, /measure-families stays)",
        )
        parser.add_argument(
            "--refuse-flag",
            action="append",
            default=[],
            metavar="PARAM",
            help="answer 422 when this query parameter is present, e.g. with_enriched_attributes (repeatable)",
        )
        for key in ("client_id", "secret", "username", "password"):
            default = DEFAULT_CREDENTIALS[key]
            parser.add_argument(f"--{key.replace('_', '-')}", default=default, help=f"default: {default}")
        parser.add_argument("--verbose", action="store_true", help="log every request")

    def handle(self, *args: object, **options: object) -> None:
        if int(options["products"]) < 0:  # type: ignore[call-overload]
            raise CommandError("--products must be >= 0")
        try:
            faults = FaultConfig.parse(str(options["faults"]))
            server = DemoServer(
                str(options["host"]),
                int(options["port"]),  # type: ignore[call-overload]
                products=int(options["products"]),  # type: ignore[call-overload]
                seed=int(options["seed"]),  # type: ignore[call-overload]
                latency_ms=float(options["latency_ms"]),  # type: ignore[arg-type]
                page_latency_ms=_optional_float(options["page_latency_ms"]),
                media_latency_ms=_optional_float(options["media_latency_ms"]),
                faults=faults,
                token_ttl=int(options["token_ttl"]),  # type: ignore[call-overload]
                client_id=str(options["client_id"]),
                secret=str(options["secret"]),
                username=str(options["username"]),
                password=str(options["password"]),
                products_uuid=not options["no_products_uuid"],
                legacy_measurements=bool(options["legacy_measurements"]),
                refuse_flags=tuple(options["refuse_flag"]),  # type: ignore[arg-type]
                allow_remote=bool(options["allow_remote"]),
                verbose=bool(options["verbose"]),
            )
        except (FaultSpecError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        except OSError as exc:
            raise CommandError(f"cannot listen on {options['host']}:{options['port']}: {exc}") from exc
        catalog = server.catalog
        self.stdout.write(f"Demo Akeneo serving at {server.base_url}")
        self.stdout.write(
            f"  catalog: {catalog.product_count} products, {catalog.model_count} product models, seed {catalog.seed}"
        )
        for key in ("client_id", "secret", "username", "password"):
            self.stdout.write(f"  {key}: {server.credentials[key]}")
        if server.page_latency or server.media_latency:
            self.stdout.write(
                f"  latency: {server.page_latency * 1000:g} ms per page, {server.media_latency * 1000:g} ms per media file"
            )
        if faults.active:
            self.stdout.write(f"  faults: {options['faults']}")
        if options["legacy_measurements"]:
            self.stdout.write("  legacy measurements: /measurement-families answers 404")
        if options["refuse_flag"]:
            self.stdout.write(f"  refused query parameters: {', '.join(options['refuse_flag'])}")  # type: ignore[arg-type]
        self.stdout.write("Press Ctrl-C to stop.")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Stopping.")
        finally:
            server.httpd.server_close()


def _optional_float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
