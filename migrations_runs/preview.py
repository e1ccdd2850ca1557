"""Dry run: what a migration would do, without doing it.

`preview(client, entities)` reads the source exactly as a run would (same resources, flags and parents — the
parents of sub-resources taken from the source, so it works on an empty catalog) and, per page, runs the
importer's own parsing and its unchanged-record test (the checksum of the record against the stored one, by key)
without writing: per resource, how many records the source holds and how many would be created, updated, left
unchanged, skipped (a key twice in a page) or refused (`failed`). Nothing is written to the catalog, no mapping, no run; media are never
downloaded. Memory: one page at a time (and the codes of the parents of sub-resources).
"""

from __future__ import annotations

from collections.abc import Callable

from connections.akeneo.client import AkeneoClient
from migrations_runs.entities import ENTITY_BY_CODE, in_dependency_order
from migrations_runs.verify import local_rows, parse_page, source_pages

COUNTS = ("source", "create", "update", "unchanged", "skipped", "failed")


def preview(
    client: AkeneoClient,
    entities: list[str] | tuple[str, ...],
    *,
    on_counts: Callable[[list[dict]], None] | None = None,
) -> list[dict]:
    """Per resource of the chosen entities (dependency order): source / create / update / unchanged / skipped /
    failed.

    `on_counts` is called with the counts so far after each resource (progress)."""
    rows_out: list[dict] = []
    for entity in in_dependency_order(list(entities)):
        by_resource: dict[str, dict] = {}
        for part in ENTITY_BY_CODE[entity].parts:
            by_resource[part.resource] = {
                "entity": entity,
                "label": ENTITY_BY_CODE[entity].label,
                "resource": part.resource,
                **dict.fromkeys(COUNTS, 0),
            }
            rows_out.append(by_resource[part.resource])
        for resource, parent, records in source_pages(client, entity):
            counts = by_resource[resource]
            importer, rows, result = parse_page(resource, records, parent)
            rows = importer._dedupe(rows, result)
            counts["source"] += len(records)
            counts["failed"] += result.failed
            counts["skipped"] += result.skipped
            existing = local_rows(importer, rows, fields=())
            for row in rows:
                current = existing.get(row.key)
                if current is None:
                    counts["create"] += 1
                elif current["checksum"] != row.checksum:
                    counts["update"] += 1
                else:
                    counts["unchanged"] += 1
        if on_counts:
            on_counts(rows_out)
    return rows_out
