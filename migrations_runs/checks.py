"""Checks on imported values that need the rest of the catalog: select values naming an unknown option.

The record is kept as Akeneo sent it (nothing is lost); the problem is logged with its code so it can be fixed
at the source or by migrating the missing options.
"""

from __future__ import annotations

from collections.abc import Iterable

from migrations_runs.entities import SELECT_TYPES
from migrations_runs.importers import Problem


class OptionCheck:
    """Loaded once per step: the select attributes and their option codes (a few MB even for 100k options)."""

    def __init__(self) -> None:
        from catalog.models import Attribute, AttributeOption

        self.select_attributes = set(
            Attribute.objects.filter(type__in=SELECT_TYPES).values_list("code", flat=True)
        )
        self.options: set[tuple[str, str]] = set(
            AttributeOption.objects.filter(attribute_code__in=self.select_attributes).values_list(
                "attribute_code", "code"
            )
        )

    def problems(self, records: Iterable[dict]) -> list[Problem]:
        found = []
        for record in records:
            values = record.get("values") if isinstance(record, dict) else None
            if not isinstance(values, dict):
                continue
            key = str(record.get("uuid") or record.get("identifier") or record.get("code") or "")
            for attribute in self.select_attributes.intersection(values):
                for entry in values[attribute] if isinstance(values[attribute], list) else []:
                    data = entry.get("data") if isinstance(entry, dict) else None
                    codes = data if isinstance(data, list) else [data] if isinstance(data, str) else []
                    for code in codes:
                        if (attribute, code) not in self.options:
                            found.append(
                                Problem(
                                    key,
                                    f"value of {attribute!r} names the unknown option {code!r} (kept as is)",
                                )
                            )
        return found
