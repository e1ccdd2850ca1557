"""Received Akeneo events, per connection: read-only, filterable by type, outcome and connection; failed ones can
be processed again. Only adapts the admin to events.services."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Q
from django.http import HttpRequest
from django.utils.html import format_html

from events.models import ReceivedEvent
from events.services import process_again

DUPLICATE = "duplicate"


class OutcomeFilter(admin.SimpleListFilter):
    """The outcomes, plus "duplicate": events delivered again after the first time (answered, not re-applied)."""

    title = "outcome"
    parameter_name = "outcome"

    def lookups(self, request, model_admin):
        return [*ReceivedEvent.Outcome.choices, (DUPLICATE, "Duplicate (received again)")]

    def queryset(self, request, queryset):
        value = self.value()
        if value == DUPLICATE:
            return queryset.filter(repeats__gt=0)
        if value in ReceivedEvent.Outcome.values:
            return queryset.filter(outcome=value)
        return queryset


class TypeFilter(admin.SimpleListFilter):
    """The event types received (a short list: Akeneo has a few dozen)."""

    title = "type"
    parameter_name = "type"

    def lookups(self, request, model_admin):
        types = ReceivedEvent.objects.order_by("event_type").values_list("event_type", flat=True).distinct()
        return [(value, value) for value in types[:100]]

    def queryset(self, request, queryset):
        return queryset.filter(event_type=self.value()) if self.value() else queryset


@admin.register(ReceivedEvent)
class ReceivedEventAdmin(admin.ModelAdmin):
    list_display = [
        "received_at",
        "connection",
        "event_type",
        "record_key",
        "outcome_display",
        "short_message",
        "repeats",
    ]
    list_filter = [OutcomeFilter, TypeFilter, "action", "resource", "mechanism", "connection"]
    search_fields = ["event_id", "record_key"]
    list_select_related = ["connection"]
    list_per_page = 50
    date_hierarchy = "received_at"
    actions = ["process_again_action"]
    readonly_fields = [
        "connection",
        "event_id",
        "mechanism",
        "event_type",
        "action",
        "resource",
        "record_key",
        "occurred_at",
        "received_at",
        "processed_at",
        "outcome",
        "message",
        "repeats",
        "last_repeat_at",
        "payload",
    ]

    @admin.display(description="Outcome", ordering="outcome")
    def outcome_display(self, obj: ReceivedEvent) -> str:
        return format_html(
            '<span class="event-outcome outcome-{}">{}</span>', obj.outcome, obj.get_outcome_display()
        )

    @admin.display(description="Message")
    def short_message(self, obj: ReceivedEvent) -> str:
        return obj.message if len(obj.message) <= 120 else obj.message[:119] + "…"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # what Akeneo sent and what came of it: never edited

    @admin.action(description="Process the selected events again", permissions=["process"])
    def process_again_action(self, request: HttpRequest, queryset) -> None:
        failed = queryset.filter(
            Q(outcome=ReceivedEvent.Outcome.FAILED) | Q(outcome=ReceivedEvent.Outcome.PROCESSING)
        )
        try:
            count = process_again(failed)
        except Exception as error:  # the broker is down
            self.message_user(
                request, f"The events could not be queued ({type(error).__name__}).", messages.ERROR
            )
            return
        self.message_user(request, f"{count} event(s) queued again (only failed or stuck ones are).")

    def has_process_permission(self, request: HttpRequest) -> bool:
        """Re-applying events writes to the catalog: the same right as running a migration."""
        return request.user.has_perm("migrations_runs.run_migration")
