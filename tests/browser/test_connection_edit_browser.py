"""The connection edit page's Run-a-Migration buttons with unsaved edits, in a real Chromium: the buttons post
their own form, so edits left in the connection form are asked about before a run starts without them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Dialog, Page, expect

from connections.models import Connection
from migrations_runs.models import MigrationRun, VerifyReport
from tests.factories import ConnectionFactory
from tests.support.browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CONNECTION_WARNING = (
    "You have unsaved changes to this connection. They will not be used by this migration: save first "
    "(Save and continue editing), or start anyway?"
)
RUN_PAGE = re.compile(r"/admin/migrations_runs/migrationrun/(\d+)/change/$")


@pytest.fixture
def connection() -> Connection:
    return ConnectionFactory(name="production", migration_entities=["locales"])


def open_edit_page(page: Page, live_server, connection: Connection) -> str:
    change = f"/admin/connections/connection/{connection.pk}/change/"
    log_in(page, live_server, change)
    expect(page.locator(".start-migration-button")).to_be_visible()
    return f"{live_server.url}{change}"


class Dialogs:
    """Records every dialog's text and answers it as `accept` says at that moment (Playwright would dismiss an
    unhandled dialog silently, so a warning nobody looked at would pass unseen)."""

    def __init__(self, page: Page) -> None:
        self.seen: list[str] = []
        self.accept = False
        page.on("dialog", self._answer)

    def _answer(self, dialog: Dialog) -> None:
        self.seen.append(dialog.message)
        if self.accept:
            dialog.accept()
        else:
            dialog.dismiss()


def test_an_edited_name_is_asked_about_before_starting(
    page: Page, live_server, admin_user, connection, enqueued
):
    url = open_edit_page(page, live_server, connection)
    dialogs = Dialogs(page)
    page.locator("#id_name").fill("production-renamed")

    page.get_by_role("button", name="Start migration").click()
    expect(page.locator("#id_name")).to_have_value("production-renamed")  # the page and its edit are kept
    assert dialogs.seen == [CONNECTION_WARNING]
    assert page.url == url
    assert not MigrationRun.objects.exists() and enqueued == []

    dialogs.accept = True
    page.get_by_role("button", name="Start migration").click()
    expect(page).to_have_url(RUN_PAGE)
    assert dialogs.seen == [CONNECTION_WARNING, CONNECTION_WARNING]
    run = MigrationRun.objects.get()
    assert run.entities == ["locales"] and enqueued == [run.pk]
    connection.refresh_from_db()
    assert connection.name == "production"  # starting saved nothing of the edit


def test_nothing_edited_starts_without_asking(page: Page, live_server, admin_user, connection, enqueued):
    """Ticking entities and the incremental mode is the migration's own choice, not an edit of the connection."""
    open_edit_page(page, live_server, connection)
    dialogs = Dialogs(page)
    page.get_by_label("Currencies", exact=True).check()
    page.get_by_label("Incremental", exact=False).check()
    page.get_by_role("button", name="Start migration").click()
    expect(page).to_have_url(RUN_PAGE)
    assert dialogs.seen == []
    run = MigrationRun.objects.get()
    assert set(run.entities) == {"locales", "currencies"} and enqueued == [run.pk]


def test_typing_then_reverting_is_not_an_edit(page: Page, live_server, admin_user, connection, enqueued):
    open_edit_page(page, live_server, connection)
    dialogs = Dialogs(page)
    name = page.locator("#id_name")
    name.press_sequentially("-x")
    name.press("Backspace")
    name.press("Backspace")
    expect(name).to_have_value("production")
    enabled = page.locator("#id_enabled")
    enabled.uncheck()
    enabled.check()
    page.get_by_role("button", name="Start migration").click()
    expect(page).to_have_url(RUN_PAGE)
    assert dialogs.seen == []
    assert MigrationRun.objects.count() == 1


def test_preview_and_verify_ask_too(page: Page, live_server, admin_user, connection, enqueued):
    url = open_edit_page(page, live_server, connection)
    dialogs = Dialogs(page)
    page.locator("#id_enabled").uncheck()
    page.get_by_role("button", name="Preview").click()
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#id_enabled")).not_to_be_checked()
    assert dialogs.seen == [
        CONNECTION_WARNING.replace("this migration", "this preview"),
        CONNECTION_WARNING.replace("this migration", "this verification"),
    ]
    assert page.url == url
    assert not VerifyReport.objects.exists() and not MigrationRun.objects.exists()


def test_unsaved_import_filters_are_named_as_such(page: Page, live_server, admin_user, connection, enqueued):
    """ "Save and continue editing" does not save the filters: the warning points at their own button."""
    open_edit_page(page, live_server, connection)
    dialogs = Dialogs(page)
    page.locator("#tab-link-import-filters").click()
    page.locator("[data-import-filters] input[type=text]").first.fill("ecommerce")
    page.locator("#tab-link-connection").click()
    page.get_by_role("button", name="Start migration").click()
    expect(page.locator(".start-migration-button")).to_be_visible()
    assert dialogs.seen == [
        "You have unsaved import filters. They will not be used by this migration: save them first "
        "(Save filters), or start anyway?"
    ]
    assert not MigrationRun.objects.exists()
