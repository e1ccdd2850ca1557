"""`manage.py bench_migration`: one Markdown row per catalog size, with calls, bound, wall, ratio, RSS, rate.

A smoke test on tiny catalogs (real demo server in a subprocess, real migration): it checks the table's shape and
that its cells hold numbers, never their values."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command

from migrations_runs.management.commands.bench_migration import COLUMNS

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
