"""Starting and executing migrations. The admin, `akeneo_migrate` and the Celery tasks all call these.

A step pages through its Akeneo resources; each page is imported and the step's cursor and counters saved in one
transaction, so a step can resume after a crash from the page after the last committed one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from connections.akeneo.client import AkeneoClient, ClientSettings
from connections.akeneo.errors import AkeneoError
from connections.crypto import CredentialsUnreadable
from connections.models import Connection
from migrations_runs.checks import OptionCheck
from migrations_runs.entities import ENTITY_BY_CODE, in_dependency_order
from migrations_runs.models import ACTIVE_STATUSES, Mapping, MigrationLog, MigrationRun, MigrationStep, Status

logger = logging.getLogger(__name__)

Progress = Callable[[MigrationStep], None]
MAX_PROBLEMS_PER_PAGE = 200


class MigrationNotStarted(Exception):
    """A guard refused the run; the message is for the user."""


class CancelRequested(Exception):
    pass


class StepBusy(Exception):
    """Another worker holds this step's lease (a duplicate delivery): try again later, do not run it twice."""


def start_run(
    connection: Connection,
    entities: Iterable[str],
    user=None,
    *,
    filters: dict | None = None,
    enqueue: bool = True,
) -> MigrationRun:
    """Create a run with one queued step per entity (dependency order) and, unless told not to, enqueue it."""
    try:
        codes = in_dependency_order(list(entities))
    except ValueError as exc:
        raise MigrationNotStarted(str(exc)) from None
    if not codes:
        raise MigrationNotStarted("Choose at least one entity to migrate.")
    with transaction.atomic():
        locked = Connection.objects.select_for_update().get(pk=connection.pk)
        if not locked.enabled:
            raise MigrationNotStarted("This connection is disabled: enable it before starting a migration.")
        active = locked.migration_runs.filter(status__in=ACTIVE_STATUSES).first()
        if active is not None:
            raise MigrationNotStarted(
                f"Migration run #{active.pk} is still {active.get_status_display().lower()} on this connection: "
                "wait for it to finish or cancel it first."
            )
        run = MigrationRun.objects.create(connection=locked, user=user, entities=codes, filters=filters or {})
        MigrationStep.objects.bulk_create(
            MigrationStep(run=run, entity=code, position=index) for index, code in enumerate(codes)
        )
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
            MigrationRun.objects.filter(pk=run.pk).update(
                status=Status.FAILED, error=reason, finished_at=timezone.now()
            )
            run.steps.update(status=Status.CANCELLED)
            raise MigrationNotStarted(reason) from None
    return run


def request_cancel(run: MigrationRun) -> str:
    """Stop a run. Not started yet: cancelled at once (a run no worker picks up must not block its connection).
    Running: its step stops between two pages and the queued steps never start. Returns the run's status."""
    now = timezone.now()
    with transaction.atomic():
        if MigrationRun.objects.filter(pk=run.pk, status=Status.QUEUED).update(
            status=Status.CANCELLED,
            cancel_requested=True,
            error="Cancelled before it started.",
            finished_at=now,
        ):
            MigrationStep.objects.filter(run_id=run.pk, status=Status.QUEUED).update(status=Status.CANCELLED)
        else:
            MigrationRun.objects.filter(pk=run.pk, status=Status.RUNNING).update(cancel_requested=True)
    return MigrationRun.objects.get(pk=run.pk).status


def make_client(connection: Connection) -> AkeneoClient:
    return AkeneoClient(connection.credentials(), ClientSettings.from_django())


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
    now = timezone.now()
    stale = now - timedelta(seconds=settings.MIGRATION_STEP_LEASE_SECONDS)
    claimed = (
        MigrationStep.objects.filter(pk=step.pk)
        .filter(
            Q(status=Status.QUEUED)
            | Q(status=Status.RUNNING, heartbeat_at__isnull=True)
            | Q(status=Status.RUNNING, heartbeat_at__lt=stale)
        )
        .update(status=Status.RUNNING, heartbeat_at=now, started_at=Coalesce(F("started_at"), Value(now)))
    )
    if not claimed:
        raise StepBusy(f"Step {step.entity} of run #{run.pk} is being executed by another worker.")
    step.refresh_from_db()
    MigrationRun.objects.filter(pk=run.pk, started_at__isnull=True).update(started_at=now)
    MigrationRun.objects.filter(pk=run.pk, status=Status.QUEUED).update(status=Status.RUNNING)
    own_client = client is None
    try:
        if run.cancel_requested or _cancel_requested(run):
            raise CancelRequested
        client = client or make_client(run.connection)
        _import_step(step, client, progress)
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


def _cancel_requested(run: MigrationRun) -> bool:
    return MigrationRun.objects.filter(pk=run.pk, cancel_requested=True).exists()


def _stop(step: MigrationStep, status: str, reason: str) -> None:
    """A failed or cancelled step stops its run: later steps see it and do not start."""
    now = timezone.now()
    step.status, step.error, step.finished_at = status, reason, now
    step.save(update_fields=["status", "error", "finished_at"])
    MigrationLog.objects.create(
        step=step,
        level=MigrationLog.Level.ERROR if status == Status.FAILED else MigrationLog.Level.WARNING,
        message=reason,
    )
    MigrationRun.objects.filter(pk=step.run_id, status__in=ACTIVE_STATUSES).update(
        status=status, error=reason, finished_at=now
    )
    MigrationStep.objects.filter(run_id=step.run_id, status=Status.QUEUED).update(status=Status.CANCELLED)


