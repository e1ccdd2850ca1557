"""The Connections admin driven through a real Chromium, against the demo Akeneo's token endpoint."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from connections.forms import MASK_CHARACTER
from connections.models import Connection
from tests.factories import ConnectionFactory
from tests.support.akeneo import VALID
from tests.support.browser import USERNAME, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


CHANGE_URL = re.compile(r"/admin/connections/connection/(\d+)/change/(#.*)?$")
ADD_URL = re.compile(r"/admin/connections/connection/add/$")


def fill_create_form(page: Page, base_url: str, **overrides: str) -> None:
    values = {**VALID, **overrides}
    page.get_by_label("Akeneo Base URL").fill(base_url)
    page.get_by_label("Client ID").fill(values["client_id"])
    page.get_by_label("Secret").fill(values["secret"])
    page.get_by_label("Username").fill(values["username"])
    page.get_by_label("Password").fill(values["password"])


def expect_tab_shown(page: Page, name: str) -> None:
    for tab in ("connection", "history", "migration-history"):
        panel = page.locator(f'[data-panel="{tab}"]')
        link = page.locator(f'[data-tab="{tab}"]')
        if tab == name:
            expect(panel).to_be_visible()
            expect(link).to_have_class(re.compile(r"\bactive\b"))
            expect(link).to_have_attribute("aria-selected", "true")
        else:
            expect(panel).to_be_hidden()
            expect(link).to_have_attribute("aria-selected", "false")


def test_create_connection_lands_on_tabbed_edit_page(
    page, live_server, admin_user, fake_akeneo, screenshot_dir
):
    log_in(page, live_server)

    section = page.locator("#content-main .module", has=page.locator("caption", has_text="Akeneo Migration"))
    section.get_by_role("link", name="Connections", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/admin/connections/connection/")

    page.locator("#content-main").get_by_role("link", name="Create connection").click()
    expect(page).to_have_url(ADD_URL)
    expect(page.locator("h1")).to_have_text("Create connection")

    fill_create_form(page, fake_akeneo.base_url())
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page).to_have_url(CHANGE_URL)
    connection = Connection.objects.get()
    assert page.url.startswith(f"{live_server.url}/admin/connections/connection/{connection.pk}/change/")
    assert connection.name == f"127.0.0.1:{fake_akeneo.port}"
    assert connection.enabled
    expect(page.locator(".messagelist")).to_contain_text("Connection OK")

    for label in ("Connection", "History", "Migration History"):
        expect(page.get_by_role("tab", name=label, exact=True)).to_be_visible()
    expect_tab_shown(page, "connection")
    expect(page.locator("#id_name")).to_have_value(connection.name)

    secret_input = page.locator('input[name="secret"]')
    password_input = page.locator('input[name="password"]')
    expect(secret_input).to_have_attribute("type", "password")
    expect(password_input).to_have_attribute("type", "password")
    assert secret_input.get_attribute("value") == MASK_CHARACTER * len(VALID["secret"])
    assert password_input.get_attribute("value") == MASK_CHARACTER * len(VALID["password"])

    html = page.content()
    assert VALID["secret"] not in html
    assert VALID["password"] not in html

    page.screenshot(path=str(screenshot_dir / "edit-page.png"), full_page=True)


def test_rejected_credentials_save_nothing_and_keep_the_typed_fields(
    page, live_server, admin_user, fake_akeneo, screenshot_dir
):
    log_in(page, live_server, "/admin/connections/connection/add/")
    fill_create_form(page, fake_akeneo.base_url(), password="not-the-password")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator("#content-main")).to_contain_text("Authentication was rejected")
    expect(page).to_have_url(ADD_URL)
    assert Connection.objects.count() == 0

    expect(page.get_by_label("Akeneo Base URL")).to_have_value(fake_akeneo.base_url())
    expect(page.get_by_label("Username")).to_have_value(VALID["username"])
    expect(page.get_by_label("Secret")).to_have_value("")
    expect(page.get_by_label("Password")).to_have_value("")
    html = page.content()
    assert VALID["secret"] not in html
    assert "not-the-password" not in html
    page.screenshot(path=str(screenshot_dir / "create-rejected.png"), full_page=True)


def test_rename_shows_in_history_tab_and_rejected_password_change_keeps_stored_one(
    page, live_server, admin_user, fake_akeneo, screenshot_dir
):
    connection = ConnectionFactory(base_url=fake_akeneo.base_url())
    old_name = connection.name
    change_path = f"/admin/connections/connection/{connection.pk}/change/"
    log_in(page, live_server, change_path)

    page.locator("#id_name").fill("Renamed PIM")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    expect(page).to_have_url(CHANGE_URL)
    connection.refresh_from_db()
    assert connection.name == "Renamed PIM"

    page.locator('[data-tab="history"]').click()
    expect_tab_shown(page, "history")
    expect(page.locator(".submit-row")).to_be_hidden()
    assert page.url.endswith("#history")
    rows = page.locator('[data-panel="history"] table.connection-history tbody tr')
    name_row = rows.filter(has=page.locator("td:nth-child(3)", has_text=re.compile(r"^Name$")))
    expect(name_row).to_have_count(1)
    expect(name_row.locator("td")).to_have_text(
        [re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$"), USERNAME, "Name", old_name, "Renamed PIM"]
    )
    page.screenshot(path=str(screenshot_dir / "history-tab.png"), full_page=True)

    # Back to the Connection tab: a new password that Akeneo rejects is not saved, nor echoed back.
    page.locator('[data-tab="connection"]').click()
    expect_tab_shown(page, "connection")
    page.locator('input[name="password"]').fill("Rejected-New-Pass-1")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator("#content-main")).to_contain_text("Authentication was rejected")
    assert "Rejected-New-Pass-1" not in page.content()
    connection.refresh_from_db()
    assert connection.password == VALID["password"]
    assert connection.password_revision == 1


def test_accepted_password_change_is_saved_and_listed_as_changed_in_history(
    page, live_server, admin_user, fake_akeneo
):
    connection = ConnectionFactory(base_url=fake_akeneo.base_url())
    log_in(page, live_server, f"/admin/connections/connection/{connection.pk}/change/")
    new_password = "Rotated-Pass-42"
    fake_akeneo.valid["password"] = new_password  # Akeneo's side was changed first
    try:
        page.locator('input[name="password"]').fill(new_password)
        page.get_by_role("button", name="Save and continue editing").click()
        expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    finally:
        fake_akeneo.valid["password"] = VALID["password"]
    connection.refresh_from_db()
    assert connection.password == new_password
    assert page.locator('input[name="password"]').get_attribute("value") == MASK_CHARACTER * len(new_password)
    assert new_password not in page.content()

    page.locator('[data-tab="history"]').click()
    rows = page.locator('[data-panel="history"] table.connection-history tbody tr')
    # (The factory's own second save is listed too, by "system": only the user's change is checked.)
    password_row = rows.filter(
        has=page.locator("td:nth-child(3)", has_text=re.compile(r"^Password$"))
    ).filter(has=page.locator("td:nth-child(2)", has_text=re.compile(rf"^{USERNAME}$")))
    expect(password_row).to_have_count(1)
    expect(password_row.locator("td")).to_have_text(
        [re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$"), USERNAME, "Password", "—", "changed"]
    )
    assert new_password not in page.content()
