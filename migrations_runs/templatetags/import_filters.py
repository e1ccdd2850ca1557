"""Template tags for import filters: the connection page's Import Filters tab (its form, rendered here so the
connection admin needs no change) and the filters of a run, in words (run page, Migration History)."""

from __future__ import annotations

import json
from typing import Any

from django import template

from migrations_runs.filters import describe, incremental_text, summary
from migrations_runs.filters_form import ImportFiltersForm

register = template.Library()

SESSION_KEY = "import_filters_form:{pk}"  # a refused submission, shown once with its errors


@register.inclusion_tag("admin/connections/connection/tab_import_filters.html", takes_context=True)
def import_filters_tab(context: template.Context) -> dict[str, Any]:
    """The tab's context: the saved filters in a form (or the refused submission with its errors)."""
    request = context.get("request")
    connection = context.get("original")
    refused = None
    if request is not None and connection is not None and hasattr(request, "session"):
        refused = request.session.pop(SESSION_KEY.format(pk=connection.pk), None)
    if refused:
        form = ImportFiltersForm(data=refused.get("data") or {})
        form.is_valid()
        for field, messages in (refused.get("errors") or {}).items():
            name = None if field == "__all__" else field
            if name is not None and name in form.errors:
                continue
            for message in messages:
                form.add_error(name, message)
    else:
        filters = getattr(connection, "import_filters", None) or {}
        form = ImportFiltersForm(initial=ImportFiltersForm.initial_from(filters))
    user = getattr(request, "user", None)
    return {
        "form": form,
        "original": connection,
        "saved_rows": describe(getattr(connection, "import_filters", None)),
        "can_change": bool(user and user.has_perm("connections.change_connection")),
    }


@register.filter
def filter_rows(filters: dict | None) -> list[tuple[str, str]]:
    """(label, text) rows describing a run's (or a connection's) filters; the incremental window aside."""
    return [(label, text) for label, text in describe(filters) if label != "Incremental"]


@register.filter
def filter_summary(filters: dict | None) -> str:
    """The filters on one line; empty when none."""
    return summary(filters)


@register.filter(name="incremental_text")
def incremental_text_filter(incremental: dict | None) -> str:
    """What an incremental run read: from which watermark, or why it read in full."""
    return incremental_text(incremental or {})


@register.filter
def pretty_json(value: Any) -> str:
    """The exact queries sent to Akeneo, readable."""
    return json.dumps(value, indent=1, ensure_ascii=False)
