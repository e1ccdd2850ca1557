"""A schedule fired by a real `celery beat` (django-celery-beat's DatabaseScheduler, as `make run` starts it), on
a real worker and Redis: while another run is active on the connection the firing is skipped and logged; once
the connection is free the next firing starts a run, which the worker completes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django_celery_beat.models import IntervalSchedule

from migrations_runs.models import MigrationRun, Status
from migrations_runs.services import request_cancel, start_run
from schedules.models import Schedule
from tests.factories import connection_for
from tests.support.demo import demo_fixture
from tests.support.services import database_url_for_worker, stop_process, wait_for_end

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


demo = demo_fixture(products=5)


class Beat:
    def __init__(self, process: subprocess.Popen, log_path: Path) -> None:
        self.process = process
        self.log_path = log_path

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture
def start_beat(celery_worker, redis_server, tmp_path, media_root) -> Iterator[Callable[[], Beat]]:
    """`start_beat()` runs `celery beat -S django_celery_beat.schedulers:DatabaseScheduler` on the test Redis
    and database, with the worker's environment; it is stopped (before the worker) afterwards."""
    started: list[Beat] = []

    def start() -> Beat:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "akeneo_migration.settings",
            "REDIS_URL": redis_server,
            "DATABASE_URL": database_url_for_worker(),
            "DB_CONN_MAX_AGE": "0",
            "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
            "VAR_DIR": str(settings.VAR_DIR),
            "MEDIA_ROOT": str(media_root),
            "DEBUG": "1",
            "PYTHONUNBUFFERED": "1",
        }
        log_path = tmp_path / "celery-beat.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "celery"),
                    "-A",
                    "akeneo_migration",
                    "beat",
                    "-l",
                    "info",
                    "-S",
                    "django_celery_beat.schedulers:DatabaseScheduler",
                    "--pidfile",
                    str(tmp_path / "celery-beat.pid"),
                    "--schedule",
                    str(tmp_path / "celerybeat-schedule"),
                ],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        beat = Beat(process, log_path)
        started.append(beat)
        return beat

    yield start
    for beat in started:
        stop_process(beat.process, 10)
        print(f"----- celery beat output (exit code {beat.process.returncode}) -----\n{beat.output()}")


def wait_for(condition: Callable[[], object], what: str, beat: Beat, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if beat.process.poll() is not None:
            raise AssertionError(f"celery beat exited ({beat.process.returncode}):\n{beat.output()}")
        time.sleep(0.2)
    raise AssertionError(f"{what} within {timeout:.0f} s. Beat said:\n{beat.output()}")


def test_beat_skips_while_a_run_is_active_then_starts_one(demo, start_beat, celery_worker):
    connection = connection_for(demo)
    schedule = Schedule.objects.create(
        connection=connection, mode="full", entities=["locales"], interval_minutes=1
    )
    # The only shortcut: the schedule's own beat entry fires every second instead of every minute.
    task = schedule.periodic_task
    task.interval, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    task.save()
    blocking = start_run(connection, ["currencies"], enqueue=False)  # queued, alive: it blocks the connection

    beat = start_beat()

    def outcome() -> str:
        schedule.refresh_from_db()
        return schedule.last_outcome

    skipped = wait_for(lambda: outcome().startswith("Skipped"), "No firing was recorded", beat)
    assert skipped
    assert outcome().startswith(f"Skipped: Migration run #{blocking.pk} is still queued on this connection")
    assert list(MigrationRun.objects.filter(connection=connection)) == [blocking]
    assert (
        f"Schedule #{schedule.pk} on connection '{connection.name}': Skipped"
        in celery_worker.wait_for_output(f"Schedule #{schedule.pk} on connection")
    )
    assert "schedules.run_scheduled" in beat.output()

    request_cancel(blocking)  # the connection is free: the next firing starts the run
    run = wait_for(
        lambda: (
            MigrationRun.objects.filter(connection=connection).exclude(pk=blocking.pk).order_by("pk").first()
        ),
        "The schedule started no run",
        beat,
    )
    schedule.refresh_from_db()
    schedule.enabled = False  # no more firings while the test ends
    schedule.save()

    assert run.entities == ["locales"]
    assert run.user is None
    assert wait_for_end(run, timeout=20).status == Status.COMPLETED
    scheduled = MigrationRun.objects.filter(connection=connection).exclude(pk=blocking.pk)
    assert {(r.user_id, tuple(r.entities)) for r in scheduled} == {(None, ("locales",))}
    schedule.refresh_from_db()
    assert schedule.last_run in scheduled  # a later firing may have started (or skipped) another one
