"""Browser tests: a real Chromium (Debian's, never a downloaded one) driven through Playwright's sync API."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.browser import USER_PASSWORD, USERNAME

# Playwright's sync API runs an event loop in this thread; Django would otherwise refuse ORM calls here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT_DIR = Path(os.environ.get("BROWSER_SCREENSHOT_DIR", "/tmp/browser-shots"))
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian chromium (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser(
        username=USERNAME, password=USER_PASSWORD, email="root@x.test"
    )


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR


# The migration flow needs the real worker on a real Redis: the integration fixtures, shared here.
from tests.support.services import (  # noqa: E402, F401
    celery_app_on_test_redis,
    celery_worker,
    redis_client,
    redis_server,
    worker_env,
)
