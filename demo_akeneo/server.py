"""The demo Akeneo HTTP server: stdlib ThreadingHTTPServer, HTTP/1.1 keep-alive, Content-Length on every answer.

`start_demo_server()` runs it in a background thread (tests, the admin's "try it" flow); the management command
`serve_demo_akeneo` runs the same server in the foreground. Requests go: faults -> routing -> Accept -> token ->
resource, and every answer is counted in `DemoServer.stats` so tests can see what a client really did.

Latency is per kind, to play a distant Akeneo: `page_latency_ms` delays every answer but media downloads (list
pages, item GETs, tokens, errors), `media_latency_ms` the media downloads; both default to `latency_ms`. The stats
also keep the most API calls seen in flight at once, overall and per access token (`max_in_flight`,
`max_in_flight_per_token`), and `GET /demo/stats` (not an Akeneo route, never counted) answers them as JSON, so a
benchmark can read them from a demo running in another process.
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import json
import logging
import select
import socket
import struct
import threading
import time
import traceback
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from demo_akeneo.api import ApiError, DemoApi, Request, Response, error_response
from demo_akeneo.auth import DEFAULT_CREDENTIALS, INVALID_TOKEN, TokenStore, token_endpoint
from demo_akeneo.catalog import Catalog
from demo_akeneo.faults import (
    SILENT_HOLD_SECONDS,
    TOKEN_FAULT_NAMES,
    TOKEN_SILENT,
    FaultConfig,
    decide,
    token_fault_response,
    token_path_prefix,
)

logger = logging.getLogger(__name__)

LOGIN_PAGE = (
    b"<!doctype html><html><head><title>Demo Akeneo</title></head><body><form>Login</form></body></html>"
)
STATS_PATH = "/demo/stats"  # the stats as JSON, for a benchmark running the demo in another process
ACCEPTABLE = ("application/json", "application/*", "*/*", "*")


@dataclass(frozen=True)
class LogEntry:
    method: str
    path: str
    status: int  # 0 when the connection was reset without an answer
    kind: str
    fault: str | None


@dataclass
class Stats:
    """What the server answered, for tests: totals per status code, per path kind and per injected fault."""

    total: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    by_kind: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    log: deque[LogEntry] = field(default_factory=lambda: deque(maxlen=5000))
    page_calls: int = 0  # API answers other than media downloads (list pages, item GETs, errors)
    media_calls: int = 0  # media downloads (products, categories, assets, reference entities)
    max_in_flight: int = 0  # most counted API calls in flight at once, all tokens together
    max_in_flight_per_token: int = 0  # most calls in flight at once under one access token
    max_in_flight_by_token: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, entry: LogEntry, *, api: str | None = None) -> None:
        """Count one answer; `api` is "page" or "media" for API calls (the benchmark's two kinds)."""
        with self._lock:
            if api == "media":
                self.media_calls += 1
            elif api == "page":
                self.page_calls += 1
            self.total += 1
            self.by_status[entry.status] += 1
            self.by_kind[entry.kind] += 1
            if entry.fault:
                self.faults[entry.fault] += 1
            self.log.append(entry)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": self.total,
                "by_status": dict(self.by_status),
                "by_kind": dict(self.by_kind),
                "faults": dict(self.faults),
                "page_calls": self.page_calls,
                "media_calls": self.media_calls,
                "max_in_flight": self.max_in_flight,
                "max_in_flight_per_token": self.max_in_flight_per_token,
            }

    def note_in_flight(self, overall: int, token: str | None, per_token: int) -> None:
        with self._lock:
            self.max_in_flight = max(self.max_in_flight, overall)
            if token is not None:
                self.max_in_flight_per_token = max(self.max_in_flight_per_token, per_token)
                if per_token > self.max_in_flight_by_token.get(token, 0):
                    self.max_in_flight_by_token[token] = per_token

    def reset(self) -> None:
        with self._lock:
            self.total = 0
            self.by_status.clear()
            self.by_kind.clear()
            self.faults.clear()
            self.log.clear()
            self.page_calls = self.media_calls = 0
            self.max_in_flight = self.max_in_flight_per_token = 0
            self.max_in_flight_by_token.clear()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    demo: DemoServer


