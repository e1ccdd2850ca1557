"""A read-only admin to browse the imported catalog: the catalog is written by migrations only, never by hand.

Nobody (superusers included) may add, change or delete a catalog row here; viewing needs the `view` permission.
Every value shown comes from Akeneo and is escaped (descriptions hold HTML: shown as text, never rendered).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from catalog import models
from catalog.queries import category_codes_in_use, in_category
from catalog.records import label_of
from catalog.views import INLINE_TYPES, download_media

MAX_CATEGORY_CHOICES = 1000
DELETION_FIELDS = ("deleted_in_akeneo",)


class DeletedFilter(admin.SimpleListFilter):
    """Records gone from Akeneo are kept, flagged (migrations_runs.deletions): all shown unless one is chosen."""

    title = "deleted in Akeneo"
    parameter_name = "deleted"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("no", "No (in Akeneo)"), ("yes", "Yes (deleted in Akeneo)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(deleted_at__isnull=True)
        return queryset


class CatalogAdmin(admin.ModelAdmin):
    """View-only: list, search by code, and a page showing the typed columns and the whole Akeneo record.
    Every list has the "deleted in Akeneo" filter and column; every page says whether the record is deleted."""

    list_display: tuple[str, ...] = ("code", "label", "updated_at")
    search_fields: tuple[str, ...] = ("code",)
    list_per_page = 50
    detail_fields: tuple[str, ...] = ("code",)

    def get_list_display(self, request: HttpRequest) -> tuple[str, ...]:
        return (*self.columns(request), "deleted")

    def columns(self, request: HttpRequest) -> tuple[str, ...]:
        """The list's own columns (the deletion column is added after them)."""
        return tuple(super().get_list_display(request))

    def get_list_filter(self, request: HttpRequest) -> tuple:
        return (*self.filters(request), DeletedFilter)

    def filters(self, request: HttpRequest) -> tuple:
        """The list's own filters (the deletion filter is added after them)."""
        return tuple(super().get_list_filter(request))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return self.get_fields(request, obj)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [*self.fields_of(request, obj), *DELETION_FIELDS]

    def fields_of(self, request: HttpRequest, obj: Any = None) -> list[str]:
        """The page's own fields (the deletion state is added after them)."""
        return [*self.detail_fields, "record", "checksum", "created_at", "updated_at"]

    @admin.display(description="Deleted", boolean=True, ordering="deleted_at")
    def deleted(self, obj: models.AkeneoRecord) -> bool:
        return obj.deleted_at is not None

    @admin.display(description="Deleted in Akeneo")
    def deleted_in_akeneo(self, obj: models.AkeneoRecord) -> str:
        if obj.deleted_at is None:
            return "No"
        run = f" by migration run #{obj.deleted_by_run_id}" if obj.deleted_by_run_id else " (an Akeneo event)"
        return f"Yes: found gone on {obj.deleted_at:%Y-%m-%d %H:%M:%S %Z}{run}; kept until purge_deleted"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Label")
    def label(self, obj: models.AkeneoRecord) -> str:
        return label_of(obj.data)

    @admin.display(description="Akeneo record (standard format)")
    def record(self, obj: models.AkeneoRecord) -> SafeString:
        return format_html(
            '<pre class="akeneo-record">{}</pre>', json.dumps(obj.data, indent=2, ensure_ascii=False)
        )


