"""Streaming a resource from the source Akeneo, sub-resources under the parents the SOURCE lists.

`walk(client, resource)` yields `SourcePage`s: one list page (≤ 100 records) and the parent codes it was read
under. The parents of a sub-resource are records of its parent resource (table: `parent`, `parent_filter`) read
from the source — by this walk, or handed over by a caller that just read them (`parents=`) — never the local
catalog, which may hold records of another connection or records deleted since.

Parents are visited in sorted order, so a resumed walk (`start={"parent": [...], "next_url": ...}`, what
`SourcePage.cursor` gives) goes on after the parent it stopped in, found by its CODE, even when the list of
parents changed meanwhile. A sub-resource answering 404 for one parent means that parent is gone (deleted since
it was listed, or hidden by permissions in Enterprise Edition): the walk yields one `SourcePage` with `gone` set
and goes on with the next parent.

Parents are read several at once (`parallel`, by default the connection's `max_in_flight`: Akeneo allows that
many calls at once, and most parents have a single short page), by threads that only make HTTP calls; their
pages are still handed over parent by parent, in the order above, so cursors mean the same whatever the width.

Memory: a few pages per parent being read (see `_ParentReader`), plus the parent codes of the sub-resource being
walked (structure: attributes, families, asset families, reference entities — never products).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from connections.akeneo.client import AkeneoClient, Page
from connections.akeneo.errors import AkeneoHTTPError
from connections.akeneo.resources import RESOURCES, ResourceSpec

logger = logging.getLogger(__name__)

ParentKey = tuple[str, ...]


@dataclass(frozen=True)
class SourcePage:
    resource: str
    parents: (
        ParentKey  # the parent codes the page was read under, outermost first; () for top-level resources
    )
    items: list[dict[str, Any]] = field(default_factory=list)
    url: str | None = None  # re-reads this page
    next_url: str | None = None  # where this parent (or the resource) goes on; None: it is done
    items_count: int | None = None
    dropped: int = 0
    gone: str | None = None  # the parent is gone: why (Akeneo's 404), and no items

    @property
    def cursor(self) -> dict[str, Any]:
        """Where a walk resumes after this page (JSON-serialisable)."""
        return {"parent": list(self.parents) if self.parents else None, "next_url": self.next_url}


def child_parents(
    child: ResourceSpec, parents: ParentKey, records: Iterable[Mapping[str, Any]]
) -> list[ParentKey]:
    """The parent keys of sub-resource `child` named by records of its parent resource read under `parents`
    (those its parent filter accepts; records without a usable key are left out)."""
    parent_spec = RESOURCES[child.parent]
    found = []
    for record in records:
        if not isinstance(record, Mapping) or not child.accepts_parent(record):
            continue
        key = parent_spec.key_of(record)
        if key is not None:
            found.append((*parents, *key))
    return found


def parent_keys(client: AkeneoClient, resource: str, *, parallel: int | None = None) -> list[ParentKey]:
    """The parents of sub-resource `resource`, read from the source now (its whole parent chain), sorted."""
    spec = RESOURCES[resource]
    keys: set[ParentKey] = set()
    for page in walk(client, spec.parent, parallel=parallel):
        keys.update(child_parents(spec, page.parents, page.items))
    return sorted(keys)


def walk(
    client: AkeneoClient,
    resource: str,
    *,
    start: Mapping[str, Any] | None = None,
    parents: Iterable[Iterable[str]] | None = None,
    params: Mapping[str, Any] | None = None,
    prefetch: bool = True,
    expected_count: int | None = None,
    parallel: int | None = None,
) -> Iterator[SourcePage]:
    """Every page of `resource` in the source, from the start or from a saved `SourcePage.cursor`.

    `parents`: the parent keys of a sub-resource when the caller read them from the source already (else they
    are read now). `expected_count` bounds a top-level resource's paging (see AkeneoClient.pages).
    `parallel`: how many parents of a sub-resource are read at once (default: the client's `max_in_flight`;
    1 reads them one after the other, with `prefetch`). The pages come in the same order either way.
    """
    spec = RESOURCES[resource]
    start = start or {}
    if spec.parent is None:
        for page in client.pages(
            resource,
            params=params,
            start_url=start.get("next_url"),
            prefetch=prefetch,
            expected_count=expected_count,
        ):
            yield SourcePage(
                resource, (), page.items, page.url, page.next_url, page.items_count, page.dropped
            )
        return
    if parents is not None:
        keys = sorted({tuple(key) for key in parents})
    else:
        keys = parent_keys(client, resource, parallel=parallel)
    tasks = _parent_tasks(keys, start)
    width = client.settings.max_in_flight if parallel is None else parallel
    width = max(1, min(width, len(tasks)))
    if width == 1:
        for key, start_url in tasks:
            yield from _parent_pages(client, resource, key, start_url, params, prefetch)
        return
    reader = _ParentReader(client, resource, tasks, params, width)
    try:
        yield from reader.pages()
    finally:
        reader.stop()


def _parent_tasks(keys: list[ParentKey], start: Mapping[str, Any]) -> list[tuple[ParentKey, str | None]]:
    """(parent, URL to start at) for each parent left to read: a resumed walk goes on at the parent its cursor
    names (by code, so parents added or removed meanwhile don't shift it), after it when it was done."""
    resume = tuple(start["parent"]) if start.get("parent") else None
    tasks: list[tuple[ParentKey, str | None]] = []
    for key in keys:
        start_url = None
        if resume is not None:
            if key < resume:
                continue
            if key == resume:
                if not start.get("next_url"):
                    continue  # that parent was done
                start_url = start["next_url"]
        tasks.append((key, start_url))
    return tasks


def _gone_page(resource: str, key: ParentKey, error: AkeneoHTTPError) -> SourcePage:
    logger.warning("%s of %s: Akeneo answered 404, that parent is gone: %s", resource, "/".join(key), error)
    return SourcePage(resource, key, gone=str(error))


def _parent_pages(
    client: AkeneoClient,
    resource: str,
    key: ParentKey,
    start_url: str | None,
    params: Mapping[str, Any] | None,
    prefetch: bool,
) -> Iterator[SourcePage]:
    """One parent's pages, read in the calling thread; a 404 ends them with the parent's `gone` page."""
    try:
        for page in client.pages(resource, parent=key, params=params, start_url=start_url, prefetch=prefetch):
            yield SourcePage(
                resource, key, page.items, page.url, page.next_url, page.items_count, page.dropped
            )
    except AkeneoHTTPError as error:
        if error.status != 404:
            raise
        yield _gone_page(resource, key, error)


@dataclass
class _Feed:
    """What the reader of one parent handed over so far, not yet taken by the walk."""

    pages: deque[Page] = field(default_factory=deque)
    done: bool = False
    error: BaseException | None = None


class _ParentReader:
    """Reads the pages of several parents at once, handing them over in the order of `tasks`.

    Akeneo lets a connection have `max_in_flight` calls at once, and most parents of a sub-resource have one
    short page, so reading them one at a time leaves the connection idle for a round trip per parent. `width`
    threads each take the next parent not yet started and follow its `next` links in order (they can only be
    read one after another); the walk takes the pages parent by parent. The threads only make HTTP calls (the
    client's limiter still bounds the calls of the whole connection), never touch the database.

    Memory is bounded whatever the parents hold: a parent keeps at most `BUFFER` pages waiting (its thread
    waits for room before reading the next one), and at most `AHEAD * width` parents are started and not yet
    handed over, so one parent with thousands of pages holds back the threads instead of filling memory.

    A parent's error is kept with its pages and raised when the walk reaches that parent (a 404 becomes its
    `gone` page there); no parent after a failed one is started. `stop()` (the walk closed or failed) wakes
    every thread and waits for them: a call under way finishes, none starts afterwards.
    """

    BUFFER = 2  # pages read ahead per parent
    AHEAD = 2  # parents started and not yet handed over, per thread

    def __init__(
        self,
        client: AkeneoClient,
        resource: str,
        tasks: list[tuple[ParentKey, str | None]],
        params: Mapping[str, Any] | None,
        width: int,
    ) -> None:
        self.client, self.resource, self.tasks, self.params = client, resource, tasks, params
        self.window = self.AHEAD * width
        self._cond = threading.Condition()
        self._feeds: dict[int, _Feed] = {}
        self._next = 0  # the next task a thread takes
        self._handed = 0  # tasks whose pages were all handed over
        self._failed: int | None = None  # the first task that failed other than by a 404
        self._stopped = False
        self._threads = [
            threading.Thread(target=self._work, name=f"akeneo-walk-{n}", daemon=True) for n in range(width)
        ]
        for thread in self._threads:
            thread.start()

    # ------------------------------------------------------------------ the walk's side
    def pages(self) -> Iterator[SourcePage]:
        for index, (key, _start_url) in enumerate(self.tasks):
            while True:
                with self._cond:
                    feed = self._feeds.get(index)
                    while feed is None or (not feed.pages and not feed.done):
                        self._cond.wait()
                        feed = self._feeds.get(index)
                    page = feed.pages.popleft() if feed.pages else None
                    if page is None:  # done, all handed over
                        del self._feeds[index]
                        self._handed = index + 1
                    self._cond.notify_all()
                if page is None:
                    break
                yield SourcePage(
                    self.resource, key, page.items, page.url, page.next_url, page.items_count, page.dropped
                )
            if feed.error is not None:
                if isinstance(feed.error, AkeneoHTTPError) and feed.error.status == 404:
                    yield _gone_page(self.resource, key, feed.error)
                else:
                    raise feed.error

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join()

    # ------------------------------------------------------------------ the threads' side
    def _work(self) -> None:
        while True:
            with self._cond:
                while (
                    not self._stopped
                    and self._next < self._last()
                    and self._next >= self._handed + self.window
                ):
                    self._cond.wait()
                if self._stopped or self._next >= self._last():
                    return
                index = self._next
                self._next += 1
                feed = self._feeds[index] = _Feed()
                self._cond.notify_all()
            self._read(index, feed)

    def _last(self) -> int:
        """One past the last task worth starting: none after a parent that failed."""
        return len(self.tasks) if self._failed is None else min(len(self.tasks), self._failed + 1)

    def _read(self, index: int, feed: _Feed) -> None:
        key, start_url = self.tasks[index]
        error: BaseException | None = None
        pages = self.client.pages(
            self.resource, parent=key, params=self.params, start_url=start_url, prefetch=False
        )
        try:
            while True:
                with self._cond:
                    while not self._stopped and len(feed.pages) >= self.BUFFER:
                        self._cond.wait()
                    if self._stopped:
                        return
                page = next(pages, None)
                if page is None:
                    return
                with self._cond:
                    feed.pages.append(page)
                    self._cond.notify_all()
        except BaseException as caught:  # handed to the walk, which raises it in its own thread
            error = caught
        finally:
            pages.close()
            with self._cond:
                feed.error, feed.done = error, True
                gone = isinstance(error, AkeneoHTTPError) and error.status == 404
                if error is not None and not gone:
                    self._failed = index if self._failed is None else min(self._failed, index)
                self._cond.notify_all()
