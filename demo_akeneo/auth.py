"""Akeneo's OAuth token endpoint and bearer-token checks, with Akeneo's (not OAuth's) error bodies.

Tokens live in memory behind a lock: the server is threaded and a migration refreshes while pages are in flight.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import parse_qs

from demo_akeneo.api import Response, error_response, json_response

TOKEN_PATH = "/api/oauth/v1/token"
REFRESH_TTL = 14 * 86400  # Akeneo keeps refresh tokens 14 days

MISSING_CLIENT = 'Parameter "client_id" is missing or does not match any client, or secret is invalid'
NO_USER = "No user found for the given username and password"
MISSING_GRANT = 'Parameter "grant_type", "username" or "password" is missing, empty or invalid'
BAD_REFRESH = "Refresh token is invalid or has expired"
INVALID_TOKEN = "The access token provided is invalid."
EXPIRED_TOKEN = "The access token provided has expired."

DEFAULT_CREDENTIALS = {
    "client_id": "demo-client",
    "secret": "demo-secret",
    "username": "demo",
    "password": "demo-password",
}


def _new_token() -> str:
    """Akeneo-looking token: base64 of 64 hex chars, no padding."""
    return base64.b64encode(secrets.token_hex(32).encode()).decode().rstrip("=")


@dataclass
class _Grant:
    expires_at: float


class TokenStore:
    """Access and refresh tokens; a refresh consumes its refresh token and returns a new pair."""

    def __init__(self, access_ttl: int = 3600, refresh_ttl: int = REFRESH_TTL) -> None:
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self._access: dict[str, _Grant] = {}
        self._refresh: dict[str, _Grant] = {}
        self._lock = threading.Lock()
        self.issued = 0

    def issue(self) -> tuple[str, str]:
        now = time.monotonic()
        access, refresh = _new_token(), _new_token()
        with self._lock:
            self._purge(now)
            self._access[access] = _Grant(now + self.access_ttl)
            self._refresh[refresh] = _Grant(now + self.refresh_ttl)
            self.issued += 1
        return access, refresh

    def refresh(self, refresh_token: str) -> tuple[str, str] | None:
        """A new (access, refresh) pair, or None when the refresh token is unknown, used or expired."""
        with self._lock:
            grant = self._refresh.pop(refresh_token, None)
        if grant is None or grant.expires_at <= time.monotonic():
            return None
        return self.issue()

    def check(self, access_token: str) -> str | None:
        """None when valid, else Akeneo's 401 message (expired tokens are told apart from unknown ones)."""
        with self._lock:
            grant = self._access.get(access_token)
        if grant is None:
            return INVALID_TOKEN
        if grant.expires_at <= time.monotonic():
            return EXPIRED_TOKEN
        return None

    def expire_all(self) -> None:
        """Make every access token expired now (tests of the client's refresh path)."""
        with self._lock:
            for grant in self._access.values():
                grant.expires_at = 0.0

    def _purge(self, now: float) -> None:
        # keep memory bounded on long demo runs; expired tokens stay known for an hour to answer "expired"
        if len(self._access) > 10_000:
            self._access = {k: g for k, g in self._access.items() if g.expires_at > now - 3600}
        if len(self._refresh) > 10_000:
            self._refresh = {k: g for k, g in self._refresh.items() if g.expires_at > now}


def _basic_auth(header: str | None) -> tuple[str, str] | None:
    if not header or not header.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


def token_endpoint(
    content_type: str | None,
    authorization: str | None,
    body: bytes,
    credentials: dict[str, str],
    store: TokenStore,
) -> Response:
    """POST /api/oauth/v1/token: 415, then 400, then grant fields, then client, then user/refresh token."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type == "application/json":
        try:
            data = json.loads(body.decode("utf-8") or "null")
        except (ValueError, UnicodeDecodeError):
            return error_response(400, "Invalid json message received")
    elif media_type == "application/x-www-form-urlencoded":
        data = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    else:
        shown = content_type or ""
        return error_response(
            415,
            f"‘{shown}’ in ‘Content-type’ header is not valid. "  # noqa: RUF001 - Akeneo's own quotes
            "Only ‘application/json’ or ‘application/x-www-form-urlencoded’ is allowed.",  # noqa: RUF001
        )
    if not isinstance(data, dict):
        return error_response(422, MISSING_GRANT)
    grant = data.get("grant_type")
    if grant == "password":
        if not isinstance(data.get("username"), str) or not data.get("username") or not data.get("password"):
            return error_response(422, MISSING_GRANT)
    elif grant != "refresh_token":
        return error_response(422, MISSING_GRANT)
    if _basic_auth(authorization) != (credentials["client_id"], credentials["secret"]):
        return error_response(422, MISSING_CLIENT)
    if grant == "password":
        if (data["username"], data["password"]) != (credentials["username"], credentials["password"]):
            return error_response(422, NO_USER)
        pair = store.issue()
    else:
        token = data.get("refresh_token")
        pair = store.refresh(token) if isinstance(token, str) and token else None
        if pair is None:
            return error_response(422, BAD_REFRESH)
    access, refresh = pair
    return json_response(
        200,
        {
            "access_token": access,
            "expires_in": store.access_ttl,
            "token_type": "bearer",
            "scope": None,
            "refresh_token": refresh,
        },
    )
