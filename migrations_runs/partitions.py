"""Disjoint partitions of the big reads (products, product models), so several cursors read one step at once.

A single search_after cursor reads one page at a time (each next link is only known once the page arrives), so a
100k-product step would use one of Akeneo's 4 concurrent calls. A partition adds a `family` condition to each of
the step's reads: `family IN [group]` for groups of the source's families, plus `family EMPTY` for products
without a family (product models always have one). The plan is only used when it is PROVEN to cover every record
exactly once: Akeneo's counts of the partitions must add up to its count of the whole step; otherwise the step
is read as one partition, as before (said in the log).

Families are counted one by one (in parallel, within the connection's budget) when there are few enough, and
packed largest first into the partitions, so one huge family does not leave the others idle; beyond
MAX_COUNTED_FAMILIES they are dealt round robin and each group counted once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from connections.akeneo.client import AkeneoClient
from connections.akeneo.errors import AkeneoError
from connections.akeneo.resources import RESOURCES

logger = logging.getLogger(__name__)

PARTITIONED_RESOURCES = ("products-uuid", "product-models")
MAX_COUNTED_FAMILIES = 100
# An IN list travels in the query string: keep each partition's under this many characters of JSON (proxies in
# front of Akeneo commonly refuse URLs beyond 8 KiB).
MAX_IN_LIST_CHARS = 3000

Search = dict[str, list[dict[str, Any]]]


@dataclass
class PlannedPartition:
    label: str
    search: Search
    expected: int = 0
    families: list[str] = field(default_factory=list)


class NotPartitioned(Exception):
    """Why a step is read as one partition (for the log)."""


def with_search(query: Mapping[str, Any] | None, search: Search) -> dict[str, Any]:
    """A read's query parameters with `search` conditions added (ANDed: Akeneo takes a list per property)."""
    merged = dict(query or {})
    current = merged.get("search") or {}
    if isinstance(current, str):  # recorded queries keep `search` as a dict; accept Akeneo's JSON text too
        current = json.loads(current)
    combined = {name: list(conditions) for name, conditions in current.items()}
    for name, conditions in search.items():
        combined.setdefault(name, []).extend(conditions)
    merged["search"] = combined
    return merged


def plan(
    client: AkeneoClient, resource: str, queries: list[dict[str, Any]] | None, total: int | None
) -> list[PlannedPartition]:
    """The partitions of a step reading `resource` through `queries` (None: a plain full read), whose Akeneo
    count is `total`. Raises NotPartitioned when a single read is the right (or the only proven) plan."""
    wanted = max(1, int(settings.MIGRATION_PARTITIONS))
    if resource not in PARTITIONED_RESOURCES or wanted <= 1:
        raise NotPartitioned("partitions are off (MIGRATION_PARTITIONS)")
    if total is None:
        raise NotPartitioned("Akeneo gave no count to check the partitions against")
    if total < settings.MIGRATION_PARTITION_MIN_RECORDS:
        raise NotPartitioned(f"{total} records are read faster by one cursor")
    families = _source_families(client)
    reads = queries if queries is not None else [{}]

    def count(search: Search) -> int:
        path = client.products_path() if resource == "products-uuid" else RESOURCES[resource].path
        found = 0
        for query in reads:
            params = {**with_search(query, search), "limit": 1, "with_count": True}
            data = client.get(path, params=params)
            items = data.get("items_count") if isinstance(data, dict) else None
            if not isinstance(items, int) or isinstance(items, bool) or items < 0:
                raise NotPartitioned("Akeneo gave no count for a partition")
            found += items
        return found

    def in_family(codes: list[str]) -> Search:
        return {"family": [{"operator": "IN", "value": codes}]}

    workers = max(1, client.settings.max_in_flight)
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="akeneo-count") as pool:
            rest = None
            if resource == "products-uuid":  # counted beside the families
                rest = PlannedPartition("no family", {"family": [{"operator": "EMPTY"}]})
                rest_count = pool.submit(count, rest.search)
            if len(families) <= MAX_COUNTED_FAMILIES:
                counted = dict(
                    zip(families, pool.map(lambda code: count(in_family([code])), families), strict=True)
                )
                partitions = _pack(counted, wanted)
            else:
                partitions = [PlannedPartition("", {}, 0, group) for group in _round_robin(families, wanted)]
                for partition, found in zip(
                    partitions, pool.map(lambda p: count(in_family(p.families)), partitions), strict=True
                ):
                    partition.expected = found
            for partition in partitions:
                partition.search = in_family(partition.families)
                partition.label = _label(partition.families)
            if rest is not None:
                rest.expected = rest_count.result()
                partitions.append(rest)
    except AkeneoError as error:
        raise NotPartitioned(f"a partition could not be counted ({error})") from None
    covered = sum(partition.expected for partition in partitions)
    if covered != total:
        raise NotPartitioned(
            f"the partitions' counts add up to {covered}, not Akeneo's {total} (records changed meanwhile, or "
            "this server filters families differently)"
        )
    return partitions


def _source_families(client: AkeneoClient) -> list[str]:
    """Family codes as the source lists them now (sorted, strings only)."""
    from migrations_runs.source import walk

    codes: set[str] = set()
    for page in walk(client, "families"):
        for item in page.items:
            code = item.get("code") if isinstance(item, dict) else None
            if isinstance(code, str) and code:
                codes.add(code)
    return sorted(codes)


def _pack(counted: dict[str, int], wanted: int) -> list[PlannedPartition]:
    """Largest family first into the lightest partition (families without records go to the lightest too:
    they may gain some while the step runs, and an IN list costs nothing). A partition whose IN list would grow
    too long for a URL is closed and a new one opened."""
    partitions = [PlannedPartition("", {}) for _ in range(min(wanted, max(1, len(counted))))]
    sizes = [0] * len(partitions)
    for code, found in sorted(counted.items(), key=lambda item: (-item[1], item[0])):
        target = min(range(len(partitions)), key=lambda index: (partitions[index].expected, index))
        if sizes[target] + len(json.dumps(code)) + 1 > MAX_IN_LIST_CHARS:
            partitions.append(PlannedPartition("", {}))
            sizes.append(0)
            target = len(partitions) - 1
        partitions[target].families.append(code)
        partitions[target].expected += found
        sizes[target] += len(json.dumps(code)) + 1
    return [partition for partition in partitions if partition.families]


def _round_robin(families: list[str], wanted: int) -> list[list[str]]:
    groups: list[list[str]] = [[] for _ in range(wanted)]
    sizes = [0] * wanted
    for index, code in enumerate(families):
        target = index % len(groups)
        if sizes[target] + len(json.dumps(code)) + 1 > MAX_IN_LIST_CHARS:
            groups.append([])
            sizes.append(0)
            target = len(groups) - 1
        groups[target].append(code)
        sizes[target] += len(json.dumps(code)) + 1
    return [group for group in groups if group]


def _label(families: list[str]) -> str:
    shown = ", ".join(families[:3])
    more = f" and {len(families) - 3} more" if len(families) > 3 else ""
    return f"families {shown}{more}"[:255]
