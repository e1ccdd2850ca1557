"""Categories: a tree whose children may arrive before their parents (the parent key is filled in later)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from catalog.models import Category
from migrations_runs.importers.base import Importer, text


class CategoryImporter(Importer):
    resource = "categories"
    model = Category

    def columns(self, record: Mapping[str, Any], parent: tuple[str, ...]) -> dict[str, Any]:
        return {**super().columns(record, parent), "parent_code": text(record, "parent")}
