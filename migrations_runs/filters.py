"""Import filters and incremental reads: which products and product models a run reads, asked of Akeneo itself.

A filter set is a small JSON dict, saved on the connection (`Connection.import_filters`) and copied onto each run
(`MigrationRun.filters`), where what was resolved at start is recorded too (the incremental watermark, the exact
queries sent). Akeneo does the filtering: each filter becomes its `search` JSON (IN, IN CHILDREN, =, >=, >,
BETWEEN, SINCE LAST N DAYS, EMPTY, NOT EMPTY) or its `scope` / `locales` / `attributes` query parameters, so the
local copy of a filtered product is exactly what Akeneo returns for that query (with a channel or locales, the
values of other channels and locales are not in the answer, hence not in the copy).

    {"channel": "ecommerce", "locales": ["en_US"], "attributes": ["name"], "families": ["shoes"],
     "status": "enabled", "completeness": 100, "categories": ["men"], "identifiers": ["sku-1"],
     "updated": {"since": "2024-01-01 00:00:00"} | {"days": 7} | {"between": [d1, d2]} | {"last_run": true},
     "media": "with" | "without"}

What applies to what (Akeneo's filter documentation): products take all of them; product models take families,
categories, updated, completeness (only 100 %: Akeneo's model operator `AT LEAST COMPLETE`, a model with at
least one complete variant) and the value parameters (scope, locales, attributes). Status, identifiers and media
are product filters only. Structure entities are never filtered.

Akeneo ANDs every condition of one `search`. Two filters need several reads, whose results add up:
- identifiers (and families) are split into lists of at most 100 codes (a long URL gets a 414); disjoint reads.
- "with media" is an OR over the media attributes (image, file) and their locale/channel values: read i asks
  for "value i NOT EMPTY and values 1..i-1 EMPTY", so the reads are disjoint and exactly cover the products
  with at least one media value. "Without media" is one read: every media value EMPTY. Localizable or scopable
  media attributes are checked on the filter's locales/channel (or all enabled locales / all channels).

Product dates take `YYYY-MM-DD hh:mm:ss` in server time (UTC on SaaS): dates typed by a user are read as UTC and
every watermark is converted to UTC before formatting, whatever Django's TIME_ZONE.

Incremental: products and product models `updated >` (the start of the connection's last completed run covering
them, with the same or no filters) minus MIGRATION_INCREMENTAL_OVERLAP_SECONDS; without such a run, a full read
(said in the run log).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings

from connections.akeneo.client import AkeneoClient
from connections.akeneo.errors import AkeneoError
from connections.akeneo.resources import RESOURCES
from migrations_runs.source import SourcePage, walk

PRODUCT_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
IN_CHUNK = 100  # codes per IN list: longer lists are split into several reads
MEDIA_TYPES = ("pim_catalog_image", "pim_catalog_file")
FILTERED_RESOURCES = ("products-uuid", "product-models")
# the entities whose reads an incremental run narrows to what changed (structure is read in full)
INCREMENTAL_ENTITIES = {"products": "products-uuid", "product-models": "product-models"}
LIST_FIELDS = ("locales", "attributes", "families", "categories", "identifiers")
FIELDS = (
    "channel", "locales", "attributes", "families", "status", "completeness", "updated", "categories",
    "identifiers", "media",
)  # fmt: skip
# recorded on runs only: resolved at start
RUN_KEYS = ("incremental", "queries")
MAX_COUNTED_QUERIES = 10  # beyond this many reads, the step's total is not counted up front


class FilterError(ValueError):
    """Filters that cannot be used: `errors` maps a filter name (or "__all__") to a message for the user."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{name}: {message}" for name, message in self.errors.items()))


# ------------------------------------------------------------------------------------------------- cleaning
def _codes(value: Any) -> list[str]:
    """A list of codes from a list or a comma/newline separated string; order kept, duplicates dropped."""
    if value is None:
        return []
    items = value.replace("\n", ",").replace(";", ",").split(",") if isinstance(value, str) else list(value)
    out: list[str] = []
    for item in items:
        code = str(item).strip()
        if code and code not in out:
            out.append(code)
    return out


