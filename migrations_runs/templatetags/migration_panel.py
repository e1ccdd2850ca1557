"""The migration side of a connection's edit page: the Run-a-Migration panel, the Migration History tab and the
forms their buttons submit. Rendered here, from the connection and the request, so the connection admin knows
nothing of migration runs: its template only places these tags."""

from __future__ import annotations

from typing import Any

from django import template
from django.http import HttpRequest
from django.urls import reverse

from connections.masking import MASK
from connections.models import Connection
from migrations_runs.entities import ENTITIES, ENTITY_CODES
from migrations_runs.models import ACTIVE_STATUSES
from migrations_runs.run_page import MIGRATION_HISTORY_TAB

register = template.Library()

HISTORY_ROWS = 50  # runs listed on the tab; the Migration History list holds them all


@register.inclusion_tag("admin/migrations_runs/connection/run_migration_panel.html")
def run_migration_panel(connection: Connection, request: HttpRequest) -> dict[str, Any]:
    """Entity checkboxes (the connection's last choice ticked), the active run if any, and the buttons the user
    may use: Start and Preview need `run_migration`, Verify needs `verify_catalog`. Verify and Preview also need
    the connection's own view permission, as their start view does: a button that answers 403 is worse than
    none. A user holding only `verify_catalog` gets the entity choice and Verify."""
    user = request.user
    can_run = user.has_perm("migrations_runs.run_migration")
    views_connection = user.has_perm("connections.view_connection")
    can_verify = user.has_perm("migrations_runs.verify_catalog") and views_connection
    context: dict[str, Any] = {
        "connection": connection,
        "can_run_migration": can_run,
        "can_preview": can_run and views_connection,
        "can_verify": can_verify,
    }
    if not (can_run or can_verify):
        return context  # the panel only says so: no query for what it would not show
    chosen = set(connection.migration_entities or [])
    context.update(
        migration_entities=[
            {"code": entity.code, "label": entity.label, "selected": entity.code in chosen}
            for entity in ENTITIES
        ],
        selected_count=len(chosen & set(ENTITY_CODES)),
        active_run=connection.migration_runs.filter(status__in=ACTIVE_STATUSES).first(),
    )
    return context


@register.inclusion_tag("admin/migrations_runs/connection/migration_history_tab.html")
def migration_history_tab(connection: Connection, request: HttpRequest) -> dict[str, Any]:
    """The connection's latest runs, with a bulk delete for users who may delete runs."""
    user = request.user
    can_view = user.has_perm("migrations_runs.view_migrationrun")
    return {
        "connection": connection,
        "can_view_runs": can_view,
        "can_delete_runs": user.has_perm("migrations_runs.delete_migrationrun"),
        "migration_runs": list(connection.migration_runs.select_related("user")[:HISTORY_ROWS])
        if can_view
        else [],
        "masked": MASK,
        "history_tab_url": history_tab_url(connection),
    }


@register.inclusion_tag("admin/migrations_runs/connection/migration_forms.html")
def migration_forms(connection: Connection) -> dict[str, Any]:
    """The forms the panel's and the tab's buttons submit (through `form="…"`): they sit outside the connection
    form, since HTML forms do not nest. The bulk delete carries `next` back to the Migration History tab."""
    return {
        "connection": connection,
        "history_tab_url": history_tab_url(connection),
    }


def history_tab_url(connection: Connection) -> str:
    """The connection's Migration History tab: where deleting runs from that tab comes back to. Explicit, as the
    Referer the delete views fall back on is not always sent (Referrer-Policy, privacy settings)."""
    return reverse("admin:connections_connection_change", args=[connection.pk]) + MIGRATION_HISTORY_TAB
