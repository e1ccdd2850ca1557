"""A read-only admin to browse the imported catalog: the catalog is written by migrations only, never by hand.

Nobody (superusers included) may add, change or delete a catalog row here; viewing needs the `view` permission.
Every value shown comes from Akeneo and is escaped; the only HTML rendered is rich text, sanitised with nh3
(catalog.display). Lists load what their columns show per page in a few batched queries, never per row.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db.models import Count, Q, QuerySet
from django.db.models.fields.json import KeyTransform
from django.http import HttpRequest
from django.urls import path
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from catalog import models
from catalog.browse import CategoryTree, in_any_category, product_counts
from catalog.display import (
    MAX_LINKED,
    ValueRenderer,
    admin_link,
    admin_locales,
    changelist_url,
    format_date,
    human_size,
    labels_label,
    link_list,
    media_cell,
    pick_localized,
    record_label,
    thumbnail,
    value_data,
    value_text,
)
from catalog.queries import category_codes_in_use
from catalog.records import label_of
from catalog.views import download_media

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
        return labels_label(obj.data) or label_of(obj.data)

    @admin.display(description="Akeneo record (standard format)")
    def record(self, obj: models.AkeneoRecord) -> SafeString:
        """The raw record stays one click away, folded: the page above it is the readable version."""
        if not obj.data:
            return format_html("{}", "—")
        return format_html(
            '<details class="akeneo-record"><summary>Show the record as Akeneo serves it (JSON)</summary>'
            '<pre class="akeneo-record">{}</pre></details>',
            json.dumps(obj.data, indent=2, ensure_ascii=False),
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


# --------------------------------------------------------------------------- shared helpers
class PreloadingChangeList(ChangeList):
    """Hands the page's rows to the admin once they are fetched, so the columns read what a few batched queries
    loaded (labels, thumbnails, counts) instead of querying per row."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        self.model_admin.preload(request, list(self.result_list))


class PreloadingAdmin(CatalogAdmin):
    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return PreloadingChangeList

    def preload(self, request: HttpRequest, rows: list[Any]) -> None:
        """Set per-row display attributes for a page of rows, in a constant number of queries."""


def link_to(obj: models.AkeneoRecord | None, text: str = "", title: str = "") -> SafeString:
    if obj is None:
        return format_html("{}", text or "—")
    return admin_link(type(obj), obj.pk, text or str(obj), title)


def links_by_code(
    model: type[models.AkeneoRecord], codes: list[str], locales: tuple[str, str], field: str = "code"
) -> list[SafeString]:
    """Links (label, code on hover) to the rows with these codes, in the given order; unknown codes as text."""
    found = {
        getattr(row, field): row
        for row in model.objects.filter(**{f"{field}__in": codes}).only("pk", field, "data")
    }
    out = []
    for code in codes:
        row = found.get(code)
        if row is None:
            out.append(format_html('<span title="not imported">{}</span>', code))
        else:
            out.append(link_to(row, record_label(row.data, locales) or str(code), str(code)))
    return out


def family_info(codes: Any = None) -> dict[str, dict[str, Any]]:
    """code -> {label, attribute_as_label, attribute_as_image} for the families asked (all when None)."""
    rows = models.Family.objects.all()
    if codes is not None:
        rows = rows.filter(code__in=list(codes))
    return {
        code: {
            "pk": pk,
            "labels": labels if isinstance(labels, dict) else {},
            "attribute_as_label": as_label if isinstance(as_label, str) else None,
            "attribute_as_image": as_image if isinstance(as_image, str) else None,
        }
        for pk, code, labels, as_label, as_image in rows.values_list(
            "pk", "code", "data__labels", "data__attribute_as_label", "data__attribute_as_image"
        )
    }


