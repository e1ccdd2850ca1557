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
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TypeVar

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.db import connection as db_connection
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from connections.akeneo.client import AkeneoClient, ClientSettings
from connections.akeneo.errors import AkeneoError
from connections.akeneo.resources import RESOURCES, children_of
from connections.crypto import CredentialsUnreadable
from connections.models import Connection
from migrations_runs.checks import OptionCheck
from migrations_runs.deletions import after_step, note_page
from migrations_runs.entities import ENTITY_BY_CODE, in_dependency_order
from migrations_runs.media import import_media, media_references
from migrations_runs.models import ACTIVE_STATUSES, Mapping, MigrationLog, MigrationRun, MigrationStep, Status
from migrations_runs.records import record_page
from migrations_runs.source import child_parents

logger = logging.getLogger(__name__)

Progress = Callable[[MigrationStep], None]
MAX_PROBLEMS_PER_PAGE = 200
# A write that found the database locked (after the driver's own busy wait) is tried this many times in all,
# with a growing pause, before the error is let through.
LOCK_ATTEMPTS = 5
LOCK_FIRST_PAUSE = 0.2
LOCK_ERRORS = ("database is locked", "database table is locked", "deadlock detected", "could not serialize")

T = TypeVar("T")


class MigrationNotStarted(Exception):
    """A guard refused the run; the message is for the user."""


class CancelRequested(Exception):
    pass


class StepBusy(Exception):
    """Another worker holds this step's lease (a duplicate delivery): try again later, do not run it twice."""


class RunEnded(Exception):
    """The run was ended elsewhere (superseded as stale, or failed by a task's failure handler): stop quietly."""


def is_lock_error(error: BaseException) -> bool:
    """A transient lock conflict (SQLite busy, PostgreSQL deadlock or serialization failure), worth a retry."""
    return isinstance(error, OperationalError) and any(text in str(error).lower() for text in LOCK_ERRORS)


def retry_on_lock(write: Callable[[], T], what: str, *, conflicts: bool = False) -> T:
    """Run `write` (which opens its own transaction), again after a pause when the database was locked.

    With `conflicts`, a unique-key violation is retried too: another run (another connection importing into the
    same catalog) inserted the same code between our read and our insert; the retry reads it and updates it.
    Inside an outer transaction nothing can be retried (the transaction is broken): the error goes up at once.
    """
    retried: tuple[type[Exception], ...] = (
        (OperationalError, IntegrityError) if conflicts else (OperationalError,)
    )
    for attempt in range(1, LOCK_ATTEMPTS + 1):
        try:
            return write()
        except retried as error:
            transient = isinstance(error, IntegrityError) or is_lock_error(error)
            if attempt == LOCK_ATTEMPTS or db_connection.in_atomic_block or not transient:
                raise
            pause = LOCK_FIRST_PAUSE * 2 ** (attempt - 1)
            logger.warning(
                "%s: %s; attempt %d of %d in %.1f s", what, error, attempt + 1, LOCK_ATTEMPTS, pause
            )
            time.sleep(pause)
    raise AssertionError("unreachable")


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
    from migrations_runs.filters import FilterError, clean_filters, incremental_log, resolve_run_filters

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
    step_id: int, *, client: AkeneoClient | None = None, progress: Progress | None = None
) -> MigrationStep:
    """Run (or resume) one step. Idempotent: a finished step or a stopped run is left as it is."""
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
        _check_run(run.pk)
        client = client or make_client(run.connection)
        _import_step(step, client, progress)
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


def _check_run(run_id: int) -> None:
    """Between two pages: stop if a user asked to cancel, or if the run was ended elsewhere (superseded)."""
    row = MigrationRun.objects.filter(pk=run_id).values_list("status", "cancel_requested").first()
    if row is None or row[0] not in ACTIVE_STATUSES:
        raise RunEnded
    if row[1]:
        raise CancelRequested


