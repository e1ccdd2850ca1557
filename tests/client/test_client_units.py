"""Client pieces that need no server: parameter encoding, link resolution, Retry-After, backoff, list URLs."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from connections.akeneo.auth import Credentials
from connections.akeneo.client import AkeneoClient, ClientSettings, encode_params, parse_retry_after
from connections.akeneo.errors import AkeneoForeignLink


def client(base_url: str = "https://pim.example/pim", **settings) -> AkeneoClient:
    creds = Credentials(base_url=base_url, client_id="c", secret="s", username="u", password="p")
    return AkeneoClient(creds, ClientSettings(**settings), jitter=lambda: 1.0)


def test_encode_params_like_akeneo():
    encoded = encode_params(
        {
            "search": {"updated": [{"operator": ">", "value": "2026-01-01 00:00:00"}]},
            "locales": ["en_US", "fr_FR"],
            "attributes": ("name",),
            "with_count": True,
            "scope": "ecommerce",
            "skipped": None,
        }
    )
    assert json.loads(encoded["search"]) == {"updated": [{"operator": ">", "value": "2026-01-01 00:00:00"}]}
    assert ", " not in encoded["search"] and ": " not in encoded["search"]  # compact JSON keeps URLs short
    assert encoded["locales"] == "en_US,fr_FR"
    assert encoded["attributes"] == "name"
    assert encoded["with_count"] == "true"
    assert encoded["scope"] == "ecommerce"
    assert "skipped" not in encoded


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("/api/rest/v1/products?page=2", "https://pim.example/pim/api/rest/v1/products?page=2"),
        ("https://PIM.example:443/pim/api/x?a=1", "https://pim.example/pim/api/x?a=1"),  # case, default port
        ("https://pim.example./pim/api/x", "https://pim.example/pim/api/x"),
        ("/pim/api/../api/x", "https://pim.example/pim/api/x"),
        ("/pimx/api/x", "https://pim.example/pim/pimx/api/x"),  # not under /pim: it gets the prefix
        ("/pim//../x", "https://pim.example/pim/x"),  # resolved before sending: the server sees /pim/x
        ("/pim/api/rest/v1/products?page=2", "https://pim.example/pim/api/rest/v1/products?page=2"),
        ("api/rest/v1/products", "https://pim.example/pim/api/rest/v1/products"),
    ],
)
def test_links_resolve_against_the_base_url_keeping_its_prefix(href, expected):
    assert client().absolute(href) == expected


@pytest.mark.parametrize(
    ("href", "named"),
    [
        ("https://other.example/pim/api/x", "https://other.example:443"),
        ("//evil.example/pim/api/x", "https://evil.example:443"),
        ("http://pim.example/pim/api/x", "http://pim.example:80"),  # no downgrade to cleartext
        ("https://pim.example:8443/pim/api/x", "https://pim.example:8443"),
        ("https://pim.example@evil.example/pim/api/x", "https://evil.example:443"),
        ("https://evil.example@pim.example/pim/api/x", "user information"),
        ("https://pim.example\\@evil.example/pim/x", "https://evil.example:443"),
        ("https://pim.example:99999/pim/x", "invalid port"),
        ("https://pim.example/pimx/api/x", "outside this connection's path '/pim'"),
        ("https://pim.example/pim/../x", "outside this connection's path"),
        ("/pim/../x", "outside this connection's path"),
        ("../../x", "outside this connection's path"),
        ("/pim/%2e%2e/x", "outside this connection's path"),
        ("/pim/..%2Fx", "outside this connection's path"),
        ("javascript:alert(1)", "javascript://"),
    ],
)
def test_links_elsewhere_are_refused_naming_where_they_point(href, named):
    with pytest.raises(AkeneoForeignLink) as refused:
        client().absolute(href)
    assert named in str(refused.value)
    assert not refused.value.retryable


def test_ipv6_hosts_compare_by_address():
    c = client("http://[::1]:8080")
    assert c.absolute("http://[0:0::1]:8080/api/x") == "http://[::1]:8080/api/x"
    with pytest.raises(AkeneoForeignLink, match=r"http://\[::2\]:8080"):
        c.absolute("http://[::2]:8080/api/x")
    assert client("http://pim.example").absolute("http://pim.example:80/x") == "http://pim.example/x"


@pytest.mark.parametrize(
    ("header", "seconds"), [("3", 3.0), ("0", 0.0), (None, None), ("soon", None), ("100000", 100000.0)]
)
def test_retry_after(header, seconds):
    assert parse_retry_after(header) == seconds


def test_retry_after_http_date():
    import email.utils
    import time

    value = email.utils.formatdate(time.time() + 20, usegmt=True)
    assert 15 <= parse_retry_after(value) <= 21


def test_backoff_grows_exponentially_and_is_capped():
    c = client(backoff_base=0.5, backoff_max=4)
    assert [c._backoff(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    low = AkeneoClient(c.credentials, c.settings, jitter=lambda: 0.0)
    assert low._backoff(3) == 1.0  # equal jitter: at least half the ceiling


def test_list_urls_choose_the_pagination_akeneo_supports():
    c = client(page_size=100)
    c._products_path = "/api/rest/v1/products-uuid"

    def query(resource, **kwargs):
        parts = urlsplit(c.list_url(resource, **kwargs))
        return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}

    assert query("categories") == (
        "/pim/api/rest/v1/categories",
        {"limit": "100", "with_position": "true", "with_enriched_attributes": "true"},
    )
    assert query("products-uuid") == (
        "/pim/api/rest/v1/products-uuid",
        {"limit": "100", "pagination_type": "search_after"},
    )
    assert query("attribute-options", parent="color") == (
        "/pim/api/rest/v1/attributes/color/options",
        {"limit": "100"},
    )
    assert query("reference-entity-records", parent="brands") == (
        "/pim/api/rest/v1/reference-entities/brands/records",
        {},
    )
    assert query("measurement-families") == ("/pim/api/rest/v1/measurement-families", {})
    _path, params = query("product-models", params={"search": {"parent": [{"operator": "EMPTY"}]}})
    assert json.loads(params["search"]) == {"parent": [{"operator": "EMPTY"}]}


def test_media_paths_keep_slashes():
    code = "7/5/8/e/758e39d48ea7b42a55091434fd3d8b6cf3189b7f_10806799_1356.jpg"
    assert AkeneoClient.media_download_path("product", code) == f"/api/rest/v1/media-files/{code}/download"
    assert (
        AkeneoClient.media_download_path("asset", "a/b c.png") == "/api/rest/v1/asset-media-files/a/b%20c.png"
    )


def test_secrets_are_not_in_repr_of_credentials():
    text = repr(client().credentials)
    assert "password=" not in text and "secret=" not in text and "client_id=" not in text


def test_a_percent_encoded_prefix_is_compared_encoded_and_decoded():
    c = client("https://pim.example/my%20pim")
    assert c.absolute("/my%20pim/api/x") == "https://pim.example/my%20pim/api/x"
    assert c.absolute("https://pim.example/my%20pim/api/x") == "https://pim.example/my%20pim/api/x"
    with pytest.raises(AkeneoForeignLink):
        c.absolute("https://pim.example/my%20pim/%2e%2e/x")
