"""The connection page's Schedules tab: its rows and what the user may do, computed here because the
connection admin's context belongs to another app."""

from __future__ import annotations

from django import template
from django.urls import reverse

from connections.models import Connection
from schedules.admin import can_manage_schedules, can_view_schedules, entities_label

register = template.Library()


@register.simple_tag(takes_context=True)
def connection_schedules(context, connection: Connection) -> dict:
    """{"can_view", "can_manage", "can_view_runs", "add_url", "rows": [{schedule, entities, edit_url,
    delete_url}]} for `connection` and the requesting user."""
    user = context["request"].user
    panel = {
        "can_view": can_view_schedules(user),
        "can_manage": can_manage_schedules(user),
        "can_view_runs": user.has_perm("migrations_runs.view_migrationrun"),
        "add_url": f"{reverse('admin:schedules_schedule_add')}?connection={connection.pk}",
        "rows": [],
    }
    if panel["can_view"]:
        panel["rows"] = [
            {
                "schedule": schedule,
                "entities": entities_label(schedule),
                "edit_url": reverse("admin:schedules_schedule_change", args=[schedule.pk]),
                "delete_url": reverse("admin:schedules_schedule_delete", args=[schedule.pk]),
            }
            for schedule in connection.schedules.select_related("connection").order_by("pk")
        ]
    return panel
