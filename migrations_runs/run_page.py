"""What the run page and the runs list show, worked out once on the server so the first render and every poll
agree: display texts for steps and log lines, the throughput chart's data, the short entity summary, and where
a delete goes back to.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from django.http import HttpRequest
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.http import url_has_allowed_host_and_scheme

from migrations_runs.entities import ENTITY_BY_CODE, ENTITY_CODES
from migrations_runs.models import MigrationLog, MigrationRun, Status

TIME_FORMAT = "Y-m-d H:i:s"  # the format of every time on the run page and in the runs list
LEVEL_LABELS = dict(MigrationLog.Level.choices)
MIGRATION_HISTORY_TAB = "#migration-history"


def entity_label(code: str) -> str:
    return ENTITY_BY_CODE[code].label if code in ENTITY_BY_CODE else code


def format_time(value: datetime | str | None) -> str:
    """A time as the rest of the admin shows it: local time zone, to the second."""
    if not value:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return format_date(timezone.localtime(value), TIME_FORMAT)


def entities_summary(codes: list[str]) -> str:
    """A run's entities in a few words: every entity, up to three labels, or two labels and how many more."""
    if len(codes) == len(ENTITY_CODES) and set(codes) == set(ENTITY_CODES):
        return f"All {len(codes)} entities"
    labels = [entity_label(code) for code in codes]
    if len(labels) <= 3:
        return ", ".join(labels) or "—"
    return f"{', '.join(labels[:2])} +{len(labels) - 2}"


def entities_full(codes: list[str]) -> str:
    return ", ".join(entity_label(code) for code in codes)


def step_display(step: dict) -> dict:
    """Texts for one step row. The bar moves (indeterminate) only for a running step without a count: a step
    that never ran, or ended without a count, shows no bar rather than one that looks busy. The ETA is only
    meaningful while the step runs."""
    running = step["status"] == Status.RUNNING
    if step["percent"] is not None:
        bar = "value"
    elif running:
        bar = "busy"
    else:
        bar = "none"
    eta = step["eta_seconds"]
    if running and eta is not None:
        minutes, seconds = divmod(int(eta), 60)
        eta_display = f"{minutes} min {seconds} s" if minutes else f"{seconds} s"
    else:
        eta_display = "—"
    status_text = step["status_display"]
    total = step["total"]
    if step["status"] == Status.CANCELLED and total is not None and total > 0 and step["read"] >= total:
        status_text = f"Cancelled after reading all {total} records"
    return {**step, "bar": bar, "eta_display": eta_display, "status_text": status_text}


def decorate(progress: dict, run: MigrationRun) -> dict:
    """run_progress() plus display texts and the chart's data (one more small query: the steps' times)."""
    for line in progress["log"]:
        line["time_display"] = format_time(line["time"])
        line["entity_label"] = entity_label(line["entity"])
        line["level_display"] = LEVEL_LABELS.get(line["level"], line["level"].capitalize())
    progress["steps"] = [step_display(step) for step in progress["steps"]]
    progress["started_display"] = format_time(progress["started_at"])
    progress["finished_display"] = format_time(progress["finished_at"])
    progress["chart"] = throughput_chart(run, progress["steps"])
    return progress


def throughput_chart(run: MigrationRun, steps: list[dict]) -> dict:
    """Per entity step: when it ran (seconds from the run's start) and its average records/s and media/s over
    that time. The page draws these as segments and adds what it measures between polls while the run goes."""
    times = {row["entity"]: row for row in run.steps.values("entity", "started_at", "finished_at")}
    now = timezone.now()
    origin = run.started_at or min(
        (row["started_at"] for row in times.values() if row["started_at"]), default=None
    )
    series = []
    if origin is not None:
        for step in steps:
            row = times.get(step["entity"])
            if not row or row["started_at"] is None:
                continue
            start = (row["started_at"] - origin).total_seconds()
            end = ((row["finished_at"] or now) - origin).total_seconds()
            elapsed = step["elapsed_seconds"]
            series.append(
                {
                    "entity": step["entity"],
                    "label": step["label"],
                    "start": round(max(0.0, start), 1),
                    "end": round(max(0.0, end), 1),
                    "records_rate": step["rate"],
                    "media_rate": round(step["media"] / elapsed, 2) if elapsed > 0 else 0.0,
                    "running": step["status"] == Status.RUNNING,
                }
            )
    return {
        "now": round((now - origin).total_seconds(), 1) if origin is not None else 0.0,
        "series": series,
    }


def return_url(request: HttpRequest) -> str | None:
    """Where a delete goes back to: an explicit `next` on this host, else the connection page the user came
    from (its Migration History tab). Never another host, so a crafted link cannot bounce the user away."""
    candidate = request.POST.get("next") or request.GET.get("next")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    referer = request.headers.get("Referer", "")
    if not referer or not url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    parts = urlsplit(referer)
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    if match.view_name != "admin:connections_connection_change":
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "") + MIGRATION_HISTORY_TAB
