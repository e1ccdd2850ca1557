"""The client reads the environment's proxy and CA bundle once, for the connection's own host, and never ~/.netrc."""

from __future__ import annotations

import pytest
import requests

from connections.akeneo.auth import Credentials
from connections.akeneo.client import AkeneoClient


def client_for(base_url: str) -> AkeneoClient:
    return AkeneoClient(Credentials(base_url=base_url, client_id="i", secret="s", username="u", password="p"))


@pytest.fixture
def clean_env(monkeypatch):
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
    ):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


def test_the_environment_proxy_is_used_for_the_connection_host(clean_env):
    clean_env.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    client = client_for("https://pim.example.com")
    assert client.session.proxies.get("https") == "http://proxy.example:3128"
    assert client.session.trust_env is False  # not looked up again on every request


def test_no_proxy_for_a_host_listed_in_no_proxy(clean_env):
    clean_env.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    clean_env.setenv("NO_PROXY", ".example.com")
    assert client_for("https://pim.example.com").session.proxies == {}


def test_a_ca_bundle_from_the_environment_is_kept(clean_env, tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    clean_env.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    assert client_for("https://pim.example.com").session.verify == str(bundle)


def test_netrc_credentials_are_never_sent(clean_env, tmp_path):
    (tmp_path / ".netrc").write_text("machine pim.example.com login someone password leaked\n")
    clean_env.setenv("NETRC", str(tmp_path / ".netrc"))
    client = client_for("https://pim.example.com")
    prepared = client.session.prepare_request(
        requests.Request("GET", "https://pim.example.com/api/rest/v1/locales")
    )
    merged = client.session.merge_environment_settings(prepared.url, {}, None, None, None)
    assert "Authorization" not in prepared.headers and merged["proxies"] == {}
