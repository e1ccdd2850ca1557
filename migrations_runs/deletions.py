"""Deletions: records that disappeared from Akeneo are found by listing keys and flagged deleted, never erased.

Why flag and not erase: a migration off Akeneo lasts weeks; a record deleted by mistake in Akeneo and restored
must come back whole, and an export must still be able to show what went (`export_catalog --include-deleted`).
`purge_deleted` erases flagged rows for good.

How a run finds them, per resource it reads:

- Every imported page writes its keys (`note_page`, in the page's transaction, to the `SeenKey` scratch table:
  bounded memory at any size, kept across a resumed step; failed records count: Akeneo still has them).
- Read in full (every structure resource; products and product models when the run's filters do not narrow
  them, see `filters.queries_for`): at the end of the step (`after_step`), this connection's mappings of that
  resource whose key was not read are gone: a database anti-join, in batches. Sub-resources are read under the
  parents the source lists, so the children of a parent that is gone (or that no longer has children there: an
  attribute that stopped being a select) are gone too.
- Filtered products / product models: the keys inside the filter are what the step read or, when the read was
  narrowed by date (incremental, an `updated` filter), a separate cheap key listing with the run's own queries
  *without* the `updated` criterion and `attributes=` the identifier attribute (no other values travel).
  Candidates are this connection's records missing from those keys that lie inside the run's filter as far as
  the local copy tells (family, enabled, parent, categories, identifiers/uuids; criteria the local copy cannot
  tell, such as completeness or media, widen the candidates). A candidate is flagged only once the source
  confirms it has no such record at all (one `uuid IN` search per 100 products, one GET per product model): a
  record that merely left the filter is never flagged, and a filtered run never flags what lies outside it.

Scope. A connection flags only what it imported (its `Mapping` rows) and keeps its own "gone" state
(`catalog.SourceGone`); the catalog row's `deleted_at` is set only when every connection mapping to it has it
gone. Importing the record again (any connection) clears the flag (`Importer._upsert`), and the connection's
gone row is removed with the page that listed it (`note_page`).

Variants. A product model that changed changes its variants' inherited values: `refresh_variants` re-reads the
variant products of the changed models (and of their sub-models) from the source in the same run.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable, Sequence
from collections.abc import Mapping as MappingType
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from catalog.models import AkeneoRecord, Category, Product, ProductModel, SeenKey, SourceGone
from connections.akeneo.client import AkeneoClient
from connections.akeneo.errors import AkeneoHTTPError
from connections.akeneo.resources import RESOURCES, children_of
from connections.models import Connection
from migrations_runs.models import ACTIVE_STATUSES, Mapping, MigrationLog, MigrationRun, MigrationStep, Status

logger = logging.getLogger(__name__)

PRODUCTS = "products-uuid"
PRODUCT_MODELS = "product-models"
LISTABLE = (PRODUCTS, PRODUCT_MODELS)  # resources a filtered or incremental run may read only in part
BATCH = 500  # keys per anti-join batch, per bulk write
IN_LIMIT = 100  # codes per `IN` search criterion (Akeneo's own limit on list pages)


# ----------------------------------------------------------------------------------------------- keys
def _importer(resource: str):
    from migrations_runs.importers import IMPORTERS

    return IMPORTERS[resource]


def mapping_resource(resource: str) -> str:
    """The resource name a record's mappings are written under ("products" records map as products-uuid)."""
    return _importer(resource).resource


def model_of(resource: str) -> type[AkeneoRecord]:
    return _importer(resource).model


def mapping_resources_of(model: type[AkeneoRecord]) -> list[str]:
    from migrations_runs.importers import IMPORTERS

    return sorted({importer.resource for importer in IMPORTERS.values() if importer.model is model})


def product_key(record: MappingType[str, Any]) -> str | None:
    """A product record's mapping key: its uuid (lower-case), or the uuid a uuid-less record is given."""
    from migrations_runs.importers.products import uuid_for_identifier

    raw = record.get("uuid")
    if isinstance(raw, str) and raw:
        try:
            return str(uuid.UUID(raw))
        except ValueError:
            return None
    identifier = record.get("identifier")
    return str(uuid_for_identifier(identifier)) if isinstance(identifier, str) and identifier else None