def main_images(rows: list[Any], image_attribute_of: dict[int, str | None]) -> dict[int, models.MediaFile]:
    """Row pk -> the media file of its image attribute. An asset collection as image attribute means the first
    asset's main media (its asset family's attribute_as_main_media). Five queries at most for a page."""
    attributes = {
        code: data if isinstance(data, dict) else {}
        for code, data in models.Attribute.objects.filter(
            code__in={code for code in image_attribute_of.values() if code}
        ).values_list("code", "data")
    }
    media_code_of: dict[int, str] = {}
    asset_of: dict[int, tuple[str, str]] = {}
    for row in rows:
        attribute = image_attribute_of.get(row.pk)
        values = row.data.get("values") if isinstance(row.data, dict) else None
        data = value_data(values, attribute)
        if isinstance(data, list) and data and isinstance(data[0], str):
            definition = attributes.get(attribute or "", {})
            if definition.get("type") == "pim_catalog_asset_collection":
                asset_of[row.pk] = (str(definition.get("reference_data_name") or ""), data[0])
        elif isinstance(data, str):
            media_code_of[row.pk] = data
    if asset_of:
        condition = Q()
        for family, code in set(asset_of.values()):
            condition |= Q(asset_family_code=family, code=code)
        assets = {
            (asset.asset_family_code, asset.code): asset
            for asset in models.Asset.objects.filter(condition).only("asset_family_code", "code", "data")
        }
        main_media = dict(
            models.AssetFamily.objects.filter(
                code__in={family for family, _ in asset_of.values()}
            ).values_list("code", "data__attribute_as_main_media")
        )
        for pk, key in asset_of.items():
            asset = assets.get(key)
            if asset is not None:
                data = value_data(asset.data.get("values"), main_media.get(key[0]))
                if isinstance(data, str):
                    media_code_of[pk] = data
    media = {
        m.code: m
        for m in models.MediaFile.objects.filter(code__in=set(media_code_of.values())).only(
            "pk", "code", "file", "content_type", "size"
        )
    }
    return {pk: media[code] for pk, code in media_code_of.items() if code in media}


def family_link(family: dict[str, Any] | None, code: str | None, locales: tuple[str, str]) -> SafeString:
    if not code:
        return format_html("{}", "—")
    if family is None:
        return format_html('<span title="not imported">{}</span>', code)
    label = pick_localized(family["labels"], locales) or code
    return admin_link(models.Family, family["pk"], label, code)


# --------------------------------------------------------------------------- filters
class FamilyFilter(admin.SimpleListFilter):
    """Families by label: those the rows use (an index scan), labelled from the imported families."""

    title = "family"
    parameter_name = "family_code"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        used = [
            code
            for code in model_admin.model.objects.order_by("family_code")
            .values_list("family_code", flat=True)
            .distinct()
            if code
        ]
        families = family_info(used)
        locales = admin_locales()
        choices = []
        for code in used:
            label = pick_localized(families[code]["labels"], locales) if code in families else ""
            choices.append((code, f"{label} ({code})" if label and label != code else code))
        return choices

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        code = self.value()
        return queryset.filter(family_code=code) if code else queryset


class CategoryFilter(admin.SimpleListFilter):
    """A category and everything under it (products sit in leaf categories), chosen from the indented tree with
    a search box; exact codes on SQLite and PostgreSQL (catalog.browse)."""

    title = "category (with sub-categories)"
    parameter_name = "category"
    template = "admin/catalog/category_filter.html"

    def __init__(self, request: HttpRequest, params: dict, model: Any, model_admin: admin.ModelAdmin) -> None:
        self.tree = CategoryTree.load()
        super().__init__(request, params, model, model_admin)

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        if self.tree.nodes:
            locales = admin_locales()
            return [
                (
                    node.code,
                    "\u2003" * depth + f"{pick_localized(node.labels, locales) or node.code} ({node.code})",
                )
                for depth, node in self.tree.walk()
            ]
        return [(code, code) for code in category_codes_in_use(model_admin.model.objects.all())]

    def choices(self, changelist: ChangeList):  # type: ignore[override]
        """Besides the usual choices, what the template's form needs: the other parameters to keep."""
        kept = [
            (key, value)
            for key, values in changelist.get_filters_params().items()
            for value in (values if isinstance(values, list) else [values])
            if key != self.parameter_name
        ]
        if changelist.query:
            kept.append(("q", changelist.query))
        self.kept_params = kept
        values = ["", *(str(lookup) for lookup, _title in self.lookup_choices)]
        for value, choice in zip(values, super().choices(changelist), strict=False):
            yield {**choice, "value": value}

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        code = self.value()
        if not code:
            return queryset
        return in_any_category(queryset, self.tree.descendants(code))


