"""The Import Filters tab over HTTP (Django's test client) against the demo Akeneo: save, validation messages
against the source, the run page showing a run's filters and incremental window, the Incremental choice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from migrations_runs.models import MigrationRun, Status
from migrations_runs.services import start_run
from tests.factories import connection_for
from tests.support.demo import demo_fixture

pytestmark = pytest.mark.django_db(transaction=True)


demo = demo_fixture(products=40)


@pytest.fixture
def connection(demo):
    return connection_for(demo, name="production")


def change_url(connection) -> str:
    return reverse("admin:connections_connection_change", args=[connection.pk])


def filters_url(connection) -> str:
    return reverse("admin:migrations_runs_migrationrun_filters", args=[connection.pk])


def form(**fields) -> dict[str, str]:
    return {f"filters-{name}": value for name, value in fields.items()}


def test_the_tab_is_on_the_connection_page(admin, connection):
    html = admin.get(change_url(connection)).content.decode()
    assert 'data-tab="import-filters"' in html and ">Import Filters</a>" in html
    assert 'id="panel-import-filters"' in html
    assert "No filter saved: runs read the whole catalog." in html
    assert f'data-save-filters="{filters_url(connection)}"' in html
    assert 'name="mode" value="incremental" form="start-migration-form"' in html


def test_saving_valid_filters(admin, connection):
    response = admin.post(
        filters_url(connection),
        form(
            channel="ecommerce",
            locales="en_US, fr_FR",
            families="shoes",
            status="enabled",
            completeness="90",
            updated_mode="between",
            updated_from="2023-01-01",
            updated_to="2023-06-30",
            categories="footwear",
            identifiers="SKU-1\nSKU-2",
            media="with",
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == change_url(connection) + "#import-filters"
    connection.refresh_from_db()
    assert connection.import_filters == {
        "channel": "ecommerce",
        "locales": ["en_US", "fr_FR"],
        "families": ["shoes"],
        "status": "enabled",
        "completeness": 90,
        "updated": {"between": ["2023-01-01 00:00:00", "2023-06-30 23:59:59"]},
        "categories": ["footwear"],
        "identifiers": ["SKU-1", "SKU-2"],
        "media": "with",
    }
    page = admin.get(response["Location"]).content.decode()
    assert "Import filters saved: Channel: ecommerce; Locales: en_US, fr_FR" in page
    assert 'value="ecommerce"' in page and "SKU-1\nSKU-2" in page
    # cleared
    admin.post(filters_url(connection), form(status=""))
    connection.refresh_from_db()
    assert connection.import_filters == {}


def test_codes_unknown_to_the_source_are_refused_with_messages(admin, connection):
    response = admin.post(
        filters_url(connection),
        form(channel="web", families="shoes, boats", categories="nowhere", locales="xx_XX"),
    )
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.import_filters == {}
    page = admin.get(response["Location"]).content.decode()
    assert "The import filters were not saved" in page
    assert (
        'data-filter-error="channel"' in page and "Channel &#x27;web&#x27; does not exist in Akeneo" in page
    )
    assert 'data-filter-error="families"' in page and "Families that do not exist in Akeneo: boats." in page
    assert "Categories that do not exist in Akeneo: nowhere." in page
    assert "Locales not enabled in Akeneo: xx_XX" in page
    assert 'value="shoes, boats"' in page  # what was typed comes back
    # shown once
    assert 'data-filter-error="channel"' not in admin.get(change_url(connection)).content.decode()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"completeness": "80"},
            "completeness",
            "Completeness is computed per channel: choose a channel too.",
        ),
        ({"updated_mode": "days", "updated_days": "0"}, "updated_days", "greater than or equal to 1"),
        ({"updated_mode": "since"}, "updated_since", "Needed for this choice of Updated."),
        (
            {"updated_mode": "since", "updated_since": "soon"},
            "updated_mode",
            "&#x27;soon&#x27; is not a date",
        ),
        (
            {"updated_mode": "between", "updated_from": "2024-05-01", "updated_to": "2024-01-01"},
            "updated_mode",
            "is after the second",
        ),
    ],
)
def test_syntax_errors_are_shown_on_their_field(admin, connection, fields, field, message):
    admin.post(filters_url(connection), form(**fields))
    connection.refresh_from_db()
    assert connection.import_filters == {}
    page = admin.get(change_url(connection)).content.decode()
    assert f'data-filter-error="{field}"' in page
    assert message in page


def test_saving_needs_the_change_permission(client, django_user_model, connection):
    user = django_user_model.objects.create_user(
        username="viewer", password="pw-for-tests-123", is_staff=True
    )
    user.user_permissions.set(Permission.objects.filter(codename="view_connection"))
    client.force_login(user)
    assert client.post(filters_url(connection), form(families="shoes")).status_code == 403
    assert (
        "You do not have the permission to change this connection"
        in client.get(change_url(connection)).content.decode()
    )
    connection.refresh_from_db()
    assert connection.import_filters == {}


def test_the_run_page_shows_the_filters_and_the_incremental_window(admin, connection):
    base = MigrationRun.objects.create(connection=connection, entities=["products"], status=Status.COMPLETED)
    MigrationRun.objects.filter(pk=base.pk).update(started_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC))
    run = start_run(
        connection,
        ["products"],
        filters={"families": ["shoes"], "status": "disabled"},
        incremental=True,
        enqueue=False,
    )
    page = admin.get(reverse("admin:migrations_runs_migrationrun_change", args=[run.pk])).content.decode()
    assert "<strong>Families</strong> shoes" in page and "<strong>Status</strong> disabled" in page
    assert f"updated after 2024-05-01 11:55:00 UTC (start of run #{base.pk} minus 300 s overlap)" in page
    assert "Incremental: reading only what was updated after 2024-05-01 11:55:00 UTC" in page  # the run log


def test_start_migration_with_the_incremental_choice(admin, connection, monkeypatch):
    monkeypatch.setattr("migrations_runs.tasks.enqueue_run", lambda run: None)
    base = MigrationRun.objects.create(connection=connection, entities=["products"], status=Status.COMPLETED)
    MigrationRun.objects.filter(pk=base.pk).update(started_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC))
    connection.import_filters = {"families": ["shoes"]}
    connection.save()
    migrate = reverse("admin:migrations_runs_migrationrun_start", args=[connection.pk])
    admin.post(migrate, {"entities": ["products"], "mode": "incremental"})
    run = MigrationRun.objects.exclude(pk=base.pk).get()
    assert run.filters["families"] == ["shoes"]  # the saved filters are copied onto the run
    assert run.filters["incremental"]["since"] == "2024-05-01 11:55:00"
    MigrationRun.objects.filter(pk=run.pk).update(status=Status.CANCELLED)
    admin.post(migrate, {"entities": ["products"]})
    full = MigrationRun.objects.order_by("-pk").first()
    assert "incremental" not in full.filters and full.filters["families"] == ["shoes"]