def page_keys(resource: str, items: Iterable[Any], parents: Sequence[str] = ()) -> set[str]:
    """The mapping keys of a page's records ("code", "parent/code", product uuid), records that failed too: a
    record Akeneo lists exists, whether or not it could be imported."""
    spec = RESOURCES[resource]
    keys: set[str] = set()
    for item in items:
        if not isinstance(item, MappingType):
            continue
        if mapping_resource(resource) == PRODUCTS:
            key = product_key(item)
            if key:
                keys.add(key)
            continue
        own = spec.key_of(item)
        if own is not None:
            keys.add("/".join((*parents, *own)))
    return keys


# ----------------------------------------------------------------------------------------------- the run's scope
def run_queries(run: MigrationRun, resource: str, client: AkeneoClient | None) -> list[dict[str, Any]] | None:
    """The queries the run's step sent for `resource` (recorded on the run by `filters.queries_for`; built and
    recorded now if the step has not), or None: the step reads the resource in full (structure; products and
    product models on a run whose filters do not narrow them)."""
    from migrations_runs import filters as run_filters

    if resource not in LISTABLE:
        return None
    fresh = MigrationRun.objects.filter(pk=run.pk).values_list("filters", flat=True).first() or {}
    recorded = fresh.get("queries") if isinstance(fresh, dict) else None
    if isinstance(recorded, dict) and resource in recorded:
        return recorded[resource]
    run.filters = fresh
    return run_filters.queries_for(run, resource, client)


def narrowed_by_date(queries: list[dict[str, Any]] | None) -> bool:
    """Whether a read is narrowed to what changed (`updated`: an incremental run or an updated filter)."""
    return any("updated" in _search_of(query) for query in queries or ())


def _search_of(params: MappingType[str, Any]) -> dict[str, list[dict[str, Any]]]:
    raw = params.get("search")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    return raw if isinstance(raw, dict) else {}


def without_updated(params: MappingType[str, Any]) -> dict[str, Any]:
    """A run's query for listing keys: its search without the `updated` criterion (an incremental run reads the
    changed records; deletions are looked for among all of them), no value-bearing parameters."""
    search = {field: criteria for field, criteria in _search_of(params).items() if field != "updated"}
    kept = {
        name: value
        for name, value in params.items()
        if name in ("scope", "search_scope", "search_locale", "locales")
    }
    if search:
        kept["search"] = json.dumps(search, separators=(",", ":"), sort_keys=True)
    return kept


def _category_codes(code: str, children: bool) -> list[str]:
    """`code` and, with `children`, every category below it in the local tree."""
    found = [code]
    if children:
        frontier = [code]
        while frontier:
            below = list(Category.objects.filter(parent_code__in=frontier).values_list("code", flat=True))
            below = [c for c in below if c not in found]
            found.extend(below)
            frontier = below
    return found


def _in_categories(queryset: QuerySet, codes: list[str]) -> Q:
    """Rows classified in any of `codes` (subqueries: nothing is loaded into memory)."""
    from catalog.queries import in_category

    condition = Q(pk__in=[])
    for code in codes:
        condition |= Q(pk__in=in_category(queryset.model.objects.all(), code, qualified=False).values("pk"))
    return condition


