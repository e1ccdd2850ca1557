"""Per-record results in the admin: what each run (or Akeneo event) created, updated, deleted, failed on or
skipped, record by record. Read-only; reached from a run page ("browse", `?run__id__exact=N`), filterable by
outcome, entity and source, searchable by key (code, parent/code, uuid) and label (product identifier).

Kept cheap at 100k rows per run: no full COUNT(*) on the list, no join per row (the run is shown by its id),
entity choices read from the run's own rows through the (run, entity) index, or from the resource table.
Rows go with their run: whoever may delete runs may delete them (a run's delete confirmation needs it).
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from connections.akeneo.resources import RESOURCES
from migrations_runs.models import RecordResult

RUN_LOOKUPS = ("run__id__exact", "run__exact", "run", "run_id", "step__id__exact")


def run_filter_id(request: HttpRequest) -> str | None:
    """The run the list is narrowed to, when the URL says so (a digit string), else None."""
    for name in ("run__id__exact", "run__exact", "run_id"):
        value = request.GET.get(name)
        if value and value.isdigit():
            return value
    return None


class EntityFilter(admin.SimpleListFilter):
    """Entity choices without a scan of the whole table: the run's entities (index run+entity) when the list is
    narrowed to a run, else every Akeneo resource."""

    title = "entity"
    parameter_name = "entity"

    def lookups(self, request: HttpRequest, model_admin):
        run_id = run_filter_id(request)
        if run_id:
            names = (
                RecordResult.objects.filter(run_id=run_id)
                .order_by("entity")
                .values_list("entity", flat=True)
                .distinct()
            )
        else:
            names = sorted(RESOURCES)
        return [(name, name) for name in names]

    def queryset(self, request: HttpRequest, queryset):
        return queryset.filter(entity=self.value()) if self.value() else queryset


class SourceFilter(admin.SimpleListFilter):
    title = "source"
    parameter_name = "source"

    def lookups(self, request: HttpRequest, model_admin):
        return [("run", "Migration runs"), ("event", "Akeneo events")]

    def queryset(self, request: HttpRequest, queryset):
        return queryset.filter(source=self.value()) if self.value() else queryset


@admin.register(RecordResult)
class RecordResultAdmin(admin.ModelAdmin):
    list_display = ["key", "label", "entity", "outcome", "short_message", "run_link", "created_at"]
    list_filter = ["outcome", EntityFilter, SourceFilter, "connection"]
    search_fields = ["key", "label"]
    list_per_page = 100
    show_full_result_count = False  # no COUNT(*) of the whole table beside the filtered count
    actions = None
    readonly_fields = ["run", "step", "source", "entity", "key", "label", "outcome", "message", "created_at"]
    fields = readonly_fields

    @admin.display(description="Message")
    def short_message(self, obj: RecordResult) -> str:
        return obj.message if len(obj.message) <= 200 else obj.message[:199] + "…"

    @admin.display(description="Run", ordering="run_id")
    def run_link(self, obj: RecordResult) -> str:
        if obj.run_id is None:
            return obj.source or "—"
        url = reverse("admin:migrations_runs_migrationrun_change", args=[obj.run_id])
        return format_html('<a href="{}">#{}</a>', url, obj.run_id)

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        return lookup in RUN_LOOKUPS or super().lookup_allowed(lookup, value, request)

    def changelist_view(self, request: HttpRequest, extra_context=None):
        run_id = run_filter_id(request)
        extra_context = {**(extra_context or {})}
        if run_id:
            extra_context["title"] = f"Records of migration run #{run_id}"
        return super().changelist_view(request, extra_context=extra_context)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        user = request.user
        return user.has_perm("migrations_runs.view_recordresult") or user.has_perm(
            "migrations_runs.view_migrationrun"
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # History: deleted with its run (the run's delete confirmation asks this for every row it cascades to).
        return request.user.has_perm("migrations_runs.delete_migrationrun")
