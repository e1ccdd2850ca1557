"""Verify: prove that the local catalog equals what a connection's Akeneo serves, record by record.

`verify(report)` re-reads the source page by page and compares every record with the local row that has its Akeneo
key (the importers' own key logic: uuid, code, parent/code), field by field, after `normalise` has removed the
orders that carry no meaning in Akeneo (see below). Then every media file the records reference is checked: the
MediaFile row exists and its stored bytes still have the sha256 (and size) recorded when they were downloaded.

Counts, per resource: `source` records read, `local` rows this connection imported (its mappings, rows that still
exist), `identical`, `missing` (in the source, not local; records Akeneo sends that cannot be keyed count here
too, as "invalid"), `extra` (local rows of this connection whose key the source no longer lists), `differing`.
Differences are stored on the report (at most MAX_LISTED per resource; the counts cover all of them).

Memory stays flat whatever the catalog size: one source page (≤ 100 records) and its local rows are held at a
time. The keys seen in the source are written to a scratch table (VerifySeenKey, one bulk insert per page) and the
extra local rows are found by a database anti-join (mappings NOT EXISTS in the seen keys), then the scratch rows are
deleted. What stays in memory for a whole entity are only the parent codes of its sub-resources (attributes with
options, families, asset families...: the structure, never products), and the attribute types used to normalise
values (one short string per attribute).

Order. Compared as sets (order ignored): `categories`, `groups`; association lists (products, product models,
groups; quantified ones per (key, quantity)); the entries of each attribute's `values` (keyed by locale and
scope/channel); option codes of multi-select values (pim_catalog_multiselect, reference-data multi-selects,
asset/record `multiple_options`); price collections (per currency); channel `locales`/`currencies`; family
`attributes` and `attribute_requirements` lists; attribute `available_locales`/`allowed_extensions`; the
`attributes` of a family variant's attribute set. Compared in order (order is data): `sort_order`, family-variant
`axes`, asset collections and reference-entity collections (the first asset is the main one), table rows, label
and everything else.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from django.core.files.storage import default_storage
from django.db.models import Exists, OuterRef
from django.utils import timezone

from catalog.records import canonical_json
from connections.akeneo.client import AkeneoClient
from connections.akeneo.errors import AkeneoError
from connections.akeneo.resources import RESOURCES, parent_codes
from migrations_runs.entities import ENTITY_BY_CODE, ENTITY_CODES, in_dependency_order
from migrations_runs.models import (
    Mapping,
    Status,
    VerifyDifference,
    VerifyReport,
    VerifySeenKey,
)

logger = logging.getLogger(__name__)

MEDIA = "media"  # the pseudo-entity (and resource) of the media check
VERIFY_CODES = (*ENTITY_CODES, MEDIA)
MAX_LISTED = 1000  # differences kept per resource and report
SAVE_EVERY = 2.0  # seconds between two saves of the running counts
HASH_CHUNK = 1024 * 1024
Progress = Callable[[VerifyReport], None]


# ---------------------------------------------------------------------------------------------------- walking
def source_pages(
    client: AkeneoClient, entity_code: str, *, skip: frozenset[str] = frozenset()
) -> Iterator[tuple[str, Any, list[dict]]]:
    """(resource, parent codes, records) for every page of every resource of an entity, parents first.

    Through `source.walk`: the parents of a sub-resource are the records of its parent resource read from the
    source in this walk (those the table's parent filter accepts), never the local catalog; only their codes are
    kept. A parent gone since it was listed (404) is skipped. Resources in `skip` are not yielded (and not read
    at all unless another resource of the entity needs their codes).
    """
    from migrations_runs.source import child_parents, walk

    parts = [part.resource for part in ENTITY_BY_CODE[entity_code].parts]
    children = {
        name: [RESOURCES[child] for child in parts if RESOURCES[child].parent == name] for name in parts
    }
    parents_of: dict[str, list[tuple[str, ...]]] = {}
    for resource in parts:
        if resource in skip and not children[resource]:
            continue
        parents = parents_of.get(resource, []) if RESOURCES[resource].parent else None
        for page in walk(client, resource, parents=parents):
            for child in children[resource]:
                parents_of.setdefault(child.name, []).extend(child_parents(child, page.parents, page.items))
            if resource not in skip and not page.gone:
                yield resource, tuple(page.parents), page.items


def _importers():
    from migrations_runs.importers import IMPORTERS

    return IMPORTERS


def parse_page(resource: str, records: list[dict], parent: Any):
    """The page as the importer sees it (same keys, same refusals), without writing anything: (rows, result)."""
    from migrations_runs.importers.base import PageResult

    importer = _importers()[resource]
    result = PageResult()
    rows = importer._parse(records, parent_codes(parent), result)
    importer.prepare(rows, result)
    return importer, rows, result


def local_rows(importer, rows, fields: tuple[str, ...] = ("data",)) -> dict[tuple, dict]:
    """The page's local rows by key (one query)."""
    if not rows:
        return {}
    filters = {
        f"{name}__in": sorted({row.key[i] for row in rows}, key=str)
        for i, name in enumerate(importer.key_fields)
    }
    wanted = dict.fromkeys(["pk", *importer.key_fields, "checksum", *fields])
    found = importer.model.objects.filter(**filters).values(*wanted)
    return {tuple(item[name] for name in importer.key_fields): item for item in found}


def mapping_key(key: tuple) -> str:
    return "/".join(str(part) for part in key)


# ---------------------------------------------------------------------------------------------------- normalising
UNORDERED_FIELDS: dict[str, tuple[str, ...]] = {
    "products-uuid": ("categories", "groups"),
    "products": ("categories", "groups"),
    "product-models": ("categories",),
    "channels": ("locales", "currencies"),
    "families": ("attributes",),
    "attributes": ("available_locales", "allowed_extensions"),
}
UNORDERED_DATA_TYPES = frozenset(
    {
        "pim_catalog_multiselect",
        "pim_reference_data_multiselect",
        "pim_catalog_reference_data_multiselect",
        "pim_catalog_reference_data_multi_select",
        "multiple_options",
        "pim_catalog_price_collection",
        "pim_catalog_price",
    }
)


def _sorted(items: list) -> list:
    return sorted(items, key=canonical_json)


class AttributeTypes:
    """Attribute code -> type, for values: product attributes, and the attributes of each asset family and
    reference entity (loaded once, from the local catalog: one short string per attribute)."""

    def __init__(self) -> None:
        self._cache: dict[Any, dict[str, str]] = {}

    def of(self, resource: str, parent: Any) -> dict[str, str]:
        from django.apps import apps

        parent = parent_codes(parent)[0] if parent else None

        if resource in ("products-uuid", "products", "product-models"):
            scope, model, filters = "product", "Attribute", {}
        elif resource == "assets":
            scope, model, filters = parent, "AssetFamilyAttribute", {"asset_family_code": parent}
        elif resource == "reference-entity-records":
            scope, model, filters = parent, "ReferenceEntityAttribute", {"reference_entity_code": parent}
        else:
            return {}
        key = (model, scope)
        if key not in self._cache:
            rows = apps.get_model("catalog", model).objects.filter(**filters)
            if model == "Attribute":
                self._cache[key] = dict(rows.values_list("code", "type"))
            else:
                self._cache[key] = {
                    code: data.get("type")
                    for code, data in rows.values_list("code", "data")
                    if isinstance(data, dict)
                }
        return self._cache[key]


def normalise(resource: str, data: Any, types: dict[str, str] | None = None) -> Any:
    """`data` with the orders that carry no meaning in Akeneo removed (see the module docstring)."""
    if not isinstance(data, dict):
        return data
    out = dict(data)
    for name in UNORDERED_FIELDS.get(resource, ()):
        if isinstance(out.get(name), list):
            out[name] = _sorted(out[name])
    if isinstance(out.get("values"), dict):
        out["values"] = {
            attribute: normalise_entries(entries, (types or {}).get(attribute))
            for attribute, entries in out["values"].items()
        }
    for name in ("associations", "quantified_associations"):
        if isinstance(out.get(name), dict):
            out[name] = {
                kind: {
                    target: _sorted(items) if isinstance(items, list) else items
                    for target, items in links.items()
                }
                if isinstance(links, dict)
                else links
                for kind, links in out[name].items()
            }
    if resource == "families" and isinstance(out.get("attribute_requirements"), dict):
        out["attribute_requirements"] = {
            channel: _sorted(codes) if isinstance(codes, list) else codes
            for channel, codes in out["attribute_requirements"].items()
        }
    if resource == "family-variants" and isinstance(out.get("variant_attribute_sets"), list):
        out["variant_attribute_sets"] = [
            {**item, "attributes": _sorted(item["attributes"])}
            if isinstance(item, dict) and isinstance(item.get("attributes"), list)
            else item
            for item in out["variant_attribute_sets"]
        ]
    return out


def normalise_entries(entries: Any, kind: str | None) -> Any:
    """An attribute's values as a set keyed by (locale, scope/channel); a multi-select's codes as a set."""
    if not isinstance(entries, list):
        return entries
    if kind in UNORDERED_DATA_TYPES:
        entries = [
            {**entry, "data": _sorted(entry["data"])}
            if isinstance(entry, dict) and isinstance(entry.get("data"), list)
            else entry
            for entry in entries
        ]
    return _sorted(entries)


def differing_fields(
    resource: str, source: Any, local: Any, types: dict[str, str] | None = None
) -> list[str]:
    """The top-level fields that differ (`values.<attribute>` for values), empty when the records are equal."""
    left, right = normalise(resource, source, types), normalise(resource, local, types)
    if left == right:
        return []
    if not isinstance(left, dict) or not isinstance(right, dict):
        return ["(record)"]
    fields = []
    for name in sorted(set(left) | set(right)):
        a, b = left.get(name, _ABSENT), right.get(name, _ABSENT)
        if a == b:
            continue
        if name == "values" and isinstance(a, dict) and isinstance(b, dict):
            fields += [
                f"values.{attribute}"
                for attribute in sorted(set(a) | set(b))
                if a.get(attribute, _ABSENT) != b.get(attribute, _ABSENT)
            ]
        else:
            fields.append(name)
    return fields


_ABSENT = object()


# ---------------------------------------------------------------------------------------------------- tallies
@dataclass
class Tally:
    entity: str
    resource: str
    source: int = 0
    local: int = 0
    identical: int = 0
    missing: int = 0
    extra: int = 0
    differing: int = 0
    listed: int = field(default=0, repr=False)

    @property
    def differences(self) -> int:
        return self.missing + self.extra + self.differing

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("listed")
        data["label"] = ENTITY_BY_CODE[self.entity].label if self.entity in ENTITY_BY_CODE else "Media files"
        return data


class Recorder:
    """Keeps a report's differences (at most MAX_LISTED per resource) and its running counts."""

    def __init__(self, report: VerifyReport, progress: Progress | None) -> None:
        self.report = report
        self.progress = progress
        self.tallies: list[Tally] = []
        self.pending: list[VerifyDifference] = []
        self.saved_at = time.monotonic()

    def tally(self, entity: str, resource: str) -> Tally:
        for tally in self.tallies:
            if tally.resource == resource:
                return tally
        tally = Tally(entity, resource)
        self.tallies.append(tally)
        return tally

    def add(self, tally: Tally, kind: str, key: str, label: str, fields=(), detail: str = "") -> None:
        if tally.listed >= MAX_LISTED:
            return
        tally.listed += 1
        self.pending.append(
            VerifyDifference(
                report=self.report,
                resource=tally.resource,
                kind=kind,
                key=key[:600],
                label=label[:800],
                fields=list(fields),
                detail=detail,
            )
        )

    def flush(self, *, force: bool = False) -> None:
        if self.pending:
            VerifyDifference.objects.bulk_create(self.pending)
            self.pending = []
        if force or time.monotonic() - self.saved_at >= SAVE_EVERY:
            self.saved_at = time.monotonic()
            self.report.counts = [tally.as_dict() for tally in self.tallies]
            self.report.differences_total = sum(tally.differences for tally in self.tallies)
            VerifyReport.objects.filter(pk=self.report.pk).update(
                counts=self.report.counts, differences_total=self.report.differences_total
            )
            if self.progress:
                self.progress(self.report)


# ---------------------------------------------------------------------------------------------------- verify
def describe_row(resource: str, row) -> str:
    """How a difference names a record: `uuid (identifier)` for products, `parent/code` for the others."""
    if resource in ("products-uuid", "products"):
        identifier = row.columns.get("identifier")
        return f"{row.key[0]} ({identifier})" if identifier else f"{row.key[0]} (no identifier)"
    return row.label


def verify_entity(
    client: AkeneoClient, report: VerifyReport, entity: str, recorder: Recorder, types: AttributeTypes
) -> None:
    from migrations_runs.media import media_references

    importers = _importers()
    check_media = MEDIA in report.entities
    for resource, parent, records in source_pages(client, entity):
        importer = importers[resource]
        tally = recorder.tally(entity, resource)
        importer_parent = parent
        importer, rows, result = parse_page(resource, records, importer_parent)
        tally.source += len(records)
        for problem in result.problems:
            if problem.level == "error":  # a record the importer refuses: it cannot be in the catalog
                tally.missing += 1
                recorder.add(
                    tally, VerifyDifference.Kind.INVALID, problem.code, problem.code, (), problem.message
                )
        found = local_rows(importer, rows)
        attribute_types = types.of(resource, parent)
        seen = []
        for row in rows:
            seen.append(
                VerifySeenKey(report=report, resource=resource, akeneo_key=mapping_key(row.key)[:600])
            )
            local = found.get(row.key)
            if local is None:
                tally.missing += 1
                recorder.add(
                    tally, VerifyDifference.Kind.MISSING, mapping_key(row.key), describe_row(resource, row)
                )
                continue
            fields = differing_fields(resource, row.data, local["data"], attribute_types)
            if fields:
                tally.differing += 1
                recorder.add(
                    tally,
                    VerifyDifference.Kind.DIFFERING,
                    mapping_key(row.key),
                    describe_row(resource, row),
                    fields,
                )
            else:
                tally.identical += 1
        VerifySeenKey.objects.bulk_create(seen, ignore_conflicts=True)
        if check_media:
            codes = {ref.code for ref in media_references(client, resource, records, parent)}
            VerifySeenKey.objects.bulk_create(
                [VerifySeenKey(report=report, resource=MEDIA, akeneo_key=code[:600]) for code in codes],
                ignore_conflicts=True,
            )
        recorder.flush()
    for part in ENTITY_BY_CODE[entity].parts:
        _extras(report, entity, part.resource, recorder)
    recorder.flush(force=True)


def _extras(report: VerifyReport, entity: str, resource: str, recorder: Recorder) -> None:
    """Local rows of this connection whose key the source did not list: an anti-join on the seen keys.

    Records this connection already found gone from Akeneo (flagged deleted, kept until purge_deleted) are what
    the copy should say about them: they are not "extra"."""
    from catalog.models import SourceGone

    importer = _importers()[resource]
    tally = recorder.tally(entity, resource)
    gone = SourceGone.objects.filter(
        connection_id=report.connection_id, resource=importer.resource, akeneo_key=OuterRef("akeneo_key")
    )
    mapped = (
        Mapping.objects.filter(connection_id=report.connection_id, resource=importer.resource)
        .filter(Exists(importer.model.objects.filter(pk=OuterRef("object_id"))))
        .filter(~Exists(gone))
    )
    tally.local = mapped.count()
    seen = VerifySeenKey.objects.filter(report=report, resource=resource, akeneo_key=OuterRef("akeneo_key"))
    extras = mapped.filter(~Exists(seen)).order_by("akeneo_key")
    tally.extra = extras.count()
    listed = list(extras.values_list("akeneo_key", "object_id")[: max(0, MAX_LISTED - tally.listed)])
    names = {}
    if listed and resource in ("products-uuid", "products"):
        names = dict(
            importer.model.objects.filter(pk__in=[pk for _k, pk in listed]).values_list("pk", "identifier")
        )
    for key, object_id in listed:
        identifier = names.get(object_id)
        label = f"{key} ({identifier})" if identifier else key
        recorder.add(tally, VerifyDifference.Kind.EXTRA, key, label)
    VerifySeenKey.objects.filter(report=report, resource=resource).delete()


def verify_media(report: VerifyReport, recorder: Recorder) -> None:
    """Every media file the verified records reference: a stored row with a file, whose bytes still hash to the
    recorded sha256. A file shared by several codes (same bytes) is hashed once."""
    from catalog.models import MediaFile

    tally = recorder.tally(MEDIA, MEDIA)
    referenced = VerifySeenKey.objects.filter(report=report, resource=MEDIA)
    tally.source = referenced.count()
    stored = MediaFile.objects.filter(code=OuterRef("akeneo_key")).exclude(file="")
    for code in (
        referenced.filter(~Exists(stored))
        .order_by("akeneo_key")
        .values_list("akeneo_key", flat=True)
        .iterator()
    ):
        tally.missing += 1
        recorder.add(
            tally, VerifyDifference.Kind.MISSING, code, code, ["file"], "referenced by a record, not stored"
        )
    rows = (
        MediaFile.objects.filter(Exists(referenced.filter(akeneo_key=OuterRef("code"))))
        .exclude(file="")
        .order_by("file", "code")
        .values_list("code", "file", "sha256", "size")
    )
    last: tuple[str, tuple[str | None, int | None, str]] | None = None
    for code, name, sha256, size in rows.iterator(chunk_size=500):
        tally.local += 1
        if last is None or last[0] != name:
            last = (name, _hash_file(name))
        actual, actual_size, problem = last[1]
        if problem:
            tally.differing += 1
            recorder.add(tally, VerifyDifference.Kind.DIFFERING, code, code, ["file"], problem)
        elif actual != sha256 or (size is not None and actual_size != size):
            tally.differing += 1
            recorder.add(
                tally,
                VerifyDifference.Kind.DIFFERING,
                code,
                code,
                ["sha256"] + (["size"] if size is not None and actual_size != size else []),
                f"stored file {name} has sha256 {actual} ({actual_size} bytes); recorded {sha256} ({size} bytes)",
            )
        else:
            tally.identical += 1
        recorder.flush()
    referenced.delete()
    recorder.flush(force=True)


def _hash_file(name: str) -> tuple[str | None, int | None, str]:
    """(sha256, size, problem) of a stored file; problem is empty when the file could be read."""
    digest, size = hashlib.sha256(), 0
    try:
        with default_storage.open(name, "rb") as handle:
            while chunk := handle.read(HASH_CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except FileNotFoundError:
        return None, None, f"the stored file {name} is missing"
    except OSError as error:
        return None, None, f"the stored file {name} cannot be read: {error}"
    return digest.hexdigest(), size, ""


def verify_codes(codes: list[str] | tuple[str, ...]) -> list[str]:
    """The chosen entities in dependency order, `media` last. Unknown codes raise ValueError."""
    chosen = list(codes)
    wants_media = MEDIA in chosen
    ordered = in_dependency_order([code for code in chosen if code != MEDIA])
    return [*ordered, MEDIA] if wants_media else ordered


def start_report(connection, entities, user=None, *, kind: str = VerifyReport.Kind.VERIFY) -> VerifyReport:
    codes = (
        verify_codes(entities) if kind == VerifyReport.Kind.VERIFY else in_dependency_order(list(entities))
    )
    if not codes:
        raise ValueError("Choose at least one entity.")
    return VerifyReport.objects.create(connection=connection, user=user, kind=kind, entities=codes)


def execute_report(report_id: int, *, client: AkeneoClient | None = None, progress: Progress | None = None):
    """Run a queued report (verify or preview) to its end: completed, or failed with the reason."""
    from migrations_runs.services import make_client

    report = VerifyReport.objects.select_related("connection").get(pk=report_id)
    if not VerifyReport.objects.filter(pk=report.pk, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=timezone.now()
    ):
        return report  # already running elsewhere, or over
    report.refresh_from_db()
    own = client is None
    try:
        client = client or make_client(report.connection)
        if report.kind == VerifyReport.Kind.PREVIEW:
            from migrations_runs.preview import preview

            def saved(counts: list[dict]) -> None:
                VerifyReport.objects.filter(pk=report.pk).update(counts=counts)

            report.counts = preview(client, report.entities, on_counts=saved)
            VerifyReport.objects.filter(pk=report.pk).update(counts=report.counts)
        else:
            run_verify(client, report, progress=progress)
        status, error = Status.COMPLETED, ""
    except AkeneoError as exc:
        status, error = Status.FAILED, str(exc)
    except Exception as exc:
        logger.exception("%s #%s crashed", report.get_kind_display(), report.pk)
        status, error = Status.FAILED, f"unexpected {type(exc).__name__}: {exc}"
    finally:
        if own and client is not None:
            client.close()
    VerifySeenKey.objects.filter(report=report).delete()
    VerifyReport.objects.filter(pk=report.pk).update(status=status, error=error, finished_at=timezone.now())
    report.refresh_from_db()
    return report


def run_verify(client: AkeneoClient, report: VerifyReport, *, progress: Progress | None = None) -> None:
    recorder = Recorder(report, progress)
    types = AttributeTypes()
    for entity in report.entities:
        if entity == MEDIA:
            verify_media(report, recorder)
        else:
            verify_entity(client, report, entity, recorder, types)
    recorder.flush(force=True)


VERIFY_COLUMNS = ("source", "local", "identical", "missing", "extra", "differing")


def report_text(report: VerifyReport) -> str:
    """The report as plain text: the counts table, then one line per listed difference."""
    lines = [f"{'resource':<36}" + "".join(f"{name:>11}" for name in VERIFY_COLUMNS)]
    for row in report.counts:
        lines.append(f"{row['resource']:<36}" + "".join(f"{row.get(name, 0):>11}" for name in VERIFY_COLUMNS))
    listed = 0
    for difference in report.differences.order_by("pk").iterator():
        if not listed:
            lines.append("Differences:")
        listed += 1
        fields = f": {', '.join(difference.fields)}" if difference.fields else ""
        detail = f" ({difference.detail})" if difference.detail else ""
        lines.append(f"  {difference.resource} {difference.kind} {difference.label}{fields}{detail}")
    if listed < report.differences_total:
        lines.append(f"  … {report.differences_total - listed} more differences not listed")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------- counting
def source_counts(client: AkeneoClient, entity: str) -> dict[str, int]:
    """Per resource of an entity, how many records Akeneo holds, independently of what a run read: Akeneo's
    `items_count` where it gives one (top-level resources, one call each), else the records counted while paging
    through the source (nothing is kept)."""
    parts = [part.resource for part in ENTITY_BY_CODE[entity].parts]
    counts: dict[str, int] = {}
    for name in parts:
        spec = RESOURCES[name]
        if spec.parent is None and spec.countable and spec.pagination in ("page", "search_after"):
            total = client.count(name)
            if total is not None:
                counts[name] = total
    if len(counts) < len(parts):
        listed = dict.fromkeys(parts, 0)
        for resource, _parent, records in source_pages(client, entity, skip=frozenset(counts)):
            listed[resource] += len(records)
        counts = {name: counts.get(name, listed[name]) for name in parts}
    return counts
