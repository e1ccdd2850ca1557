"""`manage.py bench_migration`: one Markdown row per catalog size, with calls, bound, wall, ratio, RSS, rate.

A smoke test on tiny catalogs (real demo server in a subprocess, real migration): it checks the table's shape and
that its cells hold numbers, never their timings. `--workers` runs the migration on real Celery workers and a
private redis-server (integration)."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from devtools.management.commands.bench_migration import COLUMNS

pytestmark = pytest.mark.django_db(transaction=True)

NUMBER = re.compile(r"^-?[\d,]+(\.\d+)?$")


def table(output: str) -> list[dict[str, str]]:
    lines = [line for line in output.splitlines() if line.startswith("| ")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header == [title for title, _ in COLUMNS]
    assert set(lines[1].replace("|", "").split()) == {"---"}
    return [
        dict(zip(header, (c.strip() for c in line.strip("|").split("|")), strict=True)) for line in lines[2:]
    ]


def test_two_sizes_in_one_invocation_without_latency():
    out = io.StringIO()
    call_command("bench_migration", "--products", "30,50", "--in-process", stdout=out, stderr=io.StringIO())
    rows = table(out.getvalue())
    assert [row["products"] for row in rows] == ["30", "50"]
    for row in rows:
        for column in (
            "page calls",
            "media calls",
            "max in flight",
            "429s",
            "wall s",
            "products/s",
            "peak RSS MB",
        ):
            assert NUMBER.match(row[column]), (column, row[column])
        assert row["page ms"] == row["media ms"] == "0"
        assert row["bound s"] == "0.0" and row["wall/bound"] == "—"  # no latency, no bound
        assert row["status"] == "completed" and row["entities"] == "all"
        assert row["workers"] == "0" and row["db"] == connection.vendor
    assert "bound = (page calls * page latency + media calls * media latency) / 4" in out.getvalue()
    assert "ratio" in out.getvalue()  # the bare-download comparison is still printed


def test_per_kind_latency_gives_a_bound_and_a_ratio():
    out = io.StringIO()
    call_command(
        "bench_migration",
        "--products",
        "20",
        "--page-latency-ms",
        "3",
        "--media-latency-ms",
        "1",
        "--faults",
        "max_concurrent_per_token=4",
        "--skip-bare",
        stdout=out,
        stderr=io.StringIO(),
    )
    (row,) = table(out.getvalue())
    assert row["page ms"] == "3" and row["media ms"] == "1"
    for column in ("bound s", "wall/bound", "page calls", "media calls", "max in flight"):
        assert NUMBER.match(row[column]), (column, row[column])
    assert "this process" in out.getvalue()


@pytest.mark.parametrize("products", ["ten", "10,-1", ","])
def test_bad_sizes_are_refused(products):
    with pytest.raises(CommandError, match="--products"):
        call_command("bench_migration", "--products", products)


@pytest.mark.integration
def test_several_celery_workers_share_the_run_and_the_budget(monkeypatch):
    # The workers inherit this environment: products are partitioned from 100 records and each process reads one
    # partition at a time, so the step's worker cannot read them all before the idle one takes a helper task.
    monkeypatch.setenv("MIGRATION_PARTITION_MIN_RECORDS", "100")
    monkeypatch.setenv("MIGRATION_PARTITION_THREADS", "1")
    monkeypatch.setenv("AKENEO_PAGE_SIZE", "50")
    monkeypatch.setenv("AKENEO_MAX_IN_FLIGHT", "4")
    monkeypatch.delenv(
        "AKENEO_LIMITER_REDIS_URL", raising=False
    )  # the budget is shared through the private Redis
    out = io.StringIO()
    call_command(
        "bench_migration",
        "--products",
        "300",
        "--workers",
        "2",
        "--page-latency-ms",
        "20",
        "--skip-bare",
        "--timeout",
        "240",
        stdout=out,
        stderr=io.StringIO(),
    )
    output = out.getvalue()
    (row,) = table(output)
    assert row["status"] == "completed" and row["workers"] == "2" and row["db"] == connection.vendor
    assert int(row["page calls"].replace(",", "")) > 0
    assert 1 <= int(row["max in flight"]) <= 4  # two processes, one connection's budget
    for column in ("media calls", "bound s", "wall s", "wall/bound", "products/s", "peak RSS MB"):
        assert NUMBER.match(row[column]), (column, row[column])
    # the peak is a worker's, not this (idle) process's
    assert re.search(r"peak RSS \d+ MB \(worker [12]'s (main|pool) process, pid \d+\)", output), output
    readers = re.search(r"products partitions: (\d+), read by (\d+) reader", output)
    assert readers and int(readers[2]) >= 2, output  # the products step ran on both workers
    assert "workers = Celery worker processes" in output


def test_workers_need_redis_server(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no redis-server there
    with pytest.raises(CommandError, match="redis-server is not on PATH"):
        call_command(
            "bench_migration", "--products", "10", "--workers", "1", "--skip-bare", stdout=io.StringIO()
        )


@pytest.mark.parametrize(("option", "value"), [("--workers", "-1"), ("--timeout", "0")])
def test_bad_worker_options_are_refused(option, value):
    with pytest.raises(CommandError, match=option):
        call_command("bench_migration", "--products", "10", option, value)


@pytest.mark.integration
def test_a_run_past_the_timeout_is_cancelled_and_reported():
    with pytest.raises(CommandError, match=r"did not end within --timeout 0\.5 s .*cancelled"):
        call_command(
            "bench_migration",
            "--products",
            "300",
            "--workers",
            "1",
            "--page-latency-ms",
            "100",
            "--skip-bare",
            "--timeout",
            "0.5",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
