"""The run page and the runs list through the admin: step bars and ETA, cancel confirmation, log formatting,
throughput chart data, entity summary, and deletes that return to the connection's Migration History tab."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from migrations_runs.entities import ENTITY_CODES
from migrations_runs.models import MigrationLog, MigrationRun, Status
from migrations_runs.services import start_run
from tests.factories import ConnectionFactory
from tests.support.demo import demo_fixture

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:migrations_runs_migrationrun_changelist"


demo = demo_fixture(products=12)


def run_url(run: MigrationRun) -> str:
    return reverse("admin:migrations_runs_migrationrun_change", args=[run.pk])


def cancel_url(run: MigrationRun) -> str:
    return reverse("admin:migrations_runs_migrationrun_cancel", args=[run.pk])


def delete_url(run: MigrationRun) -> str:
    return reverse("admin:migrations_runs_migrationrun_delete", args=[run.pk])


def finished_runs(connection, count: int) -> list[MigrationRun]:
    """Runs of one connection (only one may be active at a time, so each ends before the next starts)."""
    runs = []
    for _ in range(count):
        run = start_run(connection, ["locales"], enqueue=False)
        MigrationRun.objects.filter(pk=run.pk).update(status=Status.COMPLETED)
        runs.append(run)
    return runs


def tab_url(connection) -> str:
    return reverse("admin:connections_connection_change", args=[connection.pk])


def progress(admin, run: MigrationRun) -> dict:
    return admin.get(reverse("admin:migrations_runs_migrationrun_progress", args=[run.pk])).json()


def step_row(html: str, entity: str) -> str:
    start = html.index(f'data-step="{entity}"')
    return html[start : html.index("</tr>", start)]


# --- step rows: bars, ETA, cancelled after reading everything


def test_steps_that_never_ran_show_no_busy_bar_and_failed_steps_no_eta(admin):
    run = start_run(ConnectionFactory(), ["locales", "currencies", "categories", "products"], enqueue=False)
    now = timezone.now()
    MigrationRun.objects.filter(pk=run.pk).update(
        status=Status.RUNNING, started_at=now - timedelta(seconds=60)
    )
    run.steps.filter(entity="locales").update(
        status=Status.FAILED, read=10, total=100, started_at=now - timedelta(seconds=60), finished_at=now
    )
    run.steps.filter(entity="currencies").update(
        status=Status.RUNNING, read=30, total=None, started_at=now - timedelta(seconds=10)
    )
    run.steps.filter(entity="categories").update(
        status=Status.RUNNING, read=50, total=100, started_at=now - timedelta(seconds=10)
    )
    html = admin.get(run_url(run)).content.decode()

    queued = step_row(html, "products")
    assert 'data-bar="none"' in queued and "<progress" not in queued
    failed = step_row(html, "locales")
    # A failed step keeps its determinate bar, never an ETA (its "remaining time" would be meaningless).
    assert 'data-bar="value"' in failed and 'value="10"' in failed
    assert re.search(r'data-field="eta_seconds">—<', failed)
    # Only a running step without a count moves.
    busy = step_row(html, "currencies")
    assert 'data-bar="busy"' in busy and re.search(r"<progress max=\"100\"></progress>", busy)
    running = step_row(html, "categories")
    assert re.search(r'data-field="eta_seconds">\d+ s<', running)

    steps = {step["entity"]: step for step in progress(admin, run)["steps"]}
    assert steps["locales"]["eta_display"] == "—" and steps["locales"]["bar"] == "value"
    assert steps["products"]["bar"] == "none" and steps["currencies"]["bar"] == "busy"
    assert steps["categories"]["eta_display"].endswith(" s")


def test_a_cancelled_step_that_read_everything_says_so(admin):
    run = start_run(ConnectionFactory(), ["locales", "currencies"], enqueue=False)
    MigrationRun.objects.filter(pk=run.pk).update(status=Status.CANCELLED, finished_at=timezone.now())
    run.steps.filter(entity="locales").update(status=Status.CANCELLED, read=40, total=40)
    run.steps.filter(entity="currencies").update(status=Status.CANCELLED, read=3, total=40)
    html = admin.get(run_url(run)).content.decode()
    assert "Cancelled after reading all 40 records" in step_row(html, "locales")
    assert "after reading all" not in step_row(html, "currencies")
    steps = {step["entity"]: step for step in progress(admin, run)["steps"]}
    assert steps["locales"]["status_text"] == "Cancelled after reading all 40 records"
    assert steps["currencies"]["status_text"] == "Cancelled"


# --- cancel asks first


def test_cancel_asks_for_confirmation_first(admin):
    run = start_run(ConnectionFactory(), ["locales"], enqueue=False)
    MigrationRun.objects.filter(pk=run.pk).update(status=Status.RUNNING)
    page = admin.get(run_url(run)).content.decode()
    # The run page's Cancel is a link to the confirmation, no form that cancels in one click.
    assert f'<a href="{cancel_url(run)}" class="cancel-run-button" data-cancel>' in page
    assert f'action="{cancel_url(run)}"' not in page

    confirm = admin.get(cancel_url(run))
    body = confirm.content.decode()
    assert confirm.status_code == 200 and f"cancel migration run #{run.pk}" in body
    assert f'action="{cancel_url(run)}"' in body and 'method="post"' in body
    run.refresh_from_db()
    assert run.status == Status.RUNNING and not run.cancel_requested  # asking changed nothing

    done = admin.post(cancel_url(run), follow=True)
    assert "will stop after the page being imported" in done.content.decode()
    run.refresh_from_db()
    assert run.cancel_requested


def test_cancel_page_of_a_finished_run_goes_back_to_it(admin):
    run = start_run(ConnectionFactory(), ["locales"], enqueue=False)
    MigrationRun.objects.filter(pk=run.pk).update(status=Status.COMPLETED)
    response = admin.get(cancel_url(run))
    assert response.status_code == 302 and response["Location"] == run_url(run)


# --- the log and the chart of a real completed run


def test_completed_run_log_is_formatted_and_chart_has_every_step(admin, connection):
    call_command(
        "akeneo_migrate", str(connection.pk), "--entities", "locales,products", "--sync", stdout=StringIO()
    )
    run = MigrationRun.objects.get(connection=connection)
    assert run.status == Status.COMPLETED
    MigrationLog.objects.create(
        step=run.steps.get(entity="products"), level="warning", code="sku-1", message="Odd value"
    )
    MigrationLog.objects.create(step=run.steps.get(entity="locales"), level="info", message="Locales read")
    html = admin.get(run_url(run)).content.decode()
    log = html[html.index("data-log") :]
    assert "<td>Warning</td><td>Products</td><td>sku-1</td><td>Odd value</td>" in log
    assert "<td>Info</td><td>Locales</td><td></td><td>Locales read</td>" in log
    assert "<td>info</td>" not in log and "<td>warning</td>" not in log
    times = re.findall(r'<td class="log-time">([^<]*)</td>', log)
    assert times and all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", t) for t in times)
    assert "+00:00" not in log and not re.search(r"T\d\d:\d\d:\d\d\.\d+", log)

    data = progress(admin, run)
    line = next(line for line in data["log"] if line["code"] == "sku-1")
    assert (line["level_display"], line["entity_label"]) == ("Warning", "Products")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", line["time_display"])
    chart = data["chart"]
    assert [s["entity"] for s in chart["series"]] == ["locales", "products"]
    products = next(s for s in chart["series"] if s["entity"] == "products")
    step = run.steps.get(entity="products")
    elapsed = (step.finished_at - step.started_at).total_seconds()
    assert products["records_rate"] == round(step.read / elapsed, 1) and step.read == 12
    assert 0 <= products["start"] <= products["end"] <= chart["now"]
    assert 'id="run-chart-data"' in html and "data-chart-panels" in html


# --- the runs list


def test_runs_list_summarises_entities_and_shows_full_start_time(admin):
    connection = ConnectionFactory()
    everything = start_run(connection, list(ENTITY_CODES), enqueue=False)
    some = start_run(
        ConnectionFactory(),
        ["locales", "currencies", "channels", "product-models", "products"],
        enqueue=False,
    )
    few = start_run(ConnectionFactory(), ["locales", "products"], enqueue=False)
    started = timezone.make_aware(timezone.datetime(2026, 3, 4, 5, 6, 7))
    MigrationRun.objects.filter(pk=everything.pk).update(started_at=started)
    html = admin.get(reverse(CHANGELIST)).content.decode()
    assert f">All {len(ENTITY_CODES)} entities<" in html
    assert ">Locales, Currencies +3<" in html and ">Locales, Products<" in html
    assert "measurement-families, categories" not in html  # no list of raw codes
    assert "<span>2026-03-04</span> <span>05:06:07</span>" in html
    assert "migrations_runs/runs_list.css" in html and "column-user" in html
    assert 'title="Locales, Currencies, Channels, Product models, Products"' in html
    assert few.pk and some.pk


# --- deletes return to the connection's Migration History tab


def test_single_delete_from_the_tab_returns_to_it(admin):
    connection = ConnectionFactory()
    runs = finished_runs(connection, 2)
    back = tab_url(connection)
    confirm = admin.get(delete_url(runs[0]), HTTP_REFERER=f"http://testserver{back}").content.decode()
    hidden = f'<input type="hidden" name="next" value="{back}#migration-history">'
    assert hidden in confirm
    response = admin.post(delete_url(runs[0]), {"post": "yes", "next": f"{back}#migration-history"})
    assert response.status_code == 302 and response["Location"] == f"{back}#migration-history"
    assert list(MigrationRun.objects.values_list("pk", flat=True)) == [runs[1].pk]
    # An explicit next works without a Referer too.
    confirm = admin.get(delete_url(runs[1]), {"next": f"{back}#migration-history"}).content.decode()
    assert hidden in confirm


def test_bulk_delete_from_the_tab_returns_to_it(admin):
    connection = ConnectionFactory()
    runs = finished_runs(connection, 3)
    back = f"{tab_url(connection)}#migration-history"
    selected = {"action": "delete_selected", "_selected_action": [r.pk for r in runs[:2]]}
    confirm = admin.post(
        reverse(CHANGELIST), selected, HTTP_REFERER=f"http://testserver{tab_url(connection)}"
    )
    assert f'<input type="hidden" name="next" value="{back}">' in confirm.content.decode()
    response = admin.post(reverse(CHANGELIST), {**selected, "post": "yes", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    assert list(MigrationRun.objects.values_list("pk", flat=True)) == [runs[2].pk]


def test_delete_from_the_list_still_returns_to_the_list_and_foreign_next_is_ignored(admin):
    runs = [start_run(ConnectionFactory(), ["locales"], enqueue=False) for _ in range(3)]
    response = admin.post(delete_url(runs[0]), {"post": "yes"})
    assert response["Location"] == reverse(CHANGELIST)
    response = admin.post(delete_url(runs[1]), {"post": "yes", "next": "https://evil.example/x"})
    assert response["Location"] == reverse(CHANGELIST)
    confirm = admin.get(delete_url(runs[2]), HTTP_REFERER="https://evil.example/admin/").content.decode()
    assert 'name="next"' not in confirm
    selected = {"action": "delete_selected", "_selected_action": [runs[2].pk], "post": "yes"}
    response = admin.post(reverse(CHANGELIST), {**selected, "next": "//evil.example/"})
    assert response["Location"] == reverse(CHANGELIST) and not MigrationRun.objects.exists()
