"""Catalog queries that need care to be exact on every database the project runs on (SQLite and PostgreSQL)."""

from __future__ import annotations

from django.db import connections
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL


def in_category(queryset: QuerySet, code: str, *, qualified: bool = True) -> QuerySet:
    """Rows whose `data["categories"]` lists exactly `code` (products, product models).

    `qualified=False` names the column without its table: needed when the queryset becomes a subquery (Django
    then aliases the table, and the table's own name is no longer in scope); only for querysets without joins
    to another table that has a `data` column.

    Why not one lookup: `data__categories__contains=[code]` (JSON containment) is exact and index-friendly on
    PostgreSQL but unsupported on SQLite, and a text search in the JSON is case-insensitive there (LIKE). On
    SQLite the array is expanded with json_each and compared exactly instead.
    """
    if connections[queryset.db].vendor != "sqlite":
        return queryset.filter(data__categories__contains=[code])
    table = connections[queryset.db].ops.quote_name(queryset.model._meta.db_table)
    column = f'{table}."data"' if qualified else '"data"'
    # parameterised; the only interpolation is the model's own quoted table name
    listed = RawSQL(  # noqa: S611
        f"EXISTS (SELECT 1 FROM json_each({column}, '$.categories') AS category "  # noqa: S608
        "WHERE category.type = 'text' AND category.value = %s)",
        (code,),
        output_field=BooleanField(),
    )
    return queryset.alias(_in_category=listed).filter(_in_category=True)


def category_codes_in_use(queryset: QuerySet, limit: int = 5000) -> list[str]:
    """The category codes found in the first `limit` rows' data (when no category has been imported)."""
    found: set[str] = set()
    for categories in queryset.order_by("pk").values_list("data__categories", flat=True)[:limit]:
        if isinstance(categories, list):
            found.update(code for code in categories if isinstance(code, str))
    return sorted(found)
