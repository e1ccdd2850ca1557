"""Migration history in the admin: starting a run from a connection's edit page, read-only run pages with live
progress, log download, cancel, delete; Verify and Preview reports (started from a connection's edit page, run on
Celery, downloadable as text or JSON). The edit page's migration panel and tab come from
templatetags/migration_panel.py.

Only adapts HTTP to migrations_runs.services / progress. Deleting runs deletes history, never imported data.
"""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from connections.masking import MASK, MaskedCredentialsMixin
from migrations_runs.models import MigrationLog, MigrationRun, Status, VerifyReport
from migrations_runs.progress import log_text, run_progress
from migrations_runs.run_page import decorate, entities_full, entities_summary, format_time, return_url
from migrations_runs.services import request_cancel

REPORT_PAGE_DIFFERENCES = 500  # differences shown on a report page; the downloads hold all that were kept


@admin.register(MigrationRun)
class MigrationRunAdmin(MaskedCredentialsMixin, admin.ModelAdmin):
    list_display = [
        "id", "connection", "masked_credentials", "entities_display", "status", "started_display", "user",
    ]  # fmt: skip
    list_filter = ["status", "connection"]
    list_select_related = ["connection", "user"]
    list_per_page = 50
    delete_confirmation_template = "admin/migrations_runs/migrationrun/delete_confirmation.html"
    delete_selected_confirmation_template = (
        "admin/migrations_runs/migrationrun/delete_selected_confirmation.html"
    )

    class Media:
        css = {"all": ["migrations_runs/runs_list.css"]}

    @admin.display(description="Entities")
    def entities_display(self, obj: MigrationRun) -> str:
        """A few words, the full list on hover: 13 codes side by side pushed the User column off screen."""
        return format_html(
            '<span class="run-entities" title="{}">{}</span>',
            entities_full(obj.entities),
            entities_summary(obj.entities),
        )

    @admin.display(description="Client ID / Secret / Password")
    def masked_credentials(self, obj: MigrationRun) -> str:
        """One masked column for the three: three columns of asterisks pushed the User column off a 1280 px
        screen, and the masks carry no information beyond "never shown"."""
        return MASK

    @admin.display(description="Started at", ordering="started_at")
    def started_display(self, obj: MigrationRun) -> str:
        if obj.started_at is None:
            return "—"
        day, time = format_time(obj.started_at).split(" ")
        return format_html('<span class="run-started"><span>{}</span> <span>{}</span></span>', day, time)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # runs start from a connection's edit page or `akeneo_migrate`

    # --- deleting: back where the user started (the connection's Migration History tab), when it is safe
    def delete_view(self, request: HttpRequest, object_id: str, extra_context=None):
        extra_context = {**(extra_context or {}), "next_url": return_url(request)}
        return super().delete_view(request, object_id, extra_context)

    def response_delete(self, request: HttpRequest, obj_display: str, obj_id) -> HttpResponse:
        """Back to `next` (the Migration History tab), else to this list: Django would send a user without the
        change permission (nobody has it: history is read-only) to the admin index."""
        from django.contrib.admin.templatetags.admin_urls import add_preserved_filters

        response = super().response_delete(request, obj_display, obj_id)
        if not isinstance(response, HttpResponseRedirect):
            return response
        back = return_url(request)
        if back:
            return HttpResponseRedirect(back)
        if self.has_view_permission(request):
            changelist = reverse("admin:migrations_runs_migrationrun_changelist")
            return HttpResponseRedirect(
                add_preserved_filters(
                    {"preserved_filters": self.get_preserved_filters(request), "opts": self.opts}, changelist
                )
            )
        return response

    def response_action(self, request: HttpRequest, queryset):
        """Bulk delete: the confirmation page carries `next` on, and the final redirect follows it."""
        response = super().response_action(request, queryset)
        back = return_url(request)
        if isinstance(response, TemplateResponse):
            response.context_data["next_url"] = back
        elif back and isinstance(response, HttpResponseRedirect) and request.POST.get("post"):
            return HttpResponseRedirect(back)
        return response

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # history is read-only

    def get_urls(self):
        return [
            path(
                "<int:run_id>/progress/",
                self.admin_site.admin_view(self.progress_view),
                name="migrations_runs_migrationrun_progress",
            ),
            path(
                "<int:run_id>/log/",
                self.admin_site.admin_view(self.log_view),
                name="migrations_runs_migrationrun_log",
            ),
            path(
                "<int:run_id>/cancel/",
                self.admin_site.admin_view(self.cancel_view),
                name="migrations_runs_migrationrun_cancel",
            ),
            path(
                "connection/<path:connection_id>/migrate/",
                self.admin_site.admin_view(require_POST(self.start_view)),
                name="migrations_runs_migrationrun_start",
            ),
            path(
                "filters/<int:connection_id>/",
                self.admin_site.admin_view(
                    sensitive_post_parameters("secret", "password", "client_id")(
                        require_POST(self.filters_view)
                    )
                ),
                name="migrations_runs_migrationrun_filters",
            ),
            *super().get_urls(),
        ]

    def start_view(self, request: HttpRequest, connection_id: str) -> HttpResponse:
        """Start a run from a connection's edit page (its Run-a-Migration panel): save the ticked entities on the
        connection, start the run, and show it. Starting reads the connection's stored credentials, so the
        connection's own view permission is needed as well as `run_migration`."""
        from connections.models import Connection
        from migrations_runs.entities import ENTITY_CODES
        from migrations_runs.services import MigrationNotStarted, start_run

        connection_admin = self.admin_site.get_model_admin(Connection)
        if not request.user.has_perm(
            "migrations_runs.run_migration"
        ) or not connection_admin.has_view_permission(request):
            raise PermissionDenied
        # Any text (`abc`, `1/x`) is taken and looked up as the connection admin does: no such connection, a 404.
        connection = connection_admin.get_object(request, connection_id)
        if connection is None:
            raise Http404("No such connection.")
        entities = [code for code in request.POST.getlist("entities") if code in ENTITY_CODES]
        Connection.objects.filter(pk=connection.pk).update(
            migration_entities=entities
        )  # a preference: no history
        try:
            run = start_run(
                connection, entities, request.user, incremental=request.POST.get("mode") == "incremental"
            )
        except MigrationNotStarted as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(reverse("admin:connections_connection_change", args=[connection.pk]))
        messages.success(request, f"Migration run #{run.pk} started: {len(run.entities)} entities.")
        return HttpResponseRedirect(reverse("admin:migrations_runs_migrationrun_change", args=[run.pk]))

    def filters_view(self, request: HttpRequest, connection_id: int) -> HttpResponse:
        """Save a connection's import filters (the Import Filters tab), checked against its source first. A
        refused form comes back on the tab with its messages (kept in the session for one display)."""
        from connections.models import Connection
        from migrations_runs.filters import FilterError, check_filters, summary
        from migrations_runs.filters_form import PREFIX, ImportFiltersForm
        from migrations_runs.templatetags.import_filters import SESSION_KEY

        if not request.user.has_perm("connections.change_connection"):
            raise PermissionDenied
        connection = get_object_or_404(Connection, pk=connection_id)
        back = reverse("admin:connections_connection_change", args=[connection.pk]) + "#import-filters"
        form = ImportFiltersForm(data=request.POST)
        filters = None
        if form.is_valid():
            try:
                filters = check_filters(connection, form.filters)
            except FilterError as error:
                form.add_filter_errors(error)
        if filters is None:
            request.session[SESSION_KEY.format(pk=connection.pk)] = {
                "data": {k: v for k, v in request.POST.items() if k.startswith(f"{PREFIX}-")},
                "errors": {field: list(errors) for field, errors in form.errors.items()},
            }
            messages.error(
                request,
                "The import filters were not saved: "
                + " ".join(str(message) for errors in form.errors.values() for message in errors),
            )
            return HttpResponseRedirect(back)
        connection.import_filters = filters
        connection.save(update_fields=["import_filters", "updated_at"])
        messages.success(
            request,
            f"Import filters saved: {summary(filters)}."
            if filters
            else "Import filters cleared: runs read the whole catalog.",
        )
        return HttpResponseRedirect(back)

    def _run(self, request: HttpRequest, run_id) -> MigrationRun:
        if not self.has_view_permission(request):
            raise PermissionDenied
        if not str(run_id).isdigit():  # `abc/change/` would otherwise reach the database as an id, a 500
            raise Http404("No such migration run.")
        return get_object_or_404(MigrationRun.objects.select_related("connection", "user"), pk=run_id)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        """The run page: rendered once, then kept live by polling progress_view."""
        run = self._run(request, object_id)
        level = request.GET.get("level") or ""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Migration run #{run.pk}",
            "run": run,
            "progress": decorate(run_progress(run, level=level or None), run),
            "levels": MigrationLog.Level.choices,
            "level": level,
            "masked": MASK,
            "can_cancel": run.is_active and request.user.has_perm("migrations_runs.run_migration"),
            "can_delete": self.has_delete_permission(request, run),
        }
        return TemplateResponse(request, "admin/migrations_runs/migrationrun/detail.html", context)

    def progress_view(self, request: HttpRequest, run_id: int) -> JsonResponse:
        run = self._run(request, run_id)
        return JsonResponse(decorate(run_progress(run, level=request.GET.get("level") or None), run))

    def log_view(self, request: HttpRequest, run_id: int) -> HttpResponse:
        run = self._run(request, run_id)
        response = HttpResponse(
            log_text(run, level=request.GET.get("level") or None), content_type="text/plain; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="migration-run-{run.pk}.log"'
        return response

    def cancel_view(self, request: HttpRequest, run_id: int) -> HttpResponse:
        """GET asks for confirmation (the run page's Cancel leads here); only the confirmation's POST cancels."""
        if not request.user.has_perm("migrations_runs.run_migration"):
            raise PermissionDenied
        run = self._run(request, run_id)
        run_page = reverse("admin:migrations_runs_migrationrun_change", args=[run.pk])
        if request.method != "POST":
            if not run.is_active:
                messages.info(request, f"Migration run #{run.pk} is {run.get_status_display().lower()}.")
                return HttpResponseRedirect(run_page)
            context = {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": f"Cancel migration run #{run.pk}?",
                "run": run,
                "run_page": run_page,
            }
            return TemplateResponse(
                request, "admin/migrations_runs/migrationrun/cancel_confirmation.html", context
            )
        if request_cancel(run) == Status.CANCELLED:
            run.refresh_from_db()
            messages.info(request, f"Migration run #{run.pk} was cancelled: {run.error}")
        else:
            messages.info(request, f"Migration run #{run.pk} will stop after the page being imported.")
        return HttpResponseRedirect(run_page)


@admin.register(VerifyReport)
class VerifyReportAdmin(admin.ModelAdmin):
    """Verify and Preview reports: started from a connection's edit page (or `akeneo_verify`), read-only."""

    list_display = [
        "id",
        "kind",
        "connection",
        "entities_display",
        "status",
        "differences_total",
        "created_at",
    ]
    list_filter = ["kind", "status", "connection"]
    list_select_related = ["connection", "user"]

    @admin.display(description="Entities")
    def entities_display(self, obj: VerifyReport) -> str:
        return ", ".join(obj.entities)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        user = request.user
        return user.has_perm("migrations_runs.view_verifyreport") or user.has_perm(
            "migrations_runs.verify_catalog"
        )

    def get_urls(self):
        return [
            path(
                "start/<int:connection_id>/<str:kind>/",
                self.admin_site.admin_view(require_POST(self.start_view)),
                name="migrations_runs_verifyreport_start",
            ),
            path(
                "<int:report_id>/download/<str:fmt>/",
                self.admin_site.admin_view(self.download_view),
                name="migrations_runs_verifyreport_download",
            ),
            *super().get_urls(),
        ]

    def start_view(self, request: HttpRequest, connection_id: int, kind: str) -> HttpResponse:
        """Verify (permission verify_catalog) or Preview (run_migration) the ticked entities, on Celery."""
        from connections.models import Connection
        from migrations_runs.entities import ENTITY_CODES
        from migrations_runs.tasks import enqueue_report
        from migrations_runs.verify import MEDIA, start_report

        needed = {"verify": "migrations_runs.verify_catalog", "preview": "migrations_runs.run_migration"}
        if kind not in needed:
            raise Http404("No such check.")
        if not request.user.has_perm(needed[kind]) or not request.user.has_perm(
            "connections.view_connection"
        ):
            raise PermissionDenied
        connection = get_object_or_404(Connection, pk=connection_id)
        back = HttpResponseRedirect(reverse("admin:connections_connection_change", args=[connection.pk]))
        entities = [code for code in request.POST.getlist("entities") if code in ENTITY_CODES]
        if kind == "verify":
            entities.append(MEDIA)
        try:
            report = start_report(connection, entities, request.user, kind=kind)
        except ValueError:
            messages.error(request, f"Choose at least one entity to {kind}.")
            return back
        try:
            enqueue_report(report)
        except Exception as error:  # broker down
            VerifyReport.objects.filter(pk=report.pk).update(
                status=Status.FAILED,
                error=f"Could not be queued: the Celery broker did not answer ({type(error).__name__}).",
            )
            messages.error(request, f"The {kind} could not be queued: is Redis running?")
            return back
        return HttpResponseRedirect(reverse("admin:migrations_runs_verifyreport_change", args=[report.pk]))

    def _report(self, request: HttpRequest, report_id) -> VerifyReport:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(VerifyReport.objects.select_related("connection", "user"), pk=report_id)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        from migrations_runs.preview import COUNTS
        from migrations_runs.verify import VERIFY_COLUMNS

        if not str(object_id).isdigit():
            raise Http404
        report = self._report(request, object_id)
        columns = COUNTS if report.kind == VerifyReport.Kind.PREVIEW else VERIFY_COLUMNS
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"{report.get_kind_display()} #{report.pk}",
            "report": report,
            "columns": columns,
            "rows": [
                {
                    "label": row.get("label", ""),
                    "resource": row.get("resource", ""),
                    "cells": [row.get(name, 0) for name in columns],
                }
                for row in report.counts
            ],
            "differences": report.differences.all()[:REPORT_PAGE_DIFFERENCES],
            "more": max(0, report.differences_total - REPORT_PAGE_DIFFERENCES),
        }
        return TemplateResponse(request, "admin/migrations_runs/verifyreport/detail.html", context)

    def download_view(self, request: HttpRequest, report_id: int, fmt: str) -> HttpResponse:
        from migrations_runs.verify import report_text

        report = self._report(request, report_id)
        if fmt == "json":
            body = json.dumps(
                {
                    "id": report.pk,
                    "kind": report.kind,
                    "connection": str(report.connection),
                    "status": report.status,
                    "error": report.error,
                    "entities": report.entities,
                    "started_at": report.started_at.isoformat() if report.started_at else None,
                    "finished_at": report.finished_at.isoformat() if report.finished_at else None,
                    "differences_total": report.differences_total,
                    "counts": report.counts,
                    "differences": [
                        {
                            "resource": d.resource,
                            "kind": d.kind,
                            "key": d.key,
                            "label": d.label,
                            "fields": d.fields,
                            "detail": d.detail,
                        }
                        for d in report.differences.order_by("pk").iterator()
                    ],
                },
                ensure_ascii=False,
                indent=1,
            )
            response = HttpResponse(body, content_type="application/json; charset=utf-8")
        elif fmt == "txt":
            response = HttpResponse(report_text(report), content_type="text/plain; charset=utf-8")
        else:
            raise Http404("No such format.")
        response["Content-Disposition"] = f'attachment; filename="{report.kind}-{report.pk}.{fmt}"'
        return response


from migrations_runs import admin_records  # noqa: E402, F401  (per-record results)