def inside_filter(queryset: QuerySet, search: MappingType[str, Any]) -> QuerySet:
    """Rows whose local copy lies inside an Akeneo search, for the criteria the local copy can tell; the others
    (completeness, dates, attribute values...) keep every row (a superset: the source confirms each candidate)."""
    model = queryset.model
    for field, criteria in search.items():
        if not isinstance(criteria, list):
            continue
        for criterion in criteria:
            if not isinstance(criterion, dict):
                continue
            operator, value = criterion.get("operator"), criterion.get("value")
            values = value if isinstance(value, list) else [value]
            column = {"family": "family_code", "parent": "parent_code", "enabled": "enabled"}.get(field)
            if field == "identifier":
                column = "identifier" if model._meta.model_name == "product" else "code"
            if field == "uuid" and model._meta.model_name == "product":
                column = "uuid"
            if column is not None:
                if operator in ("IN", "="):
                    queryset = queryset.filter(**{f"{column}__in": values})
                elif operator in ("NOT IN", "!="):
                    queryset = queryset.exclude(**{f"{column}__in": values})
                elif operator == "EMPTY":
                    queryset = queryset.filter(**{f"{column}__isnull": True})
                elif operator == "NOT EMPTY":
                    queryset = queryset.exclude(**{f"{column}__isnull": True})
            elif field == "categories" and operator in ("IN", "IN CHILDREN", "NOT IN", "NOT IN CHILDREN"):
                codes = [
                    code
                    for item in values
                    if isinstance(item, str)
                    for code in _category_codes(item, "CHILDREN" in operator)
                ]
                condition = _in_categories(queryset, codes)
                queryset = (
                    queryset.exclude(condition) if operator.startswith("NOT") else queryset.filter(condition)
                )
    return queryset


# ----------------------------------------------------------------------------------------------- per page
def note_page(
    step: MigrationStep, resource: str, items: Sequence[Any], parents: Any, ids: MappingType[str, int]
) -> None:
    """Called with each imported page, inside its transaction: the records the page listed are no longer gone for
    this connection, and their keys are kept as seen by the step (`after_step` compares and clears them)."""
    from connections.akeneo.resources import parent_codes

    run = step.run
    name = mapping_resource(resource)
    keys = page_keys(resource, items, parent_codes(parents)) | set(ids)
    if not keys:
        return
    ordered = sorted(keys)
    for first in range(0, len(ordered), BATCH):
        SourceGone.objects.filter(
            connection_id=run.connection_id, resource=name, akeneo_key__in=ordered[first : first + BATCH]
        ).delete()
    SeenKey.objects.bulk_create(
        [SeenKey(run_id=run.pk, resource=name, akeneo_key=key[:600]) for key in ordered],
        batch_size=BATCH,
        ignore_conflicts=True,
    )


# ----------------------------------------------------------------------------------------------- marking
def _alive_elsewhere(model: type[AkeneoRecord], connection_id: int) -> Exists:
    """Another connection maps to the row and does not have it gone."""
    gone = SourceGone.objects.filter(
        connection_id=OuterRef("connection_id"),
        resource=OuterRef("resource"),
        akeneo_key=OuterRef("akeneo_key"),
    )
    return Exists(
        Mapping.objects.filter(resource__in=mapping_resources_of(model), object_id=OuterRef("pk"))
        .exclude(connection_id=connection_id)
        .filter(~Exists(gone))
    )


def _mark(
    connection_id: int,
    resource: str,
    pairs: Sequence[tuple[str, int]],
    run_id: int | None,
    step_id: int | None,
    *,
    source: str = "run",
    record: bool = True,
) -> int:
    """Record (key, object id) pairs as gone for this connection, flag the catalog rows no other connection still
    provides; one transaction. Returns how many catalog rows were flagged now."""
    from migrations_runs.records import record_results

    if not pairs:
        return 0
    model = model_of(resource)
    now = timezone.now()
    with transaction.atomic():
        SourceGone.objects.bulk_create(
            [
                SourceGone(
                    connection_id=connection_id,
                    resource=resource,
                    akeneo_key=key,
                    object_id=object_id,
                    run_id=run_id,
                    gone_at=now,
                )
                for key, object_id in pairs
            ],
            batch_size=BATCH,
            ignore_conflicts=True,
        )
        by_object = {object_id: key for key, object_id in pairs}
        flagged = list(
            model.objects.filter(pk__in=list(by_object), deleted_at__isnull=True)
            .exclude(_alive_elsewhere(model, connection_id))
            .values_list("pk", flat=True)
        )
        if flagged:
            model.objects.filter(pk__in=flagged).update(deleted_at=now, deleted_by_run_id=run_id)
        if record:
            flagged_set = set(flagged)
            for keys, message in (
                (
                    [key for key, object_id in pairs if object_id in flagged_set],
                    "gone from Akeneo: kept, flagged deleted, left out of exports",
                ),
                (
                    [key for key, object_id in pairs if object_id not in flagged_set],
                    "gone from this connection's Akeneo; not flagged: another connection still provides it",
                ),
            ):
                if keys:
                    record_results(run_id, step_id, resource, "deleted", keys, message, source=source)
    return len(flagged)