def _stop(step: MigrationStep, status: str, reason: str) -> None:
    """A failed or cancelled step stops its run: later steps see it and do not start. The reason is logged.

    Retried when the database is locked (the error being recorded may be that very lock).
    """

    def write() -> None:
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
            MigrationRun.objects.filter(pk=step.run_id, status__in=ACTIVE_STATUSES).update(
                status=status, error=reason, finished_at=now
            )
            MigrationStep.objects.filter(run_id=step.run_id, status=Status.QUEUED).update(
                status=Status.CANCELLED
            )

    retry_on_lock(write, f"Recording the end of step {step.pk}")
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


def _import_step(step: MigrationStep, client: AkeneoClient, progress: Progress | None) -> None:
    """Read the entity's resources from the source, page by page, each page committed with the step's cursor.

    The cursor: {"part": index of the resource, "parent": the parent CODES of the page in progress (sub-resources),
    "next_url": where that parent (or resource) goes on, None when it is done, "media": the committed page whose
    media are still to be fetched}. Parents of a sub-resource are the records of its parent resource that this
    process read from the source while importing them; a resumed step re-reads them from the source (never the
    local catalog). A parent the source no longer has (404) is logged and skipped.
    """
    from migrations_runs.filters import source_pages, step_total
    from migrations_runs.importers import IMPORTERS

    entity = ENTITY_BY_CODE[step.entity]
    resources = entity.resources
    if step.total is None and len(resources) == 1:  # one count call per step, for progress and ETA
        step.total = step_total(step.run, client, resources[0])  # filtered reads: their own count
        step.save(update_fields=["total"])
    cursor = dict(step.cursor or {})
    if cursor.get("media"):
        _fetch_pending_media(step, client, cursor)
    part_index = cursor.get("part", 0)
    option_check = OptionCheck() if step.entity in ("products", "product-models") else None
    slice_size = max(1, settings.AKENEO_PAGE_SIZE)
    # Parent keys of this step's sub-resources, as read from the source by this process (complete only for a
    # parent resource read from its first page here).
    collected: dict[str, list[tuple[str, ...]]] = {}
    read_whole: set[str] = set()
    while part_index < len(resources):
        resource = resources[part_index]
        spec = RESOURCES[resource]
        importer = IMPORTERS[resource]
        children = [child for child in children_of(resource) if child.name in resources[part_index + 1 :]]
        start = {
            "parent": cursor.get("parent"),
            "next_url": cursor.get("next_url"),
            "query": cursor.get("query"),
        }
        resumed = bool(start["parent"] or start["next_url"])
        parents = collected.get(resource) if spec.parent in read_whole else None
        # Akeneo's count bounds a server whose next links never end (the client stops far past it).
        expected = step.total if len(resources) == 1 else None
        # the run's import filters / incremental window narrow products and product models (filters.py)
        pages = source_pages(
            step.run, client, resource, start=start, parents=parents, expected_count=expected
        )
        for page in pages:
            _check_run(step.run_id)
            after = {"part": part_index, **page.cursor}
            if page.gone:
                _log_gone(step, page, after)
                continue
            for child in children:
                collected.setdefault(child.name, []).extend(child_parents(child, page.parents, page.items))
            if page.dropped:
                MigrationLog.objects.create(
                    step=step,
                    level=MigrationLog.Level.WARNING,
                    message=f"{page.dropped} items of the page {page.url} were not records (null, a string, a "
                    "number...): skipped",
                )
            # A server may ignore `limit`: a huge page is imported in slices, each its own short
            # transaction; the cursor moves past the page only with the last slice.
            items = page.items
            starts = range(0, len(items), slice_size) if items else range(1)
            for first in starts:
                chunk = items[first : first + slice_size]
                last = first + slice_size >= len(items)
                base = after if last else {k: v for k, v in (step.cursor or {}).items() if k != "media"}
                refs = media_references(client, resource, chunk, page.parents)
                committed = base
                if (
                    refs
                ):  # the media are fetched after the commit: until then, the cursor says they are pending
                    pending = {"resource": resource, "url": page.url, "parent": list(page.parents)}
                    committed = {**base, "media": {**pending, "slice": [first, first + len(chunk)]}}
                _commit_slice(step, importer, chunk, page.parents, option_check, committed)
                if refs:
                    _import_page_media(step, client, refs, base)
                if progress:
                    progress(step)
                if not last:
                    _check_run(step.run_id)
        if not resumed:
            read_whole.add(resource)
        if resource in client.refused_flags:
            _log_refused_flags(step, spec)
        part_index += 1
        cursor = {"part": part_index, "parent": None, "next_url": None}
        step.cursor = cursor
        retry_on_lock(lambda: step.save(update_fields=["cursor"]), f"Saving the cursor of step {step.pk}")

    def complete() -> None:
        with transaction.atomic():
            for resource in resources:  # parents that arrived after their children, in this step
                IMPORTERS[resource].resolve_references()
            _log_unresolved(step, [IMPORTERS[resource] for resource in resources])
            # Only a step still ours: a run ended meanwhile (superseded) keeps the status it was given.
            if not MigrationStep.objects.filter(pk=step.pk, status=Status.RUNNING).update(
                status=Status.COMPLETED, finished_at=timezone.now()
            ):
                raise RunEnded

    after_step(
        step, client
    )  # what the source no longer has: flagged deleted; changed models' variants re-read
    retry_on_lock(complete, f"Completing step {step.pk}")
    step.refresh_from_db()
    if progress:
        progress(step)


