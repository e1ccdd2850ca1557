"""Category trees for browsing: sub-categories of a category, products in a whole subtree, counts per subtree.

Products are classified in leaf categories ("Clothing > T-shirts > Sale"), so a category means itself and every
category under it. The tree is small next to the products (hundreds to a few thousand categories): it is read
once per request into memory, and the product side stays one query whatever the tree's size.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connections
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL

from catalog.models import Category, Product


@dataclass
class CategoryNode:
    pk: int
    code: str
    parent_code: str | None
    labels: dict[str, str]
    children: list[CategoryNode] = field(default_factory=list)


class CategoryTree:
    """Every imported category, linked by parent code (a parent not imported makes its children roots)."""

    def __init__(self, rows: Iterable[tuple[int, str, str | None, object]]) -> None:
        self.nodes: dict[str, CategoryNode] = {}
        for pk, code, parent_code, labels in rows:
            self.nodes[code] = CategoryNode(pk, code, parent_code, labels if isinstance(labels, dict) else {})
        self.roots: list[CategoryNode] = []
        for node in self.nodes.values():
            parent = self.nodes.get(node.parent_code or "")
            (parent.children if parent is not None and parent is not node else self.roots).append(node)

    @classmethod
    def load(cls) -> CategoryTree:
        return cls(Category.objects.order_by("code").values_list("pk", "code", "parent_code", "data__labels"))

    def descendants(self, code: str) -> list[str]:
        """`code` and every category under it (cycles in bad source data are cut)."""
        seen: list[str] = []
        stack = [code]
        visited: set[str] = set()
        while stack:
            current = stack.pop()
            if current in visited:
                continue
            visited.add(current)
            seen.append(current)
            node = self.nodes.get(current)
            if node is not None:
                stack.extend(child.code for child in node.children)
        return seen

    def ancestors(self, code: str) -> list[CategoryNode]:
        """From the root down to the parent of `code`."""
        chain: list[CategoryNode] = []
        node = self.nodes.get(code)
        seen = {code}
        while node is not None and node.parent_code and node.parent_code not in seen:
            seen.add(node.parent_code)
            node = self.nodes.get(node.parent_code)
            if node is not None:
                chain.append(node)
        return chain[::-1]

    def walk(self) -> list[tuple[int, CategoryNode]]:
        """(depth, node) in tree order, siblings by code: what an indented select lists."""
        out: list[tuple[int, CategoryNode]] = []
        visited: set[str] = set()
        stack = [(0, node) for node in reversed(self.roots)]
        while stack:
            depth, node = stack.pop()
            if node.code in visited:
                continue
            visited.add(node.code)
            out.append((depth, node))
            stack.extend((depth + 1, child) for child in reversed(node.children))
        return out


def in_any_category(queryset: QuerySet, codes: list[str]) -> QuerySet:
    """Rows whose `data["categories"]` lists one of `codes` exactly (products, product models).

    One bound parameter whatever the number of codes (a root category can have thousands under it).
    """
    if not codes:
        return queryset.none()
    if connections[queryset.db].vendor != "sqlite":
        # jsonb `?|` over an array tests its string elements: exact, and served by a GIN index if one exists
        return queryset.filter(data__categories__has_any_keys=codes)
    table = connections[queryset.db].ops.quote_name(queryset.model._meta.db_table)
    listed = RawSQL(  # noqa: S611 - parameterised; the only interpolation is the model's own quoted table name
        f"EXISTS (SELECT 1 FROM json_each({table}.\"data\", '$.categories') AS category "  # noqa: S608
        "WHERE category.type = 'text' AND category.value IN (SELECT value FROM json_each(%s)))",
        (json.dumps(codes),),
        output_field=BooleanField(),
    )
    return queryset.alias(_in_categories=listed).filter(_in_categories=True)


def product_counts(tree: CategoryTree, codes: Iterable[str]) -> dict[str, int]:
    """Products (not deleted in Akeneo) classified in each category of `codes` or anywhere under it, each product
    counted once per category. One query: every product's categories are mapped to the wanted categories above
    them through a JSON object passed as a single parameter."""
    wanted = list(dict.fromkeys(codes))
    above: dict[str, list[str]] = {}
    for code in wanted:
        for descendant in tree.descendants(code):
            above.setdefault(descendant, []).append(code)
    counts = dict.fromkeys(wanted, 0)
    if not above:
        return counts
    connection = connections[Product.objects.db]
    table = connection.ops.quote_name(Product._meta.db_table)
    if connection.vendor == "sqlite":
        sql = (
            f'SELECT ancestor.value, COUNT(DISTINCT product."id") FROM {table} AS product, '  # noqa: S608
            "json_each(product.\"data\", '$.categories') AS category, "
            "json_each(json_extract(%s, '$.' || json_quote(category.value))) AS ancestor "
            "WHERE product.\"deleted_at\" IS NULL AND category.type = 'text' GROUP BY ancestor.value"
        )
    else:
        sql = (
            f'SELECT ancestor.code, COUNT(DISTINCT product."id") FROM {table} AS product '  # noqa: S608
            "CROSS JOIN LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof(product.\"data\" -> 'categories')"
            " = 'array' THEN product.\"data\" -> 'categories' ELSE '[]'::jsonb END) AS category(code) "
            "CROSS JOIN LATERAL jsonb_array_elements_text(COALESCE(%s::jsonb -> category.code, '[]'::jsonb))"
            ' AS ancestor(code) WHERE product."deleted_at" IS NULL GROUP BY ancestor.code'
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, [json.dumps(above)])
        for code, count in cursor.fetchall():
            if code in counts:
                counts[code] = count
    return counts
