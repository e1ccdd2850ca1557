"""Admin for schedules: added, edited and deleted from the connection page's Schedules tab (which links here
with the connection preselected), and every page returns there. Saving goes through Schedule.save(), which keeps
the beat entry in line; the permission is the one that starts runs by hand, `migrations_runs.run_migration`."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from migrations_runs.entities import ENTITIES
from schedules.models import Schedule

ENTITY_LABELS = {entity.code: entity.label for entity in ENTITIES}


def can_manage_schedules(user) -> bool:
    """Scheduling runs is running them later: the same permission as Start migration, on a visible connection."""
    return user.has_perm("migrations_runs.run_migration") and (
        user.has_perm("connections.view_connection") or user.has_perm("connections.change_connection")
    )


def can_view_schedules(user) -> bool:
    return can_manage_schedules(user) or user.has_perm("schedules.view_schedule")


def entities_label(schedule: Schedule) -> str:
    if not schedule.entities:
        return "the connection's choice"
    if len(schedule.entities) == len(ENTITY_LABELS):
        return "all"
    return ", ".join(ENTITY_LABELS.get(code, code) for code in schedule.entities)


def connection_tab_url(connection_id: int) -> str:
    return reverse("admin:connections_connection_change", args=[connection_id]) + "#schedules"


class ScheduleForm(forms.ModelForm):
    entities = forms.MultipleChoiceField(
        choices=[(entity.code, entity.label) for entity in ENTITIES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: the connection's saved choice (Run a Migration) when the run starts, or all "
        "entities if it has none. Runs always go in dependency order.",
    )

    class Meta:
        model = Schedule
        fields = ["connection", "mode", "entities", "interval_minutes", "crontab", "enabled"]
        help_texts = {
            "mode": "Full: every record of the chosen entities. Incremental: only what changed since the "
            "connection's last completed run (see Incremental sync).",
        }


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    form = ScheduleForm
    list_display = [
        "connection",
        "mode",
        "entities_display",
        "cadence",
        "enabled",
        "last_run_at",
        "last_outcome",
        "last_run_link",
    ]
    list_filter = ["mode", "enabled", "connection"]
    list_select_related = ["connection", "last_run"]
    readonly_fields = ["last_run_at", "last_outcome", "last_run_link"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ["connection", "mode", "entities"]}),
            ("When", {"fields": ["interval_minutes", "crontab", "enabled"]}),
        ]
        if obj is not None:
            fieldsets.append(("Last firing", {"fields": ["last_run_at", "last_outcome", "last_run_link"]}))
        return fieldsets

    @admin.display(description="Entities")
    def entities_display(self, obj: Schedule) -> str:
        return entities_label(obj)

    @admin.display(description="When")
    def cadence(self, obj: Schedule) -> str:
        return obj.cadence

    @admin.display(description="Last run")
    def last_run_link(self, obj: Schedule) -> str:
        if obj.last_run_id is None:
            return "—"
        url = reverse("admin:migrations_runs_migrationrun_change", args=[obj.last_run_id])
        return format_html('<a href="{}">Run #{}</a>', url, obj.last_run_id)

    # --- permissions: the run_migration permission, not the model's own add/change/delete
    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_view_schedules(request.user)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return can_view_schedules(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return can_manage_schedules(request.user)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return can_manage_schedules(request.user)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return can_manage_schedules(request.user)

    # --- back to the connection's Schedules tab after each page
    def _back(self, request: HttpRequest, connection_id: int | None, default):
        if connection_id is None or any(key in request.POST for key in ("_continue", "_addanother")):
            return default
        return HttpResponseRedirect(connection_tab_url(connection_id))

    def response_add(self, request, obj, post_url_continue=None):
        return self._back(request, obj.connection_id, super().response_add(request, obj, post_url_continue))

    def response_change(self, request, obj):
        return self._back(request, obj.connection_id, super().response_change(request, obj))

    def delete_model(self, request, obj: Schedule) -> None:
        request._schedule_connection_id = obj.connection_id
        super().delete_model(request, obj)

    def response_delete(self, request, obj_display, obj_id):
        default = super().response_delete(request, obj_display, obj_id)
        return self._back(request, getattr(request, "_schedule_connection_id", None), default)