def _log_refused_flags(step: MigrationStep, spec) -> None:
    flags = ", ".join(f"{name}={value}" for name, value in spec.flags.items())
    MigrationLog.objects.create(
        step=step,
        level=MigrationLog.Level.WARNING,
        message=f"Akeneo refused {flags} on {spec.name}: read without them, so what they add (e.g. category "
        "positions and enriched values, table select options) is not in this copy",
    )


def _log_gone(step: MigrationStep, page, cursor: dict) -> None:
    """A parent the source no longer has (a 404 on its sub-resource): a warning, and the step goes on."""
    label = "/".join(page.parents)
    step.cursor = cursor
    step.heartbeat_at = timezone.now()

    def write() -> None:
        with transaction.atomic():
            step.save(update_fields=["cursor", "heartbeat_at"])
            MigrationLog.objects.create(
                step=step,
                level=MigrationLog.Level.WARNING,
                code=label[:255],
                message=f"{page.resource} of {label}: Akeneo no longer has this parent ({page.gone}); skipped",
            )

    retry_on_lock(write, f"Saving the cursor of step {step.pk}")


def _fetch_pending_media(step: MigrationStep, client: AkeneoClient, cursor: dict) -> None:
    """The media of a page committed before the process died, before its downloads ended: read that page again
    from the source and fetch what is missing (media already stored are not downloaded again)."""
    pending = cursor["media"]
    resource, url = pending.get("resource"), pending.get("url")
    parents = tuple(pending.get("parent") or ())
    rest = {key: value for key, value in cursor.items() if key != "media"}
    refs = []
    if resource in RESOURCES and url:
        first, end = (pending.get("slice") or [0, None])[:2]
        try:
            page = next(iter(client.pages(resource, parent=parents, start_url=url, prefetch=False)), None)
        except AkeneoError as error:
            page = None
            MigrationLog.objects.create(
                step=step,
                level=MigrationLog.Level.WARNING,
                message=f"The media of an interrupted page could not be read again ({error}); the next run "
                "fetches them",
            )
        if page is not None:
            refs = media_references(client, resource, page.items[first:end], parents)
    _import_page_media(step, client, refs, rest)
    cursor.clear()
    cursor.update(rest)


