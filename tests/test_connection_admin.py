"""The Connections admin: list, create (tested live), tabbed edit page, masks, re-test on change, History tab."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from connections.models import Connection
from tests.factories import ConnectionFactory
from tests.fake_akeneo import VALID, closed_port_url
from tests.test_connection_test_service import MESSAGE_TABLE

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
    assert "Create Connection" in html
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
    assert "Create Connection" in html
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