def mapped_rows(model: type[AkeneoRecord], connection_id: int, resource: str) -> QuerySet:
    """The catalog rows of `model` this connection imported (through its mappings)."""
    return model.objects.filter(
        pk__in=Mapping.objects.filter(connection_id=connection_id, resource=resource).values("object_id")
    )


def _gone_mappings(connection_id: int, resource: str) -> QuerySet:
    """This connection's mappings of `resource` it does not already have as gone."""
    already = SourceGone.objects.filter(
        connection_id=connection_id, resource=resource, akeneo_key=OuterRef("akeneo_key")
    )
    return Mapping.objects.filter(connection_id=connection_id, resource=resource).filter(~Exists(already))


def mark_deleted(
    connection_id: int,
    resource: str,
    keys: Iterable[str],
    run: MigrationRun | None = None,
    *,
    record: bool = True,
) -> int:
    """Mark records of one connection as gone from its Akeneo (an Akeneo "deleted" event, or a run): their
    children too (the options of an attribute, the variants of a family...). Keys are mapping keys: "code",
    "parent/code", a product's uuid. Records the connection never imported are ignored. Returns how many catalog
    rows were flagged deleted (a row another connection still provides is not). `record`: write per-record
    results ("deleted"; source "event" without a run); an events caller recording its own may say False."""
    name = mapping_resource(resource)
    wanted = [product_key({"uuid": key}) or key for key in keys] if name == PRODUCTS else list(keys)
    source = "run" if run is not None else "event"
    run_id = run.pk if run is not None else None
    total = 0
    for first in range(0, len(wanted), BATCH):
        chunk = wanted[first : first + BATCH]
        pairs = list(
            _gone_mappings(connection_id, name)
            .filter(akeneo_key__in=chunk)
            .values_list("akeneo_key", "object_id")
        )
        total += _mark(connection_id, name, pairs, run_id, None, source=source, record=record)
    for child in children_of(name):  # a parent that is gone takes its children with it
        for key in wanted:
            below = list(
                _gone_mappings(connection_id, child.name)
                .filter(akeneo_key__startswith=f"{key}/")
                .values_list("akeneo_key", flat=True)
            )
            if below:
                total += mark_deleted(connection_id, child.name, below, run, record=record)
    return total


def _mark_unseen(run: MigrationRun, step: MigrationStep, resource: str) -> int:
    """A resource read in full: this connection's mappings whose key the step did not read are gone."""
    name = mapping_resource(resource)
    seen_keys = SeenKey.objects.filter(run_id=run.pk, resource=name)
    if not seen_keys.exists() and _gone_mappings(run.connection_id, name).exists():
        # Nothing recorded as read while this connection has records: a step resumed after its check had already
        # cleared the keys (or a source that answered nothing). Flagging now would flag everything: don't.
        MigrationLog.objects.create(
            step=step,
            level=MigrationLog.Level.WARNING,
            message=f"{name}: no key recorded as read in this run; deletions were not checked (the next run checks them).",
        )
        return 0
    seen = seen_keys.filter(akeneo_key=OuterRef("akeneo_key"))
    unseen = _gone_mappings(run.connection_id, name).filter(~Exists(seen)).order_by("akeneo_key")
    total = found = 0
    while True:  # each batch becomes SourceGone rows, so the next query starts after it
        pairs = list(unseen.values_list("akeneo_key", "object_id")[:BATCH])
        if not pairs:
            break
        found += len(pairs)
        total += _mark(run.connection_id, name, pairs, run.pk, step.pk)
        _heartbeat(step)  # a long check keeps its step's lease: no second worker runs it meanwhile
    SeenKey.objects.filter(run_id=run.pk, resource=name).delete()
    if found:
        _log(
            step,
            f"{resource}: {found} records are no longer in Akeneo; {total} flagged deleted in the catalog",
        )
    return total


