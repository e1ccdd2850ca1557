"""Migration history in the admin: read-only run pages with live progress, log download, cancel, delete.

Only adapts HTTP to migrations_runs.services / progress. Deleting runs deletes history, never imported data.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from connections.masking import MASK, MaskedCredentialsMixin
from migrations_runs.models import MigrationLog, MigrationRun
from migrations_runs.progress import log_text, run_progress
from migrations_runs.services import request_cancel


@admin.register(MigrationRun)
class MigrationRunAdmin(MaskedCredentialsMixin, admin.ModelAdmin):
    list_display = [
        "id", "connection", "masked_client_id", "masked_secret", "masked_password", "entities_display", "status",
        "started_at", "user",
    ]  # fmt: skip
    list_filter = ["status", "connection"]
    list_select_related = ["connection", "user"]
    list_per_page = 50
    delete_confirmation_template = "admin/migrations_runs/migrationrun/delete_confirmation.html"
    delete_selected_confirmation_template = (
        "admin/migrations_runs/migrationrun/delete_selected_confirmation.html"
    )

    @admin.display(description="Entities")
    def entities_display(self, obj: MigrationRun) -> str:
        return ", ".join(obj.entities)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # runs start from a connection's edit page or `akeneo_migrate`

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
                self.admin_site.admin_view(require_POST(self.cancel_view)),
                name="migrations_runs_migrationrun_cancel",
            ),
            *super().get_urls(),
        ]

    def _run(self, request: HttpRequest, run_id) -> MigrationRun:
        if not self.has_view_permission(request):
            raise PermissionDenied
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
            "progress": run_progress(run, level=level or None),
            "levels": MigrationLog.Level.choices,
            "level": level,
            "masked": MASK,
            "can_cancel": run.is_active and request.user.has_perm("migrations_runs.run_migration"),
            "can_delete": self.has_delete_permission(request, run),
        }
        return TemplateResponse(request, "admin/migrations_runs/migrationrun/detail.html", context)

    def progress_view(self, request: HttpRequest, run_id: int) -> JsonResponse:
        run = self._run(request, run_id)
        return JsonResponse(run_progress(run, level=request.GET.get("level") or None))

    def log_view(self, request: HttpRequest, run_id: int) -> HttpResponse:
        run = self._run(request, run_id)
        response = HttpResponse(
            log_text(run, level=request.GET.get("level") or None), content_type="text/plain; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="migration-run-{run.pk}.log"'
        return response

    def cancel_view(self, request: HttpRequest, run_id: int) -> HttpResponse:
        if not request.user.has_perm("migrations_runs.run_migration"):
            raise PermissionDenied
        run = self._run(request, run_id)
        if request_cancel(run) == "cancelled":
            run.refresh_from_db()
            messages.info(request, f"Migration run #{run.pk} was cancelled: {run.error}")
        else:
            messages.info(request, f"Migration run #{run.pk} will stop after the page being imported.")
        return HttpResponseRedirect(reverse("admin:migrations_runs_migrationrun_change", args=[run.pk]))