# --------------------------------------------------------------------------- products and models
class ValuesAdmin(PreloadingAdmin):
    """Records with attribute values (products, models, assets, records): their page shows the values table."""

    @admin.display(description="Values")
    def values(self, obj: models.AkeneoRecord) -> SafeString:
        values = obj.data.get("values") if isinstance(obj.data, dict) else None
        return ValueRenderer([values]).table(values)

    @admin.display(description="Categories")
    def categories(self, obj: models.AkeneoRecord) -> SafeString:
        codes = [str(c) for c in (obj.data.get("categories") or []) if isinstance(c, str)]
        return link_list(links_by_code(models.Category, codes, admin_locales()))

    @admin.display(description="Family")
    def family(self, obj: Any) -> SafeString:
        family = getattr(obj, "_family", None)
        if family is None and obj.family_code:
            family = family_info([obj.family_code]).get(obj.family_code)
        return family_link(family, obj.family_code, admin_locales())

    @admin.display(description="Parent", ordering="parent_code")
    def parent_model(self, obj: Any) -> SafeString:
        if not obj.parent_code:
            return format_html("{}", "—")
        if obj.parent_id is None:
            return format_html('<span title="not imported">{}</span>', obj.parent_code)
        return admin_link(models.ProductModel, obj.parent_id, obj.parent_code)

    @admin.display(description="Associations")
    def associations(self, obj: Any) -> SafeString:
        return associations_table(obj.data, admin_locales())

    @admin.display(description="Created in Akeneo")
    def akeneo_created(self, obj: Any) -> str:
        return format_date(obj.data.get("created")) if obj.data.get("created") else "—"

    @admin.display(description="Updated in Akeneo")
    def akeneo_updated(self, obj: Any) -> str:
        return format_date(obj.data.get("updated")) if obj.data.get("updated") else "—"

    @admin.display(description="Image")
    def thumbnail(self, obj: Any) -> SafeString:
        return thumbnail(getattr(obj, "_thumbnail", None), str(obj), size=60)

    def preload(self, request: HttpRequest, rows: list[Any]) -> None:
        """Label and thumbnail of each row from its family's label and image attributes: 3-6 queries a page."""
        locales = admin_locales()
        families = family_info({row.family_code for row in rows if row.family_code})
        image_attribute_of = {}
        for row in rows:
            family = families.get(row.family_code or "")
            row._family = family
            values = row.data.get("values") if isinstance(row.data, dict) else None
            row._label = value_text(values, family and family["attribute_as_label"], locales)
            image_attribute_of[row.pk] = family and family["attribute_as_image"]
        images = main_images(rows, image_attribute_of)
        for row in rows:
            row._thumbnail = images.get(row.pk)

    def label_of_row(self, obj: Any) -> str:
        if not hasattr(obj, "_label"):
            self.preload(None, [obj])  # type: ignore[arg-type]
        return obj._label or str(obj)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        """Codes as the admin searches them, plus the label: the value of any family's label attribute (every
        locale; its text holds the locale codes too, so searching a locale code matches broadly)."""
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if not term:
            return found, may_have_duplicates
        attributes = sorted(
            {
                code
                for code in models.Family.objects.values_list("data__attribute_as_label", flat=True)
                if isinstance(code, str) and code
            }
        )
        condition = Q()
        aliases = {}
        for index, attribute in enumerate(attributes):
            aliases[f"_label_{index}"] = KeyTransform(attribute, KeyTransform("values", "data"))
            condition |= Q(**{f"_label_{index}__icontains": term})
        if aliases:
            found = found | queryset.alias(**aliases).filter(condition)
        return found, may_have_duplicates


