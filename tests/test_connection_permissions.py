"""Permissions: the UI hides what a user may not do, and the server refuses it anyway."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from connections.models import Connection
from tests.factories import ConnectionFactory
from tests.support.akeneo import VALID

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:connections_connection_changelist")
ADD_URL = reverse("admin:connections_connection_add")


@pytest.fixture
def connection(fake_akeneo):
    return ConnectionFactory(name="production", base_url=fake_akeneo.base_url())


def urls(connection: Connection) -> dict[str, str]:
    return {
        "change": reverse("admin:connections_connection_change", args=[connection.pk]),
        "delete": reverse("admin:connections_connection_delete", args=[connection.pk]),
        "test": reverse("admin:connections_connection_test", args=[connection.pk]),
    }


def test_non_staff_never_reaches_the_admin(client, django_user_model, connection):
    user = django_user_model.objects.create_user(username="plain", password="pw-for-tests-123")
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="connections"))
    client.force_login(user)
    for url in (LIST_URL, ADD_URL, urls(connection)["change"]):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    response = client.post(urls(connection)["test"])
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_staff_without_any_permission_is_refused(client, make_staff, connection):
    client.force_login(make_staff())
    assert client.get(LIST_URL).status_code == 403
    assert client.get(urls(connection)["change"]).status_code in (
        302,
        403,
    )  # admin redirects to index w/ message
    assert client.post(ADD_URL, {"base_url": "https://x.example", **VALID}).status_code == 403
    assert client.post(urls(connection)["test"]).status_code == 403
    assert Connection.objects.count() == 1


def test_view_only_sees_masks_and_cannot_change(client, make_staff, connection):
    client.force_login(make_staff("view_connection"))
    html = client.get(urls(connection)["change"]).content.decode()
    assert "*****" in html
    assert "<h1>View connection “production”</h1>" in html and "Edit connection" not in html
    assert "Fields marked * are required." not in html  # nothing to fill in
    for secret in (VALID["client_id"], VALID["secret"], VALID["password"]):
        assert secret not in html
    assert 'name="secret"' not in html and 'name="_save"' not in html
    assert "Test connection" not in html
    response = client.post(urls(connection)["change"], {"name": "hacked", "base_url": connection.base_url})
    assert response.status_code == 403
    connection.refresh_from_db()
    assert connection.name == "production"
    list_html = client.get(LIST_URL).content.decode()
    assert "Create connection" not in list_html


def test_without_add_permission_creation_is_refused(client, make_staff, fake_akeneo):
    client.force_login(make_staff("view_connection", "change_connection"))
    assert "Create connection" not in client.get(LIST_URL).content.decode()
    assert client.get(ADD_URL).status_code == 403
    assert client.post(ADD_URL, {"base_url": fake_akeneo.base_url(), **VALID}).status_code == 403
    assert not Connection.objects.exists()


def test_with_add_permission_creation_works(client, make_staff, fake_akeneo):
    client.force_login(make_staff("view_connection", "add_connection", "change_connection"))
    assert "Create connection" in client.get(LIST_URL).content.decode()
    response = client.post(ADD_URL, {"base_url": fake_akeneo.base_url(), **VALID})
    assert response.status_code == 302
    connection = Connection.objects.get()
    assert response["Location"] == urls(connection)["change"]


def test_add_only_user_is_not_sent_to_an_edit_page_it_cannot_open(client, make_staff, fake_akeneo):
    """Django's own add hook: without view or change permission, saving goes back to the admin index."""
    client.force_login(make_staff("add_connection"))
    response = client.post(ADD_URL, {"base_url": fake_akeneo.base_url(), **VALID})
    assert response.status_code == 302
    assert Connection.objects.count() == 1
    assert client.get(response["Location"]).status_code == 200


def test_without_delete_permission_deletion_is_refused(client, make_staff, connection):
    client.force_login(make_staff("view_connection", "change_connection"))
    assert client.post(urls(connection)["delete"], {"post": "yes"}).status_code == 403
    response = client.post(
        LIST_URL, {"action": "delete_selected", "_selected_action": [connection.pk], "post": "yes"}
    )
    assert Connection.objects.filter(pk=connection.pk).exists()
    assert response.status_code in (200, 302)


def test_with_delete_permission_deletion_works(client, make_staff, connection):
    client.force_login(make_staff("view_connection", "delete_connection"))
    assert client.post(urls(connection)["delete"], {"post": "yes"}).status_code == 302
    assert not Connection.objects.exists()


def test_test_button_needs_test_permission(client, make_staff, connection):
    client.force_login(make_staff("view_connection", "change_connection"))
    assert "Test connection" not in client.get(urls(connection)["change"]).content.decode()
    assert client.post(urls(connection)["test"]).status_code == 403


def test_test_button_with_permission(client, make_staff, connection):
    client.force_login(make_staff("view_connection", "test_connection"))
    assert "Test connection" in client.get(urls(connection)["change"]).content.decode()
    response = client.post(urls(connection)["test"], follow=True)
    assert "Connection OK" in response.content.decode()
    assert client.get(urls(connection)["test"]).status_code == 405  # POST only: a link cannot trigger it
