"""What can be migrated, in dependency order, and which Akeneo resources each entity reads.

An entity may read several resources ("parts"): attributes then their options, families then their variants.
Sub-resources are read once per parent code, taken from the local catalog the earlier part just filled, sorted,
so a resumed step sees the same parent list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

SELECT_TYPES = ("pim_catalog_simpleselect", "pim_catalog_multiselect")


@dataclass(frozen=True)
class Part:
    resource: str  # a resource name of connections.akeneo.client.RESOURCES
    parents: Callable[[], list[str]] | None = None  # parent codes for a sub-resource


@dataclass(frozen=True)
class Entity:
    code: str
    label: str
    parts: tuple[Part, ...]


def _codes(model_name: str, **filters) -> Callable[[], list[str]]:
    def codes() -> list[str]:
        from django.apps import apps

        model = apps.get_model("catalog", model_name)
        return list(model.objects.filter(**filters).order_by("code").values_list("code", flat=True))

    return codes


# Dependency order (DESIGN.md): channels need categories, locales and currencies, so they come after those.
ENTITIES: tuple[Entity, ...] = (
    Entity("locales", "Locales", (Part("locales"),)),
    Entity("currencies", "Currencies", (Part("currencies"),)),
    Entity("measurement-families", "Measurement families", (Part("measurement-families"),)),
    Entity("categories", "Categories", (Part("categories"),)),
    Entity("channels", "Channels", (Part("channels"),)),
    Entity("attribute-groups", "Attribute groups", (Part("attribute-groups"),)),
    Entity(
        "attributes",
        "Attributes (with options)",
        (Part("attributes"), Part("attribute-options", _codes("Attribute", type__in=SELECT_TYPES))),
    ),
    Entity(
        "families",
        "Families (with variants)",
        (Part("families"), Part("family-variants", _codes("Family"))),
    ),
    Entity("association-types", "Association types", (Part("association-types"),)),
    Entity(
        "assets",
        "Assets",
        (
            Part("asset-families"),
            Part("asset-family-attributes", _codes("AssetFamily")),
            Part("assets", _codes("AssetFamily")),
        ),
    ),
    Entity(
        "reference-entities",
        "Reference entities",
        (
            Part("reference-entities"),
            Part("reference-entity-attributes", _codes("ReferenceEntity")),
            Part("reference-entity-records", _codes("ReferenceEntity")),
        ),
    ),
    Entity("product-models", "Product models", (Part("product-models"),)),
    Entity("products", "Products", (Part("products-uuid"),)),
)
ENTITY_BY_CODE = {entity.code: entity for entity in ENTITIES}
ENTITY_CODES = tuple(ENTITY_BY_CODE)


def in_dependency_order(codes: list[str] | tuple[str, ...]) -> list[str]:
    """The chosen entities, ordered for import whatever order they were ticked in. Unknown codes raise."""
    unknown = sorted(set(codes) - set(ENTITY_BY_CODE))
    if unknown:
        raise ValueError(f"Unknown entities: {', '.join(unknown)}. Known: {', '.join(ENTITY_CODES)}")
    chosen = set(codes)
    return [code for code in ENTITY_CODES if code in chosen]
