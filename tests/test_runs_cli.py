"""`manage.py akeneo_runs list|show|log|cancel|delete`: the run pages of the admin, for scripts."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from catalog.models import Currency, Locale
from devtools.workers import database_url
from migrations_runs.models import MigrationLog, MigrationRun, MigrationStep, Status
from migrations_runs.services import start_run
from tests.factories import ConnectionFactory
from tests.support.demo import demo_fixture

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parent.parent


demo = demo_fixture(products=20)


def runs(*args: str, stdin: str | None = None) -> str:
    out = StringIO()
    extra = {"stdin": StringIO(stdin)} if stdin is not None else {}
    call_command("akeneo_runs", *args, stdout=out, stderr=StringIO(), **extra)
    return out.getvalue()


@pytest.fixture
def migrated(connection) -> MigrationRun:
    """A completed run of the demo's locales and currencies, through the real command."""
    call_command(
        "akeneo_migrate", str(connection.pk), "--entities", "locales,currencies", "--sync",
        stdout=StringIO(), stderr=StringIO(),
    )  # fmt: skip
    run = MigrationRun.objects.latest("pk")
    assert run.status == Status.COMPLETED
    return run


def alive_run(connection) -> MigrationRun:
    """A run whose worker is alive: its step is running with a fresh heartbeat."""
    run = start_run(connection, ["locales"], enqueue=False)
    MigrationRun.objects.filter(pk=run.pk).update(status=Status.RUNNING, started_at=timezone.now())
    run.steps.update(status=Status.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now())
    run.refresh_from_db()
    return run


# --------------------------------------------------------------------------- list


def test_list_filters_by_connection_and_status(migrated, connection):
    other = ConnectionFactory(name="other\x1b[2J")
    queued = start_run(other, ["locales"], enqueue=False)
    lines = runs("list").splitlines()
    assert lines[0].split() == ["ID", "CONNECTION", "STATUS", "CREATED", "FINISHED", "ENTITIES"]
    assert [line.split()[0] for line in lines[1:]] == [str(queued.pk), str(migrated.pk)]  # newest first
    assert "\x1b" not in "\n".join(lines) and "other\\x1b[2J" in lines[1]  # names escaped
    mine = runs("list", "--connection", connection.name).splitlines()[1:]
    assert [line.split()[:3] for line in mine] == [[str(migrated.pk), connection.name, "Completed"]]
    assert mine[0].split()[-1] == "locales,currencies"
    assert [line.split()[0] for line in runs("list", "--status", "queued").splitlines()[1:]] == [
        str(queued.pk)
    ]
    assert runs("list", "--status", "failed").splitlines()[1:] == []
    assert len(runs("list", "--limit", "1").splitlines()) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--status", "done"], "--status: unknown status 'done' \\(one of: queued, running, completed"),
        (["--connection", "nope"], "No connection 'nope'"),
        (["--limit", "-1"], "--limit"),
    ],
)
def test_list_errors(args, message):
    with pytest.raises(CommandError, match=message):
        runs("list", *args)


# --------------------------------------------------------------------------- show


def test_show_status_entities_filters_steps_and_reconciliation(migrated, connection):
    MigrationRun.objects.filter(pk=migrated.pk).update(filters={"families": ["shoes", "hats"]})
    text = runs("show", str(migrated.pk))
    assert f"Migration run #{migrated.pk}" in text
    assert f"Connection:  {connection.name} (id {connection.pk})" in text
    assert "Status:      Completed" in text
    assert "Entities:    locales, currencies" in text
    assert "  Families: shoes, hats" in text
    steps = text.split("Reconciliation")[0].splitlines()
    header = next(line.split() for line in steps if line.startswith("ENTITY"))
    assert header == ["ENTITY", "STATUS", "READ", "TOTAL", "%", "CREATED", "UPDATED", "UNCHANGED", "SKIPPED",
                      "FAILED", "MEDIA"]  # fmt: skip
    table = {
        line.split()[0]: line.split() for line in steps if line.split()[:1] in (["locales"], ["currencies"])
    }
    locales = Locale.objects.count()
    assert migrated.steps.get(entity="locales").read == locales > 0
    assert (
        table["locales"]
        == ["locales", "Completed", str(locales), str(locales), "100", str(locales)] + ["0"] * 5
    )
    assert "Reconciliation (Akeneo vs local catalog):" in text
    reconciliation = text.split("Reconciliation")[1].splitlines()
    rows = {line.split()[0]: line.split() for line in reconciliation[2:] if line.strip()}
    assert rows["locales"] == ["locales", str(locales), str(locales), "0", "ok"]
    assert rows["currencies"][1:3] == [str(Currency.objects.count())] * 2
    assert f"Records: created {locales + Currency.objects.count()}" in text


