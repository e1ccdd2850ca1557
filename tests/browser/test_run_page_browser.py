"""The run page of a completed run in Chromium (formatted log, throughput chart, no busy bars, usable at 800 px),
and deletes from the connection's Migration History tab that land back on that tab."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from migrations_runs.models import MigrationLog, MigrationRun, Status
from migrations_runs.services import start_run
from tests.factories import connection_for
from tests.support.browser import log_in
from tests.support.demo import demo_fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

YES = "Yes, I\u2019m sure"  # Django's delete confirmation button
TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


demo = demo_fixture(products=12, scope="function")


def completed_run(connection) -> MigrationRun:
    call_command(
        "akeneo_migrate", str(connection.pk), "--entities", "locales,products", "--sync", stdout=StringIO()
    )
    run = MigrationRun.objects.filter(connection=connection).latest("pk")
    assert run.status == Status.COMPLETED
    return run


def test_completed_run_page(page: Page, live_server, admin_user, demo, screenshot_dir):
    connection = connection_for(demo, name="demo")
    run = completed_run(connection)
    MigrationLog.objects.create(
        step=run.steps.get(entity="products"), level="warning", code="sku-1", message="Odd value"
    )
    run_path = f"/admin/migrations_runs/migrationrun/{run.pk}/change/"
    log_in(page, live_server, run_path)

    warning = page.locator("[data-log] tr.log-warning").first
    cells = warning.locator("td")
    expect(cells.nth(1)).to_have_text("Warning")
    expect(cells.nth(2)).to_have_text("Products")
    expect(cells.nth(0)).to_have_text(TIME)
    for time in page.locator("[data-log] td.log-time").all_text_contents():
        assert TIME.match(time), time
    expect(page.locator("[data-run-started]")).to_have_text(TIME)

    # Finished steps: full determinate bars, no ETA, nothing animated.
    assert page.locator("progress:indeterminate").count() == 0
    expect(page.locator('[data-step="products"] [data-field="eta_seconds"]')).to_have_text("—")
    expect(page.locator('[data-step="products"] progress')).to_have_attribute("value", "100")

    # The chart: a records/s and a media/s panel, one segment per entity, drawn by the page's own script.
    chart = page.locator("[data-run-chart]")
    expect(chart.locator('svg[data-chart="records_rate"]')).to_be_visible()
    expect(chart.locator('svg[data-chart="media_rate"]')).to_be_visible()
    segments = chart.locator('svg[data-chart="records_rate"] line.segment')
    expect(segments).to_have_count(2)
    assert {s.get_attribute("data-entity") for s in segments.all()} == {"locales", "products"}
    expect(chart.locator(".run-chart-legend li")).to_have_text(["Locales", "Products"])
    page.screenshot(path=str(screenshot_dir / "run-page-completed.png"), full_page=True)

    # At 800 px the steps table scrolls inside its box; the page itself does not grow sideways.
    page.set_viewport_size({"width": 800, "height": 900})
    page.reload()
    widths = page.evaluate(
        """() => {
            const box = document.querySelector('.run-table-scroll');
            return {page: document.documentElement.scrollWidth, view: window.innerWidth,
                    box: box.clientWidth, table: box.scrollWidth,
                    overflow: getComputedStyle(box).overflowX};
        }"""
    )
    assert widths["page"] <= widths["view"] and widths["overflow"] == "auto", widths
    expect(page.locator('[data-step="products"] [data-field="read"]')).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "run-page-800.png"), full_page=True)


def test_delete_from_migration_history_returns_to_the_tab(page: Page, live_server, admin_user, demo):
    connection = connection_for(demo, name="demo")
    runs = []
    for _ in range(3):
        run = start_run(connection, ["locales"], enqueue=False)
        MigrationRun.objects.filter(pk=run.pk).update(status=Status.COMPLETED)
        runs.append(run)
    change = f"/admin/connections/connection/{connection.pk}/change/"
    log_in(page, live_server, change)
    tab_url = re.compile(rf"{re.escape(change)}#migration-history$")

    # One run, through its Delete link.
    page.locator("#tab-link-migration-history").click()
    page.locator(f'[data-run="{runs[0].pk}"]').get_by_role("link", name="Delete").click()
    page.get_by_role("button", name=YES).click()
    expect(page).to_have_url(tab_url)
    expect(page.locator("#panel-migration-history")).to_be_visible()
    expect(page.locator(f'[data-run="{runs[0].pk}"]')).to_have_count(0)
    expect(page.locator(f'[data-run="{runs[1].pk}"]')).to_be_visible()

    # Several, through the tab's bulk delete.
    page.get_by_label(f"Select run {runs[1].pk}").check()
    page.get_by_label(f"Select run {runs[2].pk}").check()
    page.get_by_role("button", name="Delete selected runs").click()
    page.get_by_role("button", name=YES).click()
    expect(page).to_have_url(tab_url)
    expect(page.locator("#panel-migration-history")).to_be_visible()
    expect(page.locator("#panel-migration-history")).to_contain_text("No migration has been run")
    assert not MigrationRun.objects.filter(connection=connection).exists()


def test_cancel_asks_before_cancelling(page: Page, live_server, admin_user, demo):
    connection = connection_for(demo, name="demo")
    run = start_run(connection, ["locales"], enqueue=False)
    run_path = f"/admin/migrations_runs/migrationrun/{run.pk}/change/"
    log_in(page, live_server, run_path)
    page.locator("[data-cancel]").click()
    expect(page.locator("[data-cancel-confirmation]")).to_contain_text(f"cancel migration run #{run.pk}")
    page.get_by_role("link", name="No, keep it running").click()
    expect(page).to_have_url(f"{live_server.url}{run_path}")
    run.refresh_from_db()
    assert run.status == Status.QUEUED
    page.locator("[data-cancel]").click()
    page.get_by_role("button", name="Yes, cancel the run").click()
    expect(page.locator("[data-run-status]")).to_have_text("Cancelled")
    run.refresh_from_db()
    assert run.status == Status.CANCELLED


def test_runs_list_fits_1280(page: Page, live_server, admin_user, demo, screenshot_dir):
    from migrations_runs.entities import ENTITY_CODES

    connection = connection_for(demo, name="demo")
    run = start_run(connection, list(ENTITY_CODES), user=admin_user, enqueue=False)
    MigrationRun.objects.filter(pk=run.pk).update(started_at=run.created_at)
    other = connection_for(demo, name="akeneo-production-eu")
    some = start_run(
        other, ["locales", "currencies", "channels", "product-models", "products"], enqueue=False
    )
    MigrationRun.objects.filter(pk=some.pk).update(started_at=some.created_at)
    log_in(page, live_server, "/admin/migrations_runs/migrationrun/")
    expect(page.locator("#result_list")).to_contain_text("Locales, Currencies +3")
    row = page.locator(f'#result_list tbody tr:has(a[href$="/{run.pk}/change/"])')
    expect(row.locator("td.field-entities_display")).to_have_text(f"All {len(ENTITY_CODES)} entities")
    expect(row.locator("td.field-started_display")).to_have_text(TIME)
    user = row.locator("td.field-user")
    expect(user).to_have_text(admin_user.get_username())
    # Visible, not merely laid out: the list does not scroll inside its box, the User cell ends within it.
    results = page.locator("#changelist .results")
    page.screenshot(path=str(screenshot_dir / "runs-list-1280.png"), full_page=True)
    widths = results.evaluate(
        "node => [node.scrollWidth, node.clientWidth, Array.from(node.querySelectorAll('tbody tr:first-child td,"
        " tbody tr:first-child th')).map(c => c.className + ':' + Math.round(c.getBoundingClientRect().width))]"
    )
    assert widths[0] <= widths[1], str(widths)
    box, frame = user.bounding_box(), results.bounding_box()
    assert box and frame and box["x"] + box["width"] <= frame["x"] + frame["width"] <= 1280, (box, frame)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    page.screenshot(path=str(screenshot_dir / "runs-list-1280.png"), full_page=True)
