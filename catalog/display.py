"""How catalog values read in the admin: labels in the admin's language, option and record labels instead of codes,
rich text sanitised, dates and sizes for humans, references as links.

Everything shown here comes from Akeneo, which is not trusted: text is escaped, and the only HTML ever rendered is
rich text (a wysiwyg textarea) passed through `nh3` with a short allow-list (no scripts, no event handlers, no
images or other resources that would make the viewer's browser call a third party).

Lookups are batched: a `ValueRenderer` loads every attribute, option, record, asset and media file a set of
records refers to in a handful of queries, whatever the number of values.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import nh3
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from catalog import models
from catalog.views import INLINE_TYPES

# Rich text keeps its structure but nothing that runs or loads: no <img>/<area>/<map> (remote requests from the
# admin's browser), only plain link schemes; nh3 already drops scripts, styles and every on* attribute.
RICH_TEXT_TAGS = frozenset(nh3.ALLOWED_TAGS - {"img", "area", "map"})
RICH_TEXT_SCHEMES = frozenset({"http", "https", "mailto"})
SIZE_UNITS = ("bytes", "KB", "MB", "GB", "TB")
SELECT_TYPES = ("pim_catalog_simpleselect", "pim_catalog_multiselect")
RECORD_TYPES = ("akeneo_reference_entity", "akeneo_reference_entity_collection")
MEDIA_TYPES = ("pim_catalog_image", "pim_catalog_file")
MAX_LINKED = 200  # a model with thousands of variants lists the first ones and says how many there are


# --------------------------------------------------------------------------- locales and labels
def admin_locales(language: str | None = None) -> tuple[str, str]:
    """The Akeneo locale matching the admin's language (`en-us` -> `en_US`) and its language prefix (`en_`)."""
    language = (language or translation.get_language() or "en-us").replace("-", "_")
    lang, _, region = language.partition("_")
    lang = lang.lower()
    return (f"{lang}_{region.upper()}" if region else lang), f"{lang}_"


def pick_localized(texts: Mapping[str | None, Any], locales: tuple[str, str] | None = None) -> str:
    """The text for the admin's locale, else the same language in another region, else English, else any."""
    exact, prefix = locales or admin_locales()
    candidates = {key: text for key, text in texts.items() if isinstance(text, str) and text.strip()}
    if not candidates:
        return ""
    for wanted in (exact, None):
        if wanted in candidates:
            return candidates[wanted]
    for key in sorted(k for k in candidates if isinstance(k, str)):
        if key.startswith(prefix):
            return candidates[key]
    if "en_US" in candidates:
        return candidates["en_US"]
    return candidates[min(candidates, key=lambda key: key or "")]


def labels_label(data: Any, locales: tuple[str, str] | None = None) -> str:
    """A structure record's `labels` in the admin's language (empty when it has none)."""
    labels = data.get("labels") if isinstance(data, dict) else None
    return pick_localized(labels, locales) if isinstance(labels, dict) else ""


def value_entries(values: Any, attribute: str) -> list[dict[str, Any]]:
    entries = values.get(attribute) if isinstance(values, dict) else None
    return [entry for entry in entries if isinstance(entry, dict)] if isinstance(entries, list) else []


def value_text(values: Any, attribute: str | None, locales: tuple[str, str] | None = None) -> str:
    """An attribute's text value in the admin's language (any channel): for labels taken from values."""
    if not attribute:
        return ""
    texts: dict[str | None, Any] = {}
    for entry in value_entries(values, attribute):
        texts.setdefault(entry.get("locale"), entry.get("data"))
    return pick_localized(texts, locales)


def value_data(values: Any, attribute: str | None) -> Any:
    """The first non-empty data of an attribute (a media code, for thumbnails)."""
    for entry in value_entries(values, attribute or ""):
        if entry.get("data") not in (None, "", []):
            return entry["data"]
    return None


def record_label(data: Any, locales: tuple[str, str] | None = None) -> str:
    """Reference entity records and assets keep their label in a `label` value, structure records in `labels`."""
    values = data.get("values") if isinstance(data, dict) else None
    return value_text(values, "label", locales) or labels_label(data, locales)


# --------------------------------------------------------------------------- formats
def human_size(size: int | None) -> str:
    """1536 -> '1.5 KB' (binary multiples, as file managers show them)."""
    if size is None:
        return "—"
    amount = float(size)
    for unit in SIZE_UNITS:
        if amount < 1024 or unit == SIZE_UNITS[-1]:
            return f"{int(amount)} {unit}" if unit == "bytes" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{size} bytes"  # pragma: no cover - the loop always returns


def format_date(value: Any) -> str:
    """Akeneo's ISO 8601 timestamps: a date at midnight reads as a date, anything else with its time."""
    if not isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if (moment.hour, moment.minute, moment.second) == (0, 0, 0):
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m-%d %H:%M") + (f" {moment.tzname()}" if moment.tzinfo else "")


