"""Schedules: edited from the connection page (admin over HTTP), each owning its Celery beat entry, and the task
beat sends, which starts a run or skips (another run active, connection disabled) and says why.

Beat itself, the worker and Redis are exercised in tests/integration/test_schedule_beat.py.
"""

from __future__ import annotations

import json
import logging

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import escape
from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks

from akeneo_migration.celery import app as celery_app
from connections.models import Connection
from migrations_runs.entities import ENTITY_CODES
from migrations_runs.models import MigrationRun
from migrations_runs.services import start_run
from schedules.models import Schedule
from schedules.tasks import run_scheduled
from tests.factories import ConnectionFactory
from tests.support.akeneo import VALID

pytestmark = pytest.mark.django_db


@pytest.fixture
def connection() -> Connection:
    return ConnectionFactory(name="production")


def connection_url(connection: Connection) -> str:
    return reverse("admin:connections_connection_change", args=[connection.pk])


def form_data(connection: Connection, **overrides) -> dict:
    data = {
        "connection": str(connection.pk),
        "mode": "incremental",
        "entities": [],
        "interval_minutes": "15",
        "crontab": "",
        "enabled": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def add(client, connection: Connection, **overrides):
    return client.post(reverse("admin:schedules_schedule_add"), form_data(connection, **overrides))


# --- the Schedules tab and the admin forms


def test_connection_page_has_a_schedules_tab_with_an_add_link(admin, connection):
    page = admin.get(connection_url(connection)).content.decode()
    assert 'data-tab="schedules"' in page
    assert 'id="panel-schedules"' in page
    assert "No schedule: runs of this connection start only by hand." in page
    assert f"{reverse('admin:schedules_schedule_add')}?connection={connection.pk}" in page

    form = admin.get(reverse("admin:schedules_schedule_add"), {"connection": connection.pk}).content.decode()
    assert f'<option value="{connection.pk}" selected>production</option>' in form


def test_adding_a_schedule_creates_its_beat_entry_with_only_the_schedule_id(admin, connection):
    response = add(admin, connection, entities=["products", "locales"])

    assert response.status_code == 302
    assert response["Location"] == connection_url(connection) + "#schedules"
    schedule = Schedule.objects.get()
    assert (schedule.connection, schedule.mode) == (connection, "incremental")
    assert schedule.entities == ["products", "locales"]
    task = PeriodicTask.objects.get(akeneo_schedule=schedule)
    assert task.task == "schedules.run_scheduled"
    assert json.loads(task.args) == [schedule.pk]
    assert json.loads(task.kwargs) == {}
    assert (task.interval.every, task.interval.period) == (15, IntervalSchedule.MINUTES)
    assert task.crontab is None
    assert task.enabled
    assert task.expire_seconds == 15 * 60
    beat_row = " ".join(
        str(value) for value in PeriodicTask.objects.filter(pk=task.pk).values().get().values()
    )
    for secret in (VALID["client_id"], VALID["secret"], VALID["password"]):
        assert secret not in beat_row

    page = admin.get(connection_url(connection)).content.decode()
    assert f'data-schedule="{schedule.pk}"' in page
    assert "every 15 minutes" in page
    assert reverse("admin:schedules_schedule_change", args=[schedule.pk]) in page


def test_editing_a_schedule_updates_the_same_beat_entry_and_tells_beat(admin, connection):
    add(admin, connection)
    schedule = Schedule.objects.get()
    task_pk = schedule.periodic_task_id
    changed_before = PeriodicTasks.last_change()

    response = admin.post(
        reverse("admin:schedules_schedule_change", args=[schedule.pk]),
        form_data(connection, mode="full", interval_minutes="", crontab=" 0  2 * * * ", enabled=None),
    )

    assert response.status_code == 302
    assert response["Location"] == connection_url(connection) + "#schedules"
    schedule.refresh_from_db()
    assert (schedule.mode, schedule.crontab, schedule.enabled) == ("full", "0 2 * * *", False)
    task = PeriodicTask.objects.get()
    assert task.pk == task_pk
    assert task.interval is None
    cron = task.crontab
    assert (cron.minute, cron.hour, cron.day_of_month, cron.month_of_year, cron.day_of_week) == (
        "0",
        "2",
        "*",
        "*",
        "*",
    )
    assert str(cron.timezone) == "UTC"
    assert not task.enabled
    assert PeriodicTasks.last_change() > changed_before  # beat reloads its schedule
    assert "cron 0 2 * * * (UTC)" in admin.get(connection_url(connection)).content.decode()


def test_deleting_a_schedule_deletes_its_beat_entry(admin, connection):
    add(admin, connection)
    schedule = Schedule.objects.get()

    response = admin.post(reverse("admin:schedules_schedule_delete", args=[schedule.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert response["Location"] == connection_url(connection) + "#schedules"
    assert not Schedule.objects.exists()
    assert not PeriodicTask.objects.filter(task="schedules.run_scheduled").exists()


def test_bulk_deletes_and_a_deleted_connection_take_the_beat_entries_along(admin, connection):
    add(admin, connection)
    add(admin, connection, crontab="30 3 * * 0", interval_minutes="")
    other = ConnectionFactory(name="staging")
    add(admin, other)
    assert PeriodicTask.objects.filter(task="schedules.run_scheduled").count() == 3

    admin.post(
        reverse("admin:schedules_schedule_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [Schedule.objects.filter(connection=other).get().pk],
            "post": "yes",
        },
    )
    assert PeriodicTask.objects.filter(task="schedules.run_scheduled").count() == 2

    connection.delete()
    assert not Schedule.objects.exists()
    assert not PeriodicTask.objects.filter(task="schedules.run_scheduled").exists()


@pytest.mark.parametrize(
    ("interval", "crontab", "field", "message"),
    [
        ("", "", "interval_minutes", "Give an interval in minutes or a crontab (e.g. “0 2 * * *”"),
        ("15", "0 2 * * *", "crontab", "Give an interval in minutes or a crontab, not both."),
        ("0", "", "interval_minutes", "Ensure this value is greater than or equal to 1."),
        ("", "0 2 * *", "crontab", "“0 2 * *” is not a valid crontab: it has 4 field(s), five are needed"),
        ("", "61 * * * *", "crontab", "“61 * * * *” is not a valid crontab: '61', not in 0-59 for Minutes."),
        ("", "0 2 31 2 *", "crontab", "day_of_month '31' never occurs in month_of_year '2'."),
        ("", "x 2 * * *", "crontab", "Minutes: 'x' is not a number, a range, a step or a name."),
        ("", "at night", "crontab", "“at night” is not a valid crontab: it has 2 field(s)"),
    ],
)
def test_invalid_cadences_are_refused_with_a_clear_message(
    admin, connection, interval, crontab, field, message
):
    response = add(admin, connection, interval_minutes=interval, crontab=crontab)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message in " ".join(errors.get(field, [])), errors
    assert escape(message) in response.content.decode()
    assert not Schedule.objects.exists()
    assert not PeriodicTask.objects.filter(task="schedules.run_scheduled").exists()


def test_unknown_entities_are_refused(admin, connection):
    response = add(admin, connection, entities=["locales", "widgets"])
    assert response.status_code == 200
    assert "Select a valid choice. widgets is not one of the available choices." in response.content.decode()
    assert not Schedule.objects.exists()


def staff(django_user_model, username: str, *perms: str):
    user = django_user_model.objects.create_user(
        username=username, password="pw-for-tests-123", is_staff=True
    )
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


def test_managing_schedules_needs_the_run_migration_permission(client, django_user_model, connection):
    viewer = staff(django_user_model, "viewer", "connections.view_connection")
    client.force_login(viewer)
    page = client.get(connection_url(connection)).content.decode()
    assert "You do not have the permission to see schedules." in page
    assert "Add schedule" not in page
    assert client.get(reverse("admin:schedules_schedule_add")).status_code == 403
    assert add(client, connection).status_code == 403
    assert not Schedule.objects.exists()

    runner = staff(
        django_user_model, "runner", "connections.view_connection", "migrations_runs.run_migration"
    )
    client.force_login(runner)
    assert "Add schedule" in client.get(connection_url(connection)).content.decode()
    assert add(client, connection).status_code == 302
    schedule = Schedule.objects.get()
    assert (
        client.post(
            reverse("admin:schedules_schedule_delete", args=[schedule.pk]), {"post": "yes"}
        ).status_code
        == 302
    )
    assert not PeriodicTask.objects.filter(task="schedules.run_scheduled").exists()


# --- the task beat sends (called directly: the function, then through the registered task name)


def make_schedule(connection: Connection, **fields) -> Schedule:
    return Schedule.objects.create(connection=connection, **{"interval_minutes": 15, **fields})


def test_an_incremental_schedule_starts_a_run_with_the_connections_saved_entities(enqueued, connection):
    Connection.objects.filter(pk=connection.pk).update(migration_entities=["products", "locales"])
    schedule = make_schedule(connection, mode="incremental")
    changed_before = PeriodicTasks.last_change()

    outcome = run_scheduled(schedule.pk)

    run = MigrationRun.objects.get()
    assert enqueued == [run.pk]
    assert run.entities == ["locales", "products"]
    assert isinstance(run.filters["incremental"], dict)  # the watermark migrations_runs.filters resolved
    assert run.user is None
    assert outcome == f"Started run #{run.pk} (incremental, 2 entities)."
    schedule.refresh_from_db()
    assert (schedule.last_run, schedule.last_outcome) == (run, outcome)
    assert schedule.last_run_at is not None
    assert PeriodicTasks.last_change() == changed_before  # recording an outcome does not reload beat


def test_a_full_schedule_with_no_entity_anywhere_runs_everything_with_the_saved_filters(enqueued, connection):
    Connection.objects.filter(pk=connection.pk).update(import_filters={"status": "enabled"})
    schedule = make_schedule(connection, mode="full")
    task = schedule.periodic_task

    celery_app.tasks[task.task].apply(args=json.loads(task.args))  # what beat's entry names

    run = MigrationRun.objects.get()
    assert sorted(run.entities) == sorted(ENTITY_CODES)
    assert "incremental" not in run.filters
    assert run.filters["status"] == "enabled"  # the connection's import filters, as for a run started by hand


def test_a_schedule_skips_and_logs_while_another_run_is_active(enqueued, connection, caplog):
    active = start_run(connection, ["locales"], enqueue=False)
    schedule = make_schedule(connection, entities=["currencies"])

    with caplog.at_level(logging.WARNING, logger="schedules.services"):
        outcome = run_scheduled(schedule.pk)

    assert outcome.startswith(f"Skipped: Migration run #{active.pk} is still queued on this connection")
    assert list(MigrationRun.objects.all()) == [active]
    assert enqueued == []
    schedule.refresh_from_db()
    assert schedule.last_outcome == outcome
    assert schedule.last_run is None
    assert schedule.last_run_at is not None
    assert (
        f"Schedule #{schedule.pk} on connection 'production': Skipped: Migration run #{active.pk}"
        in caplog.text
    )


def test_a_schedule_skips_a_disabled_connection(enqueued, connection, caplog):
    schedule = make_schedule(connection)
    Connection.objects.filter(pk=connection.pk).update(enabled=False)

    with caplog.at_level(logging.WARNING, logger="schedules.services"):
        assert run_scheduled(schedule.pk) == "Skipped: the connection is disabled."

    assert not MigrationRun.objects.exists()
    schedule.refresh_from_db()
    assert schedule.last_outcome == "Skipped: the connection is disabled."
    assert "Skipped: the connection is disabled." in caplog.text


def test_a_disabled_or_deleted_schedule_starts_nothing(enqueued, connection):
    schedule = make_schedule(connection, enabled=False)
    assert not schedule.periodic_task.enabled
    assert run_scheduled(schedule.pk) == "Skipped: the schedule is disabled."
    schedule_id = schedule.pk
    schedule.delete()
    assert run_scheduled(schedule_id) == "missing"
    assert not MigrationRun.objects.exists()


def test_a_schedule_saved_from_code_is_validated_too(connection):
    with pytest.raises(ValidationError) as refused:
        Schedule.objects.create(connection=connection, interval_minutes=None, crontab="")
    assert "Give an interval in minutes or a crontab" in str(refused.value)
    with pytest.raises(ValidationError):
        Schedule.objects.create(connection=connection, crontab="0 2 * *")
    assert not Schedule.objects.exists()
    assert not PeriodicTask.objects.filter(task="schedules.run_scheduled").exists()
