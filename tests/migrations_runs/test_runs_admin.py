"""Starting a run from the connection page, the run page and its live data, Migration History, permissions."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from connections.models import Connection
from migrations_runs.models import MigrationLog, MigrationRun, Status
from migrations_runs.services import start_run
from tests.factories import ConnectionFactory
from tests.support.akeneo import VALID

pytestmark = pytest.mark.django_db


@pytest.fixture
def connection():
    return ConnectionFactory(name="production")


def change_url(connection: Connection) -> str:
    return reverse("admin:connections_connection_change", args=[connection.pk])


def migrate_url(connection: Connection) -> str:
    return reverse("admin:migrations_runs_migrationrun_start", args=[connection.pk])


def run_url(run: MigrationRun) -> str:
    return reverse("admin:migrations_runs_migrationrun_change", args=[run.pk])


def test_edit_page_offers_every_entity_with_toggle_and_counter(admin, connection):
    html = admin.get(change_url(connection)).content.decode()
    assert "Coming with migrations" not in html
    assert html.count('name="entities"') == 13
    assert "0 of 13 selected" in html and "data-toggle-entities" in html and "Start migration" in html


def test_start_saves_the_selection_and_lands_on_the_run_page(admin, connection, enqueued):
    response = admin.post(migrate_url(connection), {"entities": ["products", "locales", "categories"]})
    run = MigrationRun.objects.get()
    assert response.status_code == 302 and response["Location"] == run_url(run)
    assert run.entities == ["locales", "categories", "products"]
    assert enqueued == [run.pk]
    connection.refresh_from_db()
    assert connection.migration_entities == ["products", "locales", "categories"]
    html = admin.get(change_url(connection)).content.decode()
    assert (
        "3 of 13 selected" in html
        and 'value="products" form="start-migration-form" data-entity checked' in html
    )
    assert connection.history.count() == 1  # the selection is a preference, not a change


@pytest.mark.parametrize(
    ("setup", "entities", "message"),
    [
        (lambda c: None, [], "Choose at least one entity to migrate."),
        (
            lambda c: Connection.objects.filter(pk=c.pk).update(enabled=False),
            ["locales"],
            "This connection is disabled",
        ),
        (
            lambda c: start_run(c, ["locales"], enqueue=False),
            ["currencies"],
            "is still queued on this connection",
        ),
    ],
)
def test_start_guards_show_a_clear_message(admin, connection, enqueued, setup, entities, message):
    setup(connection)
    before = MigrationRun.objects.count()
    response = admin.post(migrate_url(connection), {"entities": entities}, follow=True)
    assert message in response.content.decode()
    assert MigrationRun.objects.count() == before and enqueued == []


def test_run_page_progress_and_log(admin, connection):
    run = start_run(connection, ["locales", "products"], enqueue=False)
    step = run.steps.get(entity="locales")
    step.status, step.read, step.created, step.total = Status.COMPLETED, 12, 12, 12
    step.save()
    MigrationLog.objects.create(step=step, level="warning", code="xx_XX", message="Unknown locale label")
    MigrationLog.objects.create(step=step, level="info", code="", message="Locales imported")
    html = admin.get(run_url(run)).content.decode()
    assert (
        f"Migration run #{run.pk}" in html
        and "Unknown locale label" in html
        and 'data-progress-url="' in html
    )
    assert VALID["secret"] not in html and "*****" in html
    data = admin.get(reverse("admin:migrations_runs_migrationrun_progress", args=[run.pk])).json()
    assert [s["entity"] for s in data["steps"]] == ["locales", "products"]
    first = data["steps"][0]
    assert (first["status"], first["read"], first["created"], first["percent"]) == (
        "completed",
        12,
        12,
        100.0,
    )
    assert data["active"] is True
    warnings = admin.get(
        reverse("admin:migrations_runs_migrationrun_progress", args=[run.pk]), {"level": "warning"}
    )
    assert [line["code"] for line in warnings.json()["log"]] == ["xx_XX"]
    download = admin.get(reverse("admin:migrations_runs_migrationrun_log", args=[run.pk]))
    assert download["Content-Disposition"] == f'attachment; filename="migration-run-{run.pk}.log"'
    body = download.content.decode()
    assert "WARNING\tlocales\txx_XX\tUnknown locale label" in body and "Locales imported" in body


def test_cancel(admin, connection):
    run = start_run(connection, ["locales"], enqueue=False)
    response = admin.post(reverse("admin:migrations_runs_migrationrun_cancel", args=[run.pk]), follow=True)
    assert "was cancelled: Cancelled before it started." in response.content.decode()
    run.refresh_from_db()
    assert run.status == Status.CANCELLED
    running = start_run(connection, ["locales"], enqueue=False)
    MigrationRun.objects.filter(pk=running.pk).update(status=Status.RUNNING)
    response = admin.post(
        reverse("admin:migrations_runs_migrationrun_cancel", args=[running.pk]), follow=True
    )
    assert "will stop after the page being imported" in response.content.decode()
    running.refresh_from_db()
    assert running.cancel_requested


def test_migration_history_tab_lists_runs_with_masks(admin, connection):
    finished = start_run(connection, ["locales"], enqueue=False)
    MigrationRun.objects.update(status=Status.COMPLETED)
    runs = [finished, start_run(connection, ["products", "currencies"], enqueue=False)]
    html = admin.get(change_url(connection)).content.decode()
    tab = html[html.index('id="panel-migration-history"') :]
    for run in runs:
        assert f'data-run="{run.pk}"' in tab and run_url(run) in tab
    assert "currencies, products" in tab and tab.count("<td>*****</td>") == 6
    assert VALID["client_id"] not in tab and VALID["secret"] not in tab and VALID["password"] not in tab
    assert "Deleting migration history never deletes the imported catalog." in tab


def test_deleting_runs_says_imported_data_is_kept(admin, connection):
    runs = [start_run(ConnectionFactory(), ["locales"], enqueue=False) for _ in range(3)]
    changelist = reverse("admin:migrations_runs_migrationrun_changelist")
    confirm = admin.post(
        changelist, {"action": "delete_selected", "_selected_action": [r.pk for r in runs[:2]]}
    )
    assert "never deletes imported data" in confirm.content.decode()
    admin.post(
        changelist, {"action": "delete_selected", "_selected_action": [r.pk for r in runs[:2]], "post": "yes"}
    )
    assert list(MigrationRun.objects.values_list("pk", flat=True)) == [runs[2].pk]
    one = admin.get(reverse("admin:migrations_runs_migrationrun_delete", args=[runs[2].pk]))
    assert "never deletes imported data" in one.content.decode()


def staff(django_user_model, *perms: str):
    user = django_user_model.objects.create_user("staffer", password="pw-for-tests-123", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            codename__in=perms, content_type__app_label__in=["connections", "migrations_runs"]
        )
    )
    return user


def test_without_run_permission_no_start(client, django_user_model, connection, enqueued):
    client.force_login(staff(django_user_model, "view_connection", "change_connection", "view_migrationrun"))
    html = client.get(change_url(connection)).content.decode()
    assert "Start migration" not in html and "do not have the permission to run migrations" in html
    assert client.post(migrate_url(connection), {"entities": ["locales"]}).status_code == 403
    assert not MigrationRun.objects.exists()


def test_without_view_runs_permission_no_history_no_run_page(client, django_user_model, connection):
    run = start_run(connection, ["locales"], enqueue=False)
    client.force_login(staff(django_user_model, "view_connection"))
    html = client.get(change_url(connection)).content.decode()
    assert "do not have the permission to view migration runs" in html and run_url(run) not in html
    assert client.get(run_url(run)).status_code == 403
    assert (
        client.get(reverse("admin:migrations_runs_migrationrun_progress", args=[run.pk])).status_code == 403
    )


def test_without_delete_permission_no_delete(client, django_user_model, connection):
    run = start_run(connection, ["locales"], enqueue=False)
    client.force_login(staff(django_user_model, "view_connection", "view_migrationrun", "run_migration"))
    html = client.get(change_url(connection)).content.decode()
    assert "Delete selected runs" not in html
    assert (
        client.post(
            reverse("admin:migrations_runs_migrationrun_delete", args=[run.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert MigrationRun.objects.filter(pk=run.pk).exists()
