"""A run's live state, as the run page polls it: per step counters, throughput, ETA, percent; recent log lines."""

from __future__ import annotations

from typing import TextIO

from django.utils import timezone
from tqdm import tqdm

from migrations_runs.entities import ENTITY_BY_CODE
from migrations_runs.models import COUNTERS, MigrationLog, MigrationRun, MigrationStep, Status

LOG_LINES = 200


def step_progress(step: MigrationStep, now=None, estimate: int | None = None) -> dict:
    """`estimate`: the records a step without Akeneo's count (an entity of several resources: options under
    their attributes...) is expected to read, from the same entity's last completed run (see
    `previous_reads`): percent and ETA then come from it, marked as estimated."""
    now = now or timezone.now()
    elapsed = ((step.finished_at or now) - step.started_at).total_seconds() if step.started_at else 0.0
    rate = step.read / elapsed if elapsed > 0 else 0.0
    percent = eta = None
    expected = step.total or (estimate if step.total is None and estimate else None)
    if step.status == Status.COMPLETED:
        percent = 100.0
    elif expected:
        percent = min(100.0, 100.0 * step.read / expected)
        eta = (expected - step.read) / rate if rate > 0 and expected > step.read else None
    return {
        "entity": step.entity,
        "label": ENTITY_BY_CODE[step.entity].label if step.entity in ENTITY_BY_CODE else step.entity,
        "status": step.status,
        "status_display": step.get_status_display(),
        **{counter: getattr(step, counter) for counter in COUNTERS},
        "total": step.total,
        "estimated_total": expected if step.total is None else None,
        "media": step.media,
        "percent": percent,
        "rate": round(rate, 1),
        "eta_seconds": round(eta) if eta is not None else None,
        "elapsed_seconds": round(elapsed, 1),
        "error": step.error,
    }


def previous_reads(run: MigrationRun) -> dict[str, int]:
    """Per entity, the records read by its last completed step in an earlier run of the same connection with
    the same filters (what a step Akeneo cannot count is likely to read again). One query, recent runs only."""
    found: dict[str, int] = {}
    rows = (
        MigrationStep.objects.filter(run__connection_id=run.connection_id, status=Status.COMPLETED)
        .exclude(run_id=run.pk)
        .order_by("-finished_at")
        .values_list("entity", "read", "run__filters")[:200]
    )
    for entity, read, filters in rows:
        if entity not in found and (filters or {}) == (run.filters or {}):
            found[entity] = read
    return found


def run_progress(run: MigrationRun, *, level: str | None = None) -> dict:
    """Everything the run page shows, in one query per table."""
    now = timezone.now()
    estimates = previous_reads(run) if run.is_active else {}
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
        "steps": [
            step_progress(step, now, estimates.get(step.entity)) for step in run.steps.order_by("position")
        ],
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


def log_lines(run: MigrationRun, *, level: str | None = None, entity: str | None = None):
    """The run's log lines, oldest first (one query, streamed), optionally of one level and one entity."""
    lines = MigrationLog.objects.filter(step__run=run).select_related("step").order_by("pk")
    if level:
        lines = lines.filter(level=level)
    if entity:
        lines = lines.filter(step__entity=entity)
    return lines.iterator()


def log_text(run: MigrationRun, *, level: str | None = None, entity: str | None = None) -> str:
    """The whole log as a plain-text file, oldest first."""
    return "".join(
        f"{line.created_at.isoformat()}\t{line.level.upper()}\t{line.step.entity}\t{line.code}\t{line.message}\n"
        for line in log_lines(run, level=level, entity=entity)
    )


class _Writer:
    """What tqdm writes to: a stream, or a Django command's OutputWrapper (which would end every write with a
    newline, breaking the in-place redraw)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.encoding = getattr(out, "encoding", None)  # tqdm draws its bar in blocks only on a UTF-8 stream

    def write(self, text: str) -> None:
        if hasattr(self.out, "style_func"):  # django.core.management.base.OutputWrapper
            self.out.write(text, ending="")
        else:
            self.out.write(text)

    def flush(self) -> None:
        self.out.flush()

    def isatty(self) -> bool:
        return bool(getattr(self.out, "isatty", lambda: False)())


class TerminalProgress:
    """The `progress(step)` callback of `akeneo_migrate --sync`: one tqdm bar per step, drawn in place.

    Its clock starts at the step's `started_at` (not at the first callback, which comes after the first page):
    the rate is records read over the time the step has run, the bar is read / Akeneo's count from the first
    page on. A step Akeneo gives no count for (several resources) shows its counter and rate without a bar.
    On a terminal the bar is redrawn at most 10 times a second; elsewhere (a log file) every 10 s, plus the
    final line of each step."""

    FINISHED = (Status.COMPLETED, Status.FAILED, Status.CANCELLED)

    def __init__(self, out: TextIO, *, mininterval: float | None = None) -> None:
        self.out = _Writer(out)
        live = self.out.isatty()
        self.mininterval = mininterval if mininterval is not None else (0.1 if live else 10.0)
        self.ncols = None if live else 100
        self.bars: dict[int, tqdm] = {}

    def __call__(self, step: MigrationStep) -> None:
        bar = self.bars.get(step.pk)
        if bar is None:
            bar = self.bars[step.pk] = self._bar(step)
        if bar.total is None and step.total is not None:  # counted while the first pages were read
            bar.total = max(step.total, step.read)
        if step.total is not None and step.read > step.total:  # Akeneo's count was low: never past 100 %
            bar.total = step.read
        if step.status == Status.COMPLETED and bar.total is not None:
            bar.total = step.read
        bar.set_postfix_str(
            f"+{step.created} ~{step.updated} ={step.unchanged} !{step.failed}", refresh=False
        )
        bar.update(step.read - bar.n)
        if step.status in self.FINISHED:
            self._close(step.pk)

    def _bar(self, step: MigrationStep) -> tqdm:
        label = ENTITY_BY_CODE[step.entity].label if step.entity in ENTITY_BY_CODE else step.entity
        bar = tqdm(
            total=step.total,
            desc=f"{label:<28}",
            unit=" rec",
            file=self.out,
            mininterval=self.mininterval,
            miniters=1,
            smoothing=0,  # the average since the step started, as the run page shows
            ncols=self.ncols,
            dynamic_ncols=self.ncols is None,
            leave=True,
            delay=0,
        )
        if step.started_at is not None:  # the step ran before this first callback (count call, first page)
            bar.start_t = bar.last_print_t = min(step.started_at.timestamp(), bar.start_t)
        return bar

    def _close(self, step_id: int) -> None:
        bar = self.bars.pop(step_id)
        bar.refresh()
        bar.close()

    def close(self) -> None:
        """Close the bars of steps that ended without a last callback (failed, cancelled)."""
        for step_id in list(self.bars):
            self._close(step_id)
