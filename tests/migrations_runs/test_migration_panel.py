"""The connection page's migration side, served by migrations_runs: the Run-a-Migration panel (template tag), its
buttons per permission, and the start view's permission checks in MigrationRunAdmin."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from connections.models import Connection
from migrations_runs.models import MigrationRun
from tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def connection() -> Connection:
    return ConnectionFactory(name="production")


def change_url(connection: Connection) -> str:
    return reverse("admin:connections_connection_change", args=[connection.pk])


def start_url(connection_id: int) -> str:
    return reverse("admin:migrations_runs_migrationrun_start", args=[connection_id])


def login(client, django_user_model, *codenames: str):
    user = django_user_model.objects.create_user("panel-user", password="pw-for-tests-123", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            codename__in=codenames, content_type__app_label__in=["connections", "migrations_runs"]
        )
    )
    client.force_login(user)
    return user


def run_migration_block(html: str) -> str:
    found = re.search(
        r'<fieldset class="module aligned run-migration" id="run-migration">(.*?)</fieldset>', html, re.S
    )
    assert found, "no Run-a-Migration block on the page"
    return found.group(1)


def test_verify_sits_in_the_run_block_only_for_verify_catalog(client, django_user_model, connection):
    login(client, django_user_model, "view_connection", "run_migration")
    block = run_migration_block(client.get(change_url(connection)).content.decode())
    assert "start-migration-button" in block and "preview-migration-button" in block
    assert "verify-catalog-button" not in block

    user = django_user_model.objects.get(username="panel-user")
    user.user_permissions.add(Permission.objects.get(codename="verify_catalog"))
    client.force_login(django_user_model.objects.get(pk=user.pk))
    page = client.get(change_url(connection)).content.decode()
    block = run_migration_block(page)
    verify = reverse("admin:migrations_runs_verifyreport_start", args=[connection.pk, "verify"])
    assert re.search(rf'class="button verify-catalog-button" formaction="{verify}"', block)
    assert page.count("verify-catalog-button") == 1  # nowhere else on the page


def test_the_panel_shows_the_active_run(admin, connection):
    run = MigrationRun.objects.create(connection=connection, entities=["locales"], status="queued")
    block = run_migration_block(admin.get(change_url(connection)).content.decode())
    run_page = reverse("admin:migrations_runs_migrationrun_change", args=[run.pk])
    assert f"Migration run #{run.pk} is queued" in block and f'href="{run_page}">watch it' in block


def test_starting_needs_the_connection_view_permission_too(client, django_user_model, connection, enqueued):
    login(client, django_user_model, "run_migration")
    assert client.post(start_url(connection.pk), {"entities": ["locales"]}).status_code == 403
    assert not MigrationRun.objects.exists() and enqueued == []
    connection.refresh_from_db()
    assert not connection.migration_entities  # a refused start saves no preference either


def test_starting_only_by_post_and_on_an_existing_connection(admin, connection, enqueued):
    assert admin.get(start_url(connection.pk)).status_code == 405
    assert admin.post(start_url(connection.pk + 1000), {"entities": ["locales"]}).status_code == 404
    assert not MigrationRun.objects.exists() and enqueued == []


def test_a_viewer_with_run_permission_starts_and_unknown_entities_are_dropped(
    client, django_user_model, connection, enqueued
):
    login(client, django_user_model, "view_connection", "run_migration")
    response = client.post(start_url(connection.pk), {"entities": ["locales", "no-such-entity"]})
    run = MigrationRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:migrations_runs_migrationrun_change", args=[run.pk])
    assert run.entities == ["locales"] and enqueued == [run.pk]
    connection.refresh_from_db()
    assert connection.migration_entities == ["locales"]
