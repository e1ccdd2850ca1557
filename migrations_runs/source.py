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

Memory: one page at a time, plus the parent codes of the sub-resource being walked (structure: attributes,
families, asset families, reference entities — never products).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from connections.akeneo.client import AkeneoClient
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


def parent_keys(client: AkeneoClient, resource: str) -> list[ParentKey]:
    """The parents of sub-resource `resource`, read from the source now (its whole parent chain), sorted."""
    spec = RESOURCES[resource]
    keys: set[ParentKey] = set()
    for page in walk(client, spec.parent):
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
) -> Iterator[SourcePage]:
    """Every page of `resource` in the source, from the start or from a saved `SourcePage.cursor`.

    `parents`: the parent keys of a sub-resource when the caller read them from the source already (else they
    are read now). `expected_count` bounds a top-level resource's paging (see AkeneoClient.pages).
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
    keys = sorted({tuple(key) for key in parents}) if parents is not None else parent_keys(client, resource)
    resume = tuple(start["parent"]) if start.get("parent") else None
    for key in keys:
        start_url = None
        if resume is not None:
            if key < resume:
                continue
            if key == resume:
                if not start.get("next_url"):
                    continue  # that parent was done
                start_url = start["next_url"]
        try:
            for page in client.pages(
                resource, parent=key, params=params, start_url=start_url, prefetch=prefetch
            ):
                yield SourcePage(
                    resource, key, page.items, page.url, page.next_url, page.items_count, page.dropped
                )
        except AkeneoHTTPError as error:
            if error.status != 404:
                raise
            logger.warning(
                "%s of %s: Akeneo answered 404, that parent is gone: %s", resource, "/".join(key), error
            )
            yield SourcePage(resource, key, gone=str(error))
