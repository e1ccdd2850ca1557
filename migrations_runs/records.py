"""Per-record results: what a run (or an Akeneo event) did to each record, browsable in the admin.

Only records that changed or could not be imported are written (created, updated, deleted, failed, skipped);
unchanged records stay counters on the step, so a re-run of a 100k catalog where nothing changed writes nothing
here. Writes are bulk: one INSERT per imported page (batched by `RECORD_RESULTS_BATCH`), inside the page's own
transaction, so a page's results commit with the page or not at all; no per-row query. The run page reads
counts with one aggregate query (`outcome_counts`), never the rows.

Other writers (deletions, events) call `record_results` with a list of keys that share an outcome.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from migrations_runs.importers.base import PageResult, RecordOutcome
from migrations_runs.models import MigrationRun, MigrationStep, RecordResult

# Rows per INSERT: a page is ≤ 100 records, so one page is one INSERT; larger lists (deletions) are split.
RECORD_RESULTS_BATCH = 500
KEY_LENGTH = RecordResult._meta.get_field("key").max_length
LABEL_LENGTH = RecordResult._meta.get_field("label").max_length
OUTCOMES = tuple(RecordResult.Outcome.values)


def record_outcomes(
    run_id: int | None,
    step_id: int | None,
    resource: str,
    outcomes: Iterable[RecordOutcome],
    *,
    source: str = "run",
    connection_id: int | None = None,
) -> int:
    """Write one row per outcome (one bulk INSERT per batch); returns the number written.

    `connection_id`: read from the run when not given (one query). Call inside the transaction of the work it
    describes, so results never outlive a rolled-back page."""
    outcomes = list(outcomes)
    if not outcomes:
        return 0
    if connection_id is None and run_id is not None:
        connection_id = MigrationRun.objects.filter(pk=run_id).values_list("connection_id", flat=True).first()
    rows = [
        RecordResult(
            connection_id=connection_id,
            run_id=run_id,
            step_id=step_id,
            source=source,
            entity=resource,
            key=outcome.key[:KEY_LENGTH],
            label=(outcome.label or "")[:LABEL_LENGTH],
            outcome=outcome.outcome,
            message=outcome.message or "",
        )
        for outcome in outcomes
    ]
    unknown = {row.outcome for row in rows} - set(OUTCOMES)
    if unknown:
        raise ValueError(f"unknown outcomes {sorted(unknown)}; expected one of {OUTCOMES}")
    RecordResult.objects.bulk_create(rows, batch_size=RECORD_RESULTS_BATCH)
    return len(rows)


def record_results(
    run_id: int | None,
    step_id: int | None,
    resource: str,
    outcome: str,
    keys: Iterable[str],
    message: str = "",
    *,
    labels: Mapping[str, str] | None = None,
    source: str = "run",
    connection_id: int | None = None,
) -> int:
    """Many keys, one outcome (e.g. the deletions a run found, or an event's record): bulk rows.

    `labels`: key -> identifier, for products. For events pass `run_id=None, step_id=None, source="event",
    connection_id=...` (the connection the event came to)."""
    labels = labels or {}
    return record_outcomes(
        run_id,
        step_id,
        resource,
        (RecordOutcome(outcome, str(key), labels.get(str(key), ""), message) for key in keys),
        source=source,
        connection_id=connection_id,
    )


def record_page(step: MigrationStep, resource: str, result: PageResult) -> int:
    """The results of one imported page of a step (its created, updated, failed and skipped records)."""
    return record_outcomes(
        step.run_id, step.pk, resource, result.outcomes, connection_id=step.run.connection_id
    )


def outcome_counts(run_id: int) -> dict[str, int]:
    """Rows per outcome of a run, every outcome present (0 when none), and "total": one aggregate query."""
    return MigrationRun(pk=run_id).record_counts()
