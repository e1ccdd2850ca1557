"""A real HTTP server on loopback that answers Akeneo's token endpoint the way Akeneo (or a broken setup) does.

The first path segment picks the behaviour, so each behaviour is just a Base URL with a path prefix:
`http://127.0.0.1:PORT/<scenario>`; `http://127.0.0.1:PORT` (no prefix) is a working Akeneo.
The "ok" behaviour validates credentials and the request exactly like Akeneo's token endpoint.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN_PATH = "/api/oauth/v1/token"

VALID = {
    "client_id": "fake-client-id",
    "secret": "S3cr3t-Value-9f8e",
    "username": "api_user",
    "password": "Pa55-Word-7c6d",
}

MISSING_CLIENT = 'Parameter "client_id" is missing or does not match any client, or secret is invalid'
NO_USER = "No user found for the given username and password"
MISSING_GRANT = 'Parameter "grant_type", "username" or "password" is missing, empty or invalid'

# scenario -> (status, content type, body, extra headers)
FIXED: dict[str, tuple[int, str, str, dict[str, str]]] = {
    "not-found": (404, "text/html", "<html><body>Page not found</body></html>", {}),
    "method-not-allowed": (405, "application/json", '{"code":405,"message":"Method Not Allowed"}', {}),
    "html": (
        200,
        "text/html; charset=utf-8",
        "<!doctype html><html><body><form>Login</form></body></html>",
        {},
    ),
    "not-json": (200, "text/plain", "hello, this is not an API", {}),
    "no-token": (200, "application/json", '{"status":"ok"}', {}),
    "unauthorized": (401, "application/json", '{"code":401,"message":"Unauthorized"}', {}),
    "invalid-grant": (
        400,
        "application/json",
        '{"error":"invalid_grant","error_description":"Invalid username and password combination"}',
        {},
    ),
    "invalid-client": (
        400,
        "application/json",
        '{"error":"invalid_client","error_description":"The client credentials are invalid"}',
        {},
    ),
    "wrong-client": (422, "application/json", json.dumps({"code": 422, "message": MISSING_CLIENT}), {}),
    "wrong-user": (422, "application/json", json.dumps({"code": 422, "message": NO_USER}), {}),
    "forbidden": (403, "application/json", '{"code":403,"message":"Access forbidden."}', {}),
    "bad-request": (400, "application/json", '{"code":400,"message":"Invalid json message received"}', {}),
    "not-acceptable": (406, "application/json", '{"code":406,"message":"Not acceptable"}', {}),
    "unsupported-media": (415, "application/json", '{"code":415,"message":"Unsupported media type"}', {}),
    "missing-grant": (422, "application/json", json.dumps({"code": 422, "message": MISSING_GRANT}), {}),
    "throttled": (
        429,
        "application/json",
        '{"code":429,"message":"Too many requests"}',
        {"Retry-After": "10"},
    ),
    "server-error": (500, "text/html", "<html>Internal Server Error</html>", {}),
    "bad-gateway": (502, "text/html", "<html>Bad Gateway</html>", {}),
    "unavailable": (503, "application/json", '{"code":503,"message":"Service unavailable"}', {}),
    "redirect": (302, "text/html", "", {"Location": "/user/login"}),
}


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeAkeneo:
    server: ThreadingHTTPServer
    thread: threading.Thread
    requests: list[RecordedRequest] = field(default_factory=list)
    valid: dict[str, str] = field(default_factory=lambda: dict(VALID))
    # GET answers (JSON) by exact path+query, else by path: lets a test serve chosen payloads to the client.
    routes: dict[str, object] = field(default_factory=dict)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def base_url(self, scenario: str = "") -> str:
        return f"{self.url}/{scenario}" if scenario else self.url

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def _handler_for(fake_holder: list[FakeAkeneo]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):  # keep test output clean
            pass

        def _send(
            self, status: int, content_type: str, body: str, headers: dict[str, str] | None = None
        ) -> None:
            payload = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def _json(self, status: int, data: object) -> None:
            self._send(status, "application/json", json.dumps(data))

        def do_GET(self):
            self._read_and_record()
            routes = fake_holder[0].routes
            path = self.path.partition("?")[0]
            key = self.path if self.path in routes else path
            if key in routes:
                self._json(200, routes[key])
            else:
                self._send(404, "text/html", "<html>Not found</html>")

        def do_POST(self):
            body = self._read_and_record()
            fake = fake_holder[0]
            if self.path == TOKEN_PATH:
                scenario = "ok"
            else:
                scenario, _, rest = self.path.lstrip("/").partition("/")
                if "/" + rest != TOKEN_PATH:
                    self._send(404, "text/html", "<html>Not found</html>")
                    return
            if scenario in FIXED:
                self._send(*FIXED[scenario])
            elif scenario in ("ok", "pim"):
                self._akeneo_token(body, fake.valid)
            elif scenario == "echo":
                # A careless server that repeats the password back in its error: must never reach the user.
                self._json(
                    422, {"code": 422, "message": f"No user found for password {fake.valid['password']}"}
                )
            else:
                self._send(404, "text/html", "<html>Not found</html>")

        def _read_and_record(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            fake_holder[0].requests.append(RecordedRequest(self.path, dict(self.headers.items()), body))
            return body

        def _akeneo_token(self, body: bytes, valid: dict[str, str]) -> None:
            """What Akeneo's /api/oauth/v1/token does: 415, 400, then client check, then user check (all 422)."""
            if "application/json" not in (self.headers.get("Content-Type") or ""):
                self._json(415, {"code": 415, "message": "The content type must be application/json"})
                return
            try:
                data = json.loads(body or b"null")
            except ValueError:
                self._json(400, {"code": 400, "message": "Invalid json message received"})
                return
            if (
                not isinstance(data, dict)
                or data.get("grant_type") != "password"
                or not data.get("username")
                or not data.get("password")
            ):
                self._json(422, {"code": 422, "message": MISSING_GRANT})
                return
            auth = self.headers.get("Authorization") or ""
            try:
                client_id, _, secret = base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                client_id, secret = "", ""
            if not auth.startswith("Basic ") or (client_id, secret) != (valid["client_id"], valid["secret"]):
                self._json(422, {"code": 422, "message": MISSING_CLIENT})
                return
            if (data["username"], data["password"]) != (valid["username"], valid["password"]):
                self._json(422, {"code": 422, "message": NO_USER})
                return
            self._json(
                200,
                {
                    "access_token": "NzFiYTM4ZTEwMjcwZTcyZWIzZTA0NmY3NjE3MTIyMjM1Y2NlMmNlNWEyMTAzY2UzYmY0YWIxYmUzNTkyMDcyNQ",
                    "expires_in": 3600,
                    "token_type": "bearer",
                    "scope": None,
                    "refresh_token": "MDk2ZmIwODBkYmE3YjNjZWQ4ZTk2NTk2N2JmNjkyZDQ4NzA3YzhiZDQzMjJjODI5MmQ4ZmYxZjlkZmU1ZDNkMQ",
                },
            )

    return Handler


def start_fake_akeneo() -> FakeAkeneo:
    holder: list[FakeAkeneo] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(holder))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="fake-akeneo", daemon=True)
    fake = FakeAkeneo(server=server, thread=thread)
    holder.append(fake)
    thread.start()
    return fake


class SilentServer:
    """Accepts TCP connections and never answers: the read timeout must fire."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)  # the kernel completes handshakes from the backlog; nobody ever reads
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def stop(self) -> None:
        self.sock.close()


def closed_port_url() -> str:
    """A loopback URL on which nothing listens (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