def _commit_slice(step: MigrationStep, importer, items: list, parent, option_check, cursor: dict) -> None:
    """Import records and save the step's counters, cursor and heartbeat in one transaction (retried whole
    when the database is locked: re-importing is harmless, and the counters are restored before a retry)."""
    saved = {name: getattr(step, name) for name in (*COUNTER_FIELDS, "cursor", "heartbeat_at")}

    def write() -> None:
        try:
            with transaction.atomic():
                result = importer.import_page(items, parent=parent)
                if option_check is not None:
                    result.problems.extend(option_check.problems(items))
                record_mappings(step.run.connection_id, importer.resource, result.ids)
                note_page(step, importer.resource, items, parent, result.ids)  # keys seen: deletions
                record_page(step, importer.resource, result)  # per-record results: one INSERT
                _record_page(step, len(items), result, cursor)
        except Exception:
            for name, value in saved.items():
                setattr(step, name, value)
            raise

    retry_on_lock(write, f"Saving a page of step {step.pk}", conflicts=True)


def _import_page_media(step: MigrationStep, client: AkeneoClient, refs: list, cursor: dict) -> None:
    """After the page is committed: its missing media, then the cursor without the pending mark (one write).
    Failures are warnings; the next run retries them. Long downloads renew the step's lease meanwhile, so the
    step is not taken for dead."""

    def heartbeat() -> None:
        MigrationStep.objects.filter(pk=step.pk, status=Status.RUNNING).update(heartbeat_at=timezone.now())

    stored, problems = import_media(client, refs, heartbeat=heartbeat) if refs else (0, [])
    step.media += stored
    step.heartbeat_at = timezone.now()
    step.cursor = cursor

    def write() -> None:  # downloads took time: renew the lease with the counter and the cursor (one write)
        with transaction.atomic():
            step.save(update_fields=["media", "heartbeat_at", "cursor"])
            MigrationLog.objects.bulk_create(
                MigrationLog(step=step, level=MigrationLog.Level.WARNING, code=record[:255], message=message)
                for record, message in problems[:MAX_PROBLEMS_PER_PAGE]
            )

    retry_on_lock(write, f"Saving the media of step {step.pk}")


def record_mappings(connection_id: int, resource: str, ids: dict[str, int]) -> None:
    """Keep the connection's Akeneo key -> local id map for a page: one read, then bulk writes if needed."""
    if not ids:
        return
    known = dict(
        Mapping.objects.filter(
            connection_id=connection_id, resource=resource, akeneo_key__in=list(ids)
        ).values_list("akeneo_key", "object_id")
    )
    Mapping.objects.bulk_create(
        [
            Mapping(connection_id=connection_id, resource=resource, akeneo_key=key, object_id=object_id)
            for key, object_id in ids.items()
            if key not in known
        ],
        ignore_conflicts=True,
    )
    for key, object_id in ids.items():  # rare: the local row was replaced since the last run
        if key in known and known[key] != object_id:
            Mapping.objects.filter(connection_id=connection_id, resource=resource, akeneo_key=key).update(
                object_id=object_id
            )


def mapped(model, connection_id: int, resource: str):
    """The catalog rows of `model` that this connection's records became."""
    return model.objects.filter(
        pk__in=Mapping.objects.filter(connection_id=connection_id, resource=resource).values("object_id")
    )


def _log_unresolved(step: MigrationStep, importers: list) -> None:
    """References still dangling at the end of the step (a parent Akeneo never sent): one warning per record.

    The records are kept (with the code they name), so a later run that brings the target links them.
    """
    lines = []
    for importer in importers:
        for fk, code_field in importer.model.code_links:
            dangling = (
                importer.model.objects.filter(**{f"{fk}__isnull": True})
                .exclude(**{f"{code_field}__isnull": True})
                .exclude(**{code_field: ""})
                .values_list(*importer.key_fields, code_field)[:MAX_PROBLEMS_PER_PAGE]
            )
            for *key, target in dangling:
                lines.append(
                    MigrationLog(
                        step=step,
                        level=MigrationLog.Level.WARNING,
                        code="/".join(str(part) for part in key)[:255],
                        message=f"{fk.replace('_', ' ')} {target!r} was not found; the record is kept and will be "
                        "linked when it arrives",
                    )
                )
    MigrationLog.objects.bulk_create(lines)


