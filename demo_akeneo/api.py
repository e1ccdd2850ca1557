"""The REST resources of the demo Akeneo: routing, Akeneo's two pagination types, filters and documents.

Pure request -> response logic over a Catalog; HTTP plumbing, tokens and faults live in server.py. Read-only:
every route answers GET, other methods get Akeneo's 405.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from itertools import islice
from typing import Any
from urllib.parse import quote, unquote, urlencode

from demo_akeneo import media
from demo_akeneo.catalog import Catalog, first_after
from demo_akeneo.search import (
    ITEM_OPERATORS,
    MODEL_OPERATORS,
    PRODUCT_OPERATORS,
    SearchError,
    compile_item_filters,
    compile_model_filters,
    compile_product_filters,
    parse_search,
)

API = "/api/rest/v1"
MAX_LIMIT = 100
MAX_PAGE_OFFSET = 10_000  # Akeneo's Elasticsearch window for `page` pagination on products and models
SEARCH_AFTER_ONLY_PAGE_SIZE = 100  # records, assets, reference entities, asset families: fixed page size
MAX_PAGES_MESSAGE = (
    'You have reached the maximum number of pages you can retrieve with the "page" pagination type. '
    "Please use the search after pagination type instead"
)


class ApiError(Exception):
    """An Akeneo error answer: `{"code": status, "message": message}`."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass
class Request:
    method: str
    path: str  # raw path, no query string
    query_items: list[tuple[str, str]]
    headers: Mapping[str, str]
    base_url: str  # scheme://host[:port] as the client addressed us (Host header)

    @cached_property
    def query(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, value in self.query_items:
            out.setdefault(key, value)
        return out


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    list_page: bool = False  # a paginated list answer (what `malformed_page` counts)


def dumps(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_response(status: int, payload: Any, *, list_page: bool = False) -> Response:
    return Response(status, dumps(payload), list_page=list_page)


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(status, dumps({"code": status, "message": message}), headers=dict(headers or {}))


# ----------------------------------------------------------------------------------------------- pagination
@dataclass
class Listing:
    """A virtual list sorted by `key`: positions 0..size-1, items rendered only when served."""

    size: int
    key: Callable[[int], str]
    render: Callable[[int], dict[str, Any]]
    href: Callable[[int], str]
    accept: Callable[[int], bool] | None = None
    candidates: list[int] | None = None
    nth: Callable[[int], int] | None = None  # unfiltered: position of the o-th listed item, O(log n)
    count: Callable[[], int] | None = None  # unfiltered: how many items are listed, O(1)
    max_offset: int | None = None
    extra_links: Callable[[int], dict[str, Any]] | None = (
        None  # links beside `self` (download, image_download)
    )

    def scan(self, start: int) -> Iterator[int]:
        positions: Any = (
            self.candidates[bisect_left(self.candidates, start) :]
            if self.candidates is not None
            else range(start, self.size)
        )
        accept = self.accept
        for position in positions:
            if accept is None or accept(position):
                yield position

    def total(self) -> int:
        return self.count() if self.count is not None else sum(1 for _ in self.scan(0))


def encode_cursor(key: str) -> str:
    """An opaque `search_after` cursor: the (URL-safe) base64 of the last sort key served."""
    return base64.urlsafe_b64encode(key.encode()).decode()


def decode_cursor(cursor: str) -> str:
    try:
        normalised = cursor.strip().replace("+", "-").replace("/", "_").replace(" ", "-")
        return base64.urlsafe_b64decode(normalised.encode() + b"=" * (-len(normalised) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ApiError(422, 'Parameter "search_after" is not valid.') from None


def _int_param(query: dict[str, str], name: str, default: int, message: str) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"\d+", raw) or int(raw) < 1:
        raise ApiError(422, message.format(raw))
    return int(raw)


def _bool_param(query: dict[str, str], name: str) -> bool:
    raw = query.get(name, "false")
    if raw not in ("true", "false", "1", "0"):
        raise ApiError(
            422, f'Parameter "{name}" has to be a boolean. Only "true" or "false" allowed, "{raw}" given.'
        )
    return raw in ("true", "1")


def _url(base: str, params: list[tuple[str, str]]) -> str:
    return f"{base}?{urlencode(params)}" if params else base


def paginate(
    req: Request, listing: Listing, *, search_after: bool, search_after_only: bool = False
) -> Response:
    """Akeneo's list answer: `page` (default) or `search_after` pagination with absolute `_links`."""
    query = req.query
    base = req.base_url + req.path
    if search_after_only:
        kind = "search_after"
        limit = SEARCH_AFTER_ONLY_PAGE_SIZE
    else:
        kind = query.get("pagination_type", "page")
        if kind not in ("page", "search_after"):
            raise ApiError(422, "Pagination type does not exist.")
        if kind == "search_after" and not search_after:
            raise ApiError(422, "Pagination type is not supported.")
        limit = _int_param(query, "limit", 10, '"{}" is not a valid limit number.')
        if limit > MAX_LIMIT:
            raise ApiError(422, f"You cannot request more than {MAX_LIMIT} items.")
    reserved = {"page", "limit", "with_count", "pagination_type", "search_after"}
    extra = [(k, v) for k, v in req.query_items if k not in reserved]

    def item(position: int) -> dict[str, Any]:
        links = {"self": {"href": listing.href(position)}}
        if listing.extra_links is not None:
            links.update(listing.extra_links(position))
        return {"_links": links, **listing.render(position)}

    if kind == "search_after":
        start = 0
        cursor = query.get("search_after")
        if cursor:
            start = first_after(decode_cursor(cursor), listing.size, listing.key)
        positions = list(islice(listing.scan(start), limit))
        head = [] if search_after_only else [("pagination_type", "search_after"), ("limit", str(limit))]
        self_params = head + ([("search_after", cursor)] if cursor else [])
        links: dict[str, Any] = {
            "self": {"href": _url(base, self_params + extra)},
            "first": {"href": _url(base, head + extra)},
        }
        if len(positions) == limit and positions:
            next_cursor = encode_cursor(listing.key(positions[-1]))
            links["next"] = {"href": _url(base, [*head, ("search_after", next_cursor), *extra])}
        return json_response(
            200, {"_links": links, "_embedded": {"items": [item(p) for p in positions]}}, list_page=True
        )

    page = _int_param(query, "page", 1, '"{}" is not a valid page number.')
    with_count = _bool_param(query, "with_count")
    offset = (page - 1) * limit
    if listing.max_offset is not None and offset >= listing.max_offset:
        raise ApiError(422, MAX_PAGES_MESSAGE)
    if listing.nth is not None:
        total = listing.total()
        start = listing.nth(offset) if offset < total else listing.size
        positions = list(islice(listing.scan(start), limit))
    else:
        positions = list(islice(listing.scan(0), offset, offset + limit))
    count = listing.total() if with_count else None
    has_next = offset + len(positions) < count if count is not None else len(positions) == limit

    typed = [("pagination_type", "page")] if search_after else []

    def page_url(number: int) -> str:
        params = [
            ("page", str(number)),
            ("with_count", "true" if with_count else "false"),
            *typed,
            ("limit", str(limit)),
        ]
        return _url(base, params + extra)

    links = {"self": {"href": page_url(page)}, "first": {"href": page_url(1)}}
    if page > 1:
        links["previous"] = {"href": page_url(page - 1)}
    if has_next:
        links["next"] = {"href": page_url(page + 1)}
    payload: dict[str, Any] = {"_links": links, "current_page": page}
    if count is not None:
        payload["items_count"] = count
    payload["_embedded"] = {"items": [item(p) for p in positions]}
    return json_response(200, payload, list_page=True)


def list_of(
    items: list[dict[str, Any]],
    href: Callable[[dict[str, Any]], str],
    accept: Callable[[dict], bool] | None = None,
    render: Callable[[dict], dict] | None = None,
) -> Listing:
    """A Listing over an in-memory list already sorted the way Akeneo lists it."""
    chosen = [i for i in items if accept(i)] if accept else items
    return Listing(
        size=len(chosen),
        key=lambda p: chosen[p]["code"],
        render=(lambda p: render(chosen[p])) if render else (lambda p: chosen[p]),
        href=lambda p: href(chosen[p]),
        count=lambda: len(chosen),
        nth=lambda o: o,
    )


# ----------------------------------------------------------------------------------------------- routing
@dataclass(frozen=True)
class Route:
    name: str  # Akeneo's route name, listed by GET /api/rest/v1
    template: str  # Akeneo's route path, e.g. /api/rest/v1/products/{code}
    pattern: re.Pattern[str]
    handler: Callable[..., Response]
    kind: str  # what stats count this request as
    public: bool = False  # no token needed
    binary: bool = False  # a download: any Accept is fine


def _compile(template: str) -> re.Pattern[str]:
    regex = re.escape(template)
    for name in re.findall(r"\{(\w+)\}", template):
        keeps_slashes = name in ("media_code", "file_path")  # media codes keep their slashes
        part = f"(?P<{name}>.+)" if keeps_slashes else f"(?P<{name}>[^/]+)"
        regex = regex.replace(re.escape(f"{{{name}}}"), part)
    return re.compile(f"^{regex}$")


class DemoApi:
    """All read endpoints of the demo, over one Catalog."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        products_uuid: bool = True,
        legacy_measurements: bool = False,
        refuse_flags: Iterable[str] = (),
    ) -> None:
        self.catalog = catalog
        self.products_uuid = products_uuid
        self.legacy_measurements = legacy_measurements
        self.refuse_flags = frozenset(refuse_flags)
        self.routes: list[Route] = []
        c = f"{API}"
        add = self._add
        add("pim_api_rest_list", c, self.root, "root", public=True)
        add("pim_api_system_information_get", f"{c}/system-information", self.system_information, "system")
        if products_uuid:
            add(
                "pim_api_product_uuid_list",
                f"{c}/products-uuid",
                self.products_uuid_list,
                "products-uuid:list",
            )
            add(
                "pim_api_product_uuid_get",
                f"{c}/products-uuid/{{uuid}}",
                self.product_uuid_get,
                "products-uuid:item",
            )
        add("pim_api_product_list", f"{c}/products", self.products_list, "products:list")
        add("pim_api_product_get", f"{c}/products/{{code}}", self.product_get, "products:item")
        add("pim_api_product_model_list", f"{c}/product-models", self.models_list, "product-models:list")
        add(
            "pim_api_product_model_get", f"{c}/product-models/{{code}}", self.model_get, "product-models:item"
        )
        add("pim_api_media_file_list", f"{c}/media-files", self.media_list, "media-files:list")
        add(
            "pim_api_media_file_download",
            f"{c}/media-files/{{media_code}}/download",
            self.media_download,
            "media-files:download",
            binary=True,
        )
        add("pim_api_media_file_get", f"{c}/media-files/{{media_code}}", self.media_get, "media-files:item")
        for plural, noun, attr, name in (
            ("locales", "Locale", "locales", "locale"),
            ("currencies", "Currency", "currencies", "currency"),
            ("channels", "Channel", "channels", "channel"),
            ("categories", "Category", "categories", "category"),
            ("attribute-groups", "Attribute group", "attribute_groups", "attribute_group"),
            ("attributes", "Attribute", "attributes", "attribute"),
            ("families", "Family", "families", "family"),
            ("association-types", "Association type", "association_types", "association_type"),
        ):
            add(f"pim_api_{name}_list", f"{c}/{plural}", self._structure_list(plural, attr), f"{plural}:list")
            add(
                f"pim_api_{name}_get",
                f"{c}/{plural}/{{code}}",
                self._structure_get(plural, noun, attr),
                f"{plural}:item",
            )
        add(
            "pim_api_attribute_option_list",
            f"{c}/attributes/{{attribute_code}}/options",
            self.options_list,
            "attribute-options:list",
        )
        add(
            "pim_api_attribute_option_get",
            f"{c}/attributes/{{attribute_code}}/options/{{code}}",
            self.option_get,
            "attribute-options:item",
        )
        add(
            "pim_api_family_variant_list",
            f"{c}/families/{{family_code}}/variants",
            self.variants_list,
            "family-variants:list",
        )
        add(
            "pim_api_family_variant_get",
            f"{c}/families/{{family_code}}/variants/{{code}}",
            self.variant_get,
            "family-variants:item",
        )
        add(
            "pim_api_category_media_file_download",
            f"{c}/category-media-files/{{file_path}}/download",
            self.category_media_download,
            "category-media:download",
            binary=True,
        )
        if not legacy_measurements:  # a PIM < 5.0 has no /measurement-families route at all
            add(
                "pim_api_measurement_family_get",
                f"{c}/measurement-families",
                self.measurement_families,
                "measurement-families:list",
            )
        add(
            "pim_api_measure_family_list",
            f"{c}/measure-families",
            self.measure_families_list,
            "measure-families:list",
        )
        add(
            "pim_api_measure_family_get",
            f"{c}/measure-families/{{code}}",
            self.measure_family_get,
            "measure-families:item",
        )
        re_ = f"{c}/reference-entities"
        add(
            "akeneo_reference_entities_reference_entities_rest_connector_get",
            re_,
            self.reference_entities_list,
            "reference-entities:list",
        )
        add(
            "akeneo_reference_entities_reference_entity_rest_connector_get",
            f"{re_}/{{code}}",
            self.reference_entity_get,
            "reference-entities:item",
        )
        add(
            "akeneo_reference_entities_attributes_rest_connector_get",
            f"{re_}/{{reference_entity_code}}/attributes",
            self.ref_attributes_list,
            "reference-entity-attributes:list",
        )
        add(
            "akeneo_reference_entities_attribute_rest_connector_get",
            f"{re_}/{{reference_entity_code}}/attributes/{{code}}",
            self.ref_attribute_get,
            "reference-entity-attributes:item",
        )
        add(
            "akeneo_reference_entities_attribute_options_rest_connector_get",
            f"{re_}/{{reference_entity_code}}/attributes/{{attribute_code}}/options",
            self.ref_options_list,
            "reference-entity-options:list",
        )
        add(
            "akeneo_reference_entities_attribute_option_rest_connector_get",
            f"{re_}/{{reference_entity_code}}/attributes/{{attribute_code}}/options/{{code}}",
            self.ref_option_get,
            "reference-entity-options:item",
        )
        add(
            "akeneo_reference_entities_records_rest_connector_get",
            f"{re_}/{{reference_entity_code}}/records",
            self.records_list,
            "records:list",
        )
        add(
            "akeneo_reference_entities_record_rest_connector_get",
            f"{re_}/{{reference_entity_code}}/records/{{code}}",
            self.record_get,
            "records:item",
        )
        add(
            "akeneo_reference_entities_media_file_rest_connector_get",
            f"{c}/reference-entities-media-files/{{media_code}}",
            self.ref_media_download,
            "reference-entities-media:download",
            binary=True,
        )
        af = f"{c}/asset-families"
        add(
            "akeneo_asset_manager_asset_families_rest_connector_get",
            af,
            self.asset_families_list,
            "asset-families:list",
        )
        add(
            "akeneo_asset_manager_asset_family_rest_connector_get",
            f"{af}/{{code}}",
            self.asset_family_get,
            "asset-families:item",
        )
        add(
            "akeneo_asset_manager_attributes_rest_connector_get",
            f"{af}/{{asset_family_code}}/attributes",
            self.asset_attributes_list,
            "asset-attributes:list",
        )
        add(
            "akeneo_asset_manager_attribute_rest_connector_get",
            f"{af}/{{asset_family_code}}/attributes/{{code}}",
            self.asset_attribute_get,
            "asset-attributes:item",
        )
        add(
            "akeneo_asset_manager_attribute_options_rest_connector_get",
            f"{af}/{{asset_family_code}}/attributes/{{attribute_code}}/options",
            self.asset_options_list,
            "asset-options:list",
        )
        add(
            "akeneo_asset_manager_attribute_option_rest_connector_get",
            f"{af}/{{asset_family_code}}/attributes/{{attribute_code}}/options/{{code}}",
            self.asset_option_get,
            "asset-options:item",
        )
        add(
            "akeneo_asset_manager_assets_rest_connector_get",
            f"{af}/{{asset_family_code}}/assets",
            self.assets_list,
            "assets:list",
        )
        add(
            "akeneo_asset_manager_asset_rest_connector_get",
            f"{af}/{{asset_family_code}}/assets/{{code}}",
            self.asset_get,
            "assets:item",
        )
        add(
            "akeneo_asset_manager_media_file_rest_connector_get",
            f"{c}/asset-media-files/{{media_code}}",
            self.asset_media_download,
            "asset-media:download",
            binary=True,
        )

    def _add(
        self,
        name: str,
        template: str,
        handler: Callable[..., Response],
        kind: str,
        *,
        public: bool = False,
        binary: bool = False,
    ) -> None:
        self.routes.append(Route(name, template, _compile(template), handler, kind, public, binary))

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route for a raw path (media codes keep their slashes), or 404/405 like Akeneo's router."""
        for route in self.routes:
            found = route.pattern.match(path)
            if found:
                if method not in ("GET", "HEAD"):
                    raise ApiError(
                        405, f'No route found for "{method} {path}": Method Not Allowed (Allow: GET)'
                    )
                return route, {k: unquote(v) for k, v in found.groupdict().items()}
        raise ApiError(404, f'No route found for "{method} {path}"')

    def check_refused_flags(self, req: Request) -> None:
        """`refuse_flags`: a query parameter this (older) PIM validates and rejects, present with any value."""
        for key, _value in req.query_items:
            if key in self.refuse_flags:
                raise ApiError(422, f'The "{key}" query parameter is not supported.')

    # ------------------------------------------------------------------------------------------- root
    def root(self, req: Request) -> Response:
        routes = {r.name: {"route": r.template, "methods": ["GET"]} for r in self.routes}
        return json_response(
            200,
            {
                "host": req.base_url,
                "authentication": {
                    "fos_oauth_server_token": {"route": "/api/oauth/v1/token", "methods": ["POST"]}
                },
                "routes": routes,
            },
        )

    def system_information(self, req: Request) -> Response:
        version = "7.0.50" if self.products_uuid else "6.0.80"
        return json_response(200, {"version": version, "edition": "CE"})

    # ------------------------------------------------------------------------------------------- products
    def _value_filter(self, req: Request, *, scope_param: str = "scope") -> Callable[[dict], dict] | None:
        """`scope`, `locales` and `attributes` query params -> a function trimming a values dict."""
        query = req.query
        catalog = self.catalog
        scope = query.get(scope_param)
        locales = [loc for loc in query.get("locales", "").split(",") if loc] if "locales" in query else None
        attributes = (
            [a for a in query.get("attributes", "").split(",") if a] if "attributes" in query else None
        )
        if scope is not None and scope not in catalog.channel_by_code:
            raise ApiError(422, f'Scope "{scope}" does not exist.')
        if locales is not None:
            bad = [loc for loc in locales if loc not in {x["code"] for x in catalog.locales if x["enabled"]}]
            if bad:
                raise ApiError(422, f'Locales "{", ".join(bad)}" do not exist or are not activated.')
        if attributes is not None:
            bad = [a for a in attributes if a not in catalog.attribute_by_code]
            if bad:
                raise ApiError(422, f'Attributes "{", ".join(bad)}" do not exist.')
        if scope is None and locales is None and attributes is None:
            return None
        allowed_locales = (
            set(locales)
            if locales is not None
            else (set(catalog.channel_by_code[scope]["locales"]) if scope else None)
        )
        allowed_attrs = set(attributes) if attributes is not None else None

        def trim(values: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
            out = {}
            for code, items in values.items():
                if allowed_attrs is not None and code not in allowed_attrs:
                    continue
                kept = [
                    v
                    for v in items
                    if (scope is None or v.get("scope") in (None, scope))
                    and (allowed_locales is None or v.get("locale") in (None, *allowed_locales))
                ]
                if kept:
                    out[code] = kept
            return out

        return trim

    def _decorate_values(
        self, req: Request, doc: dict[str, Any], trim: Callable[[dict], dict] | None
    ) -> dict[str, Any]:
        """Media values get `_links.download`, select values `linked_data` when asked for."""
        values = trim(doc["values"]) if trim else doc["values"]
        with_options = _bool_param(req.query, "with_attribute_options")
        types = self.catalog.attribute_types
        for code, items in values.items():
            typ = types.get(code)
            if typ in ("pim_catalog_image", "pim_catalog_file"):
                for v in items:
                    v["_links"] = {
                        "download": {"href": f"{req.base_url}{API}/media-files/{v['data']}/download"}
                    }
            elif with_options and typ in ("pim_catalog_simpleselect", "pim_catalog_multiselect"):
                labels = self.catalog.option_labels[code]
                for v in items:
                    if typ == "pim_catalog_simpleselect":
                        v["linked_data"] = {"attribute": code, "code": v["data"], "labels": labels[v["data"]]}
                    else:
                        v["linked_data"] = {
                            o: {"attribute": code, "code": o, "labels": labels[o]} for o in v["data"]
                        }
        doc["values"] = values
        return doc

    def _product_listing(self, req: Request, *, by_uuid: bool) -> Listing:
        catalog = self.catalog
        query = req.query
        try:
            filters = parse_search(query.get("search"), PRODUCT_OPERATORS)
        except SearchError as exc:
            raise ApiError(exc.status, exc.message) from None
        trim = self._value_filter(req)
        scope = query.get("scope")
        try:
            compiled = compile_product_filters(catalog, filters, scope)
        except SearchError as exc:
            raise ApiError(exc.status, exc.message) from None
        header = catalog.product_header
        user_accept = compiled.accept
        if by_uuid:
            key = catalog.product_uuid
            base_accept = None
        else:
            key = catalog.product_sort_identifier
            base_accept = catalog.has_identifier
        if user_accept and base_accept:
            accept: Callable[[int], bool] | None = lambda i: base_accept(i) and user_accept(header(i))  # noqa: E731
        elif user_accept:
            accept = lambda i: user_accept(header(i))  # noqa: E731
        else:
            accept = base_accept
        unfiltered = user_accept is None and compiled.candidates is None
        n = catalog.product_count
        if by_uuid:
            nth, count = (lambda o: o), (lambda: n)
        else:
            nth, count = self._nth_identified, (lambda: catalog.identifier_count_below(n))
        path = "products-uuid" if by_uuid else "products"
        return Listing(
            size=n,
            key=key,
            render=lambda i: self._decorate_values(req, catalog.product(i, by_uuid=by_uuid), trim),
            href=lambda i: f"{req.base_url}{API}/{path}/{quote(key(i))}",
            accept=accept,
            candidates=compiled.candidates,
            nth=nth if unfiltered else None,
            count=count if unfiltered else None,
            max_offset=MAX_PAGE_OFFSET,
        )

    def _nth_identified(self, offset: int) -> int:
        """Position of the offset-th product that has an identifier (binary search over an O(1) count)."""
        lo, hi = 0, self.catalog.product_count
        while lo < hi:
            mid = (lo + hi) // 2
            if self.catalog.identifier_count_below(mid + 1) > offset:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def products_uuid_list(self, req: Request) -> Response:
        return paginate(req, self._product_listing(req, by_uuid=True), search_after=True)

    def products_list(self, req: Request) -> Response:
        return paginate(req, self._product_listing(req, by_uuid=False), search_after=True)

    def product_uuid_get(self, req: Request, uuid: str) -> Response:
        index = self.catalog.product_index_of_uuid(uuid)
        if index is None:
            raise ApiError(
                404, f'Product "{uuid}" does not exist or you do not have permission to access it.'
            )
        return json_response(200, self._decorate_values(req, self.catalog.product(index, by_uuid=True), None))

    def product_get(self, req: Request, code: str) -> Response:
        index = self.catalog.product_index_of_identifier(code)
        if index is None:
            raise ApiError(
                404, f'Product "{code}" does not exist or you do not have permission to access it.'
            )
        return json_response(
            200, self._decorate_values(req, self.catalog.product(index, by_uuid=False), None)
        )

    def models_list(self, req: Request) -> Response:
        catalog = self.catalog
        try:
            filters = parse_search(req.query.get("search"), MODEL_OPERATORS)
            compiled = compile_model_filters(catalog, filters)
        except SearchError as exc:
            raise ApiError(exc.status, exc.message) from None
        trim = self._value_filter(req)
        scope = req.query.get("scope")
        predicates = [p for p in (compiled.accept,) if p]
        if scope:
            tree = catalog.channel_by_code[scope]["category_tree"]
            predicates.append(lambda h: any(catalog.category_root[c] == tree for c in h.categories))
        header = catalog.model_header
        accept = (lambda i: all(p(header(i)) for p in predicates)) if predicates else None
        unfiltered = accept is None and compiled.candidates is None
        m = catalog.model_count
        listing = Listing(
            size=m,
            key=catalog.model_code,
            render=lambda i: self._decorate_values(req, catalog.product_model(i), trim),
            href=lambda i: f"{req.base_url}{API}/product-models/{quote(catalog.model_code(i))}",
            accept=accept,
            candidates=compiled.candidates,
            nth=(lambda o: o) if unfiltered else None,
            count=(lambda: m) if unfiltered else None,
            max_offset=MAX_PAGE_OFFSET,
        )
        return paginate(req, listing, search_after=True)

    def model_get(self, req: Request, code: str) -> Response:
        index = self.catalog.model_index_of_code(code)
        if index is None:
            raise ApiError(
                404, f'Product model "{code}" does not exist or you do not have permission to access it.'
            )
        return json_response(200, self._decorate_values(req, self.catalog.product_model(index), None))

    # ------------------------------------------------------------------------------------------- media
    def _media_doc(self, req: Request, found: media.MediaFile) -> dict[str, Any]:
        content = media.media_bytes(self.catalog.seed, found.kind, found.index)
        return {
            "_links": {"download": {"href": f"{req.base_url}{API}/media-files/{found.code}/download"}},
            "code": found.code,
            "original_filename": found.original_filename,
            "mime_type": found.mime_type,
            "size": len(content),
            "extension": found.extension,
        }

    def media_list(self, req: Request) -> Response:
        catalog = self.catalog

        def render(position: int) -> dict[str, Any]:
            doc = self._media_doc(req, catalog.media_at(position))
            del doc["_links"]
            return doc

        listing = Listing(
            size=catalog.media_count,
            key=lambda p: catalog.media_at(p).code,
            render=render,
            href=lambda p: f"{req.base_url}{API}/media-files/{catalog.media_at(p).code}",
            nth=lambda o: o,
            count=lambda: catalog.media_count,
            extra_links=lambda p: {
                "download": {"href": f"{req.base_url}{API}/media-files/{catalog.media_at(p).code}/download"}
            },
        )
        return paginate(req, listing, search_after=False)

    def media_get(self, req: Request, media_code: str) -> Response:
        found = self.catalog.product_media(media_code)
        if found is None:
            raise ApiError(404, f'Media file "{media_code}" does not exist.')
        return json_response(200, self._media_doc(req, found))

    def _download(self, found: media.MediaFile | None, code: str, noun: str) -> Response:
        if found is None:
            raise ApiError(404, f'{noun} "{code}" does not exist.')
        content = media.media_bytes(self.catalog.seed, found.kind, found.index)
        return Response(
            200,
            content,
            content_type=found.mime_type,
            headers={"Content-Disposition": f'attachment; filename="{found.original_filename}"'},
        )

    def media_download(self, req: Request, media_code: str) -> Response:
        return self._download(self.catalog.product_media(media_code), media_code, "Media file")

    def asset_media_download(self, req: Request, media_code: str) -> Response:
        return self._download(self.catalog.asset_media(media_code), media_code, "Media file")

    def category_media_download(self, req: Request, file_path: str) -> Response:
        return self._download(self.catalog.category_media(file_path), file_path, "Category media file")

    def ref_media_download(self, req: Request, media_code: str) -> Response:
        return self._download(self.catalog.reference_entity_media(media_code), media_code, "Media file")

    # ------------------------------------------------------------------------------------------- structure
    def _search_items(self, req: Request, plural: str) -> Callable[[dict], bool] | None:
        operators = ITEM_OPERATORS.get(plural)
        raw = req.query.get("search")
        if raw and operators is None:
            return None  # Akeneo ignores `search` where it is not supported
        try:
            filters = parse_search(raw, operators or {})
            extra = {
                "is_root": lambda item: item.get("parent") is None,
                "has_products": lambda item: item["code"] != "accessories",
            }
            return compile_item_filters(filters, extra)
        except SearchError as exc:
            raise ApiError(exc.status, exc.message) from None

    def _structure_list(self, plural: str, attr: str) -> Callable[[Request], Response]:
        def handler(req: Request) -> Response:
            items = getattr(self.catalog, attr)
            render = None
            if plural == "categories":
                render = self._category_render(req)
            if plural == "attributes" and _bool_param(req.query, "with_table_select_options"):
                render = self._with_table_options
            listing = list_of(
                items,
                lambda item: f"{req.base_url}{API}/{plural}/{quote(item['code'])}",
                self._search_items(req, plural),
                render,
            )
            return paginate(req, listing, search_after=False)

        return handler

    def _category_render(self, req: Request) -> Callable[[dict], dict] | None:
        """`with_position` adds `position`, `with_enriched_attributes` adds `values` (null when none), in that
        order, like Akeneo's ExternalApiCategory normalizer."""
        with_position = _bool_param(req.query, "with_position")
        with_values = _bool_param(req.query, "with_enriched_attributes")
        if not (with_position or with_values):
            return None
        positions = self.catalog.category_positions
        values = self.catalog.category_values

        def render(item: dict[str, Any]) -> dict[str, Any]:
            out = dict(item)
            if with_position:
                out["position"] = positions[item["code"]]
            if with_values:
                out["values"] = values[item["code"]]
            return out

        return render

    def _with_table_options(self, attribute: dict[str, Any]) -> dict[str, Any]:
        if attribute["type"] != "pim_catalog_table":
            return attribute
        options = self.catalog.table_select_options.get(attribute["code"], {})
        columns = []
        for column in attribute["table_configuration"]:
            if column["code"] in options:
                column = {
                    **column,
                    "options": [{"code": c, "labels": lab} for c, lab in options[column["code"]].items()],
                }
            columns.append(column)
        return {**attribute, "table_configuration": columns}

    def _structure_get(self, plural: str, noun: str, attr: str) -> Callable[..., Response]:
        def handler(req: Request, code: str) -> Response:
            for item in getattr(self.catalog, attr):
                if item["code"] == code:
                    if plural == "categories":
                        render = self._category_render(req)
                        item = render(item) if render else item
                    if plural == "attributes" and _bool_param(req.query, "with_table_select_options"):
                        item = self._with_table_options(item)
                    return json_response(200, item)
            raise ApiError(404, f'{noun} "{code}" does not exist.')

        return handler

    def _attribute_or_404(self, code: str) -> dict[str, Any]:
        attribute = self.catalog.attribute_by_code.get(code)
        if attribute is None:
            raise ApiError(404, f'Attribute "{code}" does not exist.')
        return attribute

    def options_list(self, req: Request, attribute_code: str) -> Response:
        attribute = self._attribute_or_404(attribute_code)
        if attribute["type"] not in ("pim_catalog_simpleselect", "pim_catalog_multiselect"):
            raise ApiError(
                404,
                f'Attribute "{attribute_code}" does not support options. Only attributes of type "pim_catalog_simpleselect", "pim_catalog_multiselect" support options.',
            )
        options = self.catalog.attribute_options[attribute_code]
        href = lambda o: f"{req.base_url}{API}/attributes/{attribute_code}/options/{quote(o['code'])}"  # noqa: E731
        return paginate(req, list_of(options, href), search_after=False)

    def option_get(self, req: Request, attribute_code: str, code: str) -> Response:
        self._attribute_or_404(attribute_code)
        for option in self.catalog.attribute_options.get(attribute_code, ()):
            if option["code"] == code:
                return json_response(200, option)
        raise ApiError(
            404,
            f'Attribute option "{code}" does not exist or is not an option of the attribute "{attribute_code}".',
        )

    def _family_or_404(self, code: str) -> dict[str, Any]:
        family = self.catalog.family_by_code.get(code)
        if family is None:
            raise ApiError(404, f'Family "{code}" does not exist.')
        return family

    def variants_list(self, req: Request, family_code: str) -> Response:
        self._family_or_404(family_code)
        variants = self.catalog.family_variants[family_code]
        href = lambda v: f"{req.base_url}{API}/families/{family_code}/variants/{quote(v['code'])}"  # noqa: E731
        return paginate(req, list_of(variants, href), search_after=False)

    def variant_get(self, req: Request, family_code: str, code: str) -> Response:
        self._family_or_404(family_code)
        for variant in self.catalog.family_variants[family_code]:
            if variant["code"] == code:
                return json_response(200, variant)
        raise ApiError(
            404, f'Family variant "{code}" does not exist or is not a variant of the family "{family_code}".'
        )

    def measurement_families(self, req: Request) -> Response:
        return json_response(200, self.catalog.measurement_families)

    @cached_property
    def _measure_families(self) -> list[dict[str, Any]]:
        """The measurement families in the deprecated (PIM < 5.0) `/measure-families` shape, sorted by code."""
        return [
            {
                "code": family["code"],
                "standard": family["standard_unit_code"],
                "units": [
                    {
                        "code": unit["code"],
                        "convert": {op["operator"]: op["value"] for op in unit["convert_from_standard"]},
                        "symbol": unit["symbol"],
                    }
                    for unit in family["units"].values()
                ],
            }
            for family in sorted(self.catalog.measurement_families, key=lambda f: f["code"])
        ]

    def measure_families_list(self, req: Request) -> Response:
        href = lambda f: f"{req.base_url}{API}/measure-families/{quote(f['code'])}"  # noqa: E731
        return paginate(req, list_of(self._measure_families, href), search_after=False)

    def measure_family_get(self, req: Request, code: str) -> Response:
        for family in self._measure_families:
            if family["code"] == code:
                return json_response(200, family)
        raise ApiError(404, f'Measure family "{code}" does not exist.')

    # ------------------------------------------------------------------------------------------- reference entities
    def _entity_or_404(self, code: str) -> dict[str, Any]:
        for entity in self.catalog.reference_entities:
            if entity["code"] == code:
                return entity
        raise ApiError(404, f'Reference entity "{code}" does not exist.')

    def _entity_doc(self, req: Request, entity: dict[str, Any]) -> dict[str, Any]:
        if not entity["image"]:
            return entity
        href = f"{req.base_url}{API}/reference-entities-media-files/{entity['image']}"
        return {"_links": {"image_download": {"href": href}}, **entity}

    def reference_entities_list(self, req: Request) -> Response:
        entities = self.catalog.reference_entities
        base = f"{req.base_url}{API}"
        listing = Listing(
            size=len(entities),
            key=lambda p: entities[p]["code"],
            render=lambda p: entities[p],
            href=lambda p: f"{base}/reference-entities/{entities[p]['code']}",
            extra_links=lambda p: (
                {"image_download": {"href": f"{base}/reference-entities-media-files/{entities[p]['image']}"}}
                if entities[p]["image"]
                else {}
            ),
        )
        return paginate(req, listing, search_after=True, search_after_only=True)

    def reference_entity_get(self, req: Request, code: str) -> Response:
        return json_response(200, self._entity_doc(req, self._entity_or_404(code)))

    def ref_attributes_list(self, req: Request, reference_entity_code: str) -> Response:
        self._entity_or_404(reference_entity_code)
        return json_response(200, self.catalog.reference_entity_attributes[reference_entity_code])

    def ref_attribute_get(self, req: Request, reference_entity_code: str, code: str) -> Response:
        self._entity_or_404(reference_entity_code)
        for attribute in self.catalog.reference_entity_attributes[reference_entity_code]:
            if attribute["code"] == code:
                return json_response(200, attribute)
        raise ApiError(
            404, f'Attribute "{code}" does not exist for the reference entity "{reference_entity_code}".'
        )

    def ref_options_list(self, req: Request, reference_entity_code: str, attribute_code: str) -> Response:
        self.ref_attribute_get(req, reference_entity_code, attribute_code)
        options = self.catalog.reference_entity_options[reference_entity_code].get(attribute_code)
        if options is None:
            raise ApiError(404, f'Attribute "{attribute_code}" does not support options.')
        return json_response(200, options)

    def ref_option_get(
        self, req: Request, reference_entity_code: str, attribute_code: str, code: str
    ) -> Response:
        self.ref_attribute_get(req, reference_entity_code, attribute_code)
        for option in self.catalog.reference_entity_options[reference_entity_code].get(attribute_code, ()):
            if option["code"] == code:
                return json_response(200, option)
        raise ApiError(404, f'Option "{code}" does not exist for the attribute "{attribute_code}".')

    def _channel_values(self, req: Request) -> Callable[[dict], dict] | None:
        """`channel` and `locales` params on records and assets (values use `channel`, not `scope`)."""
        channel = req.query.get("channel")
        locales = (
            [loc for loc in req.query.get("locales", "").split(",") if loc]
            if "locales" in req.query
            else None
        )
        if channel is not None and channel not in self.catalog.channel_by_code:
            raise ApiError(422, f'Channel "{channel}" does not exist.')
        if channel is None and locales is None:
            return None

        def trim(item: dict[str, Any]) -> dict[str, Any]:
            values = {}
            for code, items in item["values"].items():
                kept = [
                    v
                    for v in items
                    if (channel is None or v["channel"] in (None, channel))
                    and (locales is None or v["locale"] in (None, *locales))
                ]
                if kept:
                    values[code] = kept
            return {**item, "values": values}

        return trim

    def _search_after_items(
        self,
        req: Request,
        items: list[dict[str, Any]],
        kind: str,
        href: Callable[[dict], str],
        render: Callable[[dict], dict],
    ) -> Response:
        accept = self._search_items(req, kind)
        chosen = [i for i in items if accept(i)] if accept else items
        listing = Listing(
            size=len(chosen),
            key=lambda p: chosen[p]["code"],
            render=lambda p: render(chosen[p]),
            href=lambda p: href(chosen[p]),
        )
        return paginate(req, listing, search_after=True, search_after_only=True)

    def records_list(self, req: Request, reference_entity_code: str) -> Response:
        self._entity_or_404(reference_entity_code)
        trim = self._channel_values(req) or (lambda item: item)
        base = f"{req.base_url}{API}/reference-entities/{reference_entity_code}/records"
        return self._search_after_items(
            req,
            self.catalog.records[reference_entity_code],
            "records",
            lambda r: f"{base}/{quote(r['code'])}",
            trim,
        )

    def record_get(self, req: Request, reference_entity_code: str, code: str) -> Response:
        self._entity_or_404(reference_entity_code)
        for record in self.catalog.records[reference_entity_code]:
            if record["code"] == code:
                return json_response(200, record)
        raise ApiError(
            404, f'Record "{code}" does not exist for the reference entity "{reference_entity_code}".'
        )

    # ------------------------------------------------------------------------------------------- assets
    def _asset_family_or_404(self, code: str) -> dict[str, Any]:
        for family in self.catalog.asset_families:
            if family["code"] == code:
                return family
        raise ApiError(404, f'Asset family "{code}" does not exist.')

    def asset_families_list(self, req: Request) -> Response:
        families = self.catalog.asset_families
        listing = Listing(
            size=len(families),
            key=lambda p: families[p]["code"],
            render=lambda p: families[p],
            href=lambda p: f"{req.base_url}{API}/asset-families/{families[p]['code']}",
        )
        return paginate(req, listing, search_after=True, search_after_only=True)

    def asset_family_get(self, req: Request, code: str) -> Response:
        return json_response(200, self._asset_family_or_404(code))

    def asset_attributes_list(self, req: Request, asset_family_code: str) -> Response:
        self._asset_family_or_404(asset_family_code)
        return json_response(200, self.catalog.asset_family_attributes[asset_family_code])

    def asset_attribute_get(self, req: Request, asset_family_code: str, code: str) -> Response:
        self._asset_family_or_404(asset_family_code)
        for attribute in self.catalog.asset_family_attributes[asset_family_code]:
            if attribute["code"] == code:
                return json_response(200, attribute)
        raise ApiError(404, f'Attribute "{code}" does not exist for the asset family "{asset_family_code}".')

    def asset_options_list(self, req: Request, asset_family_code: str, attribute_code: str) -> Response:
        self.asset_attribute_get(req, asset_family_code, attribute_code)
        options = self.catalog.asset_family_options[asset_family_code].get(attribute_code)
        if options is None:
            raise ApiError(404, f'Attribute "{attribute_code}" does not support options.')
        return json_response(200, options)

    def asset_option_get(
        self, req: Request, asset_family_code: str, attribute_code: str, code: str
    ) -> Response:
        self.asset_attribute_get(req, asset_family_code, attribute_code)
        for option in self.catalog.asset_family_options[asset_family_code].get(attribute_code, ()):
            if option["code"] == code:
                return json_response(200, option)
        raise ApiError(404, f'Option "{code}" does not exist for the attribute "{attribute_code}".')

    def _asset_doc(self, req: Request, asset: dict[str, Any]) -> dict[str, Any]:
        values = {}
        for code, items in asset["values"].items():
            if code in ("media", "document"):
                items = [
                    {
                        **v,
                        "_links": {
                            "download": {"href": f"{req.base_url}{API}/asset-media-files/{v['data']}"}
                        },
                    }
                    for v in items
                ]
            values[code] = items
        return {**asset, "values": values}

    def assets_list(self, req: Request, asset_family_code: str) -> Response:
        self._asset_family_or_404(asset_family_code)
        trim = self._channel_values(req) or (lambda item: item)
        base = f"{req.base_url}{API}/asset-families/{asset_family_code}/assets"
        return self._search_after_items(
            req,
            self.catalog.assets[asset_family_code],
            "assets",
            lambda a: f"{base}/{quote(a['code'])}",
            lambda a: self._asset_doc(req, trim(a)),
        )

    def asset_get(self, req: Request, asset_family_code: str, code: str) -> Response:
        self._asset_family_or_404(asset_family_code)
        for asset in self.catalog.assets[asset_family_code]:
            if asset["code"] == code:
                return json_response(200, self._asset_doc(req, asset))
        raise ApiError(404, f'Asset "{code}" does not exist for the asset family "{asset_family_code}".')
