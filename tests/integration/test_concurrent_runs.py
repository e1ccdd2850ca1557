"""Several migrations at once on one database (SQLite by default, PostgreSQL with DATABASE_URL): runs on two
connections both complete, a `--sync` run beside a worker run too, and starts racing on one connection each get
a run or the refusal message, never a database error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from migrations_runs.models import MigrationRun, Status
from migrations_runs.services import start_run
from tests.factories import connection_for
from tests.support.demo import demo_fixture
from tests.support.services import database_url_for_worker, wait_for_end

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ENTITIES = "locales,currencies,channels,categories,attribute-groups,attributes,families,products"


demo = demo_fixture(products=150)


def sync_migration(connection, entities: str, media_root: Path) -> subprocess.Popen:
    """`manage.py akeneo_migrate CONNECTION --entities ... --sync` in its own process, on the test database."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "akeneo_migration.settings",
        "DATABASE_URL": database_url_for_worker(),
        "DB_CONN_MAX_AGE": "0",
        "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
        "VAR_DIR": str(settings.VAR_DIR),
        "MEDIA_ROOT": str(media_root),
        "DEBUG": "1",
        "AKENEO_PAGE_SIZE": "25",  # many short write transactions, interleaved with the other run's
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "akeneo_migrate", str(connection.pk), "--entities", entities, "--sync"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )


def outcome(process: subprocess.Popen) -> tuple[int, str]:
    output, _ = process.communicate(timeout=120)
    return process.returncode, output.decode(errors="replace")


def test_two_sync_runs_on_two_connections_at_once_both_complete(demo, media_root):
    first, second = connection_for(demo), connection_for(demo)
    processes = [sync_migration(connection, ENTITIES, media_root) for connection in (first, second)]
    results = [outcome(process) for process in processes]
    for (code, output), connection in zip(results, (first, second), strict=True):
        run = MigrationRun.objects.get(connection=connection)
        assert code == 0 and run.status == Status.COMPLETED, output
        assert "database is locked" not in output
        assert run.steps.get(entity="products").read == 150


def test_a_sync_run_beside_a_worker_run_both_complete(demo, media_root, celery_worker):
    on_worker, on_sync = connection_for(demo), connection_for(demo)
    queued = start_run(on_worker, ENTITIES.split(","))
    code, output = outcome(sync_migration(on_sync, ENTITIES, media_root))
    assert code == 0, output
    assert MigrationRun.objects.get(connection=on_sync).status == Status.COMPLETED
    run = wait_for_end(queued)
    assert run.status == Status.COMPLETED, (run.error, celery_worker.output()[-3000:])
    assert "database is locked" not in celery_worker.output()


def test_starts_racing_on_one_connection_get_a_run_or_the_refusal(demo, media_root):
    connection = connection_for(demo)
    processes = [sync_migration(connection, "locales", media_root) for _ in range(6)]
    results = [outcome(process) for process in processes]
    runs = MigrationRun.objects.filter(connection=connection)
    completed = [output for code, output in results if code == 0]
    refused = [output for code, output in results if code != 0]
    assert completed and len(completed) == runs.count()
    assert all(run.status == Status.COMPLETED for run in runs)
    for output in refused:
        assert (
            "is still running on this connection" in output or "is still queued on this connection" in output
        )
        assert "Traceback" not in output and "locked" not in output


def test_the_default_sqlite_database_is_private_and_in_wal_mode(tmp_path):
    """`make run` without DATABASE_URL: var/db.sqlite3 and its -wal/-shm files are readable by their owner only."""
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(
        {"DJANGO_SETTINGS_MODULE": "akeneo_migration.settings", "VAR_DIR": str(tmp_path), "DEBUG": "1"}
    )
    # While the connection is open (SQLite removes -wal and -shm when the last one closes).
    script = (
        "import os, pathlib\n"
        "from django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute('CREATE TABLE probe (id integer)')\n"
        "    cursor.execute('PRAGMA journal_mode')\n"
        "    print('mode', cursor.fetchone()[0])\n"
        "    for path in sorted(pathlib.Path(os.environ['VAR_DIR']).glob('db.sqlite3*')):\n"
        "        print('file', path.name, oct(path.stat().st_mode & 0o777))\n"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith(("mode ", "file "))]
    assert lines == [
        "mode wal",
        "file db.sqlite3 0o600",
        "file db.sqlite3-shm 0o600",
        "file db.sqlite3-wal 0o600",
    ]
    assert oct((tmp_path / "db.sqlite3").stat().st_mode & 0o777) == "0o600"