def associations_table(data: Any, locales: tuple[str, str]) -> SafeString:
    """Associations and quantified associations per type, as links to the associated products, models, groups."""
    plain = data.get("associations") if isinstance(data, dict) else None
    quantified = data.get("quantified_associations") if isinstance(data, dict) else None
    plain = plain if isinstance(plain, dict) else {}
    quantified = quantified if isinstance(quantified, dict) else {}
    uuids: set[str] = set()
    identifiers: set[str] = set()
    model_codes: set[str] = set()
    for kinds in plain.values():
        if isinstance(kinds, dict):
            for ref in kinds.get("products") or []:
                (uuids if isinstance(ref, str) and is_uuid(ref) else identifiers).add(str(ref))
            model_codes.update(str(code) for code in kinds.get("product_models") or [])
    for kinds in quantified.values():
        if isinstance(kinds, dict):
            for item in kinds.get("products") or []:
                if isinstance(item, dict):
                    if item.get("uuid"):
                        uuids.add(str(item["uuid"]))
                    elif item.get("identifier"):
                        identifiers.add(str(item["identifier"]))
            for item in kinds.get("product_models") or []:
                if isinstance(item, dict) and item.get("identifier"):
                    model_codes.add(str(item["identifier"]))
    products: dict[str, models.Product] = {}
    if uuids or identifiers:
        for product in models.Product.objects.filter(
            Q(uuid__in=[u for u in uuids if is_uuid(u)]) | Q(identifier__in=identifiers)
        ).only("pk", "uuid", "identifier"):
            products[str(product.uuid)] = product
            if product.identifier:
                products[product.identifier] = product
    product_models = {
        m.code: m for m in models.ProductModel.objects.filter(code__in=model_codes).only("pk", "code")
    }

    def product_link(ref: str, quantity: Any = None) -> SafeString:
        suffix = f" \u00d7 {quantity}" if quantity is not None else ""
        found = products.get(ref)
        if found is None:
            return format_html('<span title="not imported">{}</span>{}', ref, suffix)
        return format_html("{}{}", link_to(found, str(found), str(found.uuid)), suffix)

    def model_link(code: str, quantity: Any = None) -> SafeString:
        suffix = f" \u00d7 {quantity}" if quantity is not None else ""
        found = product_models.get(code)
        if found is None:
            return format_html('<span title="not imported">{}</span>{}', code, suffix)
        return format_html("{} (model){}", link_to(found), suffix)

    rows = []
    for type_code, kinds in sorted(plain.items()):
        if not isinstance(kinds, dict):
            continue
        items = [product_link(str(ref)) for ref in kinds.get("products") or []]
        items += [model_link(str(code)) for code in kinds.get("product_models") or []]
        items += [format_html("{} (group)", code) for code in kinds.get("groups") or []]
        if items:
            rows.append((type_code, format_html_join(", ", "{}", ((item,) for item in items))))
    for type_code, kinds in sorted(quantified.items()):
        if not isinstance(kinds, dict):
            continue
        items = [
            product_link(str(item.get("uuid") or item.get("identifier")), item.get("quantity"))
            for item in kinds.get("products") or []
            if isinstance(item, dict)
        ]
        items += [
            model_link(str(item.get("identifier")), item.get("quantity"))
            for item in kinds.get("product_models") or []
            if isinstance(item, dict)
        ]
        if items:
            rows.append(
                (f"{type_code} (quantified)", format_html_join(", ", "{}", ((item,) for item in items)))
            )
    if not rows:
        return format_html("{}", "None")
    body = format_html_join("", '<tr><th scope="row">{}</th><td>{}</td></tr>', rows)
    return format_html('<table class="associations">{}</table>', body)


def is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return len(text) == 36


@admin.register(models.Product)
class ProductAdmin(ValuesAdmin):
    list_display = (
        "thumbnail",
        "product_label",
        "identifier",
        "family",
        "parent_model",
        "enabled",
        "updated_at",
    )
    list_display_links = ("product_label", "identifier")
    search_fields = ("=uuid", "uuid", "identifier")
    list_filter = (FamilyFilter, "enabled", CategoryFilter)
    show_full_result_count = False  # COUNT(*) over a million products on every page view is not free
    detail_fields = (
        "product_label",
        "uuid",
        "identifier",
        "enabled",
        "family",
        "parent_model",
        "categories",
        "groups",
        "associations",
        "akeneo_created",
        "akeneo_updated",
        "values",
    )

    @admin.display(description="Label")
    def product_label(self, obj: models.Product) -> str:
        return self.label_of_row(obj)

    @admin.display(description="Groups")
    def groups(self, obj: models.Product) -> str:
        return ", ".join(str(code) for code in obj.data.get("groups") or []) or "—"


