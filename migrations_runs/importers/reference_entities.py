"""Reference entities, their attributes (and their options) and their records (keyed under their entity, which the page's parent
names: Akeneo's records do not carry it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from catalog.models import (
    ReferenceEntity,
    ReferenceEntityAttribute,
    ReferenceEntityAttributeOption,
    ReferenceEntityRecord,
)
from migrations_runs.importers.base import Importer, Problem, Row, check_values, type_warnings

# The reference entity attribute types of Akeneo's spec; others are kept too, with a warning.
KNOWN_RECORD_ATTRIBUTE_TYPES = frozenset(
    {
        "text",
        "image",
        "number",
        "single_option",
        "multiple_options",
        "reference_entity_single_link",
        "reference_entity_multiple_links",
    }
)


class ReferenceEntityImporter(Importer):
    resource = "reference-entities"
    model = ReferenceEntity


class ReferenceEntityAttributeImporter(Importer):
    resource = "reference-entity-attributes"
    model = ReferenceEntityAttribute
    key_fields = ("reference_entity_code", "code")
    parent_columns = ("reference_entity_code",)

    def page_problems(self, rows: list[Row]) -> list[Problem]:
        return type_warnings(rows, KNOWN_RECORD_ATTRIBUTE_TYPES, "reference entity attribute")


class ReferenceEntityAttributeOptionImporter(Importer):
    """Options of `single_option` / `multiple_options` record attributes, keyed (entity, attribute, code)."""

    resource = "reference-entity-attribute-options"
    model = ReferenceEntityAttributeOption
    key_fields = ("reference_entity_code", "attribute_code", "code")
    parent_columns = ("reference_entity_code", "attribute_code")


class ReferenceEntityRecordImporter(Importer):
    resource = "reference-entity-records"
    model = ReferenceEntityRecord
    key_fields = ("reference_entity_code", "code")
    parent_columns = ("reference_entity_code",)

    def columns(self, record: Mapping[str, Any], parent: tuple[str, ...]) -> dict[str, Any]:
        check_values(record)
        return super().columns(record, parent)
