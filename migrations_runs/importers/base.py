"""The importer contract and the bulk upsert every entity shares.

An importer turns one page of Akeneo records (≤ 100, as the client yields them) into catalog rows. The step runner
calls `import_page` inside `transaction.atomic()`, so a page is written whole or not at all, and re-importing it
after a crash is harmless: rows are upserted by their Akeneo key and a record whose checksum did not change is
not written at all. The cost of a page is a constant number of queries, whatever its size:

    1 SELECT of the page's existing rows (pk, checksum, derived columns)
    1 SELECT per foreign key, for the targets the page references
    bulk INSERT of the new rows, bulk UPDATE of the changed ones (one query each per ~100 rows)
    1 UPDATE per link pointing at this model, only when rows were created (children that came first)
    products only: 1 SELECT of the identifier attribute, 1 SELECT by identifier for records without uuid

A record that cannot be imported becomes a `failed` count and a Problem carrying its code; the page goes on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.utils import timezone

from catalog import references
from catalog.models import AkeneoRecord
from catalog.records import canonical_json, checksum_of_json, strip_links
from connections.akeneo.resources import RESOURCES, parent_codes


@dataclass
class Problem:
    """A per-record problem: logged on the step with the record's code, the run goes on."""

    code: str
    message: str
    level: str = "warning"  # "warning" or "error"


class RecordOutcome(NamedTuple):
    """What became of one record of a page (unchanged records are only counted): the run writes these as its
    per-record results. `key` is the Akeneo key ("code", "parent/code" or the product uuid; for a record that
    failed before its key was known, whatever names it), `label` the product identifier when there is one."""

    outcome: str  # "created", "updated", "failed" or "skipped"
    key: str
    label: str = ""
    message: str = ""


@dataclass
class PageResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0
    problems: list[Problem] = field(default_factory=list)
    # Local id of every record of the page that is now in the catalog, by its Akeneo key ("code",
    # "parent/code", or the product uuid): what the run writes as the connection's mappings.
    ids: dict[str, int] = field(default_factory=dict)
    # Every record of the page that was created, updated, failed or skipped (not the unchanged ones), in page
    # order: built from what the upsert already knows, no query of its own.
    outcomes: list[RecordOutcome] = field(default_factory=list)

    @property
    def read(self) -> int:
        return self.created + self.updated + self.unchanged + self.skipped + self.failed


class RecordError(Exception):
    """This record cannot be imported (missing key, wrong shape): it fails alone, with this message."""


@dataclass
class Row:
    """A parsed record: its key, its typed columns, and the standard-format data with its checksum."""

    key: tuple[Any, ...]
    label: str  # how problems name it (its code, or "family/code" for sub-resources)
    columns: dict[str, Any]
    data: dict[str, Any]
    checksum: str


def describe(record: Any, position: int) -> str:
    """A name for a record in problems even when its code is missing: code, uuid, identifier or position."""
    if isinstance(record, Mapping):
        for key in ("code", "uuid", "identifier"):
            value = record.get(key)
            if isinstance(value, str) and value:
                return value
    return f"(record #{position + 1} of the page, no code)"


