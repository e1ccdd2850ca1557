"""Real services for tests: a throw-away redis-server and a real Celery worker process, and waiting on them.

The fixtures are made visible by importing them into a conftest.py (tests/integration/, tests/browser/).

`redis_server` (session) starts `redis-server` on a free loopback port; `celery_app_on_test_redis` points the
test process's Celery app at it; `celery_worker` runs `celery -A akeneo_migration worker` as a subprocess on the
same broker and on the pytest-django test database (so tests that use it need `django_db(transaction=True)`:
rows must be committed for the worker to see them).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import redis
from django.conf import settings

from akeneo_migration.celery import app as celery_app
from devtools.workers import BenchSetupError, start_redis, stop_process

if TYPE_CHECKING:
    from migrations_runs.models import MigrationRun

WORKER_START_TIMEOUT = 30.0
WORKER_STOP_TIMEOUT = 10.0


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """A private redis-server on 127.0.0.1, without persistence. Yields its URL (database 0)."""
    workdir = Path(tempfile.mkdtemp(prefix="test-redis-"))
    try:
        try:
            process, url = start_redis(workdir)
        except BenchSetupError as error:
            pytest.fail(f"The integration tests need a real Redis: {error}", pytrace=False)
        try:
            yield url
        finally:
            stop_process(process, 10)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _forget_celery_connections(app) -> None:
    """Drop the app's cached broker pool, producer pool and result backend, so a new URL takes effect."""
    app._pool = None  # kombu's process-wide pool for the old URL: left open, for whoever else shares it
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None
    app._backend_cache = None
    vars(app._local).pop("backend", None)


@pytest.fixture
def redis_client(redis_server) -> Iterator[redis.Redis]:
    """A client on the test Redis; the database is emptied afterwards (queued messages, results)."""
    client = redis.Redis.from_url(redis_server)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def celery_app_on_test_redis(redis_server, redis_client):
    """The project's Celery app, for this test, publishing to and reading results from the test Redis."""
    names = ("broker_url", "result_backend", "task_always_eager")
    saved = {name: celery_app.conf[name] for name in names}
    celery_app.conf.broker_url = celery_app.conf.result_backend = redis_server
    celery_app.conf.task_always_eager = False  # the point is a real round trip through the broker
    _forget_celery_connections(celery_app)
    yield celery_app
    _forget_celery_connections(celery_app)
    for name, value in saved.items():
        celery_app.conf[name] = value


def database_url_for_worker() -> str:
    """A DATABASE_URL for the database the test process is using now (pytest-django's test database)."""
    from devtools.workers import BenchSetupError, database_url

    try:
        return database_url()
    except BenchSetupError as error:
        pytest.fail(f"A worker process cannot use this test database: {error}", pytrace=False)


@dataclass
class Worker:
    process: subprocess.Popen
    nodename: str
    log_path: Path

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for_output(self, text: str, timeout: float = 10.0) -> str:
        """The output once it contains `text` (the worker may log a task after its result is stored)."""
        deadline = time.monotonic() + timeout
        while text not in (output := self.output()):
            if time.monotonic() > deadline:
                raise AssertionError(f"The worker did not log {text!r} within {timeout:.0f} s")
            time.sleep(0.05)
        return output


@pytest.fixture
def worker_env() -> dict[str, str]:
    """Extra environment for the worker process; a test module overrides this fixture to change settings.

    CELERY_WORKER_CONCURRENCY in it sets the worker's number of prefork pool processes (1 by default)."""
    return {}


@pytest.fixture
def celery_worker(
    celery_app_on_test_redis, redis_server, tmp_path, worker_env, media_root
) -> Iterator[Worker]:
    """A real `celery worker` subprocess on the test Redis and the test database; stopped afterwards.

    Its output is printed at teardown, which pytest shows only for a failing test.
    """
    celery_script = Path(sys.executable).parent / "celery"
    if not celery_script.exists():
        pytest.fail(f"No celery script next to the Python interpreter ({celery_script})", pytrace=False)
    hostname = socket.gethostname()
    nodename = f"test@{hostname}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "akeneo_migration.settings",
        "REDIS_URL": redis_server,
        "DATABASE_URL": database_url_for_worker(),
        "DB_CONN_MAX_AGE": "0",  # no connection kept open to the test database, which is dropped at the end
        "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
        "VAR_DIR": str(settings.VAR_DIR),
        "MEDIA_ROOT": str(media_root),  # the same media folder as this test process
        "DEBUG": "1",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        "PYTHONUNBUFFERED": "1",
        **worker_env,
    }
    log_path = tmp_path / "celery-worker.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(celery_script),
                "-A",
                "akeneo_migration",
                "worker",
                "-l",
                "info",
                "--concurrency",
                worker_env.get("CELERY_WORKER_CONCURRENCY", "1"),
                "--pool",
                "prefork",
                "-n",
                "test@%h",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    worker = Worker(process=process, nodename=nodename, log_path=log_path)
    try:
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"The Celery worker exited with code {process.returncode} while starting. Its output:\n"
                    f"{worker.output()}",
                    pytrace=False,
                )
            replies = celery_app_on_test_redis.control.ping(destination=[nodename], timeout=1)
            if any(nodename in reply for reply in replies):
                break
            if time.monotonic() > deadline:
                pytest.fail(
                    f"The Celery worker did not answer ping within {WORKER_START_TIMEOUT:.0f} s. Its output:\n"
                    f"{worker.output()}",
                    pytrace=False,
                )
        yield worker
    finally:
        stop_process(process, WORKER_STOP_TIMEOUT)
        print(f"----- celery worker output (exit code {process.returncode}) -----\n{worker.output()}")


def wait_for_end(run: MigrationRun, timeout: float = 120) -> MigrationRun:
    """The run, reloaded, once it is no longer active (a worker carries it); fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if not run.is_active:
            return run
        time.sleep(0.3)
    raise AssertionError(
        f"run #{run.pk} still {run.status} after {timeout}s: {list(run.steps.values('entity', 'status', 'read'))}"
    )