@admin.register(models.ProductModel)
class ProductModelAdmin(ValuesAdmin):
    list_display = (
        "thumbnail",
        "model_label",
        "code",
        "family",
        "family_variant_code",
        "parent",
        "updated_at",
    )
    list_display_links = ("model_label", "code")
    list_filter = (FamilyFilter, "family_variant_code", CategoryFilter)
    detail_fields = (
        "model_label",
        "code",
        "family",
        "family_variant",
        "parent_model",
        "sub_models",
        "variants",
        "categories",
        "associations",
        "akeneo_created",
        "akeneo_updated",
        "values",
    )

    @admin.display(description="Label")
    def model_label(self, obj: models.ProductModel) -> str:
        return self.label_of_row(obj)

    @admin.display(description="Family variant")
    def family_variant(self, obj: models.ProductModel) -> SafeString:
        if not obj.family_variant_code:
            return format_html("{}", "—")
        variant = models.FamilyVariant.objects.filter(
            family_code=obj.family_code, code=obj.family_variant_code
        ).first()
        return link_to(
            variant,
            (variant and labels_label(variant.data)) or obj.family_variant_code,
            obj.family_variant_code,
        )

    @admin.display(description="Sub-models")
    def sub_models(self, obj: models.ProductModel) -> SafeString:
        rows = models.ProductModel.objects.filter(parent_code=obj.code).order_by("code")
        return self.labelled_links(rows, changelist_url(models.ProductModel, q=obj.code))

    @admin.display(description="Variants")
    def variants(self, obj: models.ProductModel) -> SafeString:
        codes = [
            obj.code,
            *models.ProductModel.objects.filter(parent_code=obj.code).values_list("code", flat=True),
        ]
        rows = models.Product.objects.filter(parent_code__in=codes).order_by("identifier", "uuid")
        return self.labelled_links(rows)

    def labelled_links(self, queryset: QuerySet, more_url: str = "") -> SafeString:
        rows = list(queryset[:MAX_LINKED])
        total = len(rows) if len(rows) < MAX_LINKED else queryset.count()
        self.preload(None, rows)  # type: ignore[arg-type]
        items = [
            format_html(
                "{}{}",
                thumbnail(row._thumbnail, str(row), size=40),
                link_to(row, f"{row._label or row} ({row})"),
            )
            for row in rows
        ]
        return link_list(items, total, empty="None")


# --------------------------------------------------------------------------- assets and records
@admin.register(models.Asset)
class AssetAdmin(ChildAdmin, ValuesAdmin):
    parent_field = "asset_family_code"

    def fields_of(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [self.parent_field, "code", "values", "record", "checksum", "created_at", "updated_at"]

    @admin.display(description="Label")
    def label(self, obj: models.AkeneoRecord) -> str:
        return record_label(obj.data)

    def preload(self, request: HttpRequest, rows: list[Any]) -> None:
        """Nothing to preload: the label is in the row's own data."""


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
    models.AssociationType,
    models.AssetFamily,
    models.ReferenceEntity,
)
class CodeAdmin(CatalogAdmin):
    pass