def _heartbeat(step: MigrationStep) -> None:
    from migrations_runs.locking import check_run

    check_run(step.run_id)
    MigrationStep.objects.filter(pk=step.pk, status=Status.RUNNING).update(heartbeat_at=timezone.now())


def _cheap_params(params: MappingType[str, Any]) -> dict[str, Any]:
    """Ask only for keys: the values reduced to the identifier attribute (one short value per product, none on
    a product model; Akeneo refuses an empty `attributes`). Unknown locally (attributes never imported): all."""
    from migrations_runs.importers.products import main_identifier_attribute

    attribute = main_identifier_attribute()
    return {**params, "attributes": attribute} if attribute else dict(params)


def _list_keys(
    client: AkeneoClient, step: MigrationStep, resource: str, queries: list[dict[str, Any]]
) -> None:
    """Write the keys the source lists for the run's queries (without `updated`) as seen."""
    name = mapping_resource(resource)
    for query in queries:
        params = _cheap_params(without_updated(query))
        for page in client.pages(resource, params=params, prefetch=False):
            keys = sorted(page_keys(resource, page.items))
            SeenKey.objects.bulk_create(
                [SeenKey(run_id=step.run_id, resource=name, akeneo_key=key[:600]) for key in keys],
                batch_size=BATCH,
                ignore_conflicts=True,
            )
            _heartbeat(step)


def _confirm_gone(client: AkeneoClient, resource: str, keys: list[str]) -> set[str]:
    """Which of these keys the source no longer has at all (whatever the filters)."""
    if resource == PRODUCTS:
        search = json.dumps({"uuid": [{"operator": "IN", "value": keys}]}, separators=(",", ":"))
        still = set()
        for page in client.pages(resource, params=_cheap_params({"search": search}), prefetch=False):
            still |= page_keys(resource, page.items)
        return set(keys) - still
    gone = set()
    for code in keys:  # product models: Akeneo has no documented code filter; one GET each (candidates only)
        try:
            client.get(RESOURCES[resource].format_path() + "/" + _quote(code))
        except AkeneoHTTPError as error:
            if error.status != 404:
                raise
            gone.add(code)
    return gone


def _quote(code: str) -> str:
    from urllib.parse import quote

    return quote(code, safe="")


def _mark_unlisted(
    client: AkeneoClient, run: MigrationRun, step: MigrationStep, resource: str, queries: list[dict[str, Any]]
) -> int:
    """A filtered read: the keys inside the run's filter (what the step read, or, when the step read only what
    changed, a separate key listing without the date criterion) against this connection's records inside the
    filter; each missing one is flagged only once the source confirms it has no such record at all."""
    name = mapping_resource(resource)
    if narrowed_by_date(queries):
        SeenKey.objects.filter(run_id=run.pk, resource=name).delete()
        _list_keys(client, step, resource, queries)
    seen = SeenKey.objects.filter(run_id=run.pk, resource=name, akeneo_key=OuterRef("akeneo_key"))
    model = model_of(resource)
    scope = Q()
    for query in queries:  # split `IN` lists: the union of the queries' scopes
        search = {k: v for k, v in _search_of(query).items() if k != "updated"}
        if not search:
            scope = Q()  # one query covers the whole resource
            break
        scope |= Q(object_id__in=inside_filter(model.objects.all(), search).values("pk"))
    candidates = (
        _gone_mappings(run.connection_id, name)
        .filter(~Exists(seen))
        .filter(scope)
        .order_by("akeneo_key")
        .values_list("akeneo_key", "object_id")
    )
    total = found = 0
    last = ""
    while True:
        batch = list(candidates.filter(akeneo_key__gt=last)[:IN_LIMIT])
        if not batch:
            break
        last = batch[-1][0]
        gone = _confirm_gone(client, resource, [key for key, _object_id in batch])
        pairs = [(key, object_id) for key, object_id in batch if key in gone]
        found += len(pairs)
        total += _mark(run.connection_id, name, pairs, run.pk, step.pk)
        _heartbeat(step)
    SeenKey.objects.filter(run_id=run.pk, resource=name).delete()
    if found:
        _log(
            step,
            f"{resource}: {found} records inside this run's filter are no longer in Akeneo; {total} flagged "
            "deleted in the catalog",
        )
    return total


