"""Reading one step's resources from the source and committing them, page by page.

Each page (or slice of a huge page) is imported and the step's cursor and counters saved in one transaction, so a
step resumes after a crash from the page after the last committed one. Media go to a `MediaPipeline` once their
page is committed and download while the next pages are read; until they are done, the cursor lists their page
as pending (`"media": [...]`), so a resumed step fetches what a killed process left.

Products and product models are read through disjoint partitions (`migrations_runs.partitions`) when the plan is
proven: each partition has its own cursor and lease, this process reads up to MIGRATION_PARTITION_THREADS of them
at once (threads fetch pages, this thread imports them: one database writer per process), and Celery workers
that run `execute_partitions` take the others. The process that runs the step itself closes it once every
partition is completed.

The cursor of a plain step: {"part": index of the resource, "parent": the parent CODES of the page in progress
(sub-resources), "next_url": where that parent (or resource) goes on, None when it is done, "query": the read in
progress (filtered runs), "media": committed pages whose media are not all fetched}. A partitioned step's cursor
is {"partitioned": true}; its partitions hold the rest.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from connections.akeneo.client import AkeneoClient
from connections.akeneo.errors import AkeneoError
from connections.akeneo.resources import RESOURCES, children_of
from migrations_runs.checks import OptionCheck
from migrations_runs.deletions import after_step, note_page
from migrations_runs.entities import ENTITY_BY_CODE
from migrations_runs.locking import CancelRequested, LeaseLost, RunEnded, check_run, retry_on_lock
from migrations_runs.media import MediaPipeline, media_references
from migrations_runs.models import (
    COUNTERS,
    Mapping,
    MigrationLog,
    MigrationPartition,
    MigrationStep,
    Status,
)
from migrations_runs.records import record_page
from migrations_runs.source import child_parents

logger = logging.getLogger(__name__)

Progress = Callable[[MigrationStep], None]
MAX_PROBLEMS_PER_PAGE = 200
PARTITION_BEAT_EVERY = 5.0  # seconds between two lease renewals of the partitions this process holds
WAIT_FOR_OTHERS_EVERY = 1.0  # seconds between two looks at partitions other workers hold


# ----------------------------------------------------------------------------------------------- writers
class Writer:
    """Commits pages for a step, or for one partition of it (`partition`, held under `owner`), and keeps the
    list of its committed pages whose media are still downloading (the cursor's "media")."""

    def __init__(
        self, step: MigrationStep, partition: MigrationPartition | None = None, owner: str = ""
    ) -> None:
        self.step = step
        self.partition = partition
        self.owner = owner
        cursor = (partition.cursor if partition is not None else step.cursor) or {}
        self.position: dict[str, Any] = {key: value for key, value in cursor.items() if key != "media"}
        self.pending: list[dict] = pending_media(cursor)
        self.stored = 0  # media stored since the last write
        self.problems: list[tuple[str, str]] = []  # media problems since the last write
        self.done_reading = False
        self._last_counts: dict[str, int] = {}

    def cursor(self) -> dict[str, Any]:
        return {**self.position, "media": list(self.pending)} if self.pending else dict(self.position)

    def media_done(self, batch) -> None:
        """A batch of this writer's media ended: its page is no longer pending (written with the next write)."""
        self.pending = [entry for entry in self.pending if entry is not batch.key[1]]
        self.stored += batch.stored
        self.problems.extend(batch.problems)

    def commit(
        self,
        importer,
        items: list,
        parents,
        option_check: OptionCheck | None,
        position: dict[str, Any],
        media_entry: dict | None,
    ) -> None:
        """Import records and save the counters, cursor and lease in one transaction (retried whole when the
        database is locked: re-importing is harmless)."""
        pending = [*self.pending, media_entry] if media_entry is not None else self.pending
        cursor = {**position, "media": pending} if pending else dict(position)

        def write() -> None:
            with transaction.atomic():
                result = importer.import_page(items, parent=parents)
                if option_check is not None:
                    result.problems.extend(option_check.problems(items))
                record_mappings(self.step.run.connection_id, importer.resource, result.ids)
                note_page(self.step, importer.resource, items, parents, result.ids)  # keys seen: deletions
                record_page(self.step, importer.resource, result)  # per-record results: one INSERT
                counts = {"read": len(items), **{name: getattr(result, name) for name in COUNTERS[1:]}}
                self._save(cursor, counts)
                self._last_counts = counts
                _log_problems(self.step, [(p.level, p.code, p.message) for p in result.problems])

        retry_on_lock(write, f"Saving a page of step {self.step.pk}", conflicts=True)
        self._written(cursor, {"read": len(items)} | self._last_counts)
        self.position = dict(position)
        self.pending = pending

    def save(self, position: dict[str, Any] | None = None) -> None:
        """Save the cursor (moved to `position` if given), media stored meanwhile and their problems."""
        if position is not None:
            self.position = dict(position)
        cursor = self.cursor()

        def write() -> None:
            with transaction.atomic():
                self._save(cursor, {})

        retry_on_lock(write, f"Saving the cursor of step {self.step.pk}")
        self._written(cursor, {})

    def _save(self, cursor: dict[str, Any], counts: dict[str, int]) -> None:
        """Inside the transaction: counters added with F() (several partitions, maybe several processes, add
        to the same step), the media written meanwhile and their problems, the cursor and the lease."""
        now = timezone.now()
        stored, problems = self.stored, self.problems
        increments = {name: F(name) + value for name, value in counts.items() if value}
        if stored:
            increments["media"] = F("media") + stored
        if self.partition is not None:
            partition_fields = {"cursor": cursor, "heartbeat_at": now}
            if counts.get("read"):
                partition_fields["read"] = F("read") + counts["read"]
            if stored:
                partition_fields["media"] = F("media") + stored
            if not MigrationPartition.objects.filter(
                pk=self.partition.pk, owner=self.owner, status=Status.RUNNING
            ).update(**partition_fields):
                raise LeaseLost(f"partition {self.partition.index} of step {self.step.pk}")
            MigrationStep.objects.filter(pk=self.step.pk).update(heartbeat_at=now, **increments)
        else:
            MigrationStep.objects.filter(pk=self.step.pk).update(
                cursor=cursor, heartbeat_at=now, **increments
            )
        _log_problems(
            self.step, [(MigrationLog.Level.WARNING, record, message) for record, message in problems]
        )

    def _written(self, cursor: dict[str, Any], counts: dict[str, int]) -> None:
        """After the transaction committed: mirror the rows on the objects (progress bars read these)."""
        for name, value in counts.items():
            setattr(self.step, name, getattr(self.step, name) + value)
        self.step.media += self.stored
        if self.partition is None:
            self.step.cursor = cursor
        else:
            self.partition.cursor = cursor
        self.stored, self.problems = 0, []


def pending_media(cursor: dict[str, Any]) -> list[dict]:
    """The committed pages whose media are not all fetched (a list; a single entry in older cursors)."""
    pending = cursor.get("media")
    if isinstance(pending, dict):
        return [pending]
    return [entry for entry in pending if isinstance(entry, dict)] if isinstance(pending, list) else []


def _log_problems(step: MigrationStep, problems: list[tuple[str, str, str]]) -> None:
    shown = problems[:MAX_PROBLEMS_PER_PAGE]
    if shown:
        MigrationLog.objects.bulk_create(
            MigrationLog(step=step, level=level, code=str(code)[:255], message=message)
            for level, code, message in shown
        )
    if len(problems) > MAX_PROBLEMS_PER_PAGE:
        MigrationLog.objects.create(
            step=step,
            level=MigrationLog.Level.WARNING,
            message=f"{len(problems) - MAX_PROBLEMS_PER_PAGE} more problems on this page were not logged.",
        )


def _route(batches) -> None:
    for batch in batches:
        batch.key[0].media_done(batch)


def _resubmit_pending(writer: Writer, client: AkeneoClient, pipeline: MediaPipeline) -> None:
    """The media of pages committed before the process died, before their downloads ended: read each page
    again from the source and queue what is missing (media already stored are not downloaded again)."""
    for entry in list(writer.pending):
        resource, url = entry.get("resource"), entry.get("url")
        parents = tuple(entry.get("parent") or ())
        refs = []
        if resource in RESOURCES and isinstance(url, str) and url:
            first, end = (entry.get("slice") or [0, None])[:2]
            try:
                page = next(iter(client.pages(resource, parent=parents, start_url=url, prefetch=False)), None)
            except AkeneoError as error:
                page = None
                MigrationLog.objects.create(
                    step=writer.step,
                    level=MigrationLog.Level.WARNING,
                    message=f"The media of an interrupted page could not be read again ({error}); the next run "
                    "fetches them",
                )
            if page is not None:
                refs = media_references(client, resource, page.items[first:end], parents)
        pipeline.submit((writer, entry), refs)


def _feed(
    writer: Writer,
    client: AkeneoClient,
    pipeline: MediaPipeline,
    importer,
    page,
    position: dict[str, Any],
    option_check: OptionCheck | None,
    between_slices: Callable[[], None],
    progress: Progress | None,
) -> None:
    """Commit one page (in slices when a server ignored `limit`: each its own short transaction, the cursor
    moving past the page only with the last), then queue its media."""
    slice_size = max(1, settings.AKENEO_PAGE_SIZE)
    items = page.items
    starts = range(0, len(items), slice_size) if items else range(1)
    for first in starts:
        chunk = items[first : first + slice_size]
        last = first + slice_size >= len(items)
        refs = media_references(client, importer.resource, chunk, page.parents)
        entry = None
        if refs:
            entry = {
                "resource": importer.resource,
                "url": page.url,
                "parent": list(page.parents),
                "slice": [first, first + len(chunk)],
            }
        writer.commit(
            importer, chunk, page.parents, option_check, position if last else writer.position, entry
        )
        if entry is not None:
            pipeline.submit((writer, entry), refs)
        _route(pipeline.poll())
        if progress:
            progress(writer.step)
        if not last:
            between_slices()


# ----------------------------------------------------------------------------------------------- a step
def import_step(step: MigrationStep, client: AkeneoClient, progress: Progress | None) -> None:
    """Read the entity's resources from the source and import them; then the deletion check and the end of
    the step. Parents of a sub-resource are the records of its parent resource that this process read from
    the source while importing them; a resumed step re-reads them from the source (never the local catalog).
    A parent the source no longer has (404) is logged and skipped."""
    from migrations_runs.filters import step_total
    from migrations_runs.partitions import PARTITIONED_RESOURCES

    resources = ENTITY_BY_CODE[step.entity].resources
    counting: Future | None = None
    with ThreadPoolExecutor(1, "akeneo-count") as counter:
        if step.total is None and len(resources) == 1:  # one count call per step, for progress and ETA
            if resources[0] in PARTITIONED_RESOURCES:  # the partition plan is checked against it
                _save_total(step, step_total(step.run, client, resources[0]))
            else:  # read while the first pages are: the paging guard takes it once known
                counting = counter.submit(step_total, step.run, client, resources[0])

        def heartbeat() -> None:
            MigrationStep.objects.filter(pk=step.pk, status=Status.RUNNING).update(
                heartbeat_at=timezone.now()
            )

        with MediaPipeline(client, heartbeat=heartbeat) as pipeline:
            if _partitioned(step, client):
                read_partitions(step, client, pipeline, progress, closing=True)
            else:
                _read_resources(step, client, pipeline, progress, counting)
    after_step(
        step, client
    )  # what the source no longer has: flagged deleted; changed models' variants re-read
    _complete(step, resources)
    step.refresh_from_db()
    if progress:
        progress(step)


def _known_count(counting: Future) -> int | None:
    """The count being read in the background, None until known (called from reading threads too)."""
    return counting.result() if counting.done() and counting.exception() is None else None


def _save_total(step: MigrationStep, total: int | None) -> None:
    step.total = total
    MigrationStep.objects.filter(pk=step.pk).update(total=total)


def _read_resources(
    step: MigrationStep,
    client: AkeneoClient,
    pipeline: MediaPipeline,
    progress: Progress | None,
    counting: Future | None = None,
) -> None:
    from migrations_runs.filters import source_pages
    from migrations_runs.importers import IMPORTERS

    resources = ENTITY_BY_CODE[step.entity].resources
    writer = Writer(step)
    _resubmit_pending(writer, client, pipeline)
    part_index = writer.position.get("part", 0)
    option_check = OptionCheck() if step.entity in ("products", "product-models") else None
    # Parent keys of this step's sub-resources, as read from the source by this process (complete only for a
    # parent resource read from its first page here).
    collected: dict[str, list[tuple[str, ...]]] = {}
    read_whole: set[str] = set()
    while part_index < len(resources):
        resource = resources[part_index]
        spec = RESOURCES[resource]
        importer = IMPORTERS[resource]
        children = [child for child in children_of(resource) if child.name in resources[part_index + 1 :]]
        start = {key: writer.position.get(key) for key in ("parent", "next_url", "query")}
        resumed = bool(start["parent"] or start["next_url"])
        parents = collected.get(resource) if spec.parent in read_whole else None
        # Akeneo's count bounds a server whose next links never end (the client stops far past it).
        expected: int | Callable[[], int | None] | None = step.total if len(resources) == 1 else None
        if counting is not None:  # still being counted: the guard takes the count once it is known
            expected = partial(_known_count, counting)

        # the run's import filters / incremental window narrow products and product models (filters.py)
        pages = source_pages(
            step.run, client, resource, start=start, parents=parents, expected_count=expected
        )
        # closed at once on a cancel or an error: the walk's reading threads stop there
        with contextlib.closing(pages):
            for page in pages:
                check_run(step.run_id)
                if counting is not None and counting.done() and step.total is None:
                    _save_total(step, counting.result())  # a failed count fails the step, as before
                position = {"part": part_index, **page.cursor}
                if page.gone:
                    _log_gone(writer, page, position)
                    continue
                for child in children:
                    collected.setdefault(child.name, []).extend(
                        child_parents(child, page.parents, page.items)
                    )
                _log_dropped(step, page)
                _feed(
                    writer,
                    client,
                    pipeline,
                    importer,
                    page,
                    position,
                    option_check,
                    lambda: check_run(step.run_id),
                    progress,
                )
        if not resumed:
            read_whole.add(resource)
        if resource in client.refused_flags:
            _log_refused_flags(step, spec)
        part_index += 1
        writer.save({"part": part_index, "parent": None, "next_url": None})
    _route(pipeline.drain())
    writer.save()
    if counting is not None and step.total is None:
        _save_total(step, counting.result())


def _log_dropped(step: MigrationStep, page) -> None:
    if page.dropped:
        MigrationLog.objects.create(
            step=step,
            level=MigrationLog.Level.WARNING,
            message=f"{page.dropped} items of the page {page.url} were not records (null, a string, a "
            "number...): skipped",
        )


def _complete(step: MigrationStep, resources: tuple[str, ...]) -> None:
    from migrations_runs.importers import IMPORTERS

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

    retry_on_lock(complete, f"Completing step {step.pk}")


def _log_refused_flags(step: MigrationStep, spec) -> None:
    flags = ", ".join(f"{name}={value}" for name, value in spec.flags.items())
    MigrationLog.objects.create(
        step=step,
        level=MigrationLog.Level.WARNING,
        message=f"Akeneo refused {flags} on {spec.name}: read without them, so what they add (e.g. category "
        "positions and enriched values, table select options) is not in this copy",
    )


def _log_gone(writer: Writer, page, position: dict) -> None:
    """A parent the source no longer has (a 404 on its sub-resource): a warning, and the step goes on."""
    label = "/".join(page.parents)
    writer.problems.append(
        (label, f"{page.resource} of {label}: Akeneo no longer has this parent ({page.gone}); skipped")
    )
    writer.save(position)


# ----------------------------------------------------------------------------------------------- partitions
def _partitioned(step: MigrationStep, client: AkeneoClient) -> bool:
    """Whether the step reads through partitions: planned now for a fresh products / product models step (when
    the plan is proven), or planned already (a resumed step)."""
    from migrations_runs.filters import queries_for
    from migrations_runs.partitions import PARTITIONED_RESOURCES, NotPartitioned, plan

    if step.partitions.exists():
        return True
    resources = ENTITY_BY_CODE[step.entity].resources
    if len(resources) != 1 or resources[0] not in PARTITIONED_RESOURCES or step.cursor:
        return False  # a step that began as one cursor goes on as one
    try:
        planned = plan(client, resources[0], queries_for(step.run, resources[0], client), step.total)
    except NotPartitioned as reason:
        if (
            settings.MIGRATION_PARTITIONS > 1
            and (step.total or 0) >= settings.MIGRATION_PARTITION_MIN_RECORDS
        ):
            MigrationLog.objects.create(step=step, message=f"Read through one cursor: {reason}.")
        return False

    def create() -> None:
        with transaction.atomic():
            if (
                MigrationStep.objects.select_for_update().filter(pk=step.pk).exists()
                and step.partitions.exists()
            ):
                return
            MigrationPartition.objects.bulk_create(
                MigrationPartition(
                    step=step, index=index, label=part.label, search=part.search, expected=part.expected
                )
                for index, part in enumerate(planned)
            )
            MigrationStep.objects.filter(pk=step.pk).update(cursor={"partitioned": True})
            sizes = ", ".join(f"{part.label}: {part.expected}" for part in planned[:20])
            MigrationLog.objects.create(
                step=step,
                message=f"Read through {len(planned)} partitions whose counts add up to Akeneo's "
                f"{step.total} ({sizes}{', ...' if len(planned) > 20 else ''}).",
            )

    retry_on_lock(create, f"Planning the partitions of step {step.pk}")
    step.cursor = {"partitioned": True}
    _ask_for_helpers(step)
    return True


def _ask_for_helpers(step: MigrationStep) -> None:
    """Queue tasks that let other Celery workers read partitions of this step too (not on the `--sync` path:
    its process reads them all)."""
    if not getattr(step, "_on_celery", False):
        return
    from migrations_runs.tasks import enqueue_partition_helpers

    try:
        enqueue_partition_helpers(step.pk, settings.MIGRATION_PARTITION_HELPERS)
    except Exception:  # the broker is down: this process reads every partition itself
        logger.exception("Could not queue helpers for step %s", step.pk)


def claim_partition(step: MigrationStep, owner: str) -> MigrationPartition | None:
    """Take a partition nobody holds (queued, or held by a process whose lease expired): a compare-and-set, so
    two workers never hold the same one."""
    stale = timezone.now() - timedelta(seconds=settings.MIGRATION_STEP_LEASE_SECONDS)
    free = (
        Q(status=Status.QUEUED)
        | Q(status=Status.RUNNING, heartbeat_at__lt=stale)
        | Q(status=Status.RUNNING, heartbeat_at__isnull=True)
    )

    def claim() -> MigrationPartition | None:
        for pk in step.partitions.filter(free).order_by("index").values_list("pk", flat=True)[:20]:
            now = timezone.now()
            with transaction.atomic():
                taken = (
                    MigrationPartition.objects.filter(pk=pk)
                    .filter(free)
                    .update(
                        status=Status.RUNNING,
                        owner=owner,
                        heartbeat_at=now,
                        started_at=Coalesce(F("started_at"), Value(now)),
                    )
                )
            if taken:
                return MigrationPartition.objects.get(pk=pk)
        return None

    return retry_on_lock(claim, f"Claiming a partition of step {step.pk}")


class _Fetcher(threading.Thread):
    """Reads one partition's pages into the shared queue (HTTP only: no database from this thread)."""

    def __init__(self, writer: Writer, pages: Iterator, out: queue.Queue, stopping: threading.Event) -> None:
        super().__init__(name=f"akeneo-partition-{writer.partition.index}", daemon=True)
        self.writer, self.pages, self.out = writer, pages, out
        self.stopping = stopping  # every fetcher of the reading process
        self.stop = threading.Event()  # this one (its lease was lost)

    def run(self) -> None:
        try:
            for page in self.pages:
                if not self._put(("page", self.writer, page)):
                    return
            self._put(("done", self.writer, None))
        except BaseException as error:  # handed to the importing thread, which decides
            self._put(("error", self.writer, error))
        finally:
            close = getattr(self.pages, "close", None)
            if close is not None:
                close()

    def _put(self, item) -> bool:
        while not (self.stop.is_set() or self.stopping.is_set()):
            try:
                self.out.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False


def read_partitions(
    step: MigrationStep,
    client: AkeneoClient,
    pipeline: MediaPipeline,
    progress: Progress | None,
    *,
    closing: bool,
) -> None:
    """Read partitions of a step until none is left to take. `closing` (the process running the step): also
    wait for partitions other workers hold, and take over those whose holder died; returns when every partition
    is completed. A failed partition fails the step (its error is raised)."""
    from migrations_runs.filters import filtered_pages, queries_for
    from migrations_runs.importers import IMPORTERS
    from migrations_runs.partitions import with_search

    resource = ENTITY_BY_CODE[step.entity].resources[0]
    importer = IMPORTERS[resource]
    base = queries_for(step.run, resource, client) or [{}]
    option_check = OptionCheck()
    owner = uuid.uuid4().hex
    threads = max(1, settings.MIGRATION_PARTITION_THREADS)
    out: queue.Queue = queue.Queue(maxsize=threads * 2)
    stopping = threading.Event()
    active: dict[int, tuple[Writer, _Fetcher]] = {}
    last_beat = time.monotonic()

    def beat() -> None:
        now = timezone.now()
        MigrationPartition.objects.filter(pk__in=list(active), owner=owner, status=Status.RUNNING).update(
            heartbeat_at=now
        )
        MigrationStep.objects.filter(pk=step.pk, status=Status.RUNNING).update(heartbeat_at=now)

    pipeline.heartbeat = beat

    def finish(writer: Writer, status: str, error: str = "") -> None:
        def write() -> None:
            with transaction.atomic():
                writer._save(writer.cursor(), {})
                MigrationPartition.objects.filter(pk=writer.partition.pk, owner=owner).update(
                    status=status, finished_at=timezone.now(), error=error
                )

        retry_on_lock(write, f"Closing partition {writer.partition.index} of step {step.pk}")
        writer._written(writer.cursor(), {})
        active.pop(writer.partition.pk, None)

    def settle() -> None:
        """Partitions read to the end whose media are all stored: completed."""
        for writer, _fetcher in list(active.values()):
            if writer.done_reading and not writer.pending:
                finish(writer, Status.COMPLETED)

    try:
        while True:
            check_run(step.run_id)
            while len(active) < threads:
                partition = claim_partition(step, owner)
                if partition is None:
                    break
                writer = Writer(step, partition, owner)
                _resubmit_pending(writer, client, pipeline)
                queries = [with_search(query, partition.search) for query in base]
                start = {key: writer.position.get(key) for key in ("next_url", "query")}
                pages = filtered_pages(
                    client, resource, queries, start=start, expected_count=partition.expected
                )
                fetcher = _Fetcher(writer, pages, out, stopping)
                active[partition.pk] = (writer, fetcher)
                fetcher.start()
            if not active:
                if not closing or _partitions_over(step):
                    return
                beat()
                time.sleep(WAIT_FOR_OTHERS_EVERY)
                continue
            if time.monotonic() - last_beat >= PARTITION_BEAT_EVERY:
                beat()
                last_beat = time.monotonic()
            try:
                kind, writer, payload = out.get(timeout=0.2)
            except queue.Empty:
                _route(pipeline.poll())
                if all(writer.done_reading for writer, _fetcher in active.values()):
                    _route(pipeline.drain())
                settle()
                continue
            if writer.partition.pk not in active:  # left behind: its lease was lost
                continue
            if kind == "error":
                if isinstance(payload, AkeneoError):
                    finish(writer, Status.FAILED, str(payload))
                raise payload
            if kind == "done":
                writer.done_reading = True
                settle()
                continue
            if payload.gone:  # a partition has no parent; a server saying 404 mid-read is an error
                raise AkeneoError(f"{resource}: {payload.gone}")
            _log_dropped(step, payload)
            position = {"query": payload.query, "next_url": payload.next_url}
            try:
                _feed(
                    writer,
                    client,
                    pipeline,
                    importer,
                    payload,
                    position,
                    option_check,
                    lambda: None,
                    progress,
                )
            except LeaseLost:
                logger.warning(
                    "Step %s: partition %s was taken over by another worker", step.pk, writer.partition
                )
                active.pop(writer.partition.pk)[1].stop.set()
                continue
            settle()
    finally:
        stopping.set()
        for _writer, fetcher in active.values():
            fetcher.join(timeout=5)
        if active:  # stopped early (cancel, failure): not being read any more; a resumed step takes them
            MigrationPartition.objects.filter(pk__in=list(active), owner=owner, status=Status.RUNNING).update(
                status=Status.QUEUED, heartbeat_at=None, owner=""
            )


def _partitions_over(step: MigrationStep) -> bool:
    """True when every partition is completed; a failed one raises its error."""
    failed = step.partitions.filter(status=Status.FAILED).first()
    if failed is not None:
        raise AkeneoError(f"partition {failed.label}: {failed.error}")
    return not step.partitions.exclude(status=Status.COMPLETED).exists()


# ----------------------------------------------------------------------------------------------- mappings
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


__all__ = [
    "CancelRequested",
    "import_step",
    "mapped",
    "read_partitions",
    "record_mappings",
]
