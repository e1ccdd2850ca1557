"""The hostile test server does what it says: raw HTTP against it, so these prove the test tool itself."""

from __future__ import annotations

import time

import requests

from tests.support.demo import demo_fixture

PRODUCTS = "/api/rest/v1/products-uuid?limit=10&pagination_type=search_after"


demo = demo_fixture(products=30)


def token(server) -> str:
    creds = server.credentials
    answer = requests.post(
        server.base_url + "/api/oauth/v1/token",
        json={"grant_type": "password", "username": creds["username"], "password": creds["password"]},
        auth=(creds["client_id"], creds["secret"]),
        timeout=5,
    )
    answer.raise_for_status()
    return answer.json()["access_token"]


def get(server, path, **kwargs):
    headers = {"Authorization": f"Bearer {token(server)}", "Accept": "application/json"}
    return requests.get(server.base_url + path, headers=headers, timeout=10, **kwargs)


def test_plain_proxy_rewrites_the_origin(hostile, demo):
    server = hostile()
    page = get(server, PRODUCTS).json()
    assert page["_links"]["next"]["href"].startswith(server.base_url + "/api/rest/v1/products-uuid")
    assert demo.base_url not in str(page)


def test_foreign_links(hostile):
    server = hostile(foreign_next=True, foreign_media=True)
    page = get(server, PRODUCTS).json()
    assert page["_links"]["next"]["href"].startswith(server.foreign.base_url)
    hrefs = [
        entry["_links"]["download"]["href"]
        for item in page["_embedded"]["items"]
        for entries in item["values"].values()
        for entry in entries
        if "_links" in entry
    ]
    assert hrefs
    assert all(href.startswith(server.foreign.base_url) for href in hrefs)


def test_loops_and_bad_items(hostile):
    server = hostile(self_next=True, null_items=True)
    page = get(server, PRODUCTS).json()
    assert page["_links"]["next"]["href"] == server.base_url + PRODUCTS
    items = page["_embedded"]["items"]
    assert None in items and "x" in items and 5 in items
    endless = hostile(endless_next=True)
    first = get(endless, PRODUCTS).json()
    second = get(endless, first["_links"]["next"]["href"].removeprefix(endless.base_url)).json()
    assert second["_links"]["next"]["href"] != first["_links"]["next"]["href"]
    assert second["_embedded"]["items"] == first["_embedded"]["items"]


def test_media_codes_and_types(hostile):
    server = hostile(media_code="../../escape-{n}.jpg", media_type="image/svg+xml")
    page = get(server, PRODUCTS).json()
    entries = [
        e for i in page["_embedded"]["items"] for v in i["values"].values() for e in v if "_links" in e
    ]
    assert entries and all(e["data"].startswith("../../escape-") for e in entries)
    media = get(server, entries[0]["_links"]["download"]["href"].removeprefix(server.base_url))
    assert media.headers["Content-Type"] == "image/svg+xml" and b"<script>" in media.content


def test_huge_page_retry_after_and_huge_media(hostile):
    server = hostile(huge_page=500)
    assert len(get(server, PRODUCTS).json()["_embedded"]["items"]) == 500
    throttled = hostile(retry_after=100000)
    answer = get(throttled, PRODUCTS)
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "100000"
    big = hostile(huge_media=3 * 1024 * 1024)
    code = next(
        e["_links"]["download"]["href"]
        for i in get(big, PRODUCTS).json()["_embedded"]["items"]
        for v in i["values"].values()
        for e in v
        if "_links" in e
    )
    answer = get(big, code.removeprefix(big.base_url), stream=True)
    assert answer.headers["Content-Length"] == str(3 * 1024 * 1024)
    answer.close()


def test_drip_media(hostile):
    server = hostile(drip_media=0.3)
    href = next(
        e["_links"]["download"]["href"]
        for i in get(server, PRODUCTS).json()["_embedded"]["items"]
        for v in i["values"].values()
        for e in v
        if "_links" in e
    )
    started = time.monotonic()
    answer = get(server, href.removeprefix(server.base_url), stream=True)
    first = next(answer.iter_content(1))
    answer.close()
    assert len(first) == 1 and time.monotonic() - started >= 0.3