class ChildAdmin(CatalogAdmin):
    """Records keyed under a parent (options, variants, assets, records): searchable by both codes."""

    parent_field = ""

    def columns(self, request: HttpRequest) -> tuple[str, ...]:
        return (self.parent_field, "code", "label", "updated_at")

    def get_search_fields(self, request: HttpRequest) -> tuple[str, ...]:
        return ("code", f"={self.parent_field}")

    def filters(self, request: HttpRequest) -> tuple:
        return (self.parent_field,)

    def fields_of(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [self.parent_field, "code", "record", "checksum", "created_at", "updated_at"]


# --------------------------------------------------------------------------- values as a table
def display_data(data: Any) -> str:
    """A value's data as readable text: metrics and prices spelled out, anything else as compact JSON."""
    if isinstance(data, str):
        return data
    if isinstance(data, dict) and set(data) >= {"amount", "unit"}:
        return f"{data['amount']} {data['unit']}"
    if isinstance(data, list) and data and all(isinstance(x, dict) and "currency" in x for x in data):
        return ", ".join(f"{price.get('amount')} {price.get('currency')}" for price in data)
    if isinstance(data, list) and all(isinstance(x, str) for x in data):
        return ", ".join(data)
    return json.dumps(data, ensure_ascii=False)


def values_table(values: Any) -> SafeString:
    """Values per attribute / locale / channel as an escaped HTML table; media shown as thumbnails or links."""
    if not isinstance(values, dict) or not values:
        return format_html("<p>{}</p>", "No values.")
    attributes = {
        code: data
        for code, data in models.Attribute.objects.filter(code__in=list(values)).values_list("code", "data")
    }
    media_codes = {
        entry.get("data")
        for entries in values.values()
        if isinstance(entries, list)
        for entry in entries
        if isinstance(entry, dict)
        and isinstance(entry.get("data"), str)
        and len(entry["data"]) <= models.MEDIA_CODE_LENGTH
    }
    media = {m.code: m for m in models.MediaFile.objects.filter(code__in=media_codes).exclude(file="")}
    rows = []
    for attribute in sorted(values):
        entries = values[attribute] if isinstance(values[attribute], list) else []
        name = label_of(attributes.get(attribute, {})) or attribute
        for entry in sorted(
            (e for e in entries if isinstance(e, dict)),
            key=lambda e: (str(e.get("scope", e.get("channel")) or ""), str(e.get("locale") or "")),
        ):
            rows.append(
                (
                    name,
                    attribute,
                    entry.get("locale") or "—",
                    entry.get("scope", entry.get("channel")) or "—",
                    render_value(entry.get("data"), media),
                )
            )
    body = format_html_join(
        "\n",
        '<tr><th scope="row">{} <code>{}</code></th><td>{}</td><td>{}</td><td class="value">{}</td></tr>',
        rows,
    )
    return format_html(
        '<table class="product-values"><thead><tr><th scope="col">Attribute</th><th scope="col">Locale</th>'
        '<th scope="col">Channel</th><th scope="col">Value</th></tr></thead><tbody>{}</tbody></table>',
        body,
    )


def media_url(media: models.MediaFile) -> str:
    """Media are served only through the admin's permission-checked view, never from a public URL."""
    return reverse("admin:catalog_mediafile_download", args=[media.pk])


def render_value(data: Any, media: dict[str, models.MediaFile]) -> SafeString:
    if isinstance(data, str) and data in media:
        stored = media[data]
        url = media_url(stored)
        # A thumbnail only for the raster types the view may show inline (it checks the bytes themselves).
        if stored.content_type.split(";")[0].strip().lower() in INLINE_TYPES:
            return format_html(
                '<a href="{0}"><img src="{0}" alt="{1}" style="max-width:120px;max-height:120px"></a>',
                url,
                data,
            )
        return format_html('<a href="{}" download>{}</a>', url, data)
    return format_html("{}", display_data(data))


# --------------------------------------------------------------------------- products
class CategoryFilter(admin.SimpleListFilter):
    """Products (or models) classified in one category: exact on SQLite and PostgreSQL (catalog.queries)."""

    title = "category"
    parameter_name = "category"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        imported = list(
            models.Category.objects.order_by("code").values_list("code", "data")[:MAX_CATEGORY_CHOICES]
        )
        if imported:
            return [(code, f"{label_of(data) or code} ({code})") for code, data in imported]
        return [(code, code) for code in category_codes_in_use(model_admin.model.objects.all())]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        code = self.value()
        return in_category(queryset, code) if code else queryset


class ValuesAdmin(CatalogAdmin):
    """Records with attribute values: their page shows the values as a table."""

    @admin.display(description="Values")
    def values(self, obj: models.AkeneoRecord) -> SafeString:
        return values_table(obj.data.get("values") if isinstance(obj.data, dict) else None)

    @admin.display(description="Categories")
    def categories(self, obj: models.AkeneoRecord) -> str:
        categories = obj.data.get("categories") if isinstance(obj.data, dict) else None
        return ", ".join(str(code) for code in categories or []) or "—"


@admin.register(models.Product)
class ProductAdmin(ValuesAdmin):
    list_display = ("identifier", "uuid", "family_code", "enabled", "parent_code", "updated_at")
    list_display_links = ("identifier", "uuid")
    search_fields = ("uuid", "identifier")
    list_filter = ("family_code", "enabled", CategoryFilter)
    show_full_result_count = False  # COUNT(*) over a million products on every page view is not free
    detail_fields = ("uuid", "identifier", "enabled", "family_code", "parent_code", "categories", "values")


@admin.register(models.ProductModel)
class ProductModelAdmin(ValuesAdmin):
    list_display = ("code", "family_code", "family_variant_code", "parent_code", "updated_at")
    list_filter = ("family_code", "family_variant_code", CategoryFilter)
    detail_fields = ("code", "family_code", "family_variant_code", "parent_code", "categories", "values")


@admin.register(models.Asset)
class AssetAdmin(ChildAdmin, ValuesAdmin):
    parent_field = "asset_family_code"

    def fields_of(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [self.parent_field, "code", "values", "record", "checksum", "created_at", "updated_at"]


@admin.register(models.ReferenceEntityRecord)
class ReferenceEntityRecordAdmin(AssetAdmin):
    parent_field = "reference_entity_code"


# --------------------------------------------------------------------------- structure
@admin.register(models.Locale, models.Currency)
class EnabledAdmin(CatalogAdmin):
    list_display = ("code", "enabled", "updated_at")
    list_filter = ("enabled",)
    detail_fields = ("code", "enabled")


@admin.register(
    models.MeasurementFamily,
    models.Channel,
    models.AttributeGroup,
    models.Family,
    models.AssociationType,
    models.AssetFamily,
    models.ReferenceEntity,
)
class CodeAdmin(CatalogAdmin):
    pass


@admin.register(models.Category)
class CategoryAdmin(CatalogAdmin):
    list_display = ("code", "label", "parent_code", "updated_at")
    detail_fields = ("code", "parent_code")


@admin.register(models.Attribute)
class AttributeAdmin(CatalogAdmin):
    list_display = ("code", "label", "type", "group_code", "updated_at")
    list_filter = ("type", "group_code")
    detail_fields = ("code", "type", "group_code")


@admin.register(models.AttributeOption)
class AttributeOptionAdmin(ChildAdmin):
    parent_field = "attribute_code"


@admin.register(models.FamilyVariant)
class FamilyVariantAdmin(ChildAdmin):
    parent_field = "family_code"


@admin.register(models.AssetFamilyAttribute)
class AssetFamilyAttributeAdmin(ChildAdmin):
    parent_field = "asset_family_code"


@admin.register(models.ReferenceEntityAttribute)
class ReferenceEntityAttributeAdmin(ChildAdmin):
    parent_field = "reference_entity_code"


class GrandchildAdmin(ChildAdmin):
    """Options keyed under two parent codes (asset family or reference entity, then attribute)."""

    def columns(self, request: HttpRequest) -> tuple[str, ...]:
        return (self.parent_field, "attribute_code", "code", "label", "updated_at")

    def get_search_fields(self, request: HttpRequest) -> tuple[str, ...]:
        return ("code", f"={self.parent_field}", "=attribute_code")

    def fields_of(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [self.parent_field, "attribute_code", "code", "record", "checksum", "created_at", "updated_at"]


@admin.register(models.AssetFamilyAttributeOption)
class AssetFamilyAttributeOptionAdmin(GrandchildAdmin):
    parent_field = "asset_family_code"


@admin.register(models.ReferenceEntityAttributeOption)
class ReferenceEntityAttributeOptionAdmin(GrandchildAdmin):
    parent_field = "reference_entity_code"


@admin.register(models.MediaFile)
class MediaFileAdmin(CatalogAdmin):
    list_display = ("code", "content_type", "size", "updated_at")
    search_fields = ("code", "=sha256")
    detail_fields = ("code", "preview", "content_type", "size", "sha256")

    @admin.display(description="File")
    def preview(self, obj: models.MediaFile) -> SafeString:
        if not obj.file:
            return format_html("{}", "not downloaded")
        return render_value(obj.code, {obj.code: obj})

    def get_urls(self) -> list:
        download = path(
            "<int:pk>/download/",
            self.admin_site.admin_view(download_media),
            name="catalog_mediafile_download",
        )
        return [download, *super().get_urls()]