def parse_moment(text: str, *, end_of_day: bool = False) -> str:
    """A user's date as Akeneo's product date (`YYYY-MM-DD hh:mm:ss`, UTC). Accepts `YYYY-MM-DD`, `YYYY-MM-DD
    hh:mm[:ss]` and ISO 8601 (with an offset: converted to UTC; without: taken as UTC, Akeneo's server time).
    A bare date is its first second, or its last with `end_of_day` (the end of a BETWEEN)."""
    raw = str(text).strip()
    try:
        moment = datetime.fromisoformat(raw.replace(" ", "T", 1) if len(raw) > 10 else raw)
    except ValueError:
        raise ValueError(
            f"{raw!r} is not a date: use YYYY-MM-DD or YYYY-MM-DD hh:mm:ss (UTC, Akeneo's server time)"
        ) from None
    if len(raw) == 10 and end_of_day:
        moment = moment.replace(hour=23, minute=59, second=59)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime(PRODUCT_DATE_FORMAT)


def akeneo_date(moment: datetime) -> str:
    """An aware datetime as Akeneo's product date, in UTC (never Django's TIME_ZONE)."""
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is needed")
    return moment.astimezone(UTC).strftime(PRODUCT_DATE_FORMAT)


def _clean_updated(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(
            "give one of: since a date, in the last N days, between two dates, since the last run"
        )
    given = {
        key: value[key]
        for key in ("since", "days", "between", "last_run")
        if value.get(key) not in (None, "")
    }
    if len(given) != 1:
        raise ValueError(
            "choose one way: since a date, in the last N days, between two dates, or since the last run"
        )
    ((mode, raw),) = given.items()
    if mode == "since":
        return {"since": parse_moment(raw)}
    if mode == "days":
        try:
            days = int(raw)
        except (TypeError, ValueError):
            raise ValueError(f"the number of days must be a whole number, not {raw!r}") from None
        if days <= 0:
            raise ValueError("the number of days must be positive")
        return {"days": days}
    if mode == "between":
        bounds = raw.split(",") if isinstance(raw, str) else list(raw)
        if len(bounds) != 2:
            raise ValueError("between takes two dates: FROM,TO")
        first, last = parse_moment(bounds[0]), parse_moment(bounds[1], end_of_day=True)
        if first > last:
            raise ValueError(f"the first date ({first}) is after the second ({last})")
        return {"between": [first, last]}
    if raw is not True and str(raw).lower() not in ("true", "1", "yes", "on"):
        raise ValueError("last_run takes true")
    return {"last_run": True}


def clean_filters(raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """The filters in their stored shape (empty ones left out), or FilterError naming each bad one.

    Checks what can be checked without Akeneo: dates parse, N is positive, completeness is 0-100 and has a
    channel, status/media are known words. `validate_against_source` checks the codes."""
    raw = dict(raw or {})
    unknown = sorted(set(raw) - set(FIELDS) - set(RUN_KEYS))
    errors: dict[str, str] = {}
    if unknown:
        errors["__all__"] = f"Unknown filters: {', '.join(unknown)}. Known: {', '.join(FIELDS)}."
    out: dict[str, Any] = {}
    channel = str(raw.get("channel") or "").strip()
    if channel:
        out["channel"] = channel
    for name in LIST_FIELDS:
        codes = _codes(raw.get(name))
        if codes:
            out[name] = codes
    status = str(raw.get("status") or "").strip().lower()
    if status:
        if status in ("enabled", "disabled"):
            out["status"] = status
        else:
            errors["status"] = f"Status must be enabled or disabled, not {status!r}."
    completeness = raw.get("completeness")
    if completeness not in (None, ""):
        try:
            percent = int(completeness)
        except (TypeError, ValueError):
            errors["completeness"] = f"Completeness must be a whole percentage (0-100), not {completeness!r}."
        else:
            if not 0 <= percent <= 100:
                errors["completeness"] = f"Completeness must be between 0 and 100, not {percent}."
            elif not channel:
                errors["completeness"] = "Completeness is computed per channel: choose a channel too."
            else:
                out["completeness"] = percent
    updated = raw.get("updated")
    if updated not in (None, "", {}):
        try:
            out["updated"] = _clean_updated(updated)
        except ValueError as error:
            errors["updated"] = f"Updated: {error}."
    media = str(raw.get("media") or "").strip().lower()
    if media:
        if media in ("with", "without"):
            out["media"] = media
        else:
            errors["media"] = f"Media must be with or without, not {media!r}."
    if errors:
        raise FilterError(errors)
    return out


# ------------------------------------------------------------------------------------ against the source
def _existing(client: AkeneoClient, resource: str, codes: list[str]) -> set[str]:
    """Which of `codes` the source has, asked with `code IN` lists (≤ 100 codes a request)."""
    found: set[str] = set()
    for first in range(0, len(codes), IN_CHUNK):
        chunk = codes[first : first + IN_CHUNK]
        params = {"search": {"code": [{"operator": "IN", "value": chunk}]}}
        for item in client.items(resource, params=params, prefetch=False):
            if item.get("code") in chunk:
                found.add(item["code"])
    return found


def _missing(wanted: Iterable[str], found: set[str]) -> list[str]:
    return [code for code in wanted if code not in found]


def _listing(codes: list[str]) -> str:
    return ", ".join(codes[:10]) + (f" and {len(codes) - 10} more" if len(codes) > 10 else "")


def validate_against_source(client: AkeneoClient, filters: Mapping[str, Any]) -> None:
    """FilterError unless every code the filters name exists in the source: the channel, the locales (enabled
    ones), the attributes, the families and the categories. Identifiers are not checked (a product that is not
    there is simply not read)."""
    errors: dict[str, str] = {}
    channel = filters.get("channel")
    if channel:
        channels = {item.get("code"): item for item in client.items("channels", prefetch=False)}
        if channel not in channels:
            known = sorted(code for code in channels if isinstance(code, str))
            errors["channel"] = f"Channel {channel!r} does not exist in Akeneo (channels: {_listing(known)})."
    if filters.get("locales"):
        enabled = {
            item.get("code") for item in client.items("locales", prefetch=False) if item.get("enabled", True)
        }
        missing = _missing(filters["locales"], enabled)
        if missing:
            errors["locales"] = (
                f"Locales not enabled in Akeneo: {_listing(missing)} (enabled: {_listing(sorted(enabled))})."
            )
    for name, resource, noun in (
        ("attributes", "attributes", "Attributes"),
        ("families", "families", "Families"),
        ("categories", "categories", "Categories"),
    ):
        if filters.get(name):
            missing = _missing(filters[name], _existing(client, resource, filters[name]))
            if missing:
                errors[name] = f"{noun} that do not exist in Akeneo: {_listing(missing)}."
    if errors:
        raise FilterError(errors)


def check_filters(connection, raw: Mapping[str, Any] | None, *, client: AkeneoClient | None = None) -> dict:
    """Clean the filters and validate them against the connection's source: the admin's save and the CLI call
    this. Returns the stored shape; raises FilterError (an unreachable source included)."""
    from migrations_runs.services import make_client

    filters = clean_filters(raw)
    if not any(filters.get(name) for name in ("channel", "locales", "attributes", "families", "categories")):
        return filters  # nothing to look up
    own = client is None
    try:
        client = client or make_client(connection)
        validate_against_source(client, filters)
    except AkeneoError as error:
        raise FilterError({"__all__": f"The filters could not be checked against Akeneo: {error}"}) from None
    except Exception as error:  # unreadable credentials and the like: a message, not a crash
        if isinstance(error, FilterError):
            raise
        raise FilterError({"__all__": f"The filters could not be checked against Akeneo: {error}"}) from None
    finally:
        if own and client is not None:
            client.close()
    return filters


# --------------------------------------------------------------------------------------------- describing
def describe(filters: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(label, text) rows for the run page and the history: what the run read."""
    filters = filters or {}
    rows: list[tuple[str, str]] = []
    if filters.get("channel"):
        rows.append(("Channel", filters["channel"]))
    for name, label in (("locales", "Locales"), ("attributes", "Attributes"), ("families", "Families")):
        if filters.get(name):
            rows.append((label, ", ".join(filters[name])))
    if filters.get("status"):
        rows.append(("Status", filters["status"]))
    if filters.get("completeness") is not None:
        rows.append(("Completeness", f"≥ {filters['completeness']} % on {filters.get('channel')}"))
    updated = filters.get("updated") or {}
    if updated.get("since"):
        rows.append(("Updated", f"after {updated['since']} UTC"))
    elif updated.get("days"):
        rows.append(("Updated", f"in the last {updated['days']} days"))
    elif updated.get("between"):
        rows.append(("Updated", f"between {updated['between'][0]} and {updated['between'][1]} UTC"))
    elif updated.get("last_run"):
        rows.append(("Updated", "since the last completed run"))
    if filters.get("categories"):
        rows.append(("Categories", ", ".join(filters["categories"]) + " (with their children)"))
    if filters.get("identifiers"):
        ids = filters["identifiers"]
        rows.append(("Identifiers", _listing(ids) if len(ids) > 10 else ", ".join(ids)))
    if filters.get("media"):
        rows.append(("Media", "with media" if filters["media"] == "with" else "without media"))
    incremental = filters.get("incremental")
    if isinstance(incremental, Mapping):
        rows.append(("Incremental", incremental_text(incremental)))
    return rows


def incremental_text(incremental: Mapping[str, Any]) -> str:
    if incremental.get("since"):
        return (
            f"products and product models updated after {incremental['since']} UTC (start of run "
            f"#{incremental.get('base_run')} minus {incremental.get('overlap_seconds')} s overlap)"
        )
    return f"full read: {incremental.get('note') or 'no completed run to start from'}"


def summary(filters: Mapping[str, Any] | None) -> str:
    """One line (Migration History)."""
    return "; ".join(f"{label}: {text}" for label, text in describe(filters))


# ------------------------------------------------------------------------------------------ at run start
def scope_of(filters: Mapping[str, Any] | None) -> dict[str, Any]:
    """What a run covered, for choosing an incremental base: its filters without dates and run extras."""
    return {k: v for k, v in (filters or {}).items() if k not in ("updated", *RUN_KEYS)}


def incremental_base(connection, entities: Iterable[str], filters: Mapping[str, Any]):
    """The connection's last completed run that read every one of `entities` (of products, product models)
    with no filters or the same ones (dates aside): changes since its start are what an incremental reads."""
    from migrations_runs.models import MigrationRun, Status

    wanted = set(entities) & set(INCREMENTAL_ENTITIES)
    scope = scope_of(filters)
    runs = MigrationRun.objects.filter(connection=connection, status=Status.COMPLETED).order_by(
        "-started_at", "-created_at", "-pk"
    )
    for run in runs.only("pk", "entities", "filters", "started_at", "created_at")[:200]:
        if wanted <= set(run.entities or ()) and scope_of(run.filters) in ({}, scope):
            return run
    return None


def resolve_run_filters(
    connection, entities: Iterable[str], filters: Mapping[str, Any], *, incremental: bool
) -> dict[str, Any]:
    """The filters a run records: the given ones plus, when incremental (or `updated: last_run`), the watermark
    (`{"incremental": {"since", "base_run", "base_started_at", "overlap_seconds"}}` or, with no base run, a note
    that it reads in full)."""
    resolved = {k: v for k, v in filters.items() if k not in RUN_KEYS}
    entities = list(entities)
    if not (incremental or (resolved.get("updated") or {}).get("last_run")):
        return resolved
    overlap = int(getattr(settings, "MIGRATION_INCREMENTAL_OVERLAP_SECONDS", 300))
    base = incremental_base(connection, entities, resolved)
    if base is None:
        resolved["incremental"] = {
            "since": None,
            "overlap_seconds": overlap,
            "note": "no completed run of this connection covers these entities with these filters",
        }
        return resolved
    started = base.started_at or base.created_at
    resolved["incremental"] = {
        "since": akeneo_date(started - timedelta(seconds=overlap)),
        "base_run": base.pk,
        "base_started_at": started.astimezone(UTC).isoformat(),
        "overlap_seconds": overlap,
    }
    return resolved


def incremental_log(filters: Mapping[str, Any]) -> str | None:
    """The run-log line saying what an incremental run reads (None when not incremental)."""
    incremental = filters.get("incremental")
    if not isinstance(incremental, Mapping):
        return None
    if incremental.get("since"):
        return (
            f"Incremental: reading only what was updated after {incremental['since']} UTC (run "
            f"#{incremental['base_run']} started {incremental['base_started_at']}, minus "
            f"{incremental['overlap_seconds']} s overlap)"
        )
    return f"Incremental: {incremental.get('note')}: a full read"


# ------------------------------------------------------------------------------------------- the queries
def _chunks(codes: list[str]) -> list[list[str]]:
    return [codes[first : first + IN_CHUNK] for first in range(0, len(codes), IN_CHUNK)]


def _updated_conditions(filters: Mapping[str, Any]) -> list[dict[str, Any]]:
    conditions: list[dict[str, Any]] = []
    updated = filters.get("updated") or {}
    if updated.get("since"):
        conditions.append({"operator": ">", "value": updated["since"]})
    elif updated.get("days"):
        conditions.append({"operator": "SINCE LAST N DAYS", "value": int(updated["days"])})
    elif updated.get("between"):
        conditions.append({"operator": "BETWEEN", "value": list(updated["between"])})
    incremental = filters.get("incremental")
    if isinstance(incremental, Mapping) and incremental.get("since"):
        conditions.append({"operator": ">", "value": incremental["since"]})
    return conditions


@dataclass(frozen=True)
class SourceFacts:
    """What the media and model-completeness filters need from the source (read once per query build)."""

    media_attributes: list[dict[str, Any]]
    channels: dict[str, list[str]]  # channel code -> its locales
    enabled_locales: list[str]


def _facts(client: AkeneoClient, filters: Mapping[str, Any], resource: str) -> SourceFacts:
    media: list[dict[str, Any]] = []
    channels: dict[str, list[str]] = {}
    locales: list[str] = []
    needs_media = resource == "products-uuid" and filters.get("media")
    needs_channels = needs_media or (
        resource == "product-models" and filters.get("completeness") == 100 and not filters.get("locales")
    )
    if needs_media:
        media = [
            item
            for item in client.items("attributes", prefetch=False)
            if item.get("type") in MEDIA_TYPES and isinstance(item.get("code"), str)
        ]
        media.sort(key=lambda item: item["code"])
        locales = sorted(
            item["code"]
            for item in client.items("locales", prefetch=False)
            if item.get("enabled", True) and isinstance(item.get("code"), str)
        )
    if needs_channels:
        channels = {
            item["code"]: list(item.get("locales") or [])
            for item in client.items("channels", prefetch=False)
            if isinstance(item.get("code"), str)
        }
    return SourceFacts(media, channels, locales)


def _media_terms(filters: Mapping[str, Any], facts: SourceFacts) -> list[tuple[str, dict[str, Any]]]:
    """Every (attribute, condition keys) value slot a product's media can sit in, on the filter's channel and
    locales when given."""
    channel = filters.get("channel")
    scopes = [channel] if channel else sorted(facts.channels)
    if channel:
        locales = filters.get("locales") or facts.channels.get(channel) or facts.enabled_locales
    else:
        locales = filters.get("locales") or facts.enabled_locales
    terms = []
    for attribute in facts.media_attributes:
        for scope in scopes if attribute.get("scopable") else [None]:
            for locale in sorted(locales) if attribute.get("localizable") else [None]:
                keys = {}
                if locale is not None:
                    keys["locale"] = locale
                if scope is not None:
                    keys["scope"] = scope
                terms.append((attribute["code"], keys))
    return terms


def _media_searches(filters: Mapping[str, Any], facts: SourceFacts) -> list[dict[str, list[dict]]]:
    """The media part of the search, one entry per read (see the module docstring)."""
    terms = _media_terms(filters, facts)
    if filters.get("media") == "without":
        search: dict[str, list[dict]] = {}
        for code, keys in terms:
            search.setdefault(code, []).append({"operator": "EMPTY", **keys})
        return [search]
    reads = []
    for index, (code, keys) in enumerate(terms):
        search = {}
        for earlier, earlier_keys in terms[:index]:
            search.setdefault(earlier, []).append({"operator": "EMPTY", **earlier_keys})
        search.setdefault(code, []).append({"operator": "NOT EMPTY", **keys})
        reads.append(search)
    return reads  # no media attribute at all: no read (no product can have media)


def build_queries(
    client: AkeneoClient | None, resource: str, filters: Mapping[str, Any] | None
) -> list[dict[str, Any]] | None:
    """The query parameters of each read of `resource` under `filters` (their results add up, disjoint), or
    None when nothing filters this resource (a plain full read). `client` reads the source facts the media and
    model-completeness filters need."""
    filters = filters or {}
    if resource not in FILTERED_RESOURCES:
        return None
    products = resource == "products-uuid"
    base: dict[str, Any] = {}
    for name in ("channel", "locales", "attributes"):
        if filters.get(name):
            base["scope" if name == "channel" else name] = (
                filters[name] if name == "channel" else ",".join(filters[name])
            )
    search: dict[str, list[dict[str, Any]]] = {}
    updated = _updated_conditions(filters)
    if updated:
        search["updated"] = updated
    if filters.get("categories"):
        search["categories"] = [{"operator": "IN CHILDREN", "value": list(filters["categories"])}]
    channel = filters.get("channel")
    completeness = filters.get("completeness")
    facts = None
    if (products and filters.get("media")) or (not products and completeness == 100):
        facts = _facts(client, filters, resource) if client is not None else SourceFacts([], {}, [])
    if completeness is not None and channel:
        if products:
            condition = {"operator": ">=", "value": int(completeness), "scope": channel}
            if filters.get("locales"):
                condition = {
                    "operator": "GREATER OR EQUALS THAN ON ALL LOCALES",
                    "value": int(completeness),
                    "scope": channel,
                    "locales": list(filters["locales"]),
                }
            search["completeness"] = [condition]
        elif completeness == 100:
            locales = list(filters.get("locales") or (facts.channels.get(channel) if facts else []) or [])
            search["completeness"] = [{"operator": "AT LEAST COMPLETE", "scope": channel, "locales": locales}]
    if products and filters.get("status"):
        search["enabled"] = [{"operator": "=", "value": filters["status"] == "enabled"}]
    variants: list[list[dict[str, list[dict]]]] = []  # each: alternatives ORed by separate reads
    if filters.get("families"):
        variants.append(
            [{"family": [{"operator": "IN", "value": chunk}]} for chunk in _chunks(list(filters["families"]))]
        )
    if products and filters.get("identifiers"):
        variants.append(
            [
                {"identifier": [{"operator": "IN", "value": chunk}]}
                for chunk in _chunks(list(filters["identifiers"]))
            ]
        )
    if products and filters.get("media"):
        variants.append(_media_searches(filters, facts or SourceFacts([], {}, [])))
    if not base and not search and not variants:
        return None
    queries = []
    for combination in itertools.product(*variants):
        merged = {field: list(conditions) for field, conditions in search.items()}
        for part in combination:
            for field, conditions in part.items():
                merged.setdefault(field, []).extend(conditions)
        query = dict(base)
        if merged:
            query["search"] = merged
        queries.append(query)
    return queries


def queries_for(run, resource: str, client: AkeneoClient | None) -> list[dict[str, Any]] | None:
    """The run's reads of `resource`: built once (from the source facts of that moment) and recorded on the
    run, so a resumed step reads exactly the same queries and the run page shows what Akeneo was asked."""
    from migrations_runs.models import MigrationRun

    if resource not in FILTERED_RESOURCES or not run.filters:
        return None
    recorded = (run.filters.get("queries") or {}) if isinstance(run.filters, dict) else {}
    if resource in recorded:
        return recorded[resource]
    queries = build_queries(client, resource, run.filters)
    fresh = MigrationRun.objects.filter(pk=run.pk).values_list("filters", flat=True).first() or {}
    fresh.setdefault("queries", {})[resource] = queries
    MigrationRun.objects.filter(pk=run.pk).update(filters=fresh)
    run.filters = fresh
    return queries


@dataclass(frozen=True)
class QueryPage(SourcePage):
    """A page of one of several reads: its cursor says which read (`query`) it belongs to."""

    query: int = 0

    @property
    def cursor(self) -> dict[str, Any]:
        return {**super().cursor, "query": self.query}


def filtered_pages(
    client: AkeneoClient,
    resource: str,
    queries: list[dict[str, Any]],
    *,
    start: Mapping[str, Any] | None = None,
    expected_count: int | None = None,
) -> Iterator[SourcePage]:
    """The pages of every read in turn, resumable: a cursor at read q with a next URL goes on there; at read q
    without one (its last page was committed) goes on with read q + 1."""
    start = start or {}
    first = start.get("query")
    next_url = start.get("next_url")
    if first is None:
        first = 0
    elif not next_url:
        first += 1
    for index in range(first, len(queries)):
        resume = {"next_url": next_url} if index == first and next_url else None
        for page in walk(
            client, resource, start=resume, params=queries[index], expected_count=expected_count
        ):
            yield QueryPage(
                page.resource,
                page.parents,
                page.items,
                page.url,
                page.next_url,
                page.items_count,
                page.dropped,
                page.gone,
                query=index,
            )
        next_url = None


def source_pages(
    run,
    client: AkeneoClient,
    resource: str,
    *,
    start: Mapping[str, Any] | None = None,
    parents=None,
    expected_count: int | None = None,
) -> Iterator[SourcePage]:
    """What a step reads of `resource`: the plain walk, or the run's filtered reads."""
    queries = queries_for(run, resource, client)
    if queries is None:
        yield from walk(client, resource, start=start, parents=parents, expected_count=expected_count)
        return
    yield from filtered_pages(client, resource, queries, start=start, expected_count=expected_count)


def step_total(run, client: AkeneoClient, resource: str) -> int | None:
    """How many records the step will read, for progress: Akeneo's count of each read, added up (None when
    there are too many reads to count cheaply, or a read cannot be counted)."""
    queries = queries_for(run, resource, client)
    if queries is None:
        return client.count(resource)
    if len(queries) > MAX_COUNTED_QUERIES:
        return None
    path = client.products_path() if resource == "products-uuid" else RESOURCES[resource].path
    total = 0
    try:
        for query in queries:
            data = client.get(path, params={**query, "limit": 1, "with_count": True})
            count = data.get("items_count") if isinstance(data, dict) else None
            if not isinstance(count, int) or isinstance(count, bool):
                return None
            total += count
    except AkeneoError:
        return None
    return total