def _log(step: MigrationStep, message: str) -> None:
    MigrationLog.objects.create(step=step, level=MigrationLog.Level.INFO, message=message)


def clear_stale_seen_keys(connection_id: int | None = None) -> int:
    """Scratch keys left by steps that never reached their end (a failed or cancelled run; a deleted run)."""
    runs = MigrationRun.objects.all()
    if connection_id is not None:
        runs = runs.filter(connection_id=connection_id)
    ended = runs.exclude(status__in=ACTIVE_STATUSES).values("pk")
    stale = SeenKey.objects.filter(run_id__in=ended)
    if connection_id is None:
        stale = SeenKey.objects.filter(
            Q(run_id__in=ended) | ~Exists(MigrationRun.objects.filter(pk=OuterRef("run_id")))
        )
    return stale.delete()[0]


def after_step(step: MigrationStep, client: AkeneoClient) -> int:
    """At the end of a step that read its resources (before it is marked completed; safe to run again on a
    resumed step): flag what the source no longer has, then re-read the variants of the product models that
    changed. Returns how many catalog rows were flagged deleted."""
    from migrations_runs.entities import ENTITY_BY_CODE

    run = MigrationRun.objects.get(pk=step.run_id)
    clear_stale_seen_keys(run.connection_id)
    total = 0
    for resource in ENTITY_BY_CODE[step.entity].resources:
        if RESOURCES[resource].model is None:
            continue
        queries = run_queries(run, resource, client)
        if queries is None:
            total += _mark_unseen(run, step, resource)
        else:
            total += _mark_unlisted(client, run, step, resource, queries)
    if step.entity == "product-models":
        changed = changed_models(run, step)
        # a products step of this run that reads every product of its filter re-reads the variants anyway
        products_read = "products" in run.entities and not narrowed_by_date(
            run_queries(run, PRODUCTS, client)
        )
        if changed and not products_read:
            refresh_variants(client, run.connection, run, changed, step=step)
    return total


# ----------------------------------------------------------------------------------------------- variants
def changed_models(run: MigrationRun, step: MigrationStep) -> list[str]:
    """The product models of this connection the step updated (not created: a new model has no variants here)."""
    if step.started_at is None:
        return []
    mapped = Mapping.objects.filter(connection_id=run.connection_id, resource=PRODUCT_MODELS).values(
        "object_id"
    )
    return sorted(
        ProductModel.objects.filter(
            pk__in=mapped, updated_at__gte=step.started_at, created_at__lt=step.started_at
        ).values_list("code", flat=True)
    )


