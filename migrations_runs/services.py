"""Starting and executing migrations. The admin, `akeneo_migrate` and the Celery tasks all call these.

A step pages through its Akeneo resources; each page is imported and the step's cursor and counters saved in one
transaction, so a step can resume after a crash from the page after the last committed one.

No process death may leave a run blocking its connection. The process executing a step (a worker or `--sync`)
holds the step's lease: its heartbeat, renewed with every page. A run whose running step's heartbeat (or, with no
step running, whose last sign of life) is older than MIGRATION_STEP_LEASE_SECONDS is stale: starting a new run on
its connection ends it as failed, and Cancel ends it at once. Writes that hit a locked database are retried a
bounded number of times; the reason a run ends is always written to its log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import OperationalError, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from connections.akeneo.client import AkeneoClient, ClientSettings
from connections.akeneo.errors import AkeneoError
from connections.crypto import CredentialsUnreadable
from connections.models import Connection
from migrations_runs.entities import ENTITY_BY_CODE, in_dependency_order
from migrations_runs.locking import (  # re-exported: the tasks and commands use them from here
    CancelRequested,
    RunEnded,
    StepBusy,
    check_run,
    is_lock_error,
    retry_on_lock,
)
from migrations_runs.models import ACTIVE_STATUSES, MigrationLog, MigrationRun, MigrationStep, Status
from migrations_runs.reconciliation import reconcile
from migrations_runs.steps import import_step, mapped, record_mappings  # noqa: F401  (re-exported)

logger = logging.getLogger(__name__)

Progress = Callable[[MigrationStep], None]


class MigrationNotStarted(Exception):
    """A guard refused the run; the message is for the user."""


def _moment(value: datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S %Z")


def stale_reason(run: MigrationRun, now: datetime | None = None) -> str | None:
    """Why an active run is stale (its process stopped), or None while it is alive or over.

    Alive means: its running step's heartbeat is younger than the lease; with no step running (queued, between
    two steps), its last sign of life (created, started, a step's heartbeat or end) is.
    """
    if run.status not in ACTIVE_STATUSES:
        return None
    now = now or timezone.now()
    lease = settings.MIGRATION_STEP_LEASE_SECONDS
    steps = list(run.steps.values("status", "heartbeat_at", "started_at", "finished_at"))
    running = [step for step in steps if step["status"] == Status.RUNNING]
    if running:
        moments = [step["heartbeat_at"] or step["started_at"] for step in running]
    else:
        moments = [run.created_at, run.started_at]
        moments += [step[name] for step in steps for name in ("heartbeat_at", "started_at", "finished_at")]
    last = max((moment for moment in moments if moment is not None), default=run.created_at)
    if last is None or last >= now - timedelta(seconds=lease):
        return None
    if run.started_at is None and not running:
        return f"no process started it (queued at {_moment(last)}, more than {lease} s ago)"
    sign = "last heartbeat" if running else "last sign of life"
    return f"the process running it stopped ({sign} at {_moment(last)}, more than {lease} s ago)"


def _end_run(run_id: int, status: str, reason: str, *, cancel: bool = False) -> bool:
    """End an active run whatever its steps were doing: the running step gets `status`, queued steps are
    cancelled, and the reason is logged on the step concerned. Call inside a transaction. False if it had
    ended already."""
    now = timezone.now()
    fields = {"status": status, "error": reason, "finished_at": now}
    if cancel:
        fields["cancel_requested"] = True
    if not MigrationRun.objects.filter(pk=run_id, status__in=ACTIVE_STATUSES).update(**fields):
        return False
    steps = MigrationStep.objects.filter(run_id=run_id)
    concerned = (
        steps.filter(status=Status.RUNNING).first()
        or steps.filter(status=Status.QUEUED).order_by("position").first()
        or steps.order_by("-position").first()
    )
    steps.filter(status=Status.RUNNING).update(status=status, error=reason, finished_at=now)
    steps.filter(status=Status.QUEUED).update(status=Status.CANCELLED)
    if concerned is not None:
        MigrationLog.objects.create(
            step=concerned,
            level=MigrationLog.Level.ERROR if status == Status.FAILED else MigrationLog.Level.WARNING,
            message=reason,
        )
    return True


def start_run(
    connection: Connection,
    entities: Iterable[str],
    user=None,
    *,
    filters: dict | None = None,
    enqueue: bool = True,
    incremental: bool = False,
) -> MigrationRun:
    """Create a run with one queued step per entity (dependency order) and, unless told not to, enqueue it.

    `filters`: the run's import filters (see migrations_runs.filters); None: the connection's saved ones. With
    `incremental` (or `{"incremental": True}` in `filters`, on top of the saved filters), products and product
    models are read from the watermark of the connection's last completed run (recorded on the run)."""
    from migrations_runs.filters import (
        FilterError,
        clean_filters,
        incremental_log,
        resolve_run_filters,
        summary,
    )

    try:
        codes = in_dependency_order(list(entities))
    except ValueError as exc:
        raise MigrationNotStarted(str(exc)) from None
    if not codes:
        raise MigrationNotStarted("Choose at least one entity to migrate.")
    requested = dict(filters) if filters is not None else dict(connection.import_filters or {})
    if requested.get("incremental") is True:
        incremental = True
        requested.pop("incremental")
        if filters is not None and not requested:  # only the mode was given: the saved filters apply
            requested = dict(connection.import_filters or {})
    try:
        requested = clean_filters(requested)
    except FilterError as exc:
        raise MigrationNotStarted(f"The import filters cannot be used: {exc}") from None

    def create() -> MigrationRun:
        # One writer at a time per connection: the row lock (PostgreSQL), the IMMEDIATE transaction (SQLite).
        with transaction.atomic():
            locked = Connection.objects.select_for_update().get(pk=connection.pk)
            if not locked.enabled:
                raise MigrationNotStarted(
                    "This connection is disabled: enable it before starting a migration."
                )
            for active in locked.migration_runs.filter(status__in=ACTIVE_STATUSES):
                reason = stale_reason(active)
                if reason is None:
                    raise MigrationNotStarted(
                        f"Migration run #{active.pk} is still {active.get_status_display().lower()} on this "
                        "connection: wait for it to finish or cancel it first."
                    )
                _end_run(active.pk, Status.FAILED, f"Superseded by a new run: {reason}.")
            run_filters = resolve_run_filters(locked, codes, requested, incremental=incremental)
            run = MigrationRun.objects.create(
                connection=locked, user=user, entities=codes, filters=run_filters
            )
            MigrationStep.objects.bulk_create(
                MigrationStep(run=run, entity=code, position=index) for index, code in enumerate(codes)
            )
            first = run.steps.order_by("position").first()
            who = getattr(user, "get_username", lambda: "")() or "the command line or a schedule"
            labels = ", ".join(ENTITY_BY_CODE[code].label for code in codes)
            MigrationLog.objects.create(
                step=first,
                message=f"Run queued by {who}: {labels}. Import filters: {summary(run_filters) or 'none'}.",
            )
            note = incremental_log(run_filters)
            if note:  # said on the steps it narrows (structure is read in full)
                MigrationLog.objects.bulk_create(
                    MigrationLog(step=step, message=note)
                    for step in run.steps.filter(entity__in=("products", "product-models"))
                )
            return run

    try:
        run = retry_on_lock(create, "Starting a migration")
    except OperationalError as error:
        if not is_lock_error(error):
            raise
        raise MigrationNotStarted(
            "The database stayed busy with other writers for too long: the migration was not started. "
            "Try again in a moment."
        ) from None
    if enqueue:
        from migrations_runs.tasks import enqueue_run

        try:
            enqueue_run(run)
        except Exception as error:  # broker down: the run must not stay "queued" and block the connection
            logger.exception("Could not queue migration run %s", run.pk)
            reason = (
                "The migration could not be queued: the Celery broker (REDIS_URL) did not answer "
                f"({type(error).__name__}). Check that Redis and a worker are running, then start again."
            )

            def fail() -> None:
                with transaction.atomic():
                    _end_run(run.pk, Status.FAILED, reason)

            retry_on_lock(fail, "Recording that a run could not be queued")
            raise MigrationNotStarted(reason) from None
    return run


def request_cancel(run: MigrationRun) -> str:
    """Stop a run. Not started yet: cancelled at once (a run no worker picks up must not block its connection).
    Stale (its process stopped): cancelled at once too. Running: its step stops between two pages and the queued
    steps never start. Returns the run's status."""

    def cancel() -> None:
        now = timezone.now()
        with transaction.atomic():
            if MigrationRun.objects.filter(pk=run.pk, status=Status.QUEUED).update(
                status=Status.CANCELLED,
                cancel_requested=True,
                error="Cancelled before it started.",
                finished_at=now,
            ):
                MigrationStep.objects.filter(run_id=run.pk, status=Status.QUEUED).update(
                    status=Status.CANCELLED
                )
                return
            current = MigrationRun.objects.filter(pk=run.pk, status=Status.RUNNING).first()
            reason = stale_reason(current, now) if current is not None else None
            if reason is not None:
                _end_run(run.pk, Status.CANCELLED, f"Cancelled by a user; {reason}.", cancel=True)
            else:
                MigrationRun.objects.filter(pk=run.pk, status=Status.RUNNING).update(cancel_requested=True)

    retry_on_lock(cancel, "Cancelling a run")
    return MigrationRun.objects.get(pk=run.pk).status


def make_client(connection: Connection) -> AkeneoClient:
    """The client of a run: its in-flight budget is the connection's, shared with every process through Redis."""
    from connections.akeneo.limiter import limiter_for

    credentials = connection.credentials()
    return AkeneoClient(credentials, ClientSettings.from_django(), limiter=limiter_for(credentials))


def execute_step(
    step_id: int,
    *,
    client: AkeneoClient | None = None,
    progress: Progress | None = None,
    on_celery: bool = False,
) -> MigrationStep:
    """Run (or resume) one step. Idempotent: a finished step or a stopped run is left as it is.

    `on_celery`: a partitioned step queues helper tasks, so other workers read some of its partitions."""
    step = MigrationStep.objects.select_related("run__connection").get(pk=step_id)
    run = step.run
    if step.status in (Status.COMPLETED, Status.FAILED, Status.CANCELLED) or run.status in (
        Status.COMPLETED,
        Status.FAILED,
        Status.CANCELLED,
    ):
        return step

    def claim() -> bool:
        now = timezone.now()
        stale = now - timedelta(seconds=settings.MIGRATION_STEP_LEASE_SECONDS)
        with transaction.atomic():
            if not MigrationRun.objects.filter(pk=run.pk, status__in=ACTIVE_STATUSES).exists():
                return False  # ended meanwhile (cancelled, superseded)
            claimed = (
                MigrationStep.objects.filter(pk=step.pk)
                .filter(
                    Q(status=Status.QUEUED)
                    | Q(status=Status.RUNNING, heartbeat_at__isnull=True)
                    | Q(status=Status.RUNNING, heartbeat_at__lt=stale)
                )
                .update(
                    status=Status.RUNNING, heartbeat_at=now, started_at=Coalesce(F("started_at"), Value(now))
                )
            )
            if claimed:
                MigrationRun.objects.filter(pk=run.pk, started_at__isnull=True).update(started_at=now)
                MigrationRun.objects.filter(pk=run.pk, status=Status.QUEUED).update(status=Status.RUNNING)
        if not claimed:
            raise StepBusy(f"Step {step.entity} of run #{run.pk} is being executed by another worker.")
        return True

    if not retry_on_lock(claim, f"Claiming step {step.pk}"):
        step.refresh_from_db()
        return step
    step.refresh_from_db()
    own_client = client is None
    try:
        if run.cancel_requested:
            raise CancelRequested
        check_run(run.pk)
        client = client or make_client(run.connection)
        step._on_celery = on_celery
        _log_start(step)
        import_step(step, client, progress)
        _log_finish(step)
    except RunEnded:
        step.refresh_from_db()
    except CancelRequested:
        _stop(step, Status.CANCELLED, "Cancelled by a user.")
    except (AkeneoError, CredentialsUnreadable) as error:
        _stop(step, Status.FAILED, f"{ENTITY_BY_CODE[step.entity].label}: {error}")
    except Exception as error:
        logger.exception("Migration step %s (%s) crashed", step.pk, step.entity)
        _stop(
            step,
            Status.FAILED,
            f"{ENTITY_BY_CODE[step.entity].label}: unexpected {type(error).__name__}: {error}",
        )
    finally:
        if own_client and client is not None:
            client.close()
    return step


def _log_start(step: MigrationStep) -> None:
    label = ENTITY_BY_CODE[step.entity].label
    if step.read or step.cursor:
        message = f"{label}: resumed after {step.read:,} records read (a process stopped before the end)"
    else:
        message = f"{label}: started"
    MigrationLog.objects.create(step=step, message=message)


def _log_finish(step: MigrationStep) -> None:
    """The step's outcome in one line: counters, media, duration."""
    label = ENTITY_BY_CODE[step.entity].label
    seconds = (
        (step.finished_at - step.started_at).total_seconds() if step.finished_at and step.started_at else 0
    )
    partitions = step.partitions.count()
    read_through = f" through {partitions} partitions" if partitions else ""
    MigrationLog.objects.create(
        step=step,
        message=f"{label}: finished in {_duration(seconds)}{read_through}: {step.read:,} read, "
        f"{step.created:,} created, {step.updated:,} updated, {step.unchanged:,} unchanged, "
        f"{step.skipped:,} skipped, {step.failed:,} failed; {step.media:,} media files downloaded",
    )


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def _stop(step: MigrationStep, status: str, reason: str) -> None:
    """A failed or cancelled step stops its run: later steps see it and do not start. The reason is logged.

    Retried when the database is locked (the error being recorded may be that very lock).
    """

    def write() -> bool:
        now = timezone.now()
        with transaction.atomic():
            if MigrationStep.objects.filter(pk=step.pk, status__in=ACTIVE_STATUSES).update(
                status=status, error=reason, finished_at=now
            ):
                MigrationLog.objects.create(
                    step_id=step.pk,
                    level=MigrationLog.Level.ERROR if status == Status.FAILED else MigrationLog.Level.WARNING,
                    message=reason,
                )
            ended = MigrationRun.objects.filter(pk=step.run_id, status__in=ACTIVE_STATUSES).update(
                status=status, error=reason, finished_at=now
            )
            MigrationStep.objects.filter(run_id=step.run_id, status=Status.QUEUED).update(
                status=Status.CANCELLED
            )
            return bool(ended)

    if retry_on_lock(write, f"Recording the end of step {step.pk}"):
        _log_end(MigrationRun.objects.get(pk=step.run_id))
    step.refresh_from_db()


def fail_from_task(*, step_id: int | None = None, run_id: int | None = None, reason: str) -> None:
    """A task failed outside the step body (a database error, a broken chain...): end its step (if still
    active) and its run failed, with the reason in the run log. Does nothing to a run already over."""
    step = MigrationStep.objects.filter(pk=step_id).first() if step_id is not None else None
    if step is not None and step.status in ACTIVE_STATUSES:
        _stop(step, Status.FAILED, reason)
        return
    target = step.run_id if step is not None else run_id
    if target is None:
        return

    def write() -> None:
        with transaction.atomic():
            _end_run(target, Status.FAILED, reason)

    retry_on_lock(write, f"Recording the failure of run {target}")


def finish_run(run_id: int) -> MigrationRun:
    """Close a run whose steps all ended: completed unless a step failed or it was cancelled."""
    run = MigrationRun.objects.get(pk=run_id)
    if run.status not in ACTIVE_STATUSES:
        return run
    statuses = set(run.steps.values_list("status", flat=True))
    if statuses <= {Status.COMPLETED}:
        status = Status.COMPLETED
    elif Status.FAILED in statuses:
        status = Status.FAILED
    else:
        status = Status.CANCELLED
    reconciliation = reconcile(run)

    def write() -> None:
        with transaction.atomic():
            MigrationRun.objects.filter(pk=run_id, status__in=ACTIVE_STATUSES).update(
                status=status, finished_at=timezone.now(), reconciliation=reconciliation
            )

    retry_on_lock(write, f"Closing run {run_id}")
    run.refresh_from_db()
    _log_end(run)
    return run


def _log_end(run: MigrationRun) -> None:
    """Reconciliation and the run's end, on its last step that ran (the run log is the steps' logs)."""
    step = run.steps.exclude(status=Status.CANCELLED, started_at__isnull=True).order_by("-position").first()
    step = step or run.steps.order_by("-position").first()
    if step is None:
        return
    lines = []
    rows = run.reconciliation or []
    if rows:
        mismatched = [row for row in rows if not row.get("match")]
        if mismatched:
            gaps = "; ".join(
                f"{row['label']}: {row['local']:,} here, {row['source']:,} in {row['counted']}"
                for row in mismatched
            )
            lines.append(
                (
                    MigrationLog.Level.WARNING,
                    f"Reconciliation: {len(mismatched)} of {len(rows)} entities differ: {gaps}",
                )
            )
        else:
            lines.append(
                (MigrationLog.Level.INFO, f"Reconciliation: all {len(rows)} entities match the source")
            )
    took = (run.finished_at - run.started_at).total_seconds() if run.finished_at and run.started_at else 0
    media = sum(run.steps.values_list("media", flat=True))
    end = f"Run {run.get_status_display().lower()} in {_duration(took)}; {media:,} media files downloaded"
    if run.error:
        end += f". Reason: {run.error}"
    level = MigrationLog.Level.INFO if run.status == Status.COMPLETED else MigrationLog.Level.WARNING
    lines.append((level, end))
    MigrationLog.objects.bulk_create(
        MigrationLog(step=step, level=level, message=text) for level, text in lines
    )


def execute_partitions(step_id: int) -> None:
    """A helper's share of a partitioned step (another worker): read partitions nobody holds until none is left.
    The process running the step itself closes it. Does nothing once the step or its run is over."""
    from migrations_runs.media import MediaPipeline
    from migrations_runs.steps import read_partitions

    step = MigrationStep.objects.select_related("run__connection").filter(pk=step_id).first()
    if step is None or step.status != Status.RUNNING or step.run.status not in ACTIVE_STATUSES:
        return
    client = None
    try:
        check_run(step.run_id)
        client = make_client(step.run.connection)
        with MediaPipeline(client) as pipeline:
            read_partitions(step, client, pipeline, None, closing=False)
    except (CancelRequested, RunEnded, CredentialsUnreadable):
        pass  # the step's own process records why the run stops
    except AkeneoError as error:  # recorded on the partition; the step's process fails the step
        logger.warning("Step %s: a partition failed in a helper: %s", step_id, error)
    finally:
        if client is not None:
            client.close()


def execute_run(run: MigrationRun, *, progress: Progress | None = None) -> MigrationRun:
    """Run every step in this process (the `--sync` path): the same step code, lease and heartbeat as the
    Celery tasks, so a killed process leaves a stale run that the next start or a Cancel ends."""
    client = None
    try:
        client = make_client(run.connection)
        for step_id in run.steps.order_by("position").values_list("pk", flat=True):
            execute_step(step_id, client=client, progress=progress)
    except CredentialsUnreadable as error:
        step = run.steps.filter(status__in=ACTIVE_STATUSES).order_by("position").first()
        if step is not None:
            _stop(step, Status.FAILED, str(error))
    finally:
        if client is not None:
            client.close()
    return finish_run(run.pk)
