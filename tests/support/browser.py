"""The browser tests' user and log-in step (the `admin_user` fixture in tests/browser/conftest.py creates it)."""

from __future__ import annotations

from playwright.sync_api import Page

USERNAME = "root"
USER_PASSWORD = "pw-for-tests-123"


def log_in(page: Page, live_server, next_path: str = "/admin/") -> None:
    page.goto(f"{live_server.url}/admin/login/?next={next_path}")
    page.fill("#id_username", USERNAME)
    page.fill("#id_password", USER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}{next_path}")
