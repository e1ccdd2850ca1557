"""The Connections admin: list, create (tested live), tabbed edit page, masks, re-test on change, History tab."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from connections.models import Connection
from tests.factories import ConnectionFactory
from tests.support.akeneo import VALID, closed_port_url
from tests.support.connections import MESSAGE_TABLE

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:connections_connection_add")
LIST_URL = reverse("admin:connections_connection_changelist")


def change_url(connection: Connection) -> str:
    return reverse("admin:connections_connection_change", args=[connection.pk])


def create_payload(base_url: str, **overrides: str) -> dict[str, str]:
    return {"base_url": base_url, **VALID, **overrides}


def change_payload(connection: Connection, **overrides) -> dict[str, str]:
    """What the browser posts when the user changes nothing: the masks are sent back as they are."""
    data = {
        "name": connection.name,
        "base_url": connection.base_url,
        "client_id": connection.client_id,
        "secret": "•" * len(connection.secret),
        "username": connection.username,
        "password": "•" * len(connection.password),
        "enabled": "on" if connection.enabled else "",
        "_continue": "Save and continue editing",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def connection(fake_akeneo):
    return ConnectionFactory(name="production", base_url=fake_akeneo.base_url())


# --- list


def test_index_shows_the_akeneo_migration_section(admin):
    html = admin.get(reverse("admin:index")).content.decode()
    assert "Akeneo Migration" in html
    assert LIST_URL in html


def test_list_columns_search_filter_and_create_button(admin, fake_akeneo):
    ConnectionFactory(name="alpha", base_url="https://alpha.cloud", username="alice")
    ConnectionFactory(name="beta", base_url="https://beta.cloud/pim", username="bob", enabled=False)
    html = admin.get(LIST_URL).content.decode()
    for text in (
        "Name",
        "Akeneo Base URL",
        "Username",
        "Status",
        "https://beta.cloud/pim",
        "Disabled",
        "Enabled",
    ):
        assert text in html
    assert "Create connection" in html
    searched = admin.get(LIST_URL, {"q": "bob"}).content.decode()
    assert "beta" in searched and "alpha.cloud" not in searched
    searched = admin.get(LIST_URL, {"q": "alpha.cloud"}).content.decode()
    assert "alpha" in searched and "beta.cloud" not in searched
    filtered = admin.get(LIST_URL, {"status": "disabled"}).content.decode()
    assert "beta.cloud" in filtered and "alpha.cloud" not in filtered


def test_list_paginates(admin):
    for index in range(30):
        ConnectionFactory(name=f"c{index:02}")
    first = admin.get(LIST_URL).content.decode()
    assert "c00" in first and "c29" not in first
    assert "c29" in admin.get(LIST_URL, {"p": 2}).content.decode()


def test_mass_delete_keeps_nothing_of_the_selected(admin):
    keep, *gone = [ConnectionFactory() for _ in range(3)]
    response = admin.post(
        LIST_URL,
        {"action": "delete_selected", "_selected_action": [c.pk for c in gone], "post": "yes"},
    )
    assert response.status_code == 302
    assert list(Connection.objects.values_list("pk", flat=True)) == [keep.pk]


def test_disable_and_enable_actions(admin):
    connection = ConnectionFactory()
    admin.post(LIST_URL, {"action": "disable_selected", "_selected_action": [connection.pk]})
    connection.refresh_from_db()
    assert not connection.enabled
    admin.post(LIST_URL, {"action": "enable_selected", "_selected_action": [connection.pk]})
    connection.refresh_from_db()
    assert connection.enabled


# --- create


def test_create_valid_lands_on_edit_page_enabled_and_named_from_url(admin, fake_akeneo):
    response = admin.post(ADD_URL, create_payload(fake_akeneo.base_url("pim") + "/"))
    connection = Connection.objects.get()
    assert response.status_code == 302
    assert response["Location"] == change_url(connection)
    assert connection.enabled
    assert connection.base_url == fake_akeneo.base_url("pim")
    assert connection.name == fake_akeneo.base_url("pim").removeprefix("http://")
    assert (connection.client_id, connection.secret, connection.password) == (
        VALID["client_id"],
        VALID["secret"],
        VALID["password"],
    )
    assert "Connection OK" in admin.get(response["Location"]).content.decode()


def test_create_form_has_exactly_the_five_required_fields(admin):
    html = admin.get(ADD_URL).content.decode()
    assert "Create connection" in html
    names = {n for n in re.findall(r'<input[^>]+name="([a-z_]+)"', html) if not n.startswith("_")}
    names.discard("csrfmiddlewaretoken")
    assert names == {"base_url", "client_id", "secret", "username", "password"}
    response = admin.post(ADD_URL, {})
    assert response.status_code == 200
    assert response.content.decode().count("This field is required.") == 5


@pytest.mark.parametrize(("scenario", "message"), MESSAGE_TABLE)
def test_create_invalid_saves_nothing_and_shows_the_message(admin, fake_akeneo, scenario, message):
    base_url = fake_akeneo.base_url(scenario)
    response = admin.post(ADD_URL, create_payload(base_url))
    html = response.content.decode()
    assert response.status_code == 200
    assert not Connection.objects.exists()
    assert message in html
    for other in {m for _s, m in MESSAGE_TABLE} - {message}:
        assert other not in html
    assert 'class="connection-test-explanation"' in html
    # what was typed is kept, except the secrets
    assert f'value="{base_url}"' in html and f'value="{VALID["username"]}"' in html
    assert VALID["secret"] not in html and VALID["password"] not in html


def test_create_unreachable(admin):
    response = admin.post(ADD_URL, create_payload(closed_port_url()))
    assert "Could not reach the Akeneo server" in response.content.decode()
    assert not Connection.objects.exists()


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("ftp://akeneo.example", "valid http(s) URL"),
        ("not a url", "valid http(s) URL"),
        ("https://user:pw@akeneo.example", "Do not put credentials in the URL"),
        ("https://akeneo.example/?x=1", "query string"),
    ],
)
def test_create_rejects_bad_base_urls_without_calling_akeneo(admin, fake_akeneo, url, error):
    fake_akeneo.requests.clear()
    response = admin.post(ADD_URL, create_payload(url))
    assert error in response.content.decode()
    assert not Connection.objects.exists()
    assert fake_akeneo.requests == []


# --- edit page


def test_edit_page_has_three_tabs_and_masks_secrets(admin, connection):
    html = admin.get(change_url(connection)).content.decode()
    for tab in ("Connection", "History", "Migration History"):
        assert f'data-tab="{tab.lower().replace(" ", "-")}"' in html and f">{tab}</a>" in html
    assert f'value="{"•" * len(VALID["secret"])}"' in html
    assert f'value="{"•" * len(VALID["password"])}"' in html
    assert VALID["secret"] not in html and VALID["password"] not in html
    assert connection.secret_encrypted not in html and connection.password_encrypted not in html
    assert f'value="{VALID["client_id"]}"' in html  # allowed to edit: may see the Client ID
    assert "Run a Migration" in html and "Start migration" in html
    assert "No migration has been run from this connection yet." in html
    for column in ("ID", "Client ID", "Secret", "Password", "Entities", "Status", "Started at", "User"):
        assert f'<th scope="col">{column}</th>' in html


def test_leaving_masks_or_blank_keeps_the_stored_secrets(admin, connection):
    masks = {"secret": "•" * len(VALID["secret"]), "password": "•" * len(VALID["password"])}
    for values in (masks, {"secret": "", "password": ""}):
        response = admin.post(change_url(connection), change_payload(connection, **values))
        assert response.status_code == 302
        connection.refresh_from_db()
        assert (connection.secret, connection.password) == (VALID["secret"], VALID["password"])
    assert connection.secret_revision == connection.password_revision == 1


def test_new_secret_is_tested_then_replaces(admin, connection, fake_akeneo):
    fake_akeneo.valid["password"] = "the-new-password"
    try:
        response = admin.post(change_url(connection), change_payload(connection, password="the-new-password"))
    finally:
        fake_akeneo.valid["password"] = VALID["password"]
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.password == "the-new-password"
    assert connection.password_revision == 2


def test_new_secret_rejected_by_akeneo_changes_nothing(admin, connection):
    before = Connection.objects.values().get(pk=connection.pk)
    response = admin.post(
        change_url(connection), change_payload(connection, password="wrong", name="renamed")
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Authentication was rejected" in html
    assert "wrong" not in re.findall(r'name="password"[^>]*', html)[0]
    assert Connection.objects.values().get(pk=connection.pk) == before


@pytest.mark.parametrize("field", ["base_url", "client_id", "username"])
def test_changing_a_credential_field_retests(admin, connection, fake_akeneo, field):
    new_value = {"base_url": fake_akeneo.base_url("forbidden"), "client_id": "other", "username": "other"}[
        field
    ]
    response = admin.post(change_url(connection), change_payload(connection, **{field: new_value}))
    assert response.status_code == 200
    expected = "Access was denied by Akeneo" if field == "base_url" else "Authentication was rejected"
    assert expected in response.content.decode()
    connection.refresh_from_db()
    assert getattr(connection, field) != new_value


def test_renaming_and_disabling_need_no_test(admin, connection):
    Connection.objects.filter(pk=connection.pk).update(base_url=closed_port_url())
    connection.refresh_from_db()
    response = admin.post(change_url(connection), change_payload(connection, name="renamed", enabled=None))
    assert response.status_code == 302
    connection.refresh_from_db()
    assert (connection.name, connection.enabled) == ("renamed", False)


def test_history_tab_shows_field_changes_without_secrets(admin, connection, fake_akeneo, superuser):
    admin.post(change_url(connection), change_payload(connection, name="renamed", enabled=None))
    fake_akeneo.valid["secret"] = "another-secret-value"
    try:
        admin.post(
            change_url(connection), change_payload(connection, secret="another-secret-value", name="renamed")
        )
    finally:
        fake_akeneo.valid["secret"] = VALID["secret"]
    html = admin.get(change_url(connection)).content.decode()
    history = html[html.index('id="panel-history"') : html.index('id="panel-migration-history"')]
    rows = [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", history, re.S)[1:]
    ]
    fields = [(row[1], row[2], row[3], row[4]) for row in rows]
    assert ("root", "Secret", "—", "changed") in fields
    assert ("root", "Name", "production", "renamed") in fields
    assert ("root", "Status", "Enabled", "Disabled") in fields
    assert fields[-1][2:] == ("—", "created")
    assert "another-secret-value" not in html and VALID["secret"] not in html


def test_test_button_retests_stored_credentials(admin, connection):
    response = admin.post(reverse("admin:connections_connection_test", args=[connection.pk]), follow=True)
    assert "Connection OK" in response.content.decode()
    Connection.objects.filter(pk=connection.pk).update(base_url=closed_port_url())
    response = admin.post(reverse("admin:connections_connection_test", args=[connection.pk]), follow=True)
    assert "Could not reach the Akeneo server" in response.content.decode()


def test_wrong_encryption_key_gives_a_clear_message_not_a_crash(admin, connection, settings):
    from cryptography.fernet import Fernet

    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    response = admin.get(change_url(connection))
    html = response.content.decode()
    assert response.status_code == 200
    assert "cannot be decrypted with the configured FIELD_ENCRYPTION_KEYS" in html
    assert connection.secret_encrypted not in html
    response = admin.post(reverse("admin:connections_connection_test", args=[connection.pk]), follow=True)
    assert "The stored credentials cannot be read" in response.content.decode()
    # Renaming still works; re-entering the credentials (tested live) makes the connection usable again.
    post = {
        "name": "renamed",
        "base_url": connection.base_url,
        "client_id": "",
        "secret": "",
        "username": connection.username,
        "password": "",
        "enabled": "on",
    }
    response = admin.post(change_url(connection), post)
    assert "Enter the Client ID again" in response.content.decode()
    response = admin.post(
        change_url(connection), {**post, **{k: VALID[k] for k in ("client_id", "secret", "password")}}
    )
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.credentials().password == VALID["password"]


def test_a_crash_while_saving_never_mails_secrets_to_admins(
    admin, fake_akeneo, settings, monkeypatch, mailoutbox
):
    """Production error reports (mailed to ADMINS, also logged) list POST data and frame variables."""
    import connections.forms

    def explode(credentials):
        raise RuntimeError("boom")

    monkeypatch.setattr(connections.forms, "verify_credentials", explode)
    settings.DEBUG = False
    settings.ADMINS = [("Ops", "ops@example.test")]
    admin.raise_request_exception = False
    response = admin.post(ADD_URL, create_payload(fake_akeneo.base_url()))
    assert response.status_code == 500
    [report] = mailoutbox
    text = report.body + "".join(str(part[0]) for part in getattr(report, "alternatives", []))
    assert "boom" in text and "base_url" in text  # it really is the report, with the POST data
    for secret in (VALID["client_id"], VALID["secret"], VALID["password"]):
        assert secret not in text


def test_create_against_a_server_that_never_answers(admin, silent_server, short_timeouts):
    response = admin.post(ADD_URL, create_payload(silent_server.url))
    html = response.content.decode()
    assert "Could not reach the Akeneo server" in html and "No answer within 1 seconds" in html
    assert not Connection.objects.exists()


# --- the admin saves through the services the command line uses


@pytest.fixture
def service_calls(monkeypatch):
    """Which connection services the admin called (each still runs for real)."""
    import connections.forms

    calls: list[str] = []
    for name in ("save_new_connection", "prepare_update", "apply_update"):
        real = getattr(connections.forms, name)

        def spy(*args, _real=real, _name=name, **kwargs):
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(connections.forms, name, spy)
    return calls


def log_entries(connection: Connection) -> list:
    from django.contrib.admin.models import LogEntry

    return list(LogEntry.objects.filter(object_id=str(connection.pk)).order_by("pk"))


def test_create_saves_through_the_service_with_one_history_row_and_log_entry(
    admin, fake_akeneo, service_calls
):
    ConnectionFactory(name=fake_akeneo.base_url().removeprefix("http://"))  # the derived name is taken
    response = admin.post(ADD_URL, create_payload(fake_akeneo.base_url()))
    assert response.status_code == 302
    assert service_calls == ["save_new_connection"]
    connection = Connection.objects.latest("pk")
    assert connection.name == fake_akeneo.base_url().removeprefix("http://") + "-2"
    [record] = connection.history.all()
    assert record.history_type == "+" and record.history_user.username == "root"
    [entry] = log_entries(connection)
    assert entry.is_addition() and entry.user.username == "root"


def test_create_lands_on_the_edit_page_with_both_messages(admin, fake_akeneo):
    response = admin.post(ADD_URL, create_payload(fake_akeneo.base_url()), follow=True)
    connection = Connection.objects.get()
    assert response.redirect_chain == [(change_url(connection), 302)]
    html = response.content.decode()
    assert "Connection OK: Akeneo accepted the credentials." in html
    assert "was added successfully" in html


def test_create_in_a_popup_answers_the_opener(admin, fake_akeneo):
    """The standard hook keeps popups: a connection created from a related-field "+" goes back to it."""
    response = admin.post(ADD_URL + "?_popup=1", {**create_payload(fake_akeneo.base_url()), "_popup": "1"})
    connection = Connection.objects.get()
    assert response.status_code == 200
    html = response.content.decode()
    assert "data-popup-response" in html and f"&quot;value&quot;: &quot;{connection.pk}&quot;" in html


def test_update_saves_through_the_service_with_one_history_row(admin, connection, service_calls):
    before = connection.history.count()
    response = admin.post(change_url(connection), change_payload(connection, name="renamed"))
    assert response.status_code == 302
    assert service_calls == ["prepare_update", "apply_update"]
    assert connection.history.count() == before + 1
    latest = connection.history.latest("history_id")
    assert latest.name == "renamed" and latest.history_user.username == "root"


def test_failed_live_test_on_update_saves_nothing_and_logs_nothing(admin, connection, service_calls):
    history_before, log_before = connection.history.count(), len(log_entries(connection))
    before = Connection.objects.values().get(pk=connection.pk)
    response = admin.post(change_url(connection), change_payload(connection, secret="wrong", name="renamed"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Authentication was rejected" in html and 'class="connection-test-explanation"' in html
    assert service_calls == ["prepare_update"]
    assert Connection.objects.values().get(pk=connection.pk) == before
    assert connection.history.count() == history_before
    assert len(log_entries(connection)) == log_before
    # The page still names the stored connection, not the refused new name.
    assert "<h1>Edit connection “production”</h1>" in html


def test_a_taken_name_is_refused_under_the_name_field(admin, connection):
    ConnectionFactory(name="staging")
    response = admin.post(change_url(connection), change_payload(connection, name="staging"))
    assert response.status_code == 200
    assert "A connection named &#x27;staging&#x27; already exists." in response.content.decode()
    connection.refresh_from_db()
    assert connection.name == "production"


@pytest.mark.parametrize("secrets", ["masks", "blank", "same again"])
def test_rename_change_message_says_changed_name_only(admin, connection, secrets):
    values = {
        "masks": {},
        "blank": {"secret": "", "password": "", "events_secret": ""},
        "same again": {"secret": VALID["secret"], "password": VALID["password"]},
    }[secrets]
    response = admin.post(change_url(connection), change_payload(connection, name="renamed", **values))
    assert response.status_code == 302
    [entry] = log_entries(connection)
    assert entry.is_change()
    assert entry.get_change_message() == "Changed Name."


def test_new_password_change_message_names_password(admin, connection, fake_akeneo):
    fake_akeneo.valid["password"] = "the-new-password"
    try:
        response = admin.post(change_url(connection), change_payload(connection, password="the-new-password"))
    finally:
        fake_akeneo.valid["password"] = VALID["password"]
    assert response.status_code == 302
    [entry] = log_entries(connection)
    assert entry.get_change_message() == "Changed Password."
    assert "the-new-password" not in entry.change_message


def test_saving_without_any_change_logs_no_field(admin, connection):
    before = connection.history.count()
    assert admin.post(change_url(connection), change_payload(connection)).status_code == 302
    [entry] = log_entries(connection)
    assert entry.get_change_message() == "No fields changed."
    assert connection.history.count() == before  # apply_update writes nothing when nothing changed


def test_edit_page_fetches_the_connection_once(admin, connection):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(db) as queries:
        assert admin.get(change_url(connection)).status_code == 200
    table = Connection._meta.db_table
    fetches = [q["sql"] for q in queries if q["sql"].startswith("SELECT") and f'FROM "{table}"' in q["sql"]]
    assert len(fetches) == 1, fetches


# --- create: testing state and the hint after a failed test


def test_create_page_has_the_testing_status_and_its_script(admin, settings):
    settings.AKENEO_CONNECT_TIMEOUT, settings.AKENEO_READ_TIMEOUT = 5.0, 10.0
    html = admin.get(ADD_URL).content.decode()
    assert re.search(r'<p class="connection-testing" data-connection-testing[^>]*\shidden', html)
    assert "Testing the connection… Akeneo has up to 15 seconds to answer" in html
    assert "connections/connection_create.js" in html
    assert "data-retype-hint" not in html


def test_failed_create_says_secret_and_password_must_be_typed_again(admin, fake_akeneo):
    html = admin.post(ADD_URL, create_payload(fake_akeneo.base_url("unauthorized"))).content.decode()
    assert "Authentication was rejected" in html
    hint = re.search(r'<p class="connection-retype-hint"[^>]*>(.*?)</p>', html, re.S)
    assert hint and "Secret and Password" in hint.group(1) and "type them again" in hint.group(1)


# --- labels, titles, required markers


def title_and_h1(html: str) -> tuple[str, str]:
    return (
        re.search(r"<title>(.*?)</title>", html, re.S).group(1).strip(),
        re.search(r"<h1>(.*?)</h1>", html, re.S).group(1).strip(),
    )


def required_labels(html: str) -> set[str]:
    return set(re.findall(r'<label class="required" for="id_([a-z_]+)"', html))


def test_titles_name_the_page_and_the_object(admin, connection):
    assert title_and_h1(admin.get(LIST_URL).content.decode()) == (
        "Connections | Akeneo Migration",
        "Connections",
    )
    add = admin.get(ADD_URL).content.decode()
    assert title_and_h1(add) == ("Create connection | Akeneo Migration", "Create connection")
    assert "&rsaquo; Create connection" in add
    edit = admin.get(change_url(connection)).content.decode()
    assert title_and_h1(edit) == (
        "Edit connection “production” | Akeneo Migration",
        "Edit connection “production”",
    )
    assert "<h2>production</h2>" not in edit  # the admin's subtitle would repeat the name


def test_index_and_list_say_connections_and_create_connection(admin):
    index = admin.get(reverse("admin:index")).content.decode()
    assert f'<a href="{LIST_URL}"' in index and ">Connections</a>" in index
    listing = admin.get(LIST_URL).content.decode()
    assert re.search(r'class="addlink">Create connection</a>', listing)
    assert "Create Connection" not in listing and "Select connection to change" not in listing


def test_required_fields_are_marked_required(admin, connection):
    add = admin.get(ADD_URL).content.decode()
    assert required_labels(add) == {"base_url", "client_id", "secret", "username", "password"}
    assert "Fields marked * are required." in add
    edit = admin.get(change_url(connection)).content.decode()
    assert required_labels(edit) == {"name", "base_url", "client_id", "username"}
    assert re.search(r'<input type="text" name="client_id"[^>]*required', edit)
    assert "Fields marked * are required." in edit


def test_no_defaults_to_help_on_the_required_name(admin, connection):
    edit = admin.get(change_url(connection)).content.decode()
    assert "Defaults to" not in edit


def test_migration_buttons_are_admin_buttons(admin, connection):
    html = admin.get(change_url(connection)).content.decode()
    for name, classes in (
        ("Start migration", "button default start-migration-button"),
        ("Preview", "button preview-migration-button"),
        ("Verify", "button verify-catalog-button"),
    ):
        assert re.search(
            rf'<button type="submit" form="start-migration-form" class="{classes}"[^>]*>{name}<', html
        )
    assert 'class="button default save-import-filters-button"' in html


def test_the_index_and_sidebar_say_create_connection(admin):
    index = admin.get("/admin/").content.decode()
    assert ">Create connection</a>" in index
    listing = admin.get("/admin/connections/connection/").content.decode()  # the sidebar (nav_sidebar)
    assert ">Create connection</a>" in listing
    assert ">Add</a>" in index  # the other models keep Django's wording