def text(record: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
    """`record[key]` as a non-empty string or None; anything else is a wrong shape."""
    value = record.get(key)
    if value is None or value == "":
        if required:
            raise RecordError(f"the record has no {key!r}")
        return None
    if not isinstance(value, str):
        raise RecordError(f"{key!r} must be a string, got {type(value).__name__}")
    return value


def flag(record: Mapping[str, Any], key: str, default: bool) -> bool:
    """A boolean field; absent or null means `default`, anything but a boolean is a wrong shape."""
    value = record.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise RecordError(f"{key!r} must be a boolean, got {type(value).__name__}")
    return value


def has_nul(value: Any) -> bool:
    """Whether a NUL character hides in a string or key: PostgreSQL's jsonb refuses it (and the whole page)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(key) or has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(has_nul(item) for item in value)
    return False


def check_values(record: Mapping[str, Any]) -> None:
    """`values` must be {attribute: [{locale, scope|channel, data}, ...]}: the shape every reader relies on."""
    values = record.get("values")
    if values is None:
        return
    if not isinstance(values, dict):
        raise RecordError(f"'values' must be an object, got {type(values).__name__}")
    for attribute, entries in values.items():
        if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
            raise RecordError(f"the values of {attribute!r} must be a list of objects")


def check_codes(record: Mapping[str, Any], key: str) -> None:
    """A list of codes (categories, groups...) must be a list of strings."""
    value = record.get(key)
    if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
        raise RecordError(f"{key!r} must be a list of codes")


class Importer:
    """Imports pages of one Akeneo resource into one catalog model, upserting by the Akeneo key."""

    resource: str  # the client's resource name, e.g. "attribute-options"
    model: type[AkeneoRecord]
    key_fields: tuple[str, ...] = ("code",)  # the model columns forming the Akeneo key
    # The columns holding the parent codes of a sub-resource, outermost first; the record fields that may name
    # them too are the resource table's `parent_fields` ("attribute" on attribute options).
    parent_columns: tuple[str, ...] = ()
    # columns derived from something else than `data` (the parent of an unchanged record may arrive later):
    # refreshed on unchanged rows when they change, without counting the record as updated
    derived_fields: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.links: tuple[tuple[str, str], ...] = self.model.code_links
        self.spec = RESOURCES[self.resource]
        if len(self.parent_columns) != self.spec.depth:
            raise TypeError(
                f"{type(self).__name__}: {self.spec.depth} parent codes, columns {self.parent_columns}"
            )

    @property
    def parent_field(self) -> str | None:
        """The column of the (outermost) parent code, or None for a top-level resource."""
        return self.parent_columns[0] if self.parent_columns else None

    # ------------------------------------------------------------------ per record (subclasses)
    def columns(self, record: Mapping[str, Any], parent: tuple[str, ...]) -> dict[str, Any]:
        """The typed columns of a record (key included). Raise RecordError for a record that cannot be kept.

        `parent`: the parent codes the page was read under, outermost first (empty for top-level resources)."""
        columns: dict[str, Any] = {"code": text(record, "code", required=True)}
        for index, column in enumerate(self.parent_columns):
            columns[column] = self.parent_of(record, parent, index)
        return columns

    def parent_of(self, record: Mapping[str, Any], parent: tuple[str, ...], index: int = 0) -> str:
        """Parent code `index`: the one the page was read under, else the one the record names."""
        field_name = self.spec.parent_fields[index]
        code = parent[index] if len(parent) > index and parent[index] else text(record, field_name)
        if not code:
            raise RecordError(
                f"{self.resource} need their parent code ({field_name}: none given, none in the record)"
            )
        return code

    def page_problems(self, rows: list[Row]) -> list[Problem]:
        """Warnings about the page as a whole (unknown types...): none by default."""
        return []

    def prepare(self, rows: list[Row], result: PageResult) -> None:
        """A hook run once per page before the upsert (products settle their keys here)."""

    # ------------------------------------------------------------------ the page
    def import_page(
        self, records: list[dict], *, parent: str | tuple[str, ...] | list[str] | None = None
    ) -> PageResult:
        """Upsert one page of records; a bad record fails alone. Call inside transaction.atomic().

        `parent`: the parent codes the page was read under (a string for one code)."""
        result = PageResult()
        rows = self._parse(records, parent_codes(parent), result)
        self.prepare(rows, result)
        result.problems.extend(self.page_problems(rows))
        rows = self._dedupe(rows, result)
        if rows:
            self._upsert(rows, result)
        return result

    def resolve_references(self) -> int:
        """Fill in this model's foreign keys whose target arrived after the row (end of a step); rows fixed."""
        return sum(references.resolve_link(self.model, fk, code_field) for fk, code_field in self.links)

    def _parse(self, records: Iterable[Any], parent: tuple[str, ...], result: PageResult) -> list[Row]:
        rows = []
        for position, record in enumerate(records):
            try:
                if not isinstance(record, Mapping):
                    raise RecordError(f"a record must be an object, got {type(record).__name__}")
                data = strip_links(record)
                text_form = canonical_json(data)
                # JSON spells NUL "\\u0000": only a record whose text holds that needs the walk (the text
                # alone cannot tell a NUL from an escaped backslash followed by "u0000")
                if "\\u0000" in text_form and has_nul(data):
                    raise RecordError(
                        "the record holds a NUL character (\\u0000), which PostgreSQL cannot store"
                    )
                try:
                    checksum = checksum_of_json(text_form)
                except UnicodeEncodeError:
                    raise RecordError(
                        "the record holds text that is not valid Unicode (a lone surrogate), which cannot be "
                        "stored"
                    ) from None
                columns = self.columns(data, parent)
                self._check_lengths(columns)
            except RecordError as error:
                result.failed += 1
                name = describe(record, position)
                result.problems.append(Problem(name, str(error), "error"))
                result.outcomes.append(RecordOutcome("failed", name, identifier_of(record), str(error)))
                continue
            key = tuple(columns[name] for name in self.key_fields)
            label = "/".join(str(part) for part in key if part is not None)
            rows.append(Row(key, label, columns, data, checksum))
        return rows

    def _check_lengths(self, columns: Mapping[str, Any]) -> None:
        """Longer than its column: refuse the record (PostgreSQL would refuse the whole page)."""
        for name, value in columns.items():
            limit = getattr(self.model._meta.get_field(name), "max_length", None)
            if limit and isinstance(value, str) and len(value) > limit:
                raise RecordError(f"{name} is {len(value)} characters long; at most {limit} are kept")

    def _dedupe(self, rows: list[Row], result: PageResult) -> list[Row]:
        """A key twice in one page: the last one wins, the earlier ones are skipped (and said so)."""
        last = {row.key: index for index, row in enumerate(rows)}
        kept = []
        for index, row in enumerate(rows):
            if last[row.key] != index:
                result.skipped += 1
                message = "the page lists this record twice; the last one is kept"
                result.problems.append(Problem(row.label, message))
                result.outcomes.append(
                    RecordOutcome("skipped", mapping_key(row.key), row_label(row), message)
                )
            else:
                kept.append(row)
        return kept

    def _existing(self, rows: list[Row]) -> dict[tuple[Any, ...], dict[str, Any]]:
        """The page's rows already in the catalog, by key: one query."""
        fk_columns = [self.model._meta.get_field(fk).attname for fk, _code in self.links]
        wanted = ["pk", "checksum", "deleted_at", *self.key_fields, *fk_columns, *self.derived_fields]
        filters = {
            f"{name}__in": sorted({row.key[i] for row in rows}, key=str)
            for i, name in enumerate(self.key_fields)
        }
        found = self.model.objects.filter(**filters).values(*dict.fromkeys(wanted))
        return {tuple(item[name] for name in self.key_fields): item for item in found}

    def _targets(self, rows: list[Row]) -> dict[str, dict[str, int]]:
        """For each foreign key, the pk of every target code the page references: one query per key."""
        targets: dict[str, dict[str, int]] = {}
        for fk, code_field in self.links:
            codes = {row.columns.get(code_field) for row in rows} - {None}
            target = references.target_of(self.model, fk)
            targets[fk] = (
                dict(target.objects.filter(code__in=codes).values_list("code", "pk")) if codes else {}
            )
        return targets

    def _upsert(self, rows: list[Row], result: PageResult) -> None:
        existing = self._existing(rows)
        targets = self._targets(rows)
        now = timezone.now()
        fk_columns = {fk: self.model._meta.get_field(fk).attname for fk, _code in self.links}
        to_create: list[AkeneoRecord] = []
        to_update: list[AkeneoRecord] = []
        to_fix: list[AkeneoRecord] = []
        fix_fields: set[str] = set()
        for row in rows:
            values = dict(row.columns)
            for fk, code_field in self.links:
                values[fk_columns[fk]] = targets[fk].get(row.columns.get(code_field))
            current = existing.get(row.key)
            if current is not None:
                result.ids[mapping_key(row.key)] = current["pk"]
            if current is None:
                to_create.append(self.model(**values, data=row.data, checksum=row.checksum))
                result.created += 1
                result.outcomes.append(RecordOutcome("created", mapping_key(row.key), row_label(row)))
            elif current["checksum"] != row.checksum or current["deleted_at"] is not None:
                # changed, or back in Akeneo after it was flagged deleted (migrations_runs.deletions): restored
                to_update.append(
                    self.model(
                        pk=current["pk"],
                        **values,
                        data=row.data,
                        checksum=row.checksum,
                        updated_at=now,
                        deleted_at=None,
                        deleted_by_run_id=None,
                    )
                )
                result.updated += 1
                restored = "back in Akeneo: no longer flagged deleted" if current["deleted_at"] else ""
                result.outcomes.append(
                    RecordOutcome("updated", mapping_key(row.key), row_label(row), restored)
                )
            else:
                result.unchanged += 1
                # same record, but a target that was missing exists now (or a derived column is known now)
                stale = {
                    name: values[name]
                    for name in (*fk_columns.values(), *self.derived_fields)
                    if values[name] is not None and values[name] != current[name]
                }
                if stale:
                    to_fix.append(self.model(pk=current["pk"], **stale))
                    fix_fields.update(stale)
        if to_create:
            self.model.objects.bulk_create(to_create)  # sets the new pks (PostgreSQL, SQLite >= 3.35)
            for obj in to_create:
                result.ids[mapping_key(tuple(getattr(obj, name) for name in self.key_fields))] = obj.pk
        if to_update:
            fields = [
                *row_fields(rows[0].columns),
                *fk_columns.values(),
                "data",
                "checksum",
                "updated_at",
                "deleted_at",
                "deleted_by_run_id",
            ]
            self.model.objects.bulk_update(
                to_update, [name for name in dict.fromkeys(fields) if name != "pk"]
            )
        if to_fix:
            self.model.objects.bulk_update(to_fix, sorted(fix_fields))
        if to_create and "code" in self.key_fields and len(self.key_fields) == 1:
            # rows imported earlier (or just now, in this page) that were waiting for these codes
            references.resolve_incoming(self.model, [obj.code for obj in to_create])


def mapping_key(key: tuple[Any, ...]) -> str:
    return "/".join(str(part) for part in key)


def row_label(row: Row) -> str:
    """The name shown beside the key in per-record results: a product's identifier, else nothing."""
    identifier = row.columns.get("identifier")
    return identifier if isinstance(identifier, str) else ""


def identifier_of(record: Any) -> str:
    """The identifier of a raw record that failed (products), when it has a readable one."""
    value = record.get("identifier") if isinstance(record, Mapping) else None
    return value if isinstance(value, str) else ""


def row_fields(columns: Mapping[str, Any]) -> list[str]:
    return [name for name in columns if name not in ("pk", "id")]


def type_warnings(rows: list[Row], known: frozenset[str], what: str) -> list[Problem]:
    """One warning per unknown type in a page: the record is kept as it is, the type is worth a look."""
    seen: dict[str, str] = {}
    for row in rows:
        kind = row.data.get("type")
        if isinstance(kind, str) and kind not in known and kind not in seen:
            seen[kind] = row.label
    return [
        Problem(label, f"unknown {what} type {kind!r}: kept as it is (first seen on this record in the page)")
        for kind, label in seen.items()
    ]
