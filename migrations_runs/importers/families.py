"""Families and their variants (keyed by family code and variant code; Akeneo's variant records do not name
their family, the page's parent does)."""

from __future__ import annotations

from catalog.models import Family, FamilyVariant
from migrations_runs.importers.base import Importer


class FamilyImporter(Importer):
    resource = "families"
    model = Family


class FamilyVariantImporter(Importer):
    resource = "family-variants"
    model = FamilyVariant
    key_fields = ("family_code", "code")
    parent_columns = ("family_code",)
