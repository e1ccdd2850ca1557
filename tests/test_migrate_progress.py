"""`akeneo_migrate --sync`'s progress bar (migrations_runs.progress.TerminalProgress): right from the first page."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from migrations_runs.models import MigrationStep, Status
from migrations_runs.progress import TerminalProgress
from migrations_runs.services import start_run
from tests.factories import ConnectionFactory
from tests.support.demo import demo_fixture

RATE = re.compile(r"([\d.]+) rec/s")


@pytest.fixture
def step(db) -> MigrationStep:
    run = start_run(ConnectionFactory(), ["products"], enqueue=False)
    return run.steps.get()


def draw(progress: TerminalProgress, out: StringIO, step: MigrationStep) -> str:
    """What the last redraw shows (tqdm rewrites the line after a carriage return)."""
    progress(step)
    return out.getvalue().split("\r")[-1]


@pytest.mark.django_db
def test_first_page_shows_its_share_and_the_rate_since_the_step_started(step):
    step.started_at = timezone.now() - timedelta(seconds=100)  # the count call and the first page took 100 s
    step.status, step.total, step.read, step.created, step.failed = Status.RUNNING, 15000, 5000, 4990, 10
    out = StringIO()
    progress = TerminalProgress(out, mininterval=0)
    before = time.time()
    line = draw(progress, out, step)
    after = time.time()
    assert line.startswith("Products") and " 33%|" in line and "5000/15000" in line
    bar = line.split("|")[1]
    assert 0.30 < bar.count("#") / len(bar) < 0.36  # a third of the bar, from the first page on
    assert "+4990 ~0 =0 !10" in line
    rate = float(RATE.search(line).group(1))
    started = step.started_at.timestamp()
    assert 5000 / (after - started) <= rate + 0.01 and rate - 0.01 <= 5000 / (before - started)  # about 50/s


@pytest.mark.django_db
def test_a_completed_step_ends_full_even_when_akeneo_counted_fewer(step):
    step.started_at = timezone.now() - timedelta(seconds=10)
    step.status, step.total, step.read = Status.RUNNING, 150, 100
    out = StringIO()
    progress = TerminalProgress(out, mininterval=0)
    assert "100/150" in draw(progress, out, step)
    step.status, step.read = Status.COMPLETED, 160
    line = draw(progress, out, step)
    assert "160/160" in line and "100%" in line
    assert out.getvalue().endswith("\n") and progress.bars == {}  # the bar is closed and left on screen


@pytest.mark.django_db
def test_without_a_count_it_shows_the_records_read(step):
    step.started_at = timezone.now() - timedelta(seconds=10)
    step.status, step.total, step.read = Status.RUNNING, None, 42
    out = StringIO()
    progress = TerminalProgress(out, mininterval=0)
    line = draw(progress, out, step)
    assert "42 rec" in line and "%" not in line
    progress.close()
    assert progress.bars == {}


demo = demo_fixture(products=20)


@pytest.mark.django_db(transaction=True)
def test_akeneo_migrate_sync_draws_one_finished_bar_per_entity(connection):
    out, err = StringIO(), StringIO()
    call_command(
        "akeneo_migrate",
        str(connection.pk),
        "--entities",
        "locales,currencies",
        "--sync",
        stdout=out,
        stderr=err,
    )
    steps = {step.entity: step for step in MigrationStep.objects.filter(run__connection=connection)}
    finals = [line for line in err.getvalue().splitlines() if line]
    last = {label: next(part for part in reversed(finals) if part.split("\r")[-1].startswith(label)).split("\r")[-1]
            for label in ("Locales", "Currencies")}  # fmt: skip
    for label, entity in (("Locales", "locales"), ("Currencies", "currencies")):
        read = steps[entity].read
        assert read > 0
        bar = last[label].split("|")[1]
        assert " 100%|" in last[label] and set(bar) == {"#"}, err.getvalue()
        assert f"{read}/{read}" in last[label]
    assert "Migration run" in out.getvalue() and "completed." in out.getvalue()
