"""The connection test service: every row of the message table, against a real local HTTP server."""

from __future__ import annotations

import base64
import json
import logging

import pytest

from connections import services
from connections.akeneo.auth import Credentials
from tests.fake_akeneo import VALID, closed_port_url

# scenario (path prefix of the fake server) -> the one message the user must read
MESSAGE_TABLE = [
    ("not-found", services.API_NOT_FOUND),
    ("method-not-allowed", services.API_NOT_FOUND),
    ("html", services.API_NOT_FOUND),
    ("not-json", services.API_NOT_FOUND),
    ("no-token", services.API_NOT_FOUND),
    ("redirect", services.API_NOT_FOUND),
    ("unauthorized", services.AUTHENTICATION_REJECTED),
    ("invalid-grant", services.AUTHENTICATION_REJECTED),
    ("invalid-client", services.AUTHENTICATION_REJECTED),
    ("wrong-client", services.AUTHENTICATION_REJECTED),
    ("wrong-user", services.AUTHENTICATION_REJECTED),
    ("forbidden", services.ACCESS_DENIED),
    ("bad-request", services.REQUEST_REJECTED),
    ("not-acceptable", services.REQUEST_REJECTED),
    ("unsupported-media", services.REQUEST_REJECTED),
    ("missing-grant", services.REQUEST_REJECTED),
    ("throttled", services.REQUEST_REJECTED),
    ("server-error", services.SERVER_ERROR),
    ("bad-gateway", services.SERVER_ERROR),
    ("unavailable", services.SERVER_ERROR),
]


def creds(base_url: str, **overrides: str) -> Credentials:
    return Credentials(base_url=base_url, **{**VALID, **overrides})


@pytest.mark.parametrize(("scenario", "message"), MESSAGE_TABLE)
def test_each_failure_gives_exactly_its_message(fake_akeneo, scenario, message):
    result = services.verify_credentials(creds(fake_akeneo.base_url(scenario)))
    assert not result.ok
    assert result.message == message
    assert result.explanation  # there is always an explanation beneath the message


def test_valid_credentials_pass(fake_akeneo):
    result = services.verify_credentials(creds(fake_akeneo.base_url()))
    assert result.ok
    assert result.message == "Connection OK"


def test_path_prefix_is_kept(fake_akeneo):
    assert services.verify_credentials(creds(fake_akeneo.base_url("pim"))).ok


def test_request_is_what_akeneo_expects(fake_akeneo):
    fake_akeneo.requests.clear()
    services.verify_credentials(creds(fake_akeneo.base_url()))
    [request] = fake_akeneo.requests
    assert request.path == "/api/oauth/v1/token"
    expected = base64.b64encode(f"{VALID['client_id']}:{VALID['secret']}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert request.headers["Accept"] == "application/json"
    assert "application/json" in request.headers["Content-Type"]
    assert json.loads(request.body) == {
        "grant_type": "password",
        "username": VALID["username"],
        "password": VALID["password"],
    }


@pytest.mark.parametrize("field", ["client_id", "secret"])
def test_wrong_client_or_secret_is_rejected_by_the_akeneo_like_server(fake_akeneo, field):
    result = services.verify_credentials(creds(fake_akeneo.base_url(), **{field: "nope"}))
    assert result.message == services.AUTHENTICATION_REJECTED
    assert "does not match any client" in result.explanation


@pytest.mark.parametrize("field", ["username", "password"])
def test_wrong_user_or_password_is_rejected(fake_akeneo, field):
    result = services.verify_credentials(creds(fake_akeneo.base_url(), **{field: "nope"}))
    assert result.message == services.AUTHENTICATION_REJECTED
    assert "No user found" in result.explanation


def test_non_latin_secret_is_sent_as_utf8(fake_akeneo):
    fake_akeneo.valid["secret"] = "sécret-密码"
    try:
        assert services.verify_credentials(creds(fake_akeneo.base_url(), secret="sécret-密码")).ok
    finally:
        fake_akeneo.valid["secret"] = VALID["secret"]


def test_closed_port_is_unreachable():
    result = services.verify_credentials(creds(closed_port_url()))
    assert result.message == services.UNREACHABLE
    assert "refused" in result.explanation


def test_unknown_host_is_unreachable():
    result = services.verify_credentials(creds("http://no-such-host.invalid"))
    assert result.message == services.UNREACHABLE
    assert "resolved" in result.explanation


def test_server_that_never_answers_times_out(silent_server, short_timeouts):
    result = services.verify_credentials(creds(silent_server.url))
    assert result.message == services.UNREACHABLE
    assert "No answer within 1 seconds" in result.explanation


def test_tls_failure_is_unreachable(fake_akeneo):
    # https against a plain-HTTP server: the TLS handshake fails.
    result = services.verify_credentials(creds(fake_akeneo.base_url().replace("http://", "https://")))
    assert result.message == services.UNREACHABLE
    assert "TLS" in result.explanation


def test_no_secret_in_results_or_logs_even_when_the_server_echoes_it(fake_akeneo, caplog):
    caplog.set_level(logging.DEBUG)
    results = [
        services.verify_credentials(creds(fake_akeneo.base_url(scenario)))
        for scenario in ("echo", "ok", "wrong-user", "not-found", "server-error")
    ]
    shown = " ".join(f"{r.message} {r.explanation} {r!r}" for r in results) + caplog.text
    assert results[0].message == services.AUTHENTICATION_REJECTED
    for secret in (VALID["secret"], VALID["password"], VALID["client_id"]):
        assert secret not in shown
    assert VALID["secret"] not in repr(creds(fake_akeneo.base_url()))
