"""One declarative table of the Akeneo resources a migration reads: `RESOURCES[name] -> ResourceSpec`.

The client (URLs, paging, counts, flags, fallbacks), the entity steps, the importers, the exporter, verify and the
tests are built from this table: adding a resource is one entry here plus its importer.

Parents. A sub-resource is read once per parent *record* of its `parent` resource (those `parent_filter`
accepts). A parent is named by a tuple of codes, outermost first: the parent record's own parent codes followed by
its `key`. `attributes/{parent}/options` has one code (the attribute); asset-family attribute options have two
(`asset-families/{parent}/attributes/{parent1}/options`: asset family, attribute). In `path`, `{parent}` is the
first parent code and `{parent1}` the second; each is percent-encoded as one path segment. `parent_fields` names
those codes in export lines ("attribute", or "asset_family" and "attribute").

Pagination: "page" (`limit` + page links), "search_after" (`pagination_type=search_after` + `limit`),
"search_after_only" (Akeneo only knows search_after there and takes neither `pagination_type` nor `limit`:
reference entities, records, asset families, assets), "none" (one unpaginated JSON array).

Flags are query parameters for the richest read (table select options, category positions and enriched values).
An older server may refuse one (HTTP 400/422): the client reads again without the flags and logs a warning.
`fallback` is the resource read instead when this one answers 404 (measurement families on PIMs before 5.0);
the fallback's `converter` turns its records into this resource's shape.

This module must not import Django models: `model` is an app label string ("catalog.Attribute").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

API_ROOT = "/api/rest/v1"
PAGINATIONS = ("page", "search_after", "search_after_only", "none")
Parents = str | tuple[str, ...] | list[str] | None  # a sub-resource's parent codes, outermost first


def parent_codes(parent: Parents) -> tuple[str, ...]:
    """Parent codes as a tuple, outermost first (one code may be given as a string)."""
    if parent is None:
        return ()
    if isinstance(parent, str):
        return (parent,)
    return tuple(parent)


SELECT_TYPES = ("pim_catalog_simpleselect", "pim_catalog_multiselect")
# asset-family / reference-entity attributes with options
OPTION_TYPES = ("single_option", "multiple_options")


@dataclass(frozen=True)
class ResourceSpec:
    name: str
    path: str  # under the API root's host; {parent}, {parent1}: the parent codes (see the module docstring)
    pagination: str = "page"
    key: tuple[str, ...] = ("code",)  # the fields naming a record inside its parent
    parent: str | None = None  # the resource whose records are this one's parents
    # which parent records have children here
    parent_filter: Callable[[Mapping[str, Any]], bool] | None = None
    parent_fields: tuple[str, ...] = ()  # the export-line fields carrying the parent codes, outermost first
    flags: Mapping[str, str] = field(default_factory=dict)  # query parameters for the richest read
    model: str | None = None  # "catalog.Model": where its records are kept (None: read for another resource)
    export: str | None = None  # export file name (without .jsonl), or None: not exported under its own name
    media: str | None = None  # the media kind its records reference (MEDIA_KINDS), or None
    countable: bool = True  # takes `with_count`
    fallback: str | None = None  # read this resource instead when this one answers 404
    # (a fallback) record -> the new shape
    converter: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    def __post_init__(self) -> None:
        if self.pagination not in PAGINATIONS:
            raise ValueError(f"{self.name}: unknown pagination {self.pagination!r}")
        if len(self.parent_fields) != self.depth:
            raise ValueError(f"{self.name}: {self.depth} parent placeholders but {self.parent_fields} fields")
        object.__setattr__(self, "flags", MappingProxyType(dict(self.flags)))

    @property
    def depth(self) -> int:
        """How many parent codes name one parent (0 for a top-level resource)."""
        return ("{parent}" in self.path) + ("{parent1}" in self.path)

    def format_path(self, parents: tuple[str, ...] | list[str] = ()) -> str:
        from urllib.parse import quote

        codes = [quote(str(code), safe="") for code in parents] + ["", ""]
        return self.path.format(parent=codes[0], parent1=codes[1])

    def key_of(self, record: Mapping[str, Any]) -> tuple[str, ...] | None:
        """The record's key codes, or None when one is missing or not a string."""
        values = tuple(record.get(name) for name in self.key)
        return values if all(isinstance(value, str) and value for value in values) else None

    def accepts_parent(self, record: Mapping[str, Any]) -> bool:
        return self.parent_filter is None or bool(self.parent_filter(record))


def _typed(types: tuple[str, ...]) -> Callable[[Mapping[str, Any]], bool]:
    def accepts(record: Mapping[str, Any]) -> bool:
        return record.get("type") in types

    accepts.__doc__ = f"Attributes of type {', '.join(types)}."
    return accepts