def sanitize_html(html: Any) -> SafeString:
    """Rich text from Akeneo, safe to render in the admin's origin."""
    cleaned = nh3.clean(
        html if isinstance(html, str) else str(html),
        tags=set(RICH_TEXT_TAGS),
        url_schemes=set(RICH_TEXT_SCHEMES),
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(cleaned)  # noqa: S308 - nh3 output: only allow-listed tags and attributes remain


def admin_link(model: type[models.AkeneoRecord], pk: Any, text: str, title: str = "") -> SafeString:
    url = reverse(f"admin:catalog_{model._meta.model_name}_change", args=[pk])
    if title and title != text:
        return format_html('<a href="{}" title="{}">{}</a>', url, title, text)
    return format_html('<a href="{}">{}</a>', url, text)


def coded(text: str, code: str) -> SafeString:
    """A label with its code on hover (the code alone when there is no label)."""
    if not text or text == code:
        return format_html("{}", code)
    return format_html('<span title="{}">{}</span>', code, text)


def media_url(media: models.MediaFile) -> str:
    """Media are served only through the admin's permission-checked view, never from a public URL."""
    return reverse("admin:catalog_mediafile_download", args=[media.pk])


def is_inline_image(media: models.MediaFile) -> bool:
    """Thumbnails only for the raster types the download view may show inline (it checks the bytes too)."""
    return bool(media.file) and media.content_type.split(";")[0].strip().lower() in INLINE_TYPES


def thumbnail(media: models.MediaFile | None, alt: str, size: int = 120) -> SafeString:
    if media is None or not is_inline_image(media):
        return format_html("{}", "")
    return format_html(
        '<img src="{}" alt="{}" loading="lazy" class="catalog-thumb" style="max-width:{}px;max-height:{}px">',
        media_url(media),
        alt,
        size,
        size,
    )


def media_cell(code: str, media: models.MediaFile) -> SafeString:
    url = media_url(media)
    size = human_size(media.size)
    if is_inline_image(media):
        return format_html(
            '<a href="{0}"><img src="{0}" alt="{1}" style="max-width:120px;max-height:120px"></a>'
            ' <span class="media-size">{2}</span>',
            url,
            code,
            size,
        )
    return format_html('<a href="{}" download>{}</a> <span class="media-size">{}</span>', url, code, size)


def plain_data(data: Any) -> str:
    """Values without a richer rendering: metrics and prices spelled out, anything else as compact JSON."""
    if isinstance(data, str):
        return data
    if isinstance(data, bool):
        return "Yes" if data else "No"
    if isinstance(data, dict) and set(data) >= {"amount", "unit"}:
        return f"{data['amount']} {data['unit']}"
    if isinstance(data, list) and data and all(isinstance(x, dict) and "currency" in x for x in data):
        return ", ".join(f"{price.get('amount')} {price.get('currency')}" for price in data)
    if isinstance(data, list) and all(isinstance(x, str) for x in data):
        return ", ".join(data)
    return json.dumps(data, ensure_ascii=False)


def table_data(rows: list[Any]) -> SafeString:
    """A table attribute's rows as a small HTML table (columns in first-seen order)."""
    columns: list[str] = []
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(str(key))
    head = format_html_join("", "<th>{}</th>", ((column,) for column in columns))
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        (
            (format_html_join("", "<td>{}</td>", ((plain_data(row.get(column, "")),) for column in columns)),)
            for row in rows
        ),
    )
    return format_html('<table class="value-table"><tr>{}</tr>{}</table>', head, body)


def as_strings(data: Any) -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, list):
        return [item for item in data if isinstance(item, str)]
    return []


