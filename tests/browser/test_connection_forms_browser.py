"""Create connection in a real Chromium: the "Testing the connection…" state while Akeneo has not answered
(the demo Akeneo's `silent` token fault), and the hint to type the Secret and Password again after a failed test."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from connections.models import Connection
from tests.support.akeneo import VALID
from tests.support.browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADD_PATH = "/admin/connections/connection/add/"
STATE_MARK = "connection-testing-state:"
# Installed by the test before saving. While the next page is pending, Playwright queries the page only once
# it has arrived, so the page reports its own state (a console line) as soon as it changes.
REPORT_WAITING_STATE = """(mark) => {
    const form = document.getElementById("connection_form");
    const save = form.querySelector('input[name="_save"]');
    const status = document.querySelector("[data-connection-testing]");
    const report = () => {
        const shown = !status.hidden && status.getBoundingClientRect().height > 0;
        if (!shown || !save.disabled) { return; }
        observer.disconnect();
        console.log(mark + JSON.stringify({
            saveDisabled: save.disabled,
            statusText: status.textContent.trim(),
            busy: form.getAttribute("aria-busy"),
        }));
    };
    const observer = new MutationObserver(report);
    observer.observe(form, {attributes: true, subtree: true, childList: true, characterData: true});
}"""


@pytest.fixture
def slow_timeouts(settings):
    # The silent Akeneo never answers: the test reads the waiting state, then the read timeout ends the test.
    settings.AKENEO_CONNECT_TIMEOUT = 2.0
    settings.AKENEO_READ_TIMEOUT = 5.0


def fill(page: Page, base_url: str) -> None:
    page.get_by_label("Akeneo Base URL").fill(base_url)
    page.get_by_label("Client ID").fill(VALID["client_id"])
    page.get_by_label("Secret").fill(VALID["secret"])
    page.get_by_label("Username").fill(VALID["username"])
    page.get_by_label("Password").fill(VALID["password"])


def test_save_shows_testing_state_until_akeneo_answers_then_the_retype_hint(
    page, live_server, admin_user, silent_server, slow_timeouts, screenshot_dir
):
    log_in(page, live_server, ADD_PATH)
    save = page.get_by_role("button", name="Save", exact=True)
    expect(page.locator("[data-connection-testing]")).to_be_hidden()
    expect(page.locator("[data-retype-hint]")).to_have_count(0)

    fill(page, silent_server.url)
    page.evaluate(REPORT_WAITING_STATE, STATE_MARK)
    with page.expect_console_message(lambda message: message.text.startswith(STATE_MARK)) as message:
        save.click(no_wait_after=True)  # the answer is held back on purpose: do not wait for the next page

    # Akeneo has not answered (it never will): the button is disabled and the page says what is going on.
    state = json.loads(message.value.text.removeprefix(STATE_MARK))
    assert state["saveDisabled"] is True
    assert state["statusText"].startswith("Testing the connection…")
    assert state["busy"] == "true"

    # The read timeout ends the test: the page that comes back is the failed test's.
    expect(page.locator(".errorlist.nonfield")).to_contain_text(
        "Could not reach the Akeneo server", timeout=30_000
    )
    hint = page.locator("[data-retype-hint]")
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("Secret and Password")
    expect(hint).to_contain_text("type them again")
    # The new page can be sent again, and the secrets really are to be typed again.
    expect(page.get_by_role("button", name="Save", exact=True)).to_be_enabled()
    expect(page.locator("[data-connection-testing]")).to_be_hidden()
    expect(page.get_by_label("Secret")).to_have_value("")
    expect(page.get_by_label("Password")).to_have_value("")
    expect(page.get_by_label("Akeneo Base URL")).to_have_value(silent_server.url)
    page.screenshot(path=str(screenshot_dir / "connection-create-retype-hint.png"), full_page=True)
    assert not Connection.objects.exists()


def test_a_form_the_browser_refuses_never_enters_the_testing_state(page, live_server, admin_user):
    """Required fields left empty: the browser does not submit, so the button must stay usable."""
    log_in(page, live_server, ADD_PATH)
    page.get_by_label("Akeneo Base URL").fill("https://akeneo.example")
    save = page.get_by_role("button", name="Save", exact=True)
    save.click()
    expect(page.locator("#id_client_id:invalid")).to_have_count(1)
    expect(save).to_be_enabled()
    expect(page.locator("[data-connection-testing]")).to_be_hidden()
