"""Akeneo's `search` query parameter: parse the JSON filters and turn them into predicates over generated headers.

Akeneo answers a malformed filter with 400 (not JSON) or 422 (wrong structure, unsupported field/operator, bad
value); the messages below follow Akeneo's wording so clients see what they would see in production.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from demo_akeneo.catalog import Catalog, ModelHeader, ProductHeader


class SearchError(Exception):
    """A filter Akeneo would refuse: `status` is 400 or 422, `message` is Akeneo's message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Filter:
    field: str
    operator: str
    value: Any


PRODUCT_OPERATORS = {
    "updated": {">", "<", "=", "!=", "BETWEEN", "NOT BETWEEN", "SINCE LAST N DAYS", "EMPTY", "NOT EMPTY"},
    "created": {">", "<", "=", "!=", "BETWEEN", "NOT BETWEEN", "SINCE LAST N DAYS"},
    "family": {"IN", "NOT IN", "EMPTY", "NOT EMPTY"},
    "enabled": {"=", "!="},
    "categories": {"IN", "NOT IN", "IN OR UNCLASSIFIED", "IN CHILDREN", "NOT IN CHILDREN", "UNCLASSIFIED"},
    "identifier": {"IN", "NOT IN", "=", "!="},
    "uuid": {"IN", "NOT IN", "=", "!="},
    "parent": {"IN", "=", "EMPTY", "NOT EMPTY"},
    "groups": {"IN", "NOT IN", "EMPTY", "NOT EMPTY"},
}
MODEL_OPERATORS = {
    "updated": PRODUCT_OPERATORS["updated"],
    "created": PRODUCT_OPERATORS["created"],
    "family": {"IN", "NOT IN"},
    "categories": PRODUCT_OPERATORS["categories"],
    "parent": {"IN", "=", "EMPTY", "NOT EMPTY"},
    "identifier": {"IN", "NOT IN", "=", "!="},
}
# small lists (records, assets, structure): field -> operators; values are compared on the item dicts
ITEM_OPERATORS = {
    "records": {"updated": {">"}, "code": {"IN", "NOT IN"}},
    "assets": {"updated": {">"}, "code": {"IN", "NOT IN"}},
    "categories": {"code": {"IN"}, "parent": {"="}, "is_root": {"="}, "updated": {">"}},
    "families": {"code": {"IN"}, "has_products": {"="}},
    "attributes": {"code": {"IN"}, "type": {"IN"}},
    "attribute-groups": {"code": {"IN"}},
    "locales": {"enabled": {"="}},
    "currencies": {"enabled": {"="}, "code": {"IN"}},
}
NO_VALUE_OPERATORS = {"EMPTY", "NOT EMPTY", "UNCLASSIFIED"}


def parse_search(raw: str | None, operators: dict[str, set[str]]) -> list[Filter]:
    """The filters of a `search` parameter, validated against the operators each field supports."""
    if raw is None or raw == "":
        return []
    try:
        data = json.loads(raw)
    except ValueError:
        raise SearchError(400, "Search query parameter should be valid JSON.") from None
    if not isinstance(data, dict):
        raise SearchError(422, "Search query parameter has to be an array.")
    filters = []
    for field, conditions in data.items():
        structure = (
            f'Structure of filter "{field}" should respect this structure: '
            f'{{"{field}":[{{"operator": "my_operator", "value": "my_value"}}]}}'
        )
        if not isinstance(conditions, list) or not conditions:
            raise SearchError(422, structure)
        for condition in conditions:
            if not isinstance(condition, dict) or "operator" not in condition:
                raise SearchError(422, structure)
            operator = condition["operator"]
            if field not in operators or operator not in operators[field]:
                raise SearchError(
                    422,
                    f'Filter on property "{field}" is not supported or does not support operator "{operator}"',
                )
            if operator not in NO_VALUE_OPERATORS and "value" not in condition:
                raise SearchError(422, f'Value is missing for the property "{field}".')
            filters.append(Filter(field, operator, condition.get("value")))
    return filters


def _type_name(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "float", str: "string", list: "array", dict: "array"}.get(
        type(value), "null"
    )


def _expect_list(f: Filter) -> list[Any]:
    if not isinstance(f.value, list):
        raise SearchError(
            422, f'Property "{f.field}" expects an array as data, "{_type_name(f.value)}" given.'
        )
    return f.value


