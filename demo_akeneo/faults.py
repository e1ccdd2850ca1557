"""Fault injection for the demo Akeneo: the failures a migration meets against a real, remote, rate-limited PIM.

SPEC grammar (``--faults`` / ``start_demo_server(faults=...)``): comma-separated ``key=value`` pairs, e.g.
``throttle_every=7,error_rate=0.05,slow_every=20,slow_seconds=0.5``.

  throttle_every=K            every K-th counted request -> 429 {"code":429,...} with ``Retry-After: 1``
  throttle_no_retry_after=1   ...and without the Retry-After header (Akeneo does not always send it)
  error_rate=R                fraction 0..1 of counted requests -> 500 (JSON) or 503 (HTML), deterministic
                              from the seed and the request counter
  slow_every=K                every K-th counted request sleeps ``slow_seconds`` (default 1) before answering
  slow_seconds=S
  malformed_page=N            the N-th list page served answers 200 with a truncated JSON body (once)
  reset_every=K               every K-th counted request: the connection is closed (RST) without an answer
  max_concurrent=C            more than C requests in flight on the whole server -> 429 with ``Retry-After: 1``
  max_concurrent_per_token=C  more than C requests in flight under one access token -> 429 with
                              ``Retry-After: 1`` (Akeneo SaaS allows 4 concurrent calls per API connection)
  token_ttl=T                 access-token lifetime in seconds (same as --token-ttl; this one wins)
  faults_on_token=1           also count and fault the token endpoint (by default it is never faulted)

Token faults are chosen by the Base URL instead, so one server plays every broken token endpoint at once: a
POST to ``/<name>/api/oauth/v1/token``, ``<name>`` one of ``TOKEN_FAULTS`` (or ``echo``, ``silent``), answers
that fault; the Base URL ``http://HOST:PORT/<name>`` is a connection whose test meets it. Any other single
segment (``/pim/api/oauth/v1/token``) is the normal token endpoint under a path prefix, like an Akeneo behind
a reverse proxy (only the token endpoint: it is all a connection test calls).

  not-found, method-not-allowed, html, not-json, no-token, redirect   not Akeneo's token answer (404, 405, 200
                              HTML / text / JSON without a token, 302 to the login page)
  unauthorized, invalid-grant, invalid-client, wrong-client, wrong-user
                              credentials refused (401; OAuth's 400 codes; Akeneo's two 422 messages)
  forbidden                   403
  bad-request, not-acceptable, unsupported-media, missing-grant, throttled
                              the request refused (400, 406, 415, Akeneo's 422 for missing grant fields, 429
                              with ``Retry-After: 10``)
  server-error, bad-gateway, unavailable    500 and 502 (HTML), 503 (JSON)
  echo                        a careless server: 422 whose message repeats the password it was sent
  silent                      the request is read and never answered until the client hangs up (or 300 s):
                              the client's read timeout must fire

Counted requests are the API requests (``/api/rest/...``), plus token requests when ``faults_on_token=1``.
When several faults hit the same request the order is: reset, concurrency (server, then per token), throttle,
error, then slow (which delays the
normal answer).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields

from demo_akeneo.api import Response, error_response
from demo_akeneo.auth import MISSING_CLIENT, MISSING_GRANT, NO_USER
from demo_akeneo.catalog import mix


class FaultSpecError(ValueError):
    """The SPEC string is not understood; the message says which part and why."""


@dataclass(frozen=True)
class FaultConfig:
    throttle_every: int = 0
    throttle_no_retry_after: bool = False
    error_rate: float = 0.0
    slow_every: int = 0
    slow_seconds: float = 1.0
    malformed_page: int = 0
    reset_every: int = 0
    max_concurrent: int = 0
    token_ttl: int | None = None
    faults_on_token: bool = False
    max_concurrent_per_token: int = 0  # last: FaultConfig(...) built positionally keeps its meaning

    @classmethod
    def parse(cls, spec: str | None) -> FaultConfig:
        """Parse a SPEC string (empty or None means no faults)."""
        if not spec or not spec.strip():
            return cls()
        types = {f.name: f.type for f in fields(cls)}
        values: dict[str, object] = {}
        for part in spec.split(","):
            part = part.strip()
            if not part:
                continue
            key, sep, raw = part.partition("=")
            key, raw = key.strip(), raw.strip()
            if not sep or not raw:
                raise FaultSpecError(f"fault {part!r}: expected key=value")
            if key not in types:
                raise FaultSpecError(f"unknown fault {key!r}; known: {', '.join(sorted(types))}")
            values[key] = _convert(key, str(types[key]), raw)
        config = cls(**values)  # type: ignore[arg-type]
        if not 0.0 <= config.error_rate <= 1.0:
            raise FaultSpecError("error_rate must be between 0 and 1")
        return config

    @property
    def active(self) -> bool:
        return self != FaultConfig(token_ttl=self.token_ttl)


def _convert(key: str, typ: str, raw: str) -> object:
    try:
        if "bool" in typ:
            if raw.lower() not in ("0", "1", "true", "false", "yes", "no"):
                raise ValueError
            return raw.lower() in ("1", "true", "yes")
        if "float" in typ:
            value: float = float(raw)
        else:
            value = int(raw)
    except ValueError:
        raise FaultSpecError(f"fault {key}={raw!r}: not a valid {typ.split('|')[0].strip()}") from None
    if value < 0:
        raise FaultSpecError(f"fault {key}={raw!r}: must not be negative")
    return value


@dataclass(frozen=True)
class Decision:
    """What to do with the n-th counted request."""

    reset: bool = False
    throttle: bool = False
    error: int = 0  # 500 or 503, 0 = none
    slow_seconds: float = 0.0


def decide(config: FaultConfig, seed: int, n: int) -> Decision:
    """The faults of counted request number `n` (1-based): pure, so tests can predict them."""
    reset = bool(config.reset_every) and n % config.reset_every == 0
    throttle = bool(config.throttle_every) and n % config.throttle_every == 0
    error = 0
    if config.error_rate > 0:
        roll = mix(seed, 0xE7707, n)
        if (roll % 1_000_000) / 1_000_000 < config.error_rate:
            error = 500 if (roll >> 32) % 2 == 0 else 503
    slow = config.slow_seconds if config.slow_every and n % config.slow_every == 0 else 0.0
    return Decision(reset=reset, throttle=throttle, error=error, slow_seconds=slow)


# name -> (status, content type, body, extra headers): what a broken or differently configured server answers
TOKEN_FAULTS: dict[str, tuple[int, str, str, dict[str, str]]] = {
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
    "redirect": (302, "text/html", "", {"Location": "/user/login"}),
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
}
TOKEN_ECHO = "echo"
TOKEN_SILENT = "silent"
TOKEN_FAULT_NAMES = frozenset({*TOKEN_FAULTS, TOKEN_ECHO, TOKEN_SILENT})
SILENT_HOLD_SECONDS = 300.0  # longer than any client timeout; a held thread is still given back eventually
_TOKEN_SUFFIX = "/api/oauth/v1/token"


def token_path_prefix(raw_path: str) -> str | None:
    """The path prefix of a token request ("" for the plain endpoint, "pim" for /pim/...); None: not a token path."""
    if raw_path == _TOKEN_SUFFIX:
        return ""
    head, sep, tail = raw_path.partition(_TOKEN_SUFFIX)
    if sep and not tail and head.count("/") == 1 and len(head) > 1:
        return head[1:]
    return None


def token_fault_response(name: str, credentials: dict[str, str]) -> Response:
    """The answer of token fault `name` (not `silent`, which never answers)."""
    if name == TOKEN_ECHO:
        return error_response(422, f"No user found for password {credentials['password']}")
    status, content_type, body, headers = TOKEN_FAULTS[name]
    return Response(status, body.encode(), content_type, dict(headers))
