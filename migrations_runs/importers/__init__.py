"""One importer per Akeneo resource: `IMPORTERS[resource].import_page(page.items, parent=...)`.

Every entry of the resource table (`connections.akeneo.resources.RESOURCES`) that names a `model` has one, whose
model is that one: checked here, at import time. "products" and "products-uuid" share the product importer (both
list product records; see `products` for how uuid-less records are keyed). "measure-families" (no model) is read
only as the fallback of "measurement-families", converted, and imported by that one's importer.
"""

from __future__ import annotations

from connections.akeneo.resources import RESOURCES
from migrations_runs.importers.assets import (
    AssetFamilyAttributeImporter,
    AssetFamilyAttributeOptionImporter,
    AssetFamilyImporter,
    AssetImporter,
)
from migrations_runs.importers.attributes import AttributeImporter, AttributeOptionImporter
from migrations_runs.importers.base import Importer, PageResult, Problem
from migrations_runs.importers.categories import CategoryImporter
from migrations_runs.importers.families import FamilyImporter, FamilyVariantImporter
from migrations_runs.importers.product_models import ProductModelImporter
from migrations_runs.importers.products import ProductImporter
from migrations_runs.importers.reference_entities import (
    ReferenceEntityAttributeImporter,
    ReferenceEntityAttributeOptionImporter,
    ReferenceEntityImporter,
    ReferenceEntityRecordImporter,
)
from migrations_runs.importers.structure import (
    AssociationTypeImporter,
    AttributeGroupImporter,
    ChannelImporter,
    CurrencyImporter,
    LocaleImporter,
    MeasurementFamilyImporter,
)

_product_importer = ProductImporter()

IMPORTERS: dict[str, Importer] = {
    importer.resource: importer
    for importer in (
        LocaleImporter(),
        CurrencyImporter(),
        MeasurementFamilyImporter(),
        ChannelImporter(),
        CategoryImporter(),
        AttributeGroupImporter(),
        AttributeImporter(),
        AttributeOptionImporter(),
        FamilyImporter(),
        FamilyVariantImporter(),
        AssociationTypeImporter(),
        ProductModelImporter(),
        _product_importer,
        AssetFamilyImporter(),
        AssetFamilyAttributeImporter(),
        AssetFamilyAttributeOptionImporter(),
        AssetImporter(),
        ReferenceEntityImporter(),
        ReferenceEntityAttributeImporter(),
        ReferenceEntityAttributeOptionImporter(),
        ReferenceEntityRecordImporter(),
    )
}
IMPORTERS["products"] = _product_importer


def _check_table() -> None:
    """Every resource of the table with a model has an importer for that model; no importer without an entry."""
    for name, spec in RESOURCES.items():
        if spec.model is None:
            continue
        importer = IMPORTERS.get(name)
        if importer is None:
            raise ImportError(f"Akeneo resource {name!r} ({spec.model}) has no importer")
        if importer.model._meta.label != spec.model:
            raise ImportError(
                f"The importer of {name!r} writes {importer.model._meta.label}, not {spec.model}"
            )
    stray = set(IMPORTERS) - {name for name, spec in RESOURCES.items() if spec.model}
    if stray:
        raise ImportError(f"Importers without a resource table entry: {', '.join(sorted(stray))}")


_check_table()

__all__ = ["IMPORTERS", "Importer", "PageResult", "Problem"]
