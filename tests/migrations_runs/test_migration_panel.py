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


def test_a_verify_only_user_gets_the_entities_and_verify_but_no_start(client, django_user_model, connection):
    connection.migration_entities = ["locales"]
    connection.save(update_fields=["migration_entities"])
    login(client, django_user_model, "view_connection", "verify_catalog")
    block = run_migration_block(client.get(change_url(connection)).content.decode())
    verify = reverse("admin:migrations_runs_verifyreport_start", args=[connection.pk, "verify"])
    assert re.search(
        rf'<button type="submit" form="start-migration-form" class="button verify-catalog-button" '
        rf'formaction="{verify}"[^>]*>Verify<',
        block,
    )
    ticked = re.findall(
        r'<input type="checkbox" name="entities" value="([\w-]+)" form="start-migration-form"', block
    )
    assert len(ticked) == 13
    assert re.search(r'value="locales" form="start-migration-form" data-entity checked>', block)
    for absent in ("start-migration-button", "preview-migration-button", 'name="mode"', "kept for next time"):
        assert absent not in block
    assert "do not have the permission to run migrations" in block


def test_verify_is_hidden_when_its_start_view_would_refuse(client, django_user_model, connection):
    """The verify start view wants the connection's view permission: a change-only user sees no button."""
    login(client, django_user_model, "change_connection", "verify_catalog")
    block = run_migration_block(client.get(change_url(connection)).content.decode())
    assert "verify-catalog-button" not in block and "data-entity" not in block
    verify = reverse("admin:migrations_runs_verifyreport_start", args=[connection.pk, "verify"])
    assert client.post(verify, {"entities": ["locales"]}).status_code == 403


def test_the_buttons_are_guarded_against_unsaved_edits(admin, connection):
    page = admin.get(change_url(connection)).content.decode()
    assert re.search(r'<form id="start-migration-form"[^>]*data-unsaved-guard>', page)
    assert '<script src="/static/migrations_runs/unsaved_edits.js" defer></script>' in page
    block = run_migration_block(page)
    for button, action in (("start-migration", "migration"), ("preview-migration", "preview"),
                           ("verify-catalog", "verification")):  # fmt: skip
        assert re.search(rf'class="button [^"]*{button}-button"[^>]*data-unsaved-action="{action}"', block)


def history_tab(connection: Connection) -> str:
    return change_url(connection) + "#migration-history"


def test_deleting_one_run_from_the_tab_goes_back_to_it_without_a_referer(admin, connection):
    run = MigrationRun.objects.create(connection=connection, entities=["locales"], status="completed")
    page = admin.get(change_url(connection)).content.decode()
    found = re.search(rf'<a href="([^"]*/migrationrun/{run.pk}/delete/[^"]*)">Delete</a>', page)
    assert found, "no Delete link on the Migration History tab"
    link = found.group(1)
    assert link.endswith(f"?next={change_url(connection)}%23migration-history")
    confirmation = admin.get(link).content.decode()  # the test client sends no Referer
    assert f'<input type="hidden" name="next" value="{history_tab(connection)}">' in confirmation
    response = admin.post(link, {"post": "yes", "next": history_tab(connection)})
    assert response.status_code == 302 and response["Location"] == history_tab(connection)
    assert not MigrationRun.objects.exists()


def test_the_bulk_delete_form_carries_next_back_to_the_tab(admin, connection):
    runs = [
        MigrationRun.objects.create(connection=connection, entities=["locales"], status="completed")
        for _ in range(2)
    ]
    page = admin.get(change_url(connection)).content.decode()
    form = re.search(r'<form id="delete-runs-form" method="post" action="([^"]+)">(.*?)</form>', page, re.S)
    assert form, "no bulk delete form"
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form.group(2)))
    assert hidden["next"] == history_tab(connection) and hidden["action"] == "delete_selected"
    data = {**hidden, "_selected_action": [str(run.pk) for run in runs]}
    confirmation = admin.post(form.group(1), data)
    assert confirmation.status_code == 200
    assert f'name="next" value="{history_tab(connection)}"' in confirmation.content.decode()
    response = admin.post(form.group(1), {**data, "post": "yes"})
    assert response.status_code == 302 and response["Location"] == history_tab(connection)
    assert not MigrationRun.objects.exists()
