"""Helpers for the demo Akeneo tests: a logged-in client that follows Akeneo's `_links` like a migration does."""

from __future__ import annotations

from typing import Any

import requests

from demo_akeneo.server import DemoServer

SMALL_CATALOG = 250  # 12 full blocks + 10 slots: a partial last block, 2 identifier-less products
API = "/api/rest/v1"


class Client:
    """A logged-in session against one demo server (what a migration client would hold)."""

    def __init__(self, server: DemoServer) -> None:
        self.server = server
        self.base = server.base_url
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        self.token = self.login()
        self.session.headers["Authorization"] = f"Bearer {self.token}"

    def login(self) -> str:
        return token(self.server)["access_token"]

    def get(self, path: str, **params: Any) -> requests.Response:
        url = path if path.startswith("http") else self.base + path
        return self.session.get(url, params=params or None, timeout=30)

    def json(self, path: str, **params: Any) -> Any:
        response = self.get(path, **params)
        assert response.status_code == 200, (response.status_code, response.text[:500])
        return response.json()

    def follow(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a list, following `_links.next.href` until it is absent."""
        items: list[dict[str, Any]] = []
        page = self.json(path, **params)
        while True:
            items.extend(page["_embedded"]["items"])
            nxt = page["_links"].get("next")
            if not nxt:
                return items
            page = self.json(nxt["href"])


def token(server: DemoServer, **overrides: Any) -> dict[str, Any]:
    creds = server.credentials
    body = {"grant_type": "password", "username": creds["username"], "password": creds["password"]}
    body.update(overrides)
    response = requests.post(
        server.base_url + "/api/oauth/v1/token",
        auth=(creds["client_id"], creds["secret"]),
        json=body,
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()
