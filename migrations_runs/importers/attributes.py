"""Attributes and their options. Every attribute type is kept, known or not (an unknown one is reported once per
page); options are keyed by (attribute code, option code) like in Akeneo."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from catalog.models import Attribute, AttributeOption
from migrations_runs.importers.base import Importer, Problem, Row, text, type_warnings

# Types in Akeneo's spec and docs (CE/EE/SaaS, old and new spellings). Others are kept too, with a warning.
KNOWN_ATTRIBUTE_TYPES = frozenset(
    {
        "pim_catalog_identifier",
        "pim_catalog_text",
        "pim_catalog_textarea",
        "pim_catalog_number",
        "pim_catalog_metric",
        "pim_catalog_price",
        "pim_catalog_price_collection",
        "pim_catalog_boolean",
        "pim_catalog_date",
        "pim_catalog_simpleselect",
        "pim_catalog_multiselect",
        "pim_catalog_file",
        "pim_catalog_image",
        "pim_catalog_table",
        "pim_catalog_asset_collection",
        "pim_catalog_product_link",
        "pim_assets_collection",
        "pim_reference_data_simpleselect",
        "pim_reference_data_multiselect",
        "pim_catalog_reference_data_simpleselect",
        "pim_catalog_reference_data_multiselect",
        "pim_catalog_reference_data_simple_select",
        "pim_catalog_reference_data_multi_select",
        "akeneo_reference_entity",
        "akeneo_reference_entity_collection",
    }
)


class AttributeImporter(Importer):
    resource = "attributes"
    model = Attribute

    def columns(self, record: Mapping[str, Any], parent: tuple[str, ...]) -> dict[str, Any]:
        return {
            **super().columns(record, parent),
            "type": text(record, "type", required=True),
            "group_code": text(record, "group"),
        }

    def page_problems(self, rows: list[Row]) -> list[Problem]:
        return type_warnings(rows, KNOWN_ATTRIBUTE_TYPES, "attribute")


class AttributeOptionImporter(Importer):
    resource = "attribute-options"
    model = AttributeOption
    key_fields = ("attribute_code", "code")
    parent_columns = ("attribute_code",)