@admin.register(models.Family)
class FamilyAdmin(PreloadingAdmin):
    list_display = ("code", "label", "label_attribute", "image_attribute", "attribute_count", "product_count")
    detail_fields = (
        "code",
        "label",
        "label_attribute",
        "image_attribute",
        "attributes",
        "requirements",
        "family_variants",
        "product_count",
    )

    def preload(self, request: HttpRequest, rows: list[Any]) -> None:
        """Products per family of the page: one grouped query over the indexed family column."""
        counts = dict(
            models.Product.objects.filter(family_code__in=[row.code for row in rows], deleted_at__isnull=True)
            .order_by()
            .values_list("family_code")
            .annotate(total=Count("pk"))
        )
        for row in rows:
            row._products = counts.get(row.code, 0)

    @admin.display(description="Label attribute")
    def label_attribute(self, obj: models.Family) -> str:
        return str(obj.data.get("attribute_as_label") or "—")

    @admin.display(description="Image attribute")
    def image_attribute(self, obj: models.Family) -> str:
        return str(obj.data.get("attribute_as_image") or "—")

    @admin.display(description="Attributes")
    def attribute_count(self, obj: models.Family) -> int:
        return len(obj.data.get("attributes") or [])

    @admin.display(description="Products")
    def product_count(self, obj: models.Family) -> SafeString:
        if not hasattr(obj, "_products"):
            self.preload(None, [obj])  # type: ignore[arg-type]
        url = changelist_url(models.Product, family_code=obj.code, deleted="no")
        return format_html('<a href="{}">{}</a>', url, obj._products)

    @admin.display(description="Attributes")
    def attributes(self, obj: models.Family) -> SafeString:
        codes = [str(code) for code in obj.data.get("attributes") or []]
        return link_list(links_by_code(models.Attribute, codes, admin_locales()))

    @admin.display(description="Required attributes per channel")
    def requirements(self, obj: models.Family) -> SafeString:
        requirements = obj.data.get("attribute_requirements")
        if not isinstance(requirements, dict) or not requirements:
            return format_html("{}", "—")
        rows = [
            (channel, ", ".join(str(code) for code in codes or []))
            for channel, codes in sorted(requirements.items())
        ]
        return format_html(
            '<table class="requirements">{}</table>',
            format_html_join("", '<tr><th scope="row">{}</th><td>{}</td></tr>', rows),
        )

    @admin.display(description="Variants")
    def family_variants(self, obj: models.Family) -> SafeString:
        variants = models.FamilyVariant.objects.filter(family_code=obj.code).order_by("code")
        items = []
        for variant in variants:
            axes = [
                ", ".join(str(axis) for axis in level.get("axes") or [])
                for level in variant.data.get("variant_attribute_sets") or []
                if isinstance(level, dict)
            ]
            text = labels_label(variant.data) or variant.code
            items.append(
                format_html("{} — axes: {}", link_to(variant, text, variant.code), " / ".join(axes) or "—")
            )
        return link_list(items, empty="None")