def _product_date(f: Filter, value: Any) -> int:
    """Product/model date filters take `YYYY-MM-DD hh:mm:ss` (server time, UTC here)."""
    try:
        if not isinstance(value, str):
            raise ValueError
        return int(datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp())
    except ValueError:
        raise SearchError(
            422,
            f'Property "{f.field}" expects a string with the format "yyyy-mm-dd H:i:s" as data, "{value}" given.',
        ) from None


def _date_predicate(f: Filter, get: Callable[[Any], int]) -> Callable[[Any], bool]:
    op = f.operator
    if op == "SINCE LAST N DAYS":
        if not isinstance(f.value, int) or isinstance(f.value, bool) or f.value < 0:
            raise SearchError(422, f'Property "{f.field}" expects an integer as data, "{f.value}" given.')
        since = int(time.time()) - f.value * 86400
        return lambda h: get(h) >= since
    if op in ("BETWEEN", "NOT BETWEEN"):
        bounds = _expect_list(f)
        if len(bounds) != 2:
            raise SearchError(422, f'Property "{f.field}" expects an array with 2 elements as data.')
        lo, hi = (_product_date(f, v) for v in bounds)
        if op == "BETWEEN":
            return lambda h: lo <= get(h) <= hi
        return lambda h: not lo <= get(h) <= hi
    if op in ("EMPTY", "NOT EMPTY"):
        return (lambda h: False) if op == "EMPTY" else (lambda h: True)
    moment = _product_date(f, f.value)
    return {
        ">": lambda h: get(h) > moment,
        "<": lambda h: get(h) < moment,
        "=": lambda h: moment <= get(h) < moment + 1,
        "!=": lambda h: not moment <= get(h) < moment + 1,
    }[op]


def _category_predicate(catalog: Catalog, f: Filter) -> Callable[[Any], bool]:
    op = f.operator
    if op == "UNCLASSIFIED":
        return lambda h: not h.categories
    codes = _expect_list(f)
    unknown = [c for c in codes if c not in catalog.category_root]
    if unknown:
        raise SearchError(422, f'Object "category" with code "{unknown[0]}" does not exist')
    wanted = set(codes)
    if op in ("IN CHILDREN", "NOT IN CHILDREN"):
        wanted = set().union(*(catalog.category_descendants[c] for c in codes)) if codes else set()
    if op in ("IN", "IN CHILDREN"):
        return lambda h: not wanted.isdisjoint(h.categories)
    if op in ("NOT IN", "NOT IN CHILDREN"):
        return lambda h: wanted.isdisjoint(h.categories)
    return lambda h: not h.categories or not wanted.isdisjoint(h.categories)  # IN OR UNCLASSIFIED


def _codes_predicate(f: Filter, get: Callable[[Any], str | None]) -> Callable[[Any], bool]:
    op = f.operator
    if op == "EMPTY":
        return lambda h: get(h) is None
    if op == "NOT EMPTY":
        return lambda h: get(h) is not None
    if op in ("=", "!="):
        if not isinstance(f.value, str):
            raise SearchError(
                422, f'Property "{f.field}" expects a string as data, "{_type_name(f.value)}" given.'
            )
        wanted = {f.value}
    else:
        wanted = set(_expect_list(f))
    if op in ("IN", "="):
        return lambda h: get(h) in wanted
    return lambda h: get(h) not in wanted


@dataclass
class Compiled:
    """A filter set ready to run: `accept(header)`, and optionally the only slots that can match."""

    accept: Callable[[Any], bool] | None
    candidates: list[int] | None


def _combine(predicates: list[Callable[[Any], bool]]) -> Callable[[Any], bool] | None:
    if not predicates:
        return None
    if len(predicates) == 1:
        return predicates[0]
    return lambda h: all(p(h) for p in predicates)


def _shared_predicate(catalog: Catalog, f: Filter) -> Callable[[Any], bool] | None:
    """Filters products and product models answer alike (both headers have these fields); None otherwise."""
    if f.field in ("updated", "created"):
        return _date_predicate(f, (lambda h: h.updated) if f.field == "updated" else (lambda h: h.created))
    if f.field == "family":
        return _codes_predicate(f, lambda h: h.family)
    if f.field == "categories":
        return _category_predicate(catalog, f)
    if f.field == "parent":
        return _codes_predicate(f, lambda h: h.parent)
    return None