class _HTTPServer6(_HTTPServer):
    address_family = socket.AF_INET6


class DemoServer:
    """A running (or ready to run) demo Akeneo. Public: base_url, credentials, catalog, stats, stop()."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        products: int = 1000,
        seed: int = 42,
        latency_ms: float = 0,
        page_latency_ms: float | None = None,
        media_latency_ms: float | None = None,
        faults: str | FaultConfig | None = None,
        token_ttl: int = 3600,
        client_id: str = DEFAULT_CREDENTIALS["client_id"],
        secret: str = DEFAULT_CREDENTIALS["secret"],
        username: str = DEFAULT_CREDENTIALS["username"],
        password: str = DEFAULT_CREDENTIALS["password"],
        products_uuid: bool = True,
        legacy_measurements: bool = False,
        refuse_flags: Iterable[str] = (),
        allow_remote: bool = False,
        verbose: bool = False,
    ) -> None:
        if not allow_remote and not is_loopback(host):
            raise ValueError(
                f"refusing to listen on non-loopback host {host!r} (pass allow_remote to allow it)"
            )
        self.fault_config = faults if isinstance(faults, FaultConfig) else FaultConfig.parse(faults)
        self.catalog = Catalog(products=products, seed=seed)
        self.api = DemoApi(
            self.catalog,
            products_uuid=products_uuid,
            legacy_measurements=legacy_measurements,
            refuse_flags=(refuse_flags,) if isinstance(refuse_flags, str) else refuse_flags,
        )
        ttl = self.fault_config.token_ttl if self.fault_config.token_ttl is not None else token_ttl
        self.tokens = TokenStore(access_ttl=ttl)
        self.credentials = {
            "client_id": client_id,
            "secret": secret,
            "username": username,
            "password": password,
        }
        self.latency = latency_ms / 1000.0
        self.page_latency = (latency_ms if page_latency_ms is None else page_latency_ms) / 1000.0
        self.media_latency = (latency_ms if media_latency_ms is None else media_latency_ms) / 1000.0
        self.media_kinds = frozenset(route.kind for route in self.api.routes if route.binary)
        self.verbose = verbose
        self.stats = Stats()
        self._counter = 0
        self._list_pages = 0
        self._in_flight = 0
        self._in_flight_by_token: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        server_class = _HTTPServer6 if ":" in host else _HTTPServer
        self.httpd = server_class((host, port), _Handler)
        self.httpd.demo = self
        self.thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        host = str(host)
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def start(self) -> DemoServer:
        """Serve in a daemon thread and return at once."""
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="demo-akeneo", daemon=True
        )
        self.thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until stop() (or KeyboardInterrupt in the caller)."""
        self.httpd.serve_forever()

    def stop(self) -> None:
        """Stop accepting, drop open keep-alive connections, free the port."""
        self.httpd.shutdown()
        self.httpd.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self.thread is not None:
            self.thread.join(timeout=5)

    # --------------------------------------------------------------------------------------- counters
    def _count_request(self, token: str | None) -> tuple[int, int]:
        """Number this request and enter it in flight; returns (number, calls in flight under its token)."""
        with self._lock:
            self._counter += 1
            self._in_flight += 1
            per_token = 0
            if token is not None:
                self._in_flight_by_token[token] += 1
                per_token = self._in_flight_by_token[token]
            number, overall = self._counter, self._in_flight
        self.stats.note_in_flight(overall, token, per_token)
        return number, per_token

    def _done(self, token: str | None) -> None:
        with self._lock:
            self._in_flight -= 1
            if token is not None:
                self._in_flight_by_token[token] -= 1
                if self._in_flight_by_token[token] <= 0:
                    del self._in_flight_by_token[token]

    def _count_list_page(self) -> int:
        with self._lock:
            self._list_pages += 1
            return self._list_pages

    @property
    def request_count(self) -> int:
        """Counted requests so far (the `n` faults are computed from)."""
        return self._counter


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def start_demo_server(host: str = "127.0.0.1", port: int = 0, **options: Any) -> DemoServer:
    """Build a DemoServer (options: products, seed, latency_ms, page_latency_ms, media_latency_ms, faults, token_ttl, client_id, secret,
    username, password, products_uuid, legacy_measurements, refuse_flags, allow_remote, verbose) and serve it
    from a background thread."""
    return DemoServer(host, port, **options).start()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "DemoAkeneo/1.0"
    timeout = 120  # idle keep-alive connections give their thread back eventually
    disable_nagle_algorithm = True
    wbufsize = 1 << 16  # headers and body leave in one write (no Nagle/delayed-ACK stall on small answers)
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        demo = self.server.demo
        with demo._lock:
            demo._connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            demo = self.server.demo
            with demo._lock:
                demo._connections.discard(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.demo.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = do_GET

    # ------------------------------------------------------------------------------------------- pipeline
    def _handle(self) -> None:
        demo = self.server.demo
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        raw_path, _, query = self.path.partition("?")
        if raw_path == STATS_PATH and self.command == "GET":
            self._send(Response(200, json.dumps(demo.stats.snapshot()).encode()))
            return
        prefix = token_path_prefix(raw_path)
        if prefix in TOKEN_FAULT_NAMES:
            self._token_fault(demo, prefix)
            return
        is_token = prefix is not None
        config = demo.fault_config
        counted = config.faults_on_token if is_token else raw_path.startswith("/api/")
        token = None if is_token else _bearer_token(self.headers.get("Authorization"))
        number, per_token = demo._count_request(token) if counted else (0, 0)
        # A call stops being in flight as its answer starts to leave (see _send): counted after the write, a
        # client that frees its slot on receipt and sends the next call at once would look one over its limit.
        self._in_flight_token = (token,) if counted else None
        try:
            self._answer(demo, raw_path, query, body, is_token, number, per_token)
        finally:
            self._end_in_flight()

    def _token_fault(self, demo: DemoServer, name: str) -> None:
        """A token fault chosen by the Base URL's path prefix (see demo_akeneo.faults)."""
        fault = f"token:{name}"
        if name == TOKEN_SILENT:
            demo.stats.record(LogEntry(self.command, self.path, 0, "token", fault))
            self._hold_until_hang_up()
            return
        response = token_fault_response(name, demo.credentials)
        demo.stats.record(LogEntry(self.command, self.path, response.status, "token", fault))
        self._send(response)

    def _hold_until_hang_up(self) -> None:
        """Never answer: wait until the client closes (its timeout fired) or stop() shuts the socket down."""
        self.close_connection = True
        deadline = time.monotonic() + SILENT_HOLD_SECONDS
        while time.monotonic() < deadline:
            try:
                readable, _, _ = select.select([self.connection], [], [], 0.1)
                if readable and not self.connection.recv(65536):
                    return
            except (OSError, ValueError):
                return

    def _end_in_flight(self) -> None:
        pending = getattr(self, "_in_flight_token", None)
        if pending is not None:
            self._in_flight_token = None
            self.server.demo._done(pending[0])

    def _answer(
        self,
        demo: DemoServer,
        raw_path: str,
        query: str,
        body: bytes,
        is_token: bool,
        number: int,
        per_token: int = 0,
    ) -> None:
        config = demo.fault_config
        kind = "token" if is_token else "api"
        fault: str | None = None
        response: Response | None = None
        if number:
            decision = decide(config, demo.catalog.seed, number)
            if decision.reset:
                demo.stats.record(LogEntry(self.command, self.path, 0, kind, "reset"))
                self._reset()
                return
            if config.max_concurrent and demo._in_flight > config.max_concurrent:
                fault, response = (
                    "concurrency",
                    error_response(429, "Too many requests", {"Retry-After": "1"}),
                )
            elif config.max_concurrent_per_token and per_token > config.max_concurrent_per_token:
                fault, response = (
                    "concurrency_per_token",
                    error_response(429, "Too many requests", {"Retry-After": "1"}),
                )
            elif decision.throttle:
                headers = {} if config.throttle_no_retry_after else {"Retry-After": "1"}
                fault, response = "throttle", error_response(429, "Too many requests", headers)
            elif decision.error == 500:
                fault, response = "error", error_response(500, "Internal Server Error")
            elif decision.error == 503:
                fault = "error"
                response = Response(
                    503, b"<html><body><h1>503 Service Unavailable</h1></body></html>", "text/html"
                )
            elif decision.slow_seconds:
                fault = "slow"
                time.sleep(decision.slow_seconds)
        if response is None:
            kind, response = self._dispatch(demo, raw_path, query, body, is_token)
            malformed = config.malformed_page and response.list_page and response.status == 200
            if malformed and demo._count_list_page() == config.malformed_page:
                fault = "malformed"  # a complete HTTP answer whose JSON stops halfway
                response = Response(200, response.body[: max(1, len(response.body) // 2)], list_page=True)
        media = kind in demo.media_kinds
        latency = demo.media_latency if media else demo.page_latency
        if latency:
            time.sleep(latency)
        api = ("media" if media else "page") if raw_path.startswith("/api/") and not is_token else None
        demo.stats.record(LogEntry(self.command, self.path, response.status, kind, fault), api=api)
        self._send(response)

    def _dispatch(
        self, demo: DemoServer, raw_path: str, query: str, body: bytes, is_token: bool
    ) -> tuple[str, Response]:
        if is_token:
            if self.command != "POST":
                return "token", error_response(
                    405, f'No route found for "{self.command} {raw_path}": Method Not Allowed (Allow: POST)'
                )
            return "token", token_endpoint(
                self.headers.get("Content-Type"),
                self.headers.get("Authorization"),
                body,
                demo.credentials,
                demo.tokens,
            )
        if raw_path == "/":
            return "web", Response(302, b"", "text/html", {"Location": "/user/login"})
        if raw_path == "/user/login":
            return "web", Response(200, LOGIN_PAGE, "text/html; charset=UTF-8")
        try:
            route, params = demo.api.match(self.command, raw_path)
        except ApiError as exc:
            return "unknown", error_response(exc.status, exc.message, exc.headers)
        accept = self.headers.get("Accept")
        if accept and not route.binary and not _acceptable(accept):
            return route.kind, error_response(
                406,
                f"‘{accept}’ in ‘Accept‘ header is not valid. Only ‘application/json‘ is allowed.",  # noqa: RUF001 - as Akeneo spells it
            )
        if not route.public:
            problem = self._bearer_problem(demo)
            if problem:
                return route.kind, error_response(401, problem)
        request = Request(
            method=self.command,
            path=raw_path,
            query_items=parse_qsl(query, keep_blank_values=True),
            headers=self.headers,
            base_url=self._base_url(demo),
        )
        try:
            demo.api.check_refused_flags(request)
            return route.kind, route.handler(request, **params)
        except ApiError as exc:
            return route.kind, error_response(exc.status, exc.message, exc.headers)
        except Exception:
            logger.error("demo Akeneo failed on %s %s\n%s", self.command, self.path, traceback.format_exc())
            return route.kind, error_response(500, "Internal Server Error")

    def _bearer_problem(self, demo: DemoServer) -> str | None:
        header = self.headers.get("Authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return INVALID_TOKEN
        return demo.tokens.check(token.strip())

    def _base_url(self, demo: DemoServer) -> str:
        host = self.headers.get("Host")
        if not host:
            return demo.base_url
        scheme = (self.headers.get("X-Forwarded-Proto") or "http").split(",")[0].strip()
        return f"{scheme}://{host}"

    # ------------------------------------------------------------------------------------------- output
    def _send(self, response: Response) -> None:
        self._end_in_flight()
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _reset(self) -> None:
        """Drop the connection without an answer (RST), like a proxy or a crashed worker."""
        self.close_connection = True
        self.wfile = io.BytesIO()  # nothing buffered may reach the (closed) socket
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()


def _bearer_token(header: str | None) -> str | None:
    scheme, _, token = (header or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _acceptable(accept: str) -> bool:
    for part in accept.split(","):
        media_type = part.split(";")[0].strip().lower()
        if media_type in ACCEPTABLE or media_type.endswith("+json"):
            return True
    return False
