"""One importer per Akeneo resource: `IMPORTERS[resource].import_page(page.items, parent=...)`.

Every resource of `connections.akeneo.client.RESOURCES` has one. "products" and "products-uuid" share the product
importer (both list product records; see `products` for how uuid-less records are keyed).
"""

from __future__ import annotations

from migrations_runs.importers.assets import AssetFamilyAttributeImporter, AssetFamilyImporter, AssetImporter
from migrations_runs.importers.attributes import AttributeImporter, AttributeOptionImporter
from migrations_runs.importers.base import Importer, PageResult, Problem
from migrations_runs.importers.categories import CategoryImporter
from migrations_runs.importers.families import FamilyImporter, FamilyVariantImporter
from migrations_runs.importers.product_models import ProductModelImporter
from migrations_runs.importers.products import ProductImporter
from migrations_runs.importers.reference_entities import (
    ReferenceEntityAttributeImporter,
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
        AssetImporter(),
        ReferenceEntityImporter(),
        ReferenceEntityAttributeImporter(),
        ReferenceEntityRecordImporter(),
    )
}
IMPORTERS["products"] = _product_importer

__all__ = ["IMPORTERS", "Importer", "PageResult", "Problem"]