def test_show_a_failed_run_with_its_error_and_a_mismatch(connection):
    run = start_run(connection, ["locales"], enqueue=False)
    MigrationRun.objects.filter(pk=run.pk).update(
        status=Status.FAILED,
        error="Locales: boom\x1b[31m",
        reconciliation=[
            {"entity": "locales", "label": "Locales", "source": 5, "local": 3, "difference": -2, "match": False,
             "counted": "read by the run", "parts": []}
        ],
    )  # fmt: skip
    run.steps.update(status=Status.FAILED, error="Locales: boom\x1b[31m", read=3, total=5)
    text = runs("show", f"#{run.pk}")
    assert "Status:      Failed" in text and "Error:       Locales: boom\\x1b[31m" in text
    assert "\x1b" not in text
    assert "Filters:     none (everything)" in text
    locales = next(line.split() for line in text.splitlines() if line.startswith("locales "))
    assert locales[:5] == ["locales", "Failed", "3", "5", "60"]
    mismatch = next(
        line.split() for line in text.split("Reconciliation")[1].splitlines() if line.startswith("locales")
    )
    assert mismatch == ["locales", "5", "(read", "by", "the", "run)", "3", "-2", "MISMATCH"]


@pytest.mark.parametrize(
    ("run_arg", "message"), [("999999", "No migration run #999999"), ("abc", "'abc' is not a run id")]
)
def test_show_unknown_run(run_arg, message):
    with pytest.raises(CommandError, match=message):
        runs("show", run_arg)


# --------------------------------------------------------------------------- log


def test_log_filters_by_level_and_entity(migrated):
    locales = migrated.steps.get(entity="locales")
    currencies = migrated.steps.get(entity="currencies")
    MigrationLog.objects.create(step=locales, level="warning", code="fr_FR", message="odd\x1b]0;title\x07")
    MigrationLog.objects.create(step=currencies, level="error", code="EUR", message="refused")
    lines = [line.split("\t") for line in runs("log", str(migrated.pk)).splitlines()]
    assert [line[1:4] for line in lines[-2:]] == [
        ["WARNING", "locales", "fr_FR"],
        ["ERROR", "currencies", "EUR"],
    ]
    assert lines[-2][4] == "odd\\x1b]0;title\\x07"
    assert [
        line.split("\t")[3] for line in runs("log", str(migrated.pk), "--level", "error").splitlines()
    ] == ["EUR"]
    only_locales = [
        line.split("\t") for line in runs("log", str(migrated.pk), "--entity", "locales").splitlines()
    ]
    assert only_locales and {line[2] for line in only_locales} == {"locales"}
    both = runs("log", str(migrated.pk), "--entity", "currencies", "--level", "WARNING")
    assert both == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--level", "debug"], "--level: unknown level 'debug' \\(one of: info, warning, error\\)"),
        (["--entity", "widgets"], "--entity: unknown entity 'widgets'"),
        (["--entity", "products"], "did not migrate products"),
    ],
)
def test_log_errors(migrated, args, message):
    with pytest.raises(CommandError, match=message):
        runs("log", str(migrated.pk), *args)


# --------------------------------------------------------------------------- cancel


def test_cancel_a_queued_run_at_once(connection):
    run = start_run(connection, ["locales", "currencies"], enqueue=False)
    assert (
        runs("cancel", str(run.pk)).strip()
        == f"Migration run #{run.pk} was cancelled: Cancelled before it started."
    )
    run.refresh_from_db()
    assert run.status == Status.CANCELLED
    assert set(run.steps.values_list("status", flat=True)) == {Status.CANCELLED}