def measure_family_to_measurement_family(old: dict[str, Any]) -> dict[str, Any]:
    """A `/measure-families` record (PIM < 5.0) in the `/measurement-families` shape.

    {code, standard, units: [{code, convert: {op: value}, symbol}]} becomes {code, labels, standard_unit_code,
    units: {CODE: {code, labels, convert_from_standard: [{operator, value}], symbol}}}. The old API has no labels.
    """
    units: dict[str, Any] = {}
    for unit in old.get("units") or []:
        if not isinstance(unit, dict) or not isinstance(unit.get("code"), str):
            continue
        convert = unit.get("convert")
        if isinstance(convert, dict):
            operations = [{"operator": op, "value": str(value)} for op, value in convert.items()]
        elif isinstance(convert, list):  # a list of one-operation objects on some versions
            operations = [
                {"operator": op, "value": str(value)}
                for step in convert
                if isinstance(step, dict)
                for op, value in step.items()
            ]
        else:
            operations = []
        units[unit["code"]] = {
            "code": unit["code"],
            "labels": {},
            "convert_from_standard": operations,
            "symbol": unit.get("symbol", ""),
        }
    return {"code": old.get("code"), "labels": {}, "standard_unit_code": old.get("standard"), "units": units}


# Where a media code downloads when its record carries no `_links` href. Slashes in codes stay slashes.
MEDIA_KINDS: dict[str, str] = {
    "product": f"{API_ROOT}/media-files/{{code}}/download",
    "asset": f"{API_ROOT}/asset-media-files/{{code}}",
    "reference-entity": f"{API_ROOT}/reference-entities-media-files/{{code}}",
    "category": f"{API_ROOT}/category-media-files/{{code}}/download",
}

R = ResourceSpec
_TABLE: tuple[ResourceSpec, ...] = (
    R("locales", f"{API_ROOT}/locales", model="catalog.Locale", export="locales"),
    R("currencies", f"{API_ROOT}/currencies", model="catalog.Currency", export="currencies"),
    R(
        "measurement-families",
        f"{API_ROOT}/measurement-families",
        "none",
        model="catalog.MeasurementFamily",
        export="measurement-families",
        fallback="measure-families",
    ),
    R(
        "measure-families",  # deprecated since 5.0, the only one before: read only as the fallback above
        f"{API_ROOT}/measure-families",
        countable=False,
        converter=measure_family_to_measurement_family,
    ),
    R("channels", f"{API_ROOT}/channels", model="catalog.Channel", export="channels"),
    R(
        "categories",
        f"{API_ROOT}/categories",
        flags={"with_position": "true", "with_enriched_attributes": "true"},
        model="catalog.Category",
        export="categories",
        media="category",
    ),
    R(
        "attribute-groups",
        f"{API_ROOT}/attribute-groups",
        model="catalog.AttributeGroup",
        export="attribute-groups",
    ),
    R(
        "attributes",
        f"{API_ROOT}/attributes",
        flags={"with_table_select_options": "true"},
        model="catalog.Attribute",
        export="attributes",
    ),
    R(
        "attribute-options",
        f"{API_ROOT}/attributes/{{parent}}/options",
        parent="attributes",
        parent_filter=_typed(SELECT_TYPES),
        parent_fields=("attribute",),
        model="catalog.AttributeOption",
        export="attribute-options",
    ),
    R("families", f"{API_ROOT}/families", model="catalog.Family", export="families"),
    R(
        "family-variants",
        f"{API_ROOT}/families/{{parent}}/variants",
        parent="families",
        parent_fields=("family",),
        model="catalog.FamilyVariant",
        export="family-variants",
    ),
    R(
        "association-types",
        f"{API_ROOT}/association-types",
        model="catalog.AssociationType",
        export="association-types",
    ),
    R(
        "asset-families",
        f"{API_ROOT}/asset-families",
        "search_after_only",
        countable=False,
        model="catalog.AssetFamily",
        export="asset-families",
    ),
    R(
        "asset-family-attributes",
        f"{API_ROOT}/asset-families/{{parent}}/attributes",
        "none",
        parent="asset-families",
        parent_fields=("asset_family",),
        model="catalog.AssetFamilyAttribute",
        export="asset-family-attributes",
    ),
    R(
        "asset-family-attribute-options",
        f"{API_ROOT}/asset-families/{{parent}}/attributes/{{parent1}}/options",
        "none",
        parent="asset-family-attributes",
        parent_filter=_typed(OPTION_TYPES),
        parent_fields=("asset_family", "attribute"),
        model="catalog.AssetFamilyAttributeOption",
        export="asset-family-attribute-options",
    ),
    R(
        "assets",
        f"{API_ROOT}/asset-families/{{parent}}/assets",
        "search_after_only",
        parent="asset-families",
        parent_fields=("asset_family",),
        countable=False,
        model="catalog.Asset",
        export="assets",
        media="asset",
    ),
    R(
        "reference-entities",
        f"{API_ROOT}/reference-entities",
        "search_after_only",
        countable=False,
        model="catalog.ReferenceEntity",
        export="reference-entities",
        media="reference-entity",
    ),
    R(
        "reference-entity-attributes",
        f"{API_ROOT}/reference-entities/{{parent}}/attributes",
        "none",
        parent="reference-entities",
        parent_fields=("reference_entity",),
        model="catalog.ReferenceEntityAttribute",
        export="reference-entity-attributes",
    ),
    R(
        "reference-entity-attribute-options",
        f"{API_ROOT}/reference-entities/{{parent}}/attributes/{{parent1}}/options",
        "none",
        parent="reference-entity-attributes",
        parent_filter=_typed(OPTION_TYPES),
        parent_fields=("reference_entity", "attribute"),
        model="catalog.ReferenceEntityAttributeOption",
        export="reference-entity-attribute-options",
    ),
    R(
        "reference-entity-records",
        f"{API_ROOT}/reference-entities/{{parent}}/records",
        "search_after_only",
        parent="reference-entities",
        parent_fields=("reference_entity",),
        countable=False,
        model="catalog.ReferenceEntityRecord",
        export="reference-entity-records",
        media="reference-entity",
    ),
    R(
        "product-models",
        f"{API_ROOT}/product-models",
        "search_after",
        model="catalog.ProductModel",
        export="product-models",
        media="product",
    ),
    # /products-uuid where the server has it (7.0, SaaS), else /products: the client picks (products_path).
    R(
        "products-uuid",
        f"{API_ROOT}/products-uuid",
        "search_after",
        key=("uuid",),
        model="catalog.Product",
        export="products",
        media="product",
    ),
    R(
        "products",
        f"{API_ROOT}/products",
        "search_after",
        key=("identifier",),
        model="catalog.Product",
        media="product",
    ),
)
del R

