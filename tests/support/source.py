"""What the demo Akeneo serves, read the way a migration reads it, and how an export differs from it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from connections.akeneo.auth import Credentials
from connections.akeneo.client import AkeneoClient, ClientSettings
from connections.akeneo.resources import RESOURCES
from demo_akeneo.server import DemoServer
from migrations_runs.entities import ENTITIES


def without_links(value: Any) -> Any:
    """A served record as the catalog must keep it: without `_links`, nor the `__parent` source_records adds.

    Written here again, not imported from the code under test."""
    if isinstance(value, dict):
        return {k: without_links(v) for k, v in value.items() if k not in ("_links", "__parent")}
    if isinstance(value, list):
        return [without_links(v) for v in value]
    return value


def source_records(demo: DemoServer) -> dict[str, list[dict]]:
    """Everything the demo serves, per resource of the table, read with the client's pages (sub-resources per
    parent record, parents filtered as the table says). Sub-resource records remember their parent codes in
    "__parent" (codes repeat across parents: records of two entities)."""
    client = AkeneoClient(Credentials(base_url=demo.base_url, **demo.credentials), ClientSettings())
    served: dict[str, list[dict]] = {}
    for entity in ENTITIES:
        for resource in entity.resources:
            spec = RESOURCES[resource]
            parents = [()]
            if spec.parent is not None:
                parent_spec = RESOURCES[spec.parent]
                parents = sorted(
                    (*record.get("__parent", ()), *(record[name] for name in parent_spec.key))
                    for record in served[spec.parent]
                    if spec.accepts_parent(record)
                )
            served[resource] = [
                {**item, "__parent": parent} if parent else item
                for parent in parents
                for item in client.items(resource, parent=parent)
            ]
    client.close()
    return served


def export_differences(out: Path, served: dict[str, list[dict]]) -> list[str]:
    """Every difference between an export and what Akeneo served, as 'entity code field: expected != got'."""
    from migrations_runs.export import exported_resources

    differences = []
    for name, resource in exported_resources().items():
        spec = RESOURCES[resource]
        lines = [json.loads(line) for line in (out / f"{name}.jsonl").read_text().splitlines()]
        key = spec.key[0]
        exported = {(tuple(line.get(f) for f in spec.parent_fields), line[key]): line for line in lines}
        if not len(exported) == len(lines) == len(served[resource]):
            differences.append(f"{name}: {len(lines)} lines exported, {len(served[resource])} served")
        for record in served[resource]:
            line = exported.get((tuple(record.get("__parent", ())), record[key]), {})
            expected = without_links(record)
            for field in set(expected) | set(line):
                if field not in spec.parent_fields and line.get(field) != expected.get(field):
                    differences.append(
                        f"{name} {record[key]} {field}: {expected.get(field)!r} != {line.get(field)!r}"
                    )
            for position, field in enumerate(spec.parent_fields):
                if line.get(field) != record["__parent"][position]:
                    differences.append(f"{name} {record[key]}: {field} {line.get(field)!r}")
        keys = [line[key] for line in lines]
        if not spec.parent_fields and keys != sorted(keys):
            differences.append(f"{name}: lines are not sorted by {key}")
    return differences
