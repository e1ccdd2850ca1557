"""Fill in foreign keys from the Akeneo codes kept next to them, once the targets exist.

Akeneo serves records in an order that does not respect references (sub-models before their roots, child
categories before parents, a staged run importing products before models): imports store the code and leave the
key null, and these set-based UPDATEs (one query per link, never one per row) connect them afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Subquery

from catalog.models import CATALOG_MODELS, AkeneoRecord


def target_of(model: type[AkeneoRecord], fk: str) -> type[AkeneoRecord]:
    return model._meta.get_field(fk).related_model


def resolve_link(
    model: type[AkeneoRecord], fk: str, code_field: str, codes: Iterable[str] | None = None
) -> int:
    """Point `model.fk` at the target whose code is in `code_field`, for rows still unresolved; rows resolved.

    `codes` limits it to rows referencing those target codes (the targets a page just created).
    """
    target = target_of(model, fk)
    matching = target.objects.filter(code=OuterRef(code_field))
    rows = model.objects.filter(**{f"{fk}__isnull": True, f"{code_field}__isnull": False})
    if codes is not None:
        codes = list(codes)
        if not codes:
            return 0
        rows = rows.filter(**{f"{code_field}__in": codes})
    return rows.filter(Exists(matching)).update(**{fk: Subquery(matching.values("pk")[:1])})


def resolve_model(model: type[AkeneoRecord]) -> int:
    """Resolve every code link of `model`; the number of keys filled in."""
    return sum(resolve_link(model, fk, code_field) for fk, code_field in model.code_links)


def incoming_links(target: type[AkeneoRecord]) -> list[tuple[type[AkeneoRecord], str, str]]:
    """(model, fk, code field) of every link pointing at `target` — what new `target` rows may complete."""
    return [
        (model, fk, code_field)
        for model in CATALOG_MODELS
        for fk, code_field in model.code_links
        if target_of(model, fk) is target
    ]


def resolve_incoming(target: type[AkeneoRecord], codes: Iterable[str]) -> int:
    """Connect rows waiting for the `target` rows with these codes (just created); keys filled in."""
    codes = list(codes)
    if not codes:
        return 0
    return sum(resolve_link(model, fk, code_field, codes) for model, fk, code_field in incoming_links(target))


def resolve_all() -> int:
    """Resolve every link of the catalog (end of a run, or after a staged import); keys filled in."""
    return sum(resolve_model(model) for model in CATALOG_MODELS)
