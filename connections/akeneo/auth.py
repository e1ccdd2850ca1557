"""Akeneo OAuth: the password grant and the refresh grant (the client decides when to use which).

Akeneo answers token errors with 422 {"code", "message"} rather than OAuth-style bodies, so the caller
gets the status and Akeneo's message on a typed error and decides what it means.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests

from connections.akeneo.errors import AkeneoHTTPError, AkeneoNotAnAPI, AkeneoUnreachable

TOKEN_PATH = "/api/oauth/v1/token"
MAX_MESSAGE_LENGTH = 300


@dataclass(frozen=True)
class Credentials:
    """What it takes to log in to Akeneo. Secrets are left out of repr so they cannot leak through logs."""

    base_url: str
    client_id: str = field(repr=False)
    secret: str = field(repr=False)
    username: str
    password: str = field(repr=False)

    def redact(self, text: str) -> str:
        """Remove every credential value from text that may be shown or logged (e.g. an echoing server)."""
        for value in (self.secret, self.password, self.client_id):
            if value and len(value) >= 3:
                text = text.replace(value, "*****")
        return text


@dataclass(frozen=True)
class Token:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int


def token_url(base_url: str) -> str:
    return base_url.rstrip("/") + TOKEN_PATH


def basic_auth_header(client_id: str, secret: str) -> str:
    # Built by hand in UTF-8: requests' own helper encodes latin-1 and fails on other characters.
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode("ascii")


def request_password_token(
    credentials: Credentials,
    *,
    timeout: tuple[float, float],
    session: requests.Session | None = None,
) -> Token:
    """Log in with the password grant. Raises AkeneoUnreachable, AkeneoHTTPError or AkeneoNotAnAPI."""
    body = {"grant_type": "password", "username": credentials.username, "password": credentials.password}
    return _request_token(credentials, body, timeout=timeout, session=session)


def request_refresh_token(
    credentials: Credentials,
    refresh_token: str,
    *,
    timeout: tuple[float, float],
    session: requests.Session | None = None,
) -> Token:
    """Trade a refresh token for a new token pair (Akeneo answers 422 when the refresh token is spent)."""
    body = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return _request_token(credentials, body, timeout=timeout, session=session)


def _request_token(
    credentials: Credentials,
    body: dict[str, str],
    *,
    timeout: tuple[float, float],
    session: requests.Session | None,
) -> Token:
    url = token_url(credentials.base_url)
    path = urlsplit(url).path
    http = session or requests.Session()
    try:
        response = http.post(
            url,
            json=body,
            headers={
                "Authorization": basic_auth_header(credentials.client_id, credentials.secret),
                "Accept": "application/json",
            },
            timeout=timeout,
            allow_redirects=False,  # a redirect turns the POST into a GET: the URL is not the API.
        )
    except requests.exceptions.RequestException as exc:
        reason = unreachable_reason(exc, timeout)
        raise AkeneoUnreachable(f"Could not reach {path}: {reason}", reason=reason, path=path) from None
    finally:
        if session is None:
            http.close()
    return _parse_token_response(response, credentials, path)


def _parse_token_response(response: requests.Response, credentials: Credentials, path: str) -> Token:
    body = json_or_none(response)
    if 300 <= response.status_code < 400:
        location = response.headers.get("Location", "")
        raise AkeneoNotAnAPI(
            f"The token endpoint redirected (HTTP {response.status_code}) to {location[:200]}",
            status=response.status_code,
            path=path,
        )
    if response.status_code >= 400:
        raise AkeneoHTTPError(
            f"Akeneo answered HTTP {response.status_code} on {path}",
            status=response.status_code,
            akeneo_message=credentials.redact(message_of(body, response)),
            path=path,
        )
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("access_token"), str)
        or not body["access_token"]
    ):
        what = (
            "an HTML page"
            if "html" in response.headers.get("Content-Type", "").lower()
            else ("a body that is not JSON" if body is None else "JSON without an access_token")
        )
        raise AkeneoNotAnAPI(f"The token endpoint answered {what}", status=response.status_code, path=path)
    expires_in = body.get("expires_in")
    return Token(
        access_token=body["access_token"],
        refresh_token=str(body.get("refresh_token") or ""),
        expires_in=int(expires_in) if isinstance(expires_in, int | float) else 3600,
    )


def json_or_none(response: requests.Response) -> object | None:
    try:
        return response.json()
    except (ValueError, json.JSONDecodeError):
        return None


def message_of(body: object | None, response: requests.Response) -> str:
    """Akeneo's `message`, or an OAuth `error`/`error_description`, or the start of a plain-text body."""
    if isinstance(body, dict):
        parts = [str(body[key]) for key in ("message", "error", "error_description") if body.get(key)]
        text = " — ".join(parts)
    elif "html" in response.headers.get("Content-Type", "").lower():
        text = ""
    else:
        text = response.text.strip()
    return text[:MAX_MESSAGE_LENGTH]


def unreachable_reason(exc: requests.exceptions.RequestException, timeout: tuple[float, float]) -> str:
    """A short human reason, without the exception text (which repeats URLs and internals)."""
    if isinstance(exc, requests.exceptions.SSLError):
        return "the TLS handshake failed (certificate or protocol problem)"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return f"no connection within {timeout[0]:g} seconds"
    if isinstance(exc, requests.exceptions.Timeout):
        return f"no answer within {timeout[1]:g} seconds"
    text = str(exc)
    if any(
        hint in text for hint in ("NameResolution", "Name or service not known", "getaddrinfo", "nodename")
    ):
        return "the host name could not be resolved"
    if "Connection refused" in text or "ECONNREFUSED" in text:
        return "the connection was refused"
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return "the URL is not valid"
    if "reset" in text.lower() or "RemoteDisconnected" in text or "aborted" in text.lower():
        return "the connection was closed by the server"
    return "the connection failed"
