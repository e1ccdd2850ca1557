"""Admin for Akeneo connections: list, create (tested live), tabbed edit page, test button.

Only adapts HTTP to the services: the connection test lives in connections.services.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from connections.crypto import CredentialsUnreadable
from connections.forms import ConnectionChangeForm, ConnectionCreateForm
from connections.history import field_changes
from connections.masking import MASK, MaskedCredentialsMixin
from connections.models import Connection
from connections.services import CONNECTION_OK, verify_connection
from events.services import events_tab_context


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("enabled", "Enabled"), ("disabled", "Disabled")]

    def queryset(self, request, queryset):
        if self.value() == "enabled":
            return queryset.filter(enabled=True)
        if self.value() == "disabled":
            return queryset.filter(enabled=False)
        return queryset


@admin.register(Connection)
class ConnectionAdmin(MaskedCredentialsMixin, admin.ModelAdmin):
    list_display = ["name", "base_url", "username", "status_display"]
    list_display_links = ["name"]
    search_fields = ["name", "base_url", "username"]
    list_filter = [StatusFilter]
    list_per_page = 25
    actions = ["enable_selected", "disable_selected"]
    change_form_template = "admin/connections/connection/change_form.html"

    add_fieldsets = [(None, {"fields": ["base_url", "client_id", "secret", "username", "password"]})]
    change_fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "base_url",
                    "client_id",
                    "secret",
                    "username",
                    "password",
                    "enabled",
                    "events_secret",
                ]
            },
        )
    ]
    # View-only users see masks, never the decrypted Client ID.
    view_fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "base_url",
                    "masked_client_id",
                    "masked_secret",
                    "username",
                    "masked_password",
                    "status_display",
                    "masked_events_secret",
                ]
            },
        )
    ]

    # --- list
    @admin.display(description="Status", ordering="enabled")
    def status_display(self, obj: Connection) -> str:
        return obj.status

    @admin.display(description="Events secret")
    def masked_events_secret(self, obj: Connection) -> str:
        return MASK if obj.events_secret_encrypted else "not set"

    @admin.action(description="Enable selected connections", permissions=["change"])
    def enable_selected(self, request: HttpRequest, queryset) -> None:
        self._set_enabled(request, queryset, True)

    @admin.action(description="Disable selected connections", permissions=["change"])
    def disable_selected(self, request: HttpRequest, queryset) -> None:
        self._set_enabled(request, queryset, False)

    def _set_enabled(self, request: HttpRequest, queryset, enabled: bool) -> None:
        count = 0
        for connection in queryset.exclude(enabled=enabled):  # save() so each change reaches History
            connection.enabled = enabled
            connection.save(update_fields=["enabled", "updated_at"])
            count += 1
        self.message_user(request, f"{count} connection(s) {'enabled' if enabled else 'disabled'}.")

    # --- forms
    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = ConnectionChangeForm if obj is not None else ConnectionCreateForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        if not self.has_change_permission(request, obj):
            return self.view_fieldsets
        return self.change_fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not self.has_change_permission(request, obj):
            return [field for _name, options in self.view_fieldsets for field in options["fields"]]
        return []

    def save_form(self, request, form, change: bool):
        """A new connection is saved here, by the service the command line uses (it names the connection);
        a change is only prepared (validated, tested) and saved in save_model."""
        if not change:
            return form.save()
        return form.save(commit=False)

    def save_model(self, request, obj: Connection, form, change: bool) -> None:
        if change:
            form.save()  # apply_update: one save, one History row, secrets only as "changed"

    def response_add(self, request, obj, post_url_continue=None):
        """As UserAdmin does: "Save" continues to the edit page, where migrations start, except in a popup
        (the opener gets the new connection) or for a user who may not open that page."""
        if IS_POPUP_VAR in request.POST:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(request, f"{CONNECTION_OK}: Akeneo accepted the credentials.", messages.SUCCESS)
        if "_addanother" not in request.POST and self.has_view_or_change_permission(request, obj):
            request.POST = request.POST.copy()
            request.POST["_continue"] = 1
        return super().response_add(request, obj, post_url_continue)

    # --- pages
    @method_decorator(sensitive_post_parameters("client_id", "secret", "password", "events_secret"))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """Both add and change go through here: error reports (debug page, e-mails) must not show secrets."""
        return super().changeform_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": "Connections", **(extra_context or {})})

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        """The page's extra context, from the object the admin has already fetched."""
        form = context["adminform"].form if context.get("adminform") else None
        context["connection_test_explanation"] = getattr(form, "connection_test_explanation", "")
        # Saving always lands on the connection's edit page; "add another" would not.
        context["show_save_and_add_another"] = False
        if add:
            context.update(
                title="Create connection",
                subtitle=None,
                show_save_and_continue=False,
                connection_test_seconds=math.ceil(
                    settings.AKENEO_CONNECT_TIMEOUT + settings.AKENEO_READ_TIMEOUT
                ),
            )
        elif obj is not None:
            context.update(self._edit_page_context(request, obj, form))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _edit_page_context(self, request: HttpRequest, connection: Connection, form) -> dict:
        # After a refused POST the instance holds what was typed: the title names the stored connection.
        name = (form.initial.get("name") if form is not None else None) or connection.name
        verb = "Edit" if self.has_change_permission(request, connection) else "View"
        try:
            connection.credentials()
        except CredentialsUnreadable as exc:
            messages.error(request, str(exc))
        return {
            "title": f"{verb} connection “{name}”",
            "subtitle": None,
            "connection_name": name,
            "history_rows": field_changes(connection),
            "can_test_connection": self.has_test_permission(request, connection),
            "masked": MASK,
            **events_tab_context(request, connection),
        }

    def has_test_permission(self, request: HttpRequest, obj: Connection | None = None) -> bool:
        """Testing reads the stored credentials: it needs the view permission too, not only `test_connection`."""
        return request.user.has_perm("connections.test_connection") and self.has_view_permission(request, obj)

    def _connection_or_404(self, request: HttpRequest, object_id: str) -> Connection:
        """The connection named in the URL; anything that is not an existing id (`abc`, `1/x`) is a 404."""
        connection = self.get_object(request, unquote(object_id))
        if connection is None:
            raise Http404("No such connection.")
        return connection

    def get_urls(self):
        urls = super().get_urls()
        custom = [
            path(
                "<path:object_id>/test/",
                self.admin_site.admin_view(require_POST(self.test_view)),
                name="connections_connection_test",
            ),
        ]
        return custom + urls

    def test_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Re-test the stored credentials without saving anything."""
        if not self.has_test_permission(request):
            raise PermissionDenied
        connection = self._connection_or_404(request, object_id)
        result = verify_connection(connection)
        if result.ok:
            messages.success(request, f"{result.message}: Akeneo accepted the stored credentials.")
        else:
            messages.error(request, str(result))
        return HttpResponseRedirect(reverse("admin:connections_connection_change", args=[connection.pk]))