@admin.register(models.Category)
class CategoryAdmin(PreloadingAdmin):
    list_display = ("tree_label", "code", "parent_link", "children_count", "product_count", "updated_at")
    list_display_links = ("tree_label", "code")
    search_fields = ("code",)
    detail_fields = ("code", "label", "path", "parent_link", "children", "product_count")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(_children=Count("children"))

    def preload(self, request: HttpRequest, rows: list[Any]) -> None:
        """Depth and product counts (sub-categories included) of the page: one tree read, one count query."""
        tree = CategoryTree.load()
        counts = product_counts(tree, [row.code for row in rows])
        for row in rows:
            row._tree = tree
            row._depth = len(tree.ancestors(row.code))
            row._products = counts.get(row.code, 0)

    def ensure_loaded(self, obj: models.Category) -> None:
        if not hasattr(obj, "_tree"):
            self.preload(None, [obj])  # type: ignore[arg-type]

    @admin.display(description="Category", ordering="code")
    def tree_label(self, obj: models.Category) -> SafeString:
        self.ensure_loaded(obj)
        return format_html(
            '<span style="padding-left:{}em">{}</span>', 1.5 * obj._depth, labels_label(obj.data) or obj.code
        )

    @admin.display(description="Parent", ordering="parent_code")
    def parent_link(self, obj: models.Category) -> SafeString:
        if not obj.parent_code:
            return format_html("{}", "— (root)")
        if obj.parent_id is None:
            return format_html('<span title="not imported">{}</span>', obj.parent_code)
        return admin_link(models.Category, obj.parent_id, obj.parent_code)

    @admin.display(description="Sub-categories", ordering="_children")
    def children_count(self, obj: models.Category) -> int:
        return getattr(obj, "_children", None) or obj.children.count()

    @admin.display(description="Products (with sub-categories)")
    def product_count(self, obj: models.Category) -> SafeString:
        self.ensure_loaded(obj)
        url = changelist_url(models.Product, category=obj.code, deleted="no")
        return format_html('<a href="{}">{}</a>', url, obj._products)

    @admin.display(description="Path")
    def path(self, obj: models.Category) -> SafeString:
        self.ensure_loaded(obj)
        locales = admin_locales()
        chain = [
            admin_link(models.Category, node.pk, pick_localized(node.labels, locales) or node.code, node.code)
            for node in obj._tree.ancestors(obj.code)
        ]
        chain.append(format_html("<strong>{}</strong>", labels_label(obj.data) or obj.code))
        return format_html_join(" \u203a ", "{}", ((item,) for item in chain))

    @admin.display(description="Sub-categories")
    def children(self, obj: models.Category) -> SafeString:
        """The sub-tree under this category, each with its product count (its own sub-categories included)."""
        self.ensure_loaded(obj)
        tree: CategoryTree = obj._tree
        node = tree.nodes.get(obj.code)
        if node is None or not node.children:
            return format_html("{}", "None (a leaf category)")
        counts = product_counts(tree, tree.descendants(obj.code))
        locales = admin_locales()

        def branch(parent: Any, seen: set[str]) -> SafeString:
            items = []
            for child in parent.children:
                if child.code in seen:
                    continue
                seen.add(child.code)
                label = pick_localized(child.labels, locales) or child.code
                url = changelist_url(models.Product, category=child.code, deleted="no")
                sub = branch(child, seen) if child.children else ""
                items.append(
                    format_html(
                        '<li>{} <a href="{}" class="category-count">{} products</a>{}</li>',
                        admin_link(models.Category, child.pk, label, child.code),
                        url,
                        counts.get(child.code, 0),
                        sub,
                    )
                )
            return format_html(
                '<ul class="category-tree">{}</ul>', format_html_join("", "{}", ((i,) for i in items))
            )

        return branch(node, {obj.code})


@admin.register(models.Attribute)
class AttributeAdmin(CatalogAdmin):
    list_display = ("code", "label", "type", "group_code", "updated_at")
    list_filter = ("type", "group_code")
    detail_fields = ("code", "label", "type", "group_code", "option_list")

    @admin.display(description="Options")
    def option_list(self, obj: models.Attribute) -> SafeString:
        if not obj.type.endswith("select"):
            return format_html("{}", "—")
        rows = list(
            models.AttributeOption.objects.filter(attribute_code=obj.code).order_by("code")[:MAX_LINKED]
        )
        total = (
            len(rows)
            if len(rows) < MAX_LINKED
            else models.AttributeOption.objects.filter(attribute_code=obj.code).count()
        )
        return link_list(
            [link_to(row, labels_label(row.data) or row.code, row.code) for row in rows], total, "None"
        )


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
    list_display = ("code", "content_type", "file_size", "updated_at")
    search_fields = ("code", "=sha256")
    detail_fields = ("code", "preview", "content_type", "file_size", "sha256")

    def fields_of(self, request: HttpRequest, obj: Any = None) -> list[str]:
        """Media have no Akeneo record of their own beyond the code: no empty record section."""
        fields = super().fields_of(request, obj)
        return fields if obj is not None and obj.data else [name for name in fields if name != "record"]

    @admin.display(description="Size", ordering="size")
    def file_size(self, obj: models.MediaFile) -> str:
        return (
            human_size(obj.size)
            if obj.size is None or obj.size < 1024
            else f"{human_size(obj.size)} ({obj.size:,} bytes)"
        )

    @admin.display(description="File")
    def preview(self, obj: models.MediaFile) -> SafeString:
        if not obj.file:
            return format_html("{}", "not downloaded")
        return media_cell(obj.code, obj)

    def get_urls(self) -> list:
        download = path(
            "<int:pk>/download/",
            self.admin_site.admin_view(download_media),
            name="catalog_mediafile_download",
        )
        return [download, *super().get_urls()]