def compile_product_filters(catalog: Catalog, filters: list[Filter], scope: str | None) -> Compiled:
    """Predicates over ProductHeader; `identifier`/`uuid` IN lists also narrow the candidate slots."""
    predicates: list[Callable[[ProductHeader], bool]] = []
    candidates: set[int] | None = None
    for f in filters:
        shared = _shared_predicate(catalog, f)
        if shared is not None:
            predicates.append(shared)
        elif f.field == "enabled":
            if not isinstance(f.value, bool):
                raise SearchError(
                    422, f'Property "enabled" expects a boolean as data, "{_type_name(f.value)}" given.'
                )
            wanted = f.value if f.operator == "=" else not f.value
            predicates.append(lambda h, wanted=wanted: h.enabled is wanted)
        elif f.field == "groups":
            predicates.append(
                (lambda h: not h.groups)
                if f.operator == "EMPTY"
                else (lambda h: bool(h.groups))
                if f.operator == "NOT EMPTY"
                else _set_predicate(f, lambda h: h.groups)
            )
        elif f.field in ("identifier", "uuid"):
            get = (lambda h: h.identifier) if f.field == "identifier" else (lambda h: h.uuid)
            predicates.append(_codes_predicate(f, get))
            if f.operator in ("IN", "="):
                values = [f.value] if f.operator == "=" else f.value
                resolve = (
                    catalog.product_index_of_identifier
                    if f.field == "identifier"
                    else catalog.product_index_of_uuid
                )
                found = {i for v in values if isinstance(v, str) and (i := resolve(v)) is not None}
                candidates = found if candidates is None else candidates & found
    if scope is not None:
        tree = catalog.channel_by_code[scope]["category_tree"]
        roots = catalog.category_root
        predicates.append(lambda h: any(roots[c] == tree for c in h.categories))
    return Compiled(_combine(predicates), sorted(candidates) if candidates is not None else None)


def _set_predicate(f: Filter, get: Callable[[Any], tuple[str, ...]]) -> Callable[[Any], bool]:
    wanted = set(_expect_list(f))
    if f.operator == "IN":
        return lambda h: not wanted.isdisjoint(get(h))
    return lambda h: wanted.isdisjoint(get(h))


def compile_model_filters(catalog: Catalog, filters: list[Filter]) -> Compiled:
    predicates: list[Callable[[ModelHeader], bool]] = []
    candidates: set[int] | None = None
    for f in filters:
        shared = _shared_predicate(catalog, f)
        if shared is not None:
            predicates.append(shared)
        elif f.field == "identifier":
            predicates.append(_codes_predicate(f, lambda h: h.code))
            if f.operator in ("IN", "="):
                values = [f.value] if f.operator == "=" else f.value
                found = {
                    i
                    for v in values
                    if isinstance(v, str) and (i := catalog.model_index_of_code(v)) is not None
                }
                candidates = found if candidates is None else candidates & found
    return Compiled(_combine(predicates), sorted(candidates) if candidates is not None else None)


def _iso_moment(f: Filter) -> datetime:
    """Non-product lists take ISO 8601 dates (`2021-01-01T00:00:00+00:00`)."""
    try:
        moment = datetime.fromisoformat(str(f.value))
    except ValueError:
        raise SearchError(
            422, f'Property "{f.field}" expects a string with the ISO 8601 format as data, "{f.value}" given.'
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def compile_item_filters(
    filters: list[Filter], extra: dict[str, Callable[[dict], Any]] | None = None
) -> Callable[[dict], bool] | None:
    """Predicates over plain item dicts (records, assets, structure lists); `extra` computes derived fields."""
    extra = extra or {}
    predicates: list[Callable[[dict], bool]] = []
    for f in filters:
        get = extra.get(f.field) or (lambda item, field=f.field: item.get(field))
        if f.field == "updated":
            moment = _iso_moment(f)
            predicates.append(lambda item, m=moment, g=get: datetime.fromisoformat(g(item)) > m)
        elif f.operator in ("IN", "NOT IN"):
            wanted = set(_expect_list(f))
            inside = f.operator == "IN"
            predicates.append(lambda item, w=wanted, g=get, inside=inside: (g(item) in w) is inside)
        else:  # "="
            predicates.append(lambda item, v=f.value, g=get: g(item) == v)
    return _combine(predicates)
