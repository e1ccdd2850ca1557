"""No process death leaves a run blocking its connection: a `--sync` run killed with SIGKILL goes stale once its
lease runs out; the next start supersedes it and Cancel ends it at once, each saying why in the run log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from migrations_runs.models import MigrationLog, MigrationRun, MigrationStep, Status
from tests.factories import connection_for
from tests.support.demo import demo_fixture
from tests.support.services import database_url_for_worker

pytestmark = pytest.mark.django_db(transaction=True)


slow_demo = demo_fixture(products=120, latency_ms=150)


@pytest.fixture
def connection(slow_demo):
    return connection_for(slow_demo)


def manage_py_env(media_root) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "akeneo_migration.settings",
        "DATABASE_URL": database_url_for_worker(),
        "DB_CONN_MAX_AGE": "0",
        "FIELD_ENCRYPTION_KEYS": ",".join(django_settings.FIELD_ENCRYPTION_KEYS),
        "VAR_DIR": str(django_settings.VAR_DIR),
        "MEDIA_ROOT": str(media_root),
        "DEBUG": "1",
        "AKENEO_PAGE_SIZE": "10",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }


def kill_sync_run_midway(connection, media_root) -> MigrationRun:
    """`manage.py akeneo_migrate --sync` in a subprocess, killed -9 once locales are done and products going."""
    process = subprocess.Popen(
        [sys.executable, "manage.py", "akeneo_migrate", str(connection.pk), "--entities", "locales,products",
         "--sync"],
        cwd=django_settings.BASE_DIR, env=manage_py_env(media_root),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not MigrationStep.objects.filter(
            run__connection=connection, entity="products", status=Status.RUNNING, read__gt=0
        ).exists():
            assert process.poll() is None, process.stdout.read().decode(errors="replace")
            assert time.monotonic() < deadline, "the products step never got going"
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        process.stdout.close()
    run = MigrationRun.objects.get(connection=connection)
    assert run.status == Status.RUNNING
    assert run.steps.get(entity="locales").status == Status.COMPLETED
    return run


def wait_until_stale(run: MigrationRun, lease: int) -> None:
    """Until the killed run's heartbeat is older than the (short) lease: about one second."""
    step = run.steps.get(status=Status.RUNNING)
    while timezone.now() - step.heartbeat_at <= timedelta(seconds=lease):
        time.sleep(0.05)


def test_a_killed_sync_run_is_superseded_by_the_next_start(connection, media_root, settings):
    old = kill_sync_run_midway(connection, media_root)
    # Its lease (10 minutes by default) has not run out: the connection is still taken.
    with pytest.raises(CommandError, match=f"#{old.pk} is still running"):
        call_command(
            "akeneo_migrate", str(connection.pk), "--entities", "locales", "--sync", stdout=StringIO()
        )

    settings.MIGRATION_STEP_LEASE_SECONDS = 1
    wait_until_stale(old, 1)
    out = StringIO()
    call_command("akeneo_migrate", str(connection.pk), "--entities", "locales", "--sync", stdout=out)
    new = MigrationRun.objects.filter(connection=connection).latest("pk")
    assert new.pk != old.pk and new.status == Status.COMPLETED, new.error
    assert f"Migration run #{new.pk} completed." in out.getvalue()

    old.refresh_from_db()
    products = old.steps.get(entity="products")
    assert old.status == Status.FAILED and products.status == Status.FAILED
    assert "the process running it stopped (last heartbeat at" in old.error
    log = MigrationLog.objects.get(step=products, level="error")
    assert log.message == old.error and "Superseded by a new run" in log.message
    heartbeat = timezone.localtime(products.heartbeat_at).strftime("%Y-%m-%d %H:%M:%S")
    assert heartbeat in log.message


def test_cancel_ends_a_killed_run_at_once(connection, media_root, settings, client, superuser):
    run = kill_sync_run_midway(connection, media_root)
    settings.MIGRATION_STEP_LEASE_SECONDS = 1
    wait_until_stale(run, 1)
    client.force_login(superuser)
    client.post(reverse("admin:migrations_runs_migrationrun_cancel", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == Status.CANCELLED and run.finished_at is not None
    assert "the process running it stopped" in run.error
    assert run.steps.get(entity="products").status == Status.CANCELLED
    assert MigrationLog.objects.filter(step__run=run, message=run.error).exists()
    # The connection is free again.
    call_command("akeneo_migrate", str(connection.pk), "--entities", "locales", "--sync", stdout=StringIO())
    assert MigrationRun.objects.filter(connection=connection).latest("pk").status == Status.COMPLETED


def test_a_live_run_is_not_taken_for_dead(connection, settings):
    """Between two steps (no step running) a run is alive while its last sign of life is within the lease."""
    call_command("akeneo_migrate", str(connection.pk), "--entities", "locales", "--sync", stdout=StringIO())
    run = MigrationRun.objects.get(connection=connection)
    MigrationRun.objects.filter(pk=run.pk).update(status=Status.RUNNING)  # as if the next step were queued
    settings.MIGRATION_STEP_LEASE_SECONDS = 600
    with pytest.raises(CommandError, match="still running"):
        call_command(
            "akeneo_migrate", str(connection.pk), "--entities", "locales", "--sync", stdout=StringIO()
        )
    run.refresh_from_db()
    assert run.status == Status.RUNNING


def test_a_wrong_encryption_key_fails_the_run_with_a_clear_message(connection, settings):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError, match="cannot be decrypted with the configured FIELD_ENCRYPTION_KEYS"):
        call_command(
            "akeneo_migrate", str(connection.pk), "--entities", "locales", "--sync", stdout=StringIO()
        )
    run = MigrationRun.objects.get(connection=connection)
    assert run.status == Status.FAILED and "FIELD_ENCRYPTION_KEYS" in run.error
    assert list(run.steps.values_list("status", flat=True)) == [Status.FAILED]
    assert MigrationLog.objects.filter(step__run=run, level="error", message=run.error).exists()