# --------------------------------------------------------------------------- values
class ValueRenderer:
    """Renders the values of some records (a product, a model, a page of them) with everything loaded up front."""

    def __init__(self, values_list: Iterable[Any], locales: tuple[str, str] | None = None) -> None:
        self.locales = locales or admin_locales()
        values_list = [values for values in values_list if isinstance(values, dict)]
        codes = {code for values in values_list for code in values if isinstance(code, str)}
        self.attributes: dict[str, dict[str, Any]] = {
            code: data if isinstance(data, dict) else {}
            for code, data in models.Attribute.objects.filter(code__in=codes).values_list("code", "data")
        }
        media_codes: set[str] = set()
        option_keys: set[tuple[str, str]] = set()
        record_keys: set[tuple[str, str]] = set()
        asset_keys: set[tuple[str, str]] = set()
        for values in values_list:
            for attribute in values:
                kind = self.type_of(attribute)
                reference = str(self.attributes.get(attribute, {}).get("reference_data_name") or "")
                for entry in value_entries(values, attribute):
                    data = entry.get("data")
                    if kind in SELECT_TYPES:
                        option_keys.update((attribute, code) for code in as_strings(data))
                    elif kind in RECORD_TYPES:
                        record_keys.update((reference, code) for code in as_strings(data))
                    elif kind == "pim_catalog_asset_collection":
                        asset_keys.update((reference, code) for code in as_strings(data))
                    elif isinstance(data, str) and len(data) <= models.MEDIA_CODE_LENGTH:
                        media_codes.add(data)
        self.options = self._load(models.AttributeOption, "attribute_code", option_keys)
        self.records = self._load(models.ReferenceEntityRecord, "reference_entity_code", record_keys)
        self.assets = self._load(models.Asset, "asset_family_code", asset_keys)
        self.media = {
            media.code: media
            for media in models.MediaFile.objects.filter(code__in=media_codes).only(
                "pk", "code", "file", "content_type", "size"
            )
        }

    @staticmethod
    def _load(
        model: type[models.AkeneoRecord], parent: str, keys: set[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[int, str]]:
        """(parent code, code) -> (pk, label), one query per parent code (a handful per page)."""
        if not keys:
            return {}
        by_parent: dict[str, set[str]] = {}
        for parent_code, code in keys:
            by_parent.setdefault(parent_code, set()).add(code)
        condition = Q()
        for parent_code, codes in by_parent.items():
            condition |= Q(**{parent: parent_code, "code__in": sorted(codes)})
        return {
            (parent_code, code): (pk, data)
            for pk, parent_code, code, data in model.objects.filter(condition).values_list(
                "pk", parent, "code", "data"
            )
        }

    def type_of(self, attribute: str) -> str:
        return str(self.attributes.get(attribute, {}).get("type") or "")

    def attribute_label(self, attribute: str) -> str:
        return labels_label(self.attributes.get(attribute), self.locales) or attribute

    def linked(self, model: type[models.AkeneoRecord], found: dict, key: tuple[str, str]) -> SafeString:
        if key not in found:
            return format_html('<span class="missing" title="not imported">{}</span>', key[1])
        pk, data = found[key]
        label = record_label(data, self.locales) if model is not models.AttributeOption else ""
        if model is models.AttributeOption:
            return coded(labels_label(data, self.locales), key[1])
        return admin_link(model, pk, label or key[1], key[1])

    def render(self, attribute: str, data: Any) -> SafeString:
        kind = self.type_of(attribute)
        definition = self.attributes.get(attribute, {})
        reference = str(definition.get("reference_data_name") or "")
        if data is None:
            return format_html("{}", "—")
        if kind in SELECT_TYPES:
            return self._join(
                self.linked(models.AttributeOption, self.options, (attribute, c)) for c in as_strings(data)
            )
        if kind in RECORD_TYPES:
            return self._join(
                self.linked(models.ReferenceEntityRecord, self.records, (reference, c))
                for c in as_strings(data)
            )
        if kind == "pim_catalog_asset_collection":
            return self._join(
                self.linked(models.Asset, self.assets, (reference, c)) for c in as_strings(data)
            )
        if kind == "pim_catalog_textarea" and definition.get("wysiwyg_enabled"):
            return format_html('<div class="rich-text">{}</div>', sanitize_html(data))
        if kind == "pim_catalog_date":
            return format_html('<time datetime="{}">{}</time>', str(data), format_date(data))
        if kind == "pim_catalog_table" and isinstance(data, list) and all(isinstance(r, dict) for r in data):
            return table_data(data)
        if isinstance(data, str) and data in self.media:
            return media_cell(data, self.media[data])
        return format_html("{}", plain_data(data))

    @staticmethod
    def _join(parts: Iterable[SafeString]) -> SafeString:
        return format_html_join(", ", "{}", ((part,) for part in parts))

    def table(self, values: Any) -> SafeString:
        """Values per attribute / locale / channel as an HTML table, attributes in label order."""
        if not isinstance(values, dict) or not values:
            return format_html("<p>{}</p>", "No values.")
        rows = []
        for attribute in sorted(values, key=lambda code: (self.attribute_label(code).lower(), code)):
            entries = sorted(
                value_entries(values, attribute),
                key=lambda e: (str(e.get("scope", e.get("channel")) or ""), str(e.get("locale") or "")),
            )
            for entry in entries:
                rows.append(
                    (
                        self.attribute_label(attribute),
                        attribute,
                        entry.get("locale") or "—",
                        entry.get("scope", entry.get("channel")) or "—",
                        self.render(attribute, entry.get("data")),
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


def link_list(items: Sequence[SafeString], total: int | None = None, empty: str = "—") -> SafeString:
    """Links one per line; says how many more exist when the list was cut."""
    if not items:
        return format_html("{}", empty)
    listed = format_html_join("", "<li>{}</li>", ((item,) for item in items))
    more = ""
    if total is not None and total > len(items):
        more = format_html("<li>… and {} more</li>", total - len(items))
    return format_html('<ul class="catalog-links">{}{}</ul>', listed, more)


def changelist_url(model: type[models.AkeneoRecord], **params: str) -> str:
    try:
        url = reverse(f"admin:catalog_{model._meta.model_name}_changelist")
    except NoReverseMatch:  # pragma: no cover - every catalog model is registered
        return ""
    from urllib.parse import urlencode

    return f"{url}?{urlencode(params)}" if params else url
