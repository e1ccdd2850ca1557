"""A migration driven from the browser: tick entities, start, watch it complete live, audit it in the history."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from migrations_runs.models import MigrationRun
from tests.factories import connection_for
from tests.support.browser import log_in
from tests.support.demo import demo_fixture

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


demo = demo_fixture(products=60, scope="function")


def test_start_watch_and_audit_a_migration(
    page: Page, live_server, admin_user, demo, celery_worker, screenshot_dir
):
    connection = connection_for(demo, name="demo")
    change = f"/admin/connections/connection/{connection.pk}/change/"
    log_in(page, live_server, change)

    counter = page.locator("[data-entity-counter]")
    expect(counter).to_have_text("0 of 13 selected")
    page.get_by_role("button", name="Select all").click()
    expect(counter).to_have_text("13 of 13 selected")
    page.get_by_role("button", name="Clear all").click()
    for label in ("Products", "Locales", "Categories"):
        page.get_by_label(label, exact=True).check()
    expect(counter).to_have_text("3 of 13 selected")
    page.get_by_role("button", name="Start migration").click()

    run = MigrationRun.objects.get()
    expect(page).to_have_url(re.compile(rf"/admin/migrations_runs/migrationrun/{run.pk}/change/$"))
    # No reload: the page polls and the counters move until the run completes.
    expect(page.locator("[data-run-status]")).to_have_text("Completed", timeout=90_000)
    products = page.locator('[data-step="products"]')
    expect(products.locator('[data-field="status_display"]')).to_have_text("Completed")
    expect(products.locator('[data-field="read"]')).to_have_text("60")
    expect(products.locator('[data-field="created"]')).to_have_text("60")
    assert [row.get_attribute("data-step") for row in page.locator("[data-step]").all()] == [
        "locales", "categories", "products",
    ]  # fmt: skip
    page.screenshot(path=str(screenshot_dir / "run-completed.png"), full_page=True)

    page.goto(f"{live_server.url}{change}#migration-history")
    row = page.locator(f'[data-run="{run.pk}"]')
    expect(row).to_be_visible()
    expect(row).to_contain_text("Completed")
    expect(row).to_contain_text("*****")
    page.screenshot(path=str(screenshot_dir / "migration-history.png"), full_page=True)
    row.get_by_role("link", name="View").click()
    expect(page.locator("h1")).to_contain_text(f"Migration run #{run.pk}")
    expect(page.locator(".run-reconciliation")).to_contain_text("Products")