def _import_step(step: MigrationStep, client: AkeneoClient, progress: Progress | None) -> None:
    from migrations_runs.importers import IMPORTERS

    entity = ENTITY_BY_CODE[step.entity]
    if step.total is None and len(entity.parts) == 1:  # one count call per step, for progress and ETA
        step.total = client.count(entity.parts[0].resource)
        step.save(update_fields=["total"])
    cursor = dict(step.cursor or {})
    part_index = cursor.get("part", 0)
    option_check = OptionCheck() if step.entity in ("products", "product-models") else None
    while part_index < len(entity.parts):
        part = entity.parts[part_index]
        importer = IMPORTERS[part.resource]
        parents: list[str | None] = list(part.parents()) if part.parents else [None]
        parent_index = cursor.get("parent", 0)
        while parent_index < len(parents):
            parent = parents[parent_index]
            for page in client.pages(part.resource, parent=parent, start_url=cursor.get("next_url")):
                if _cancel_requested(step.run):
                    raise CancelRequested
                if page.next_url:
                    after = {"part": part_index, "parent": parent_index, "next_url": page.next_url}
                else:
                    after = {"part": part_index, "parent": parent_index + 1, "next_url": None}
                with transaction.atomic():
                    result = importer.import_page(page.items, parent=parent)
                    if option_check is not None:
                        result.problems.extend(option_check.problems(page.items))
                    record_mappings(step.run.connection_id, importer.resource, result.ids)
                    _record_page(step, len(page.items), result, after)
                _import_page_media(step, client, part.resource, page.items, parent)
                if progress:
                    progress(step)
            parent_index += 1
            cursor = {"part": part_index, "parent": parent_index, "next_url": None}
        part_index += 1
        cursor = {"part": part_index, "parent": 0, "next_url": None}
        step.cursor = cursor
        step.save(update_fields=["cursor"])
    with transaction.atomic():
        for part in entity.parts:  # parents that arrived after their children, in this step
            IMPORTERS[part.resource].resolve_references()
        _log_unresolved(step, [IMPORTERS[part.resource] for part in entity.parts])
        step.status, step.finished_at = Status.COMPLETED, timezone.now()
        step.save(update_fields=["status", "finished_at"])
    if progress:
        progress(step)


def _import_page_media(step: MigrationStep, client: AkeneoClient, resource: str, items: list, parent) -> None:
    """After the page is committed: its missing media. Failures are warnings; the next run retries them."""
    from migrations_runs.media import import_media, media_references

    stored, problems = import_media(client, media_references(client, resource, items, parent))
    if stored or problems:  # downloads took time: renew the lease with the counter (one write)
        step.media += stored
        step.heartbeat_at = timezone.now()
        step.save(update_fields=["media", "heartbeat_at"])
    if problems:
        MigrationLog.objects.bulk_create(
            MigrationLog(step=step, level=MigrationLog.Level.WARNING, code=record[:255], message=message)
            for record, message in problems[:MAX_PROBLEMS_PER_PAGE]
        )


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
    if run.status in ACTIVE_STATUSES:
        statuses = set(run.steps.values_list("status", flat=True))
        if statuses <= {Status.COMPLETED}:
            run.status = Status.COMPLETED
        elif Status.FAILED in statuses:
            run.status = Status.FAILED
        else:
            run.status = Status.CANCELLED
        run.finished_at = timezone.now()
        run.reconciliation = reconcile(run)
        run.save(update_fields=["status", "finished_at", "reconciliation"])
    return run


def reconcile(run: MigrationRun) -> list[dict]:
    """Per finished entity: what Akeneo reported (its count, else the records it served) vs the records of
    this connection now in the local catalog (through its mappings: a row deleted locally is missing)."""
    from migrations_runs.importers import IMPORTERS

    rows = []
    for step in run.steps.filter(status=Status.COMPLETED).order_by("position"):
        entity = ENTITY_BY_CODE[step.entity]
        source = step.total if step.total is not None and len(entity.parts) == 1 else step.read
        local = sum(
            mapped(
                IMPORTERS[part.resource].model, run.connection_id, IMPORTERS[part.resource].resource
            ).count()
            for part in entity.parts
        )
        rows.append(
            {
                "entity": step.entity,
                "label": entity.label,
                "source": source,
                "local": local,
                "match": source == local,
            }
        )
    return rows


def execute_run(run: MigrationRun, *, progress: Progress | None = None) -> MigrationRun:
    """Run every step in this process (the `--sync` path): the same step code as the Celery tasks."""
    client = make_client(run.connection)
    try:
        for step_id in run.steps.order_by("position").values_list("pk", flat=True):
            execute_step(step_id, client=client, progress=progress)
    except CredentialsUnreadable as error:
        step = run.steps.order_by("position").first()
        _stop(step, Status.FAILED, str(error))
    finally:
        client.close()
    return finish_run(run.pk)
