"""Product models: roots and sub-models arrive in no particular order, so the parent key may be filled later."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from catalog.models import ProductModel
from migrations_runs.importers.base import Importer, check_codes, check_values, text


class ProductModelImporter(Importer):
    resource = "product-models"
    model = ProductModel

    def columns(self, record: Mapping[str, Any], parent: tuple[str, ...]) -> dict[str, Any]:
        check_values(record)
        check_codes(record, "categories")
        return {
            **super().columns(record, parent),
            "family_code": text(record, "family"),
            "family_variant_code": text(record, "family_variant"),
            "parent_code": text(record, "parent"),
        }