def refresh_variants(
    client: AkeneoClient,
    connection: Connection,
    run: MigrationRun | None,
    model_codes: Iterable[str],
    *,
    step: MigrationStep | None = None,
) -> dict[str, int]:
    """Re-read from the source the variant products of these product models and of their sub-models (a model
    change alters the values its variants inherit): `search` parent IN [≤ 100 codes] per request, with the run's
    own product query (its filter, channel, locales and attributes; not its `updated` criterion; without a run,
    an Akeneo event, the connection's saved filters), imported like any product page. Returns the counters."""
    from migrations_runs.importers import IMPORTERS
    from migrations_runs.records import record_page
    from migrations_runs.services import record_mappings

    codes = set(model_codes)
    frontier = set(codes)
    while frontier:  # sub-models of the changed models: their variants inherit from them too
        below = (
            set(ProductModel.objects.filter(parent_code__in=frontier).values_list("code", flat=True)) - codes
        )
        codes |= below
        frontier = below
    # only the variants this connection imported (a run of product models alone must not start importing
    # products); variants new in Akeneo carry a new `updated` date: an incremental products read brings them
    ordered = sorted(
        set(
            mapped_rows(Product, connection.pk, PRODUCTS)
            .filter(parent_code__in=codes)
            .values_list("parent_code", flat=True)
        )
    )
    if not ordered:
        return {}
    if run is not None:
        base_queries = run_queries(run, PRODUCTS, client) or [{}]
    else:  # an Akeneo event: the connection's saved filters
        from migrations_runs.filters import build_queries

        base_queries = build_queries(client, PRODUCTS, connection.import_filters or {}) or [{}]
    importer = IMPORTERS[PRODUCTS]
    counts = dict.fromkeys(("read", "created", "updated", "unchanged", "failed"), 0)
    for first in range(0, len(ordered), IN_LIMIT):
        chunk = ordered[first : first + IN_LIMIT]
        for query in base_queries:
            search = {k: v for k, v in _search_of(query).items() if k != "updated"}
            search["parent"] = [{"operator": "IN", "value": chunk}]
            params = {k: v for k, v in query.items() if k != "search"}
            params["search"] = json.dumps(search, separators=(",", ":"), sort_keys=True)
            for page in client.pages(PRODUCTS, params=params, prefetch=False):
                with transaction.atomic():
                    result = importer.import_page(page.items)
                    record_mappings(connection.pk, importer.resource, result.ids)
                    SourceGone.objects.filter(
                        connection_id=connection.pk, resource=PRODUCTS, akeneo_key__in=list(result.ids)
                    ).delete()
                    if step is not None:
                        record_page(step, importer.resource, result)
                counts["read"] += len(page.items)
                for name in ("created", "updated", "unchanged", "failed"):
                    counts[name] += getattr(result, name)
                if step is not None:
                    _heartbeat(step)
    if step is not None:
        _log(
            step,
            f"Re-read {counts['read']} variant products of {len(codes)} changed product models "
            f"and sub-models: {counts['updated']} updated, {counts['created']} created, "
            f"{counts['unchanged']} unchanged, {counts['failed']} failed",
        )
    return counts


# ----------------------------------------------------------------------------------------------- purge
def purge(*, older_than_days: int | None = None, dry_run: bool = False) -> dict[str, int]:
    """Erase the rows flagged deleted (flagged more than `older_than_days` ago, when given), their mappings and
    gone rows, in batches. Per catalog model (verbose plural name): how many (would) go."""
    from catalog.models import CATALOG_MODELS

    cutoff = timezone.now() - timedelta(days=older_than_days) if older_than_days is not None else None
    counts: dict[str, int] = {}
    for model in reversed(CATALOG_MODELS):  # children first: a parent's CASCADE must not take them unmapped
        rows = model.objects.filter(deleted_at__isnull=False)
        if cutoff is not None:
            rows = rows.filter(deleted_at__lt=cutoff)
        name = str(model._meta.verbose_name_plural)
        if dry_run:
            counts[name] = rows.count()
            continue
        resources = mapping_resources_of(model)
        counts[name] = 0
        while True:
            chunk = list(rows.order_by("pk").values_list("pk", flat=True)[:BATCH])
            if not chunk:
                break
            with transaction.atomic():
                Mapping.objects.filter(resource__in=resources, object_id__in=chunk).delete()
                SourceGone.objects.filter(resource__in=resources, object_id__in=chunk).delete()
                model.objects.filter(pk__in=chunk).delete()
            counts[name] += len(chunk)
    if not dry_run:
        clear_stale_seen_keys()
    return counts