RESOURCES: dict[str, ResourceSpec] = {spec.name: spec for spec in _TABLE}


def children_of(name: str) -> list[ResourceSpec]:
    """The resources whose parents are records of `name`."""
    return [spec for spec in RESOURCES.values() if spec.parent == name]


def ancestry(name: str) -> list[str]:
    """`name`'s parent chain, outermost first, `name` last: ["asset-families", "asset-family-attributes", ...]."""
    chain = [name]
    while RESOURCES[chain[0]].parent:
        chain.insert(0, RESOURCES[chain[0]].parent)
    return chain


def exported() -> dict[str, ResourceSpec]:
    """Export file name -> resource, in table (dependency) order."""
    return {spec.export: spec for spec in RESOURCES.values() if spec.export}


def _check() -> None:
    for spec in RESOURCES.values():
        for other in (spec.parent, spec.fallback):
            if other is not None and other not in RESOURCES:
                raise ValueError(f"{spec.name} names an unknown resource {other!r}")
        if spec.parent is not None and RESOURCES[spec.parent].depth + 1 != spec.depth:
            raise ValueError(f"{spec.name}: its path must hold one more parent code than {spec.parent}'s")
        if spec.media is not None and spec.media not in MEDIA_KINDS:
            raise ValueError(f"{spec.name}: unknown media kind {spec.media!r}")


_check()


# GET endpoints of Akeneo's spec that a migration does not read, and why (the tests check that every GET endpoint
# of the spec is read through this table, is a media download of MEDIA_KINDS, an item endpoint of a listed
# resource, or is here).
NOT_READ: dict[str, str] = {
    f"{API_ROOT}": "the route index: read only to detect /products-uuid, no catalog data",
    f"{API_ROOT}/system-information": "the PIM's version and edition, no catalog data",
    f"{API_ROOT}/published-products": "Enterprise Edition only, read-only copies of products (published state)",
    f"{API_ROOT}/media-files": "media metadata; the files are downloaded through the records that use them",
    f"{API_ROOT}/assets": "the legacy PAM assets (Enterprise Edition <= 3.x, removed in 4.0)",
    f"{API_ROOT}/asset-categories": "legacy PAM (Enterprise Edition <= 3.x, removed in 4.0)",
    f"{API_ROOT}/asset-tags": "legacy PAM (Enterprise Edition <= 3.x, removed in 4.0)",
    f"{API_ROOT}/assets/{{asset_code}}/reference-files/{{locale_code}}": "legacy PAM reference files",
    f"{API_ROOT}/assets/{{asset_code}}/reference-files/{{locale_code}}/download": "legacy PAM reference files",
    f"{API_ROOT}/assets/{{asset_code}}/variation-files/{{channel_code}}/{{locale_code}}": "legacy PAM variations",
    f"{API_ROOT}/assets/{{asset_code}}/variation-files/{{channel_code}}/{{locale_code}}/download": (
        "legacy PAM variations"
    ),
    f"{API_ROOT}/products-uuid/{{uuid}}/draft": "Enterprise Edition drafts: one user's unapproved changes",
    f"{API_ROOT}/products/{{code}}/draft": "Enterprise Edition drafts: one user's unapproved changes",
    f"{API_ROOT}/product-models/{{code}}/draft": "Enterprise Edition drafts: one user's unapproved changes",
}
