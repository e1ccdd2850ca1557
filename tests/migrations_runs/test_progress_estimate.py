"""A step Akeneo cannot count (an entity of several resources) gets its percent and ETA from what the same entity
read in the connection's last completed run with the same filters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from migrations_runs.models import MigrationRun, MigrationStep, Status
from migrations_runs.progress import run_progress
from tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db


def make_run(connection, *, status: str, read: int, filters=None, ago: float = 10.0) -> MigrationRun:
    now = timezone.now()
    run = MigrationRun.objects.create(
        connection=connection, entities=["attributes"], filters=filters or {}, status=status, started_at=now
    )
    MigrationStep.objects.create(
        run=run,
        entity="attributes",
        position=0,
        status=status,
        read=read,
        started_at=now - timedelta(seconds=ago),
        finished_at=now if status == Status.COMPLETED else None,
    )
    return run


def attributes_row(run: MigrationRun) -> dict:
    [row] = [step for step in run_progress(run)["steps"] if step["entity"] == "attributes"]
    return row


def test_a_multi_part_step_is_estimated_from_the_last_completed_run():
    connection = ConnectionFactory()
    make_run(connection, status=Status.COMPLETED, read=200)
    running = make_run(connection, status=Status.RUNNING, read=50, ago=10)
    row = attributes_row(running)
    assert row["total"] is None and row["estimated_total"] == 200
    assert row["percent"] == 25.0
    assert 25 <= row["eta_seconds"] <= 35  # 150 left at about 5 records/s


def test_no_estimate_without_a_comparable_run():
    connection = ConnectionFactory()
    make_run(connection, status=Status.COMPLETED, read=200, filters={"families": ["shoes"]})
    make_run(ConnectionFactory(), status=Status.COMPLETED, read=300)  # another connection
    running = make_run(connection, status=Status.RUNNING, read=50)
    row = attributes_row(running)
    assert row["estimated_total"] is None and row["percent"] is None and row["eta_seconds"] is None
