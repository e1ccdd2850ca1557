"""The Import Filters tab's form: fields <-> the stored filter dict (migrations_runs.filters). Only adapts HTML
form data; cleaning and the checks against the source live in migrations_runs.filters."""

from __future__ import annotations

from typing import Any

from django import forms

from migrations_runs.filters import FilterError, clean_filters

PREFIX = "filters"
UPDATED_MODES = [
    ("", "Any time"),
    ("since", "Since a date"),
    ("days", "In the last N days"),
    ("between", "Between two dates"),
    ("last_run", "Since the last completed run"),
]
# a filter name -> the form field its error is shown on
ERROR_FIELDS = {"updated": "updated_mode", "__all__": None}


def _codes_field(label: str, help_text: str, *, textarea: bool = False) -> forms.CharField:
    widget = (
        forms.Textarea(attrs={"rows": 3, "cols": 60}) if textarea else forms.TextInput(attrs={"size": 60})
    )
    return forms.CharField(label=label, required=False, help_text=help_text, widget=widget)


class ImportFiltersForm(forms.Form):
    channel = forms.CharField(
        required=False,
        help_text="A channel code: only its values (and the products in its category tree) are read.",
    )
    locales = _codes_field("Locales", "Comma-separated locale codes: only their values are read.")
    attributes = _codes_field("Attributes", "Comma-separated attribute codes: only their values are read.")
    families = _codes_field("Families", "Comma-separated family codes.")
    status = forms.ChoiceField(
        required=False, choices=[("", "Any"), ("enabled", "Enabled"), ("disabled", "Disabled")]
    )
    completeness = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=100,
        label="Completeness ≥ (%)",
        help_text="On the channel above (needed).",
    )
    updated_mode = forms.ChoiceField(required=False, choices=UPDATED_MODES, label="Updated")
    updated_since = forms.CharField(
        required=False, label="Since", help_text="YYYY-MM-DD or YYYY-MM-DD hh:mm:ss, UTC (Akeneo's time)."
    )
    updated_days = forms.IntegerField(required=False, min_value=1, label="Last N days")
    updated_from = forms.CharField(required=False, label="From")
    updated_to = forms.CharField(required=False, label="To")
    categories = _codes_field("Categories", "Comma-separated category codes; their children are included.")
    identifiers = _codes_field(
        "Product identifiers", "Comma- or line-separated (read 100 per request).", textarea=True
    )
    media = forms.ChoiceField(
        required=False,
        choices=[("", "Any"), ("with", "With media"), ("without", "Without media")],
        help_text="Media: the image and file attributes' values.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", PREFIX)
        super().__init__(*args, **kwargs)

    @classmethod
    def initial_from(cls, filters: dict[str, Any] | None) -> dict[str, Any]:
        """Form initial values from stored filters."""
        filters = filters or {}
        initial: dict[str, Any] = {
            name: ", ".join(filters.get(name) or [])
            for name in ("locales", "attributes", "families", "categories")
        }
        initial["identifiers"] = "\n".join(filters.get("identifiers") or [])
        initial.update(
            channel=filters.get("channel", ""),
            status=filters.get("status", ""),
            completeness=filters.get("completeness"),
            media=filters.get("media", ""),
        )
        updated = filters.get("updated") or {}
        if updated.get("since"):
            initial.update(updated_mode="since", updated_since=updated["since"])
        elif updated.get("days"):
            initial.update(updated_mode="days", updated_days=updated["days"])
        elif updated.get("between"):
            initial.update(
                updated_mode="between", updated_from=updated["between"][0], updated_to=updated["between"][1]
            )
        elif updated.get("last_run"):
            initial.update(updated_mode="last_run")
        return initial

    def raw_filters(self) -> dict[str, Any]:
        """The cleaned fields as the filter dict clean_filters takes."""
        data = self.cleaned_data
        raw: dict[str, Any] = {
            name: data.get(name)
            for name in (
                "channel", "locales", "attributes", "families", "status", "completeness", "categories",
                "identifiers", "media",
            )
        }  # fmt: skip
        mode = data.get("updated_mode")
        if mode == "since":
            raw["updated"] = {"since": data.get("updated_since") or ""}
        elif mode == "days":
            raw["updated"] = {"days": data.get("updated_days") or ""}
        elif mode == "between":
            raw["updated"] = {"between": [data.get("updated_from") or "", data.get("updated_to") or ""]}
        elif mode == "last_run":
            raw["updated"] = {"last_run": True}
        return raw

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        mode = cleaned.get("updated_mode")
        needed = {
            "since": ["updated_since"],
            "days": ["updated_days"],
            "between": ["updated_from", "updated_to"],
        }
        for name in needed.get(mode or "", []):
            if cleaned.get(name) in (None, ""):
                self.add_error(name, "Needed for this choice of Updated.")
        if self.errors:
            return cleaned
        try:
            self.filters = clean_filters(self.raw_filters())
        except FilterError as error:
            self.add_filter_errors(error)
        return cleaned

    def add_filter_errors(self, error: FilterError) -> None:
        for name, message in error.errors.items():
            self.add_error(ERROR_FIELDS.get(name, name), message)