COUNTER_FIELDS = ("read", "created", "updated", "unchanged", "skipped", "failed")


def _record_page(step: MigrationStep, read: int, result, cursor: dict) -> None:
    step.read += read
    for counter in ("created", "updated", "unchanged", "skipped", "failed"):
        setattr(step, counter, getattr(step, counter) + getattr(result, counter))
    step.cursor = cursor
    step.heartbeat_at = timezone.now()
    step.save(
        update_fields=[
            "read",
            "created",
            "updated",
            "unchanged",
            "skipped",
            "failed",
            "cursor",
            "heartbeat_at",
        ]
    )
    problems = result.problems[:MAX_PROBLEMS_PER_PAGE]
    if problems:
        MigrationLog.objects.bulk_create(
            MigrationLog(step=step, level=problem.level, code=problem.code[:255], message=problem.message)
            for problem in problems
        )
    if len(result.problems) > MAX_PROBLEMS_PER_PAGE:
        MigrationLog.objects.create(
            step=step,
            level=MigrationLog.Level.WARNING,
            message=f"{len(result.problems) - MAX_PROBLEMS_PER_PAGE} more problems on this page were not logged.",
        )


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
    return run


def reconcile(run: MigrationRun, client: AkeneoClient | None = None) -> list[dict]:
    """Per finished entity: how many records Akeneo holds, counted independently of what the run read (Akeneo's
    `items_count` where it gives one, else a count read from the source now, per resource: see
    `verify.source_counts`), vs the records of this connection now in the local catalog (through its mappings, records it found gone from Akeneo left
    out: a row deleted locally is missing). `difference` = local - source (negative: records missing locally); each
    row also lists its resources (`parts`). When Akeneo cannot be reached for the counts, the records the run
    read stand in for them and `counted` says so ("read by the run" instead of "Akeneo")."""
    from migrations_runs.export import visible
    from migrations_runs.importers import IMPORTERS
    from migrations_runs.verify import source_counts

    rows = []
    own = client is None
    unreachable = ""
    try:
        for step in run.steps.filter(status=Status.COMPLETED).order_by("position"):
            entity = ENTITY_BY_CODE[step.entity]
            counts: dict[str, int] | None = None
            if not unreachable:
                try:
                    client = client or make_client(run.connection)
                    counts = source_counts(client, step.entity)
                except (AkeneoError, CredentialsUnreadable) as error:
                    unreachable = str(error)
                    logger.warning("Run %s: the source could not be counted: %s", run.pk, error)
            parts = [
                {
                    "resource": part.resource,
                    "source": counts[part.resource] if counts is not None else None,
                    "local": visible(
                        mapped(
                            IMPORTERS[part.resource].model,
                            run.connection_id,
                            IMPORTERS[part.resource].resource,
                        ),
                        run.connection_id,
                        IMPORTERS[part.resource].resource,
                    ).count(),
                }
                for part in entity.parts
            ]
            source = sum(part["source"] for part in parts) if counts is not None else step.read
            local = sum(part["local"] for part in parts)
            rows.append(
                {
                    "entity": step.entity,
                    "label": entity.label,
                    "source": source,
                    "local": local,
                    "difference": local - source,
                    "match": source == local
                    and all(part["source"] in (None, part["local"]) for part in parts),
                    "counted": "Akeneo" if counts is not None else "read by the run",
                    "parts": parts,
                }
            )
    finally:
        if own and client is not None:
            client.close()
    return rows


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
