"""What can be migrated, in dependency order, and which Akeneo resources each entity reads.

An entity may read several resources ("parts", names of the resource table `connections.akeneo.resources`):
attributes then their options, families then their variants. A sub-resource part is read once per parent record
of its parent resource, taken from the SOURCE (what the step read in this run, or re-read on resume), never from
the local catalog: see `migrations_runs.source`. A parent resource always comes before its children in `parts`.
"""

from __future__ import annotations

from dataclasses import dataclass

from connections.akeneo.resources import RESOURCES, SELECT_TYPES  # noqa: F401  (SELECT_TYPES: re-exported)


@dataclass(frozen=True)
class Part:
    resource: str  # a resource name of connections.akeneo.resources.RESOURCES

    def __post_init__(self) -> None:
        if self.resource not in RESOURCES:
            raise ValueError(f"Unknown Akeneo resource {self.resource!r}")


@dataclass(frozen=True)
class Entity:
    code: str
    label: str
    parts: tuple[Part, ...]

    @property
    def resources(self) -> tuple[str, ...]:
        return tuple(part.resource for part in self.parts)


def _entity(code: str, label: str, *resources: str) -> Entity:
    for index, name in enumerate(resources):
        parent = RESOURCES[name].parent
        if parent is not None and parent not in resources[:index]:
            raise ValueError(f"{code}: {name} needs its parent resource {parent} read before it")
    return Entity(code, label, tuple(Part(name) for name in resources))


# Dependency order (DESIGN.md): channels need categories, locales and currencies, so they come after those.
ENTITIES: tuple[Entity, ...] = (
    _entity("locales", "Locales", "locales"),
    _entity("currencies", "Currencies", "currencies"),
    _entity("measurement-families", "Measurement families", "measurement-families"),
    _entity("categories", "Categories", "categories"),
    _entity("channels", "Channels", "channels"),
    _entity("attribute-groups", "Attribute groups", "attribute-groups"),
    _entity("attributes", "Attributes (with options)", "attributes", "attribute-options"),
    _entity("families", "Families (with variants)", "families", "family-variants"),
    _entity("association-types", "Association types", "association-types"),
    _entity(
        "assets",
        "Assets",
        "asset-families",
        "asset-family-attributes",
        "asset-family-attribute-options",
        "assets",
    ),
    _entity(
        "reference-entities",
        "Reference entities",
        "reference-entities",
        "reference-entity-attributes",
        "reference-entity-attribute-options",
        "reference-entity-records",
    ),
    _entity("product-models", "Product models", "product-models"),
    _entity("products", "Products", "products-uuid"),
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
