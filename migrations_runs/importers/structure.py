"""Locales, currencies, measurement families, channels, attribute groups, association types: records keyed by
code alone, with at most a flag beside it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from catalog.models import AssociationType, AttributeGroup, Channel, Currency, Locale, MeasurementFamily
from migrations_runs.importers.base import Importer, flag


class LocaleImporter(Importer):
    resource = "locales"
    model = Locale

    def columns(self, record: Mapping[str, Any], parent: tuple[str, ...]) -> dict[str, Any]:
        return {**super().columns(record, parent), "enabled": flag(record, "enabled", False)}


class CurrencyImporter(LocaleImporter):
    resource = "currencies"
    model = Currency


class MeasurementFamilyImporter(Importer):
    resource = "measurement-families"
    model = MeasurementFamily


class ChannelImporter(Importer):
    resource = "channels"
    model = Channel


class AttributeGroupImporter(Importer):
    resource = "attribute-groups"
    model = AttributeGroup


class AssociationTypeImporter(Importer):
    resource = "association-types"
    model = AssociationType
