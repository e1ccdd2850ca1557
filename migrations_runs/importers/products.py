"""Products, from `/products-uuid` or `/products` (both give product records; one importer serves both).

Keys: a product is keyed by its uuid. Records from `/products` on servers older than 7.0 have no uuid: such a
record is matched by identifier to a product already in the catalog, else it gets `uuid5(IDENTIFIER_NAMESPACE,
identifier)` — deterministic, so re-importing it (or resuming a run) finds the same row instead of a duplicate.
`/products-uuid` records carry no `identifier` field: the identifier column is then read from the value of the
main identifier attribute (an attribute of type pim_catalog_identifier, looked up once per page); when
attributes are not imported yet it stays empty and is filled in when the product is imported again.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from catalog.models import Attribute, Product
from migrations_runs.importers.base import (
    Importer,
    PageResult,
    RecordError,
    Row,
    check_codes,
    check_values,
    flag,
    text,
)

IDENTIFIER_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://api.akeneo.com/products/identifier")
IDENTIFIER_TYPE = "pim_catalog_identifier"


def uuid_for_identifier(identifier: str) -> uuid.UUID:
    """The uuid a product read without one gets: the same for the same identifier, on every run."""
    return uuid.uuid5(IDENTIFIER_NAMESPACE, identifier)


def main_identifier_attribute() -> str | None:
    """The code of the main identifier attribute (Akeneo 7 may have several identifier attributes)."""
    found = sorted(Attribute.objects.filter(type=IDENTIFIER_TYPE).values_list("code", "data"))
    for code, data in found:
        if isinstance(data, dict) and data.get("is_main_identifier") is True:
            return code
    return found[0][0] if found else None


def identifier_value(values: Any, attribute: str | None) -> str | None:
    """The non-localised, non-scoped string value of `attribute`, if any."""
    if not attribute or not isinstance(values, dict):
        return None
    for entry in values.get(attribute) or ():
        if isinstance(entry, dict) and entry.get("locale") is None and entry.get("scope") is None:
            data = entry.get("data")
            return data if isinstance(data, str) and data else None
    return None


class ProductImporter(Importer):
    resource = "products-uuid"
    model = Product
    key_fields = ("uuid",)
    derived_fields = ("identifier",)

    def columns(self, record: Mapping[str, Any], parent: tuple[str, ...]) -> dict[str, Any]:
        raw_uuid = text(record, "uuid")
        identifier = text(record, "identifier")
        if raw_uuid is None and identifier is None:
            raise RecordError("the product has neither a uuid nor an identifier")
        try:
            key = uuid.UUID(raw_uuid) if raw_uuid is not None else None
        except ValueError:
            raise RecordError(f"{raw_uuid!r} is not a uuid") from None
        check_values(record)
        check_codes(record, "categories")
        check_codes(record, "groups")
        associations = record.get("associations")
        if associations is not None and not isinstance(associations, dict):
            raise RecordError("'associations' must be an object")
        return {
            "uuid": key,
            "identifier": identifier,
            "enabled": flag(record, "enabled", True),
            "family_code": text(record, "family"),
            "parent_code": text(record, "parent"),
        }

    def prepare(self, rows: list[Row], result: PageResult) -> None:
        """Fill identifiers from the identifier attribute's value and uuids for records that have none."""
        if any("identifier" not in row.data for row in rows):
            attribute = main_identifier_attribute()
            for row in rows:
                if "identifier" not in row.data:
                    row.columns["identifier"] = identifier_value(row.data.get("values"), attribute)
        without_uuid = [row for row in rows if row.columns["uuid"] is None]
        if not without_uuid:
            return
        known = dict(
            Product.objects.filter(identifier__in={row.columns["identifier"] for row in without_uuid})
            .order_by("-pk")
            .values_list("identifier", "uuid")
        )
        for row in without_uuid:
            identifier = row.columns["identifier"]
            row.columns["uuid"] = known.get(identifier) or uuid_for_identifier(identifier)
            row.key = (row.columns["uuid"],)
