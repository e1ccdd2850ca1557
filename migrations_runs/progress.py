"""A run's live state, as the run page polls it: per step counters, throughput, ETA, percent; recent log lines."""

from __future__ import annotations

from django.utils import timezone

from migrations_runs.entities import ENTITY_BY_CODE
from migrations_runs.models import COUNTERS, MigrationLog, MigrationRun, MigrationStep

LOG_LINES = 200


def step_progress(step: MigrationStep, now=None) -> dict:
    now = now or timezone.now()
    elapsed = ((step.finished_at or now) - step.started_at).total_seconds() if step.started_at else 0.0
    rate = step.read / elapsed if elapsed > 0 else 0.0
    percent = eta = None
    if step.status == "completed":
        percent = 100.0
    elif step.total:
        percent = min(100.0, 100.0 * step.read / step.total)
        eta = (step.total - step.read) / rate if rate > 0 and step.total > step.read else None
    return {
        "entity": step.entity,
        "label": ENTITY_BY_CODE[step.entity].label if step.entity in ENTITY_BY_CODE else step.entity,
        "status": step.status,
        "status_display": step.get_status_display(),
        **{counter: getattr(step, counter) for counter in COUNTERS},
        "total": step.total,
        "media": step.media,
        "percent": percent,
        "rate": round(rate, 1),
        "eta_seconds": round(eta) if eta is not None else None,
        "elapsed_seconds": round(elapsed, 1),
        "error": step.error,
    }


def run_progress(run: MigrationRun, *, level: str | None = None) -> dict:
    """Everything the run page shows, in one query per table."""
    now = timezone.now()
    logs = MigrationLog.objects.filter(step__run=run).select_related("step").order_by("-pk")
    if level:
        logs = logs.filter(level=level)
    return {
        "id": run.pk,
        "status": run.status,
        "status_display": run.get_status_display(),
        "active": run.is_active,
        "cancel_requested": run.cancel_requested,
        "error": run.error,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "steps": [step_progress(step, now) for step in run.steps.order_by("position")],
        "log": [
            {
                "time": line.created_at.isoformat(),
                "level": line.level,
                "entity": line.step.entity,
                "code": line.code,
                "message": line.message,
            }
            for line in logs[:LOG_LINES]
        ],
    }


def log_text(run: MigrationRun, *, level: str | None = None) -> str:
    """The whole log as a plain-text file, oldest first."""
    lines = MigrationLog.objects.filter(step__run=run).select_related("step").order_by("pk")
    if level:
        lines = lines.filter(level=level)
    return "".join(
        f"{line.created_at.isoformat()}\t{line.level.upper()}\t{line.step.entity}\t{line.code}\t{line.message}\n"
        for line in lines.iterator()
    )
