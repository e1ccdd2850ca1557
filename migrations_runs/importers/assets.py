"""Asset families, their attributes (and their options) and their assets (attributes and assets are keyed under their family, which
the page's parent names: Akeneo's records do not carry it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from catalog.models import Asset, AssetFamily, AssetFamilyAttribute, AssetFamilyAttributeOption
from migrations_runs.importers.base import Importer, Problem, Row, check_values, type_warnings

# The asset attribute types of Akeneo's spec; others are kept too, with a warning.
KNOWN_ASSET_ATTRIBUTE_TYPES = frozenset(
    {
        "text",
        "media_link",
        "number",
        "media_file",
        "single_option",
        "multiple_options",
        "boolean",
        "date",
        "record",
    }
)


class AssetFamilyImporter(Importer):
    resource = "asset-families"
    model = AssetFamily


class AssetFamilyAttributeImporter(Importer):
    resource = "asset-family-attributes"
    model = AssetFamilyAttribute
    key_fields = ("asset_family_code", "code")
    parent_columns = ("asset_family_code",)

    def page_problems(self, rows: list[Row]) -> list[Problem]:
        return type_warnings(rows, KNOWN_ASSET_ATTRIBUTE_TYPES, "asset attribute")


class AssetFamilyAttributeOptionImporter(Importer):
    """Options of `single_option` / `multiple_options` asset attributes, keyed (asset family, attribute, code)."""

    resource = "asset-family-attribute-options"
    model = AssetFamilyAttributeOption
    key_fields = ("asset_family_code", "attribute_code", "code")
    parent_columns = ("asset_family_code", "attribute_code")


class AssetImporter(Importer):
    resource = "assets"
    model = Asset
    key_fields = ("asset_family_code", "code")
    parent_columns = ("asset_family_code",)

    def columns(self, record: Mapping[str, Any], parent: tuple[str, ...]) -> dict[str, Any]:
        check_values(record)
        return super().columns(record, parent)