def test_cancel_a_running_run_asks_its_worker_to_stop(connection):
    run = alive_run(connection)
    assert (
        runs("cancel", str(run.pk)).strip()
        == f"Migration run #{run.pk} will stop after the page being imported."
    )
    run.refresh_from_db()
    assert run.status == Status.RUNNING and run.cancel_requested
    assert "Status:      Running (cancel requested)" in runs("show", str(run.pk))


def test_cancel_a_stale_run_ends_it(connection, settings):
    run = alive_run(connection)
    long_ago = timezone.now() - timedelta(seconds=settings.MIGRATION_STEP_LEASE_SECONDS + 60)
    run.steps.update(heartbeat_at=long_ago)
    assert runs("cancel", str(run.pk)).startswith(
        f"Migration run #{run.pk} was cancelled: Cancelled by a user; "
    )
    run.refresh_from_db()
    assert run.status == Status.CANCELLED


def test_cancel_a_finished_or_unknown_run_is_an_error(migrated):
    with pytest.raises(
        CommandError, match=f"Migration run #{migrated.pk} is already completed: nothing to cancel"
    ):
        runs("cancel", str(migrated.pk))
    with pytest.raises(CommandError, match="No migration run #424242"):
        runs("cancel", "424242")


# --------------------------------------------------------------------------- delete


def test_delete_runs_keeps_the_imported_catalog(migrated, connection):
    locales, currencies = Locale.objects.count(), Currency.objects.count()
    queued = start_run(connection, ["locales"], enqueue=False)
    runs("cancel", str(queued.pk))
    out = runs("delete", str(migrated.pk), f"#{queued.pk}", "--yes")
    assert out.strip() == f"Deleted migration run #{migrated.pk}, #{queued.pk}; the imported catalog is kept."
    assert not MigrationRun.objects.exists() and not MigrationStep.objects.exists()
    assert (Locale.objects.count(), Currency.objects.count()) == (locales, currencies) != (0, 0)
    assert connection.mappings.count() == locales + currencies  # what maps the catalog stays too


def test_delete_asks_first(migrated):
    with pytest.raises(CommandError, match="Not deleted"):
        runs("delete", str(migrated.pk), stdin="no\n")
    assert MigrationRun.objects.filter(pk=migrated.pk).exists()
    runs("delete", str(migrated.pk), stdin="y\n")
    assert not MigrationRun.objects.filter(pk=migrated.pk).exists()


def test_delete_refuses_a_live_run_or_an_unknown_id_and_deletes_nothing(migrated, connection):
    live = alive_run(connection)
    with pytest.raises(CommandError, match=f"Migration run #{live.pk} is still running: cancel it first"):
        runs("delete", str(migrated.pk), str(live.pk), "--yes")
    with pytest.raises(CommandError, match="No migration run #999999: nothing was deleted"):
        runs("delete", str(migrated.pk), "999999", "--no-input")
    assert MigrationRun.objects.count() == 2


# --------------------------------------------------------------------------- a real process


def test_a_user_mistake_is_one_line_on_stderr_and_exit_status_1(migrated):
    """Through `manage.py` itself, on this test database: no traceback, one line, status 1."""
    env = {**os.environ, "DATABASE_URL": database_url()}  # this test database, SQLite or PostgreSQL
    command = [sys.executable, str(ROOT / "manage.py"), "akeneo_runs"]
    for args, message in (
        (["show", "999999"], "CommandError: No migration run #999999 (see: manage.py akeneo_runs list)"),
        (["list", "--status", "done"], "CommandError: --status: unknown status 'done'"),
    ):
        done = subprocess.run(command + args, capture_output=True, text=True, timeout=60, cwd=ROOT, env=env)
        assert done.returncode == 1
        assert done.stderr.strip().startswith(message) and len(done.stderr.strip().splitlines()) == 1
    done = subprocess.run(
        [*command, "show", str(migrated.pk)], capture_output=True, text=True, timeout=60, cwd=ROOT, env=env
    )
    assert done.returncode == 0 and "Status:      Completed" in done.stdout and done.stderr == ""
