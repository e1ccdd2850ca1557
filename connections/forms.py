"""Admin forms for connections. Saving new or changed credentials first tests them live (services)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.views.decorators.debug import sensitive_variables

from connections.akeneo.auth import Credentials
from connections.base_url import normalize_base_url
from connections.crypto import CredentialsUnreadable
from connections.models import Connection
from connections.services import ConnectionTestResult, field_max_length, verify_credentials

MASK_CHARACTER = "•"
# Every field is bounded by what its column holds (PostgreSQL would refuse more with a crash page).
BASE_URL_MAX = field_max_length("base_url")
CREDENTIAL_MAX = field_max_length("secret")


def mask(length: int) -> str:
    return MASK_CHARACTER * length


class MaskedSecretInput(forms.PasswordInput):
    """A password box that only ever renders the mask of the stored value, never what was stored or typed."""

    def __init__(self, attrs=None):
        super().__init__(attrs={"autocomplete": "new-password", **(attrs or {})}, render_value=False)
        self.masked_value = ""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, None, attrs)
        context["widget"]["value"] = self.masked_value
        return context


class CredentialsTestMixin:
    """Runs the live connection test from `clean()` and turns a failure into one form error."""

    test_result: ConnectionTestResult | None = None

    def run_connection_test(self, credentials: Credentials) -> None:
        self.test_result = verify_credentials(credentials)
        if not self.test_result.ok:
            raise ValidationError(self.test_result.message, code="connection_test")

    @property
    def connection_test_explanation(self) -> str:
        return self.test_result.explanation if self.test_result and not self.test_result.ok else ""


class ConnectionCreateForm(CredentialsTestMixin, forms.ModelForm):
    base_url = forms.CharField(
        label="Akeneo Base URL", max_length=BASE_URL_MAX, help_text="e.g. https://your-instance.cloud"
    )
    client_id = forms.CharField(label="Client ID", max_length=CREDENTIAL_MAX)
    secret = forms.CharField(
        label="Secret", max_length=CREDENTIAL_MAX, widget=forms.PasswordInput(render_value=False)
    )
    username = forms.CharField(label="Username", max_length=field_max_length("username"))
    password = forms.CharField(
        label="Password", max_length=CREDENTIAL_MAX, widget=forms.PasswordInput(render_value=False)
    )

    class Meta:
        model = Connection
        fields = ["base_url", "username"]

    def clean_base_url(self) -> str:
        return normalize_base_url(self.cleaned_data["base_url"])

    @sensitive_variables()
    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            self.run_connection_test(
                Credentials(
                    base_url=cleaned["base_url"],
                    client_id=cleaned["client_id"],
                    secret=cleaned["secret"],
                    username=cleaned["username"],
                    password=cleaned["password"],
                )
            )
        return cleaned

    def save(self, commit: bool = True) -> Connection:
        connection = super().save(commit=False)
        connection.enabled = True
        connection.set_credentials(
            client_id=self.cleaned_data["client_id"],
            secret=self.cleaned_data["secret"],
            password=self.cleaned_data["password"],
        )
        if commit:
            connection.save()
        return connection


class ConnectionChangeForm(CredentialsTestMixin, forms.ModelForm):
    """Secret and Password show a mask of the stored value's length; blank or the mask keeps the stored value."""

    base_url = forms.CharField(
        label="Akeneo Base URL", max_length=BASE_URL_MAX, widget=forms.URLInput(attrs={"class": "vURLField"})
    )
    client_id = forms.CharField(
        label="Client ID",
        max_length=CREDENTIAL_MAX,
        required=False,
        widget=forms.TextInput(attrs={"class": "vTextField"}),
    )
    secret = forms.CharField(
        label="Secret",
        max_length=CREDENTIAL_MAX,
        required=False,
        widget=MaskedSecretInput(),
        help_text="Leave as is to keep the stored secret; type a new one to replace it.",
    )
    password = forms.CharField(
        label="Password",
        max_length=CREDENTIAL_MAX,
        required=False,
        widget=MaskedSecretInput(),
        help_text="Leave as is to keep the stored password; type a new one to replace it.",
    )
    events_secret = forms.CharField(
        label="Events secret",
        max_length=CREDENTIAL_MAX,
        required=False,
        widget=MaskedSecretInput(),
        help_text="The secret Akeneo signs its events with (see the Events tab). Leave as is to keep it; "
        "type a new one to replace it.",
    )

    class Meta:
        model = Connection
        fields = ["name", "base_url", "username", "enabled"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stored_unreadable = False
        self.stored: dict[str, str] = {}
        try:
            self.stored = {
                "client_id": self.instance.client_id,
                "secret": self.instance.secret,
                "password": self.instance.password,
            }
        except CredentialsUnreadable as exc:
            self.stored_unreadable = True
            self.unreadable_message = str(exc)
        if "client_id" in self.fields:
            self.fields["client_id"].initial = self.stored.get("client_id", "")
        for name in ("secret", "password"):
            if name in self.fields:
                self.fields[name].widget.masked_value = mask(len(self.stored.get(name, "")))
        if "events_secret" in self.fields:
            # Its own try: an unreadable events secret must not hide the other credentials (and vice versa).
            try:
                stored_events_secret = self.instance.events_secret
            except CredentialsUnreadable:
                stored_events_secret = ""
            self.fields["events_secret"].widget.masked_value = mask(len(stored_events_secret))

    def clean_base_url(self) -> str:
        return normalize_base_url(self.cleaned_data["base_url"])

    @sensitive_variables()
    def _new_secret(self, name: str) -> str | None:
        """None = keep the stored value (left blank, or left as the mask)."""
        value = self.cleaned_data.get(name) or ""
        if not value or value == self.fields[name].widget.masked_value:
            return None
        return value

    def clean_client_id(self) -> str | None:
        value = (self.cleaned_data.get("client_id") or "").strip()
        if not value:
            if self.stored_unreadable:
                raise ValidationError("Enter the Client ID again: the stored one cannot be decrypted.")
            raise ValidationError("This field is required.")
        return value

    @sensitive_variables()
    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        new_values = {
            "client_id": cleaned["client_id"]
            if cleaned["client_id"] != self.stored.get("client_id")
            else None,
            "secret": self._new_secret("secret"),
            "password": self._new_secret("password"),
        }
        self.new_credentials = {name: value for name, value in new_values.items() if value is not None}
        credentials_touched = bool(self.new_credentials) or any(
            cleaned[name] != getattr(self.instance, name) for name in ("base_url", "username")
        )
        if not credentials_touched:
            return cleaned
        effective = {**self.stored, **self.new_credentials}
        missing = [name for name in ("client_id", "secret", "password") if not effective.get(name)]
        if missing:
            raise ValidationError(
                "The stored credentials cannot be decrypted with the configured key: enter the "
                + ", ".join(name.replace("_", " ") for name in missing)
                + " again."
            )
        self.run_connection_test(
            Credentials(
                base_url=cleaned["base_url"],
                client_id=effective["client_id"],
                secret=effective["secret"],
                username=cleaned["username"],
                password=effective["password"],
            )
        )
        return cleaned

    @sensitive_variables()
    def save(self, commit: bool = True) -> Connection:
        connection = super().save(commit=False)
        connection.set_credentials(**getattr(self, "new_credentials", {}))
        if "events_secret" in self.fields:  # not a credential of the API: no live test for it
            new_events_secret = self._new_secret("events_secret")
            if new_events_secret is not None:
                connection.set_events_secret(new_events_secret)
        if commit:
            connection.save()
        return connection
