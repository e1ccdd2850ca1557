"""The Import Filters tab in a real Chromium, against the demo Akeneo (the Save filters button's script)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import connection_for
from tests.support.browser import log_in
from tests.support.demo import demo_fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


demo = demo_fixture(products=20)


def test_save_filters_in_a_real_browser(page, live_server, admin_user, demo, screenshot_dir):
    """The button posts the connection form to the filters view; Enter in a filter field does the same."""
    connection = connection_for(demo, name="browser")
    path = reverse("admin:connections_connection_change", args=[connection.pk])
    log_in(page, live_server, path)
    page.locator('[data-tab="import-filters"]').click()
    page.fill("#id_filters-families", "shoes, food")
    page.select_option("#id_filters-status", "enabled")
    page.locator("[data-save-filters]").click()
    page.wait_for_url(f"{live_server.url}{path}#import-filters")
    page.screenshot(path=str(screenshot_dir / "import-filters.png"), full_page=True)
    connection.refresh_from_db()
    assert connection.import_filters == {"families": ["shoes", "food"], "status": "enabled"}
    assert page.locator('[data-panel="import-filters"]').is_visible()
    page.fill("#id_filters-families", "boats")
    page.press("#id_filters-families", "Enter")
    page.wait_for_load_state()
    assert page.locator('[data-filter-error="families"]').inner_text().strip() == (
        "Families that do not exist in Akeneo: boats."
    )
    connection.refresh_from_db()
    assert connection.import_filters == {"families": ["shoes", "food"], "status": "enabled"}
