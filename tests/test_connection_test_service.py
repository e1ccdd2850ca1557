"""The connection test service: every row of the message table, against the demo Akeneo's token faults."""

from __future__ import annotations

import base64
import json
import logging

import pytest

from connections import services
from connections.akeneo.auth import Credentials
from tests.hostile_akeneo import HostileAkeneo
from tests.support.akeneo import VALID, closed_port_url
from tests.support.connections import MESSAGE_TABLE


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
    fake_akeneo.requests.clear()
    assert services.verify_credentials(creds(fake_akeneo.base_url("pim"))).ok
    assert [request.path for request in fake_akeneo.requests] == ["/pim/api/oauth/v1/token"]


def test_request_is_what_akeneo_expects(fake_akeneo):
    recorder = HostileAkeneo(fake_akeneo.demo)  # tampers with nothing: it records what reaches Akeneo
    try:
        assert services.verify_credentials(creds(recorder.base_url)).ok
    finally:
        recorder.stop()
    [request] = recorder.requests
    assert (request["method"], request["path"]) == ("POST", "/api/oauth/v1/token")
    expected = base64.b64encode(f"{VALID['client_id']}:{VALID['secret']}".encode()).decode()
    assert request["authorization"] == f"Basic {expected}"
    assert request["headers"]["Accept"] == "application/json"
    assert "application/json" in request["headers"]["Content-Type"]
    assert json.loads(request["body"]) == {
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
