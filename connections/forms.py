"""Admin forms for connections. Validation runs the same services as the command line (connections.services):
new or changed credentials are tested live while validating, and saving goes through the service too."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import cached_property
from django.views.decorators.debug import sensitive_variables

from connections.akeneo.auth import Credentials
from connections.base_url import normalize_base_url
from connections.crypto import CredentialsUnreadable
from connections.models import Connection
from connections.services import (
    ConnectionChanges,
    ConnectionNotSaved,
    ConnectionTestResult,
    apply_update,
    field_max_length,
    prepare_update,
    save_new_connection,
    verify_credentials,
)

MASK_CHARACTER = "•"
# Every field is bounded by what its column holds (PostgreSQL would refuse more with a crash page).
BASE_URL_MAX = field_max_length("base_url")
CREDENTIAL_MAX = field_max_length("secret")
# The password boxes of the edit page: blank (or the mask sent back as is) keeps the stored value.
MASKED_SECRET_FIELDS = ("secret", "password", "events_secret")


def mask(length: int) -> str:
    return MASK_CHARACTER * length


def sentence(message: str) -> str:
    """The services' messages are fragments ("may not be empty") meant to follow a field name: make them
    sentences for the form, where they stand under the field."""
    message = message.strip()
    if not message:
        return message
    return message[:1].upper() + message[1:] + ("" if message.endswith((".", "!", "?")) else ".")


class MaskedSecretInput(forms.PasswordInput):
    """A password box that only ever renders the mask of the stored value, never what was stored or typed."""

    def __init__(self, attrs=None):
        super().__init__(attrs={"autocomplete": "new-password", **(attrs or {})}, render_value=False)
        self.masked_value = ""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, None, attrs)
        context["widget"]["value"] = self.masked_value
        return context


class MaskedSecretField(forms.CharField):
    """A stored secret shown as its mask: left blank or left as the mask, it has not changed (so Django's
    change message and `changed_data` do not claim a change the user never made)."""

    def has_changed(self, initial, data) -> bool:
        return bool(data) and data != self.widget.masked_value


class CredentialsTestMixin:
    """Keeps the live test's outcome so the page can explain a failure under the error."""

    test_result: ConnectionTestResult | None = None

    def run_connection_test(self, credentials: Credentials) -> None:
        self.test_result = verify_credentials(credentials)
        if not self.test_result.ok:
            raise ValidationError(self.test_result.message, code="connection_test")

    @property
    def connection_test_explanation(self) -> str:
        return self.test_result.explanation if self.test_result and not self.test_result.ok else ""

    def save_m2m(self) -> None:
        """The admin calls it after saving (a connection has no many-to-many field today)."""
        self._save_m2m()


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
            # Kept for save(): the very credentials that passed the test are the ones saved.
            self.credentials = Credentials(
                base_url=cleaned["base_url"],
                client_id=cleaned["client_id"],
                secret=cleaned["secret"],
                username=cleaned["username"],
                password=cleaned["password"],
            )
            self.run_connection_test(self.credentials)
        return cleaned

    @sensitive_variables()
    def save(self, commit: bool = True) -> Connection:
        """Save through the service the command line uses (it names the connection, made unique)."""
        if not commit:
            raise ValueError("A new connection is only saved whole, by save_new_connection().")
        self.instance = save_new_connection(self.credentials)
        return self.instance


class ConnectionChangeForm(CredentialsTestMixin, forms.ModelForm):
    """Secret and Password show a mask of the stored value's length; blank or the mask keeps the stored value."""

    name = forms.CharField(
        label="Name",
        max_length=field_max_length("name"),
        widget=forms.TextInput(attrs={"class": "vTextField"}),
        help_text="Unique; the command line accepts it in place of the id.",
    )
    base_url = forms.CharField(
        label="Akeneo Base URL", max_length=BASE_URL_MAX, widget=forms.URLInput(attrs={"class": "vURLField"})
    )
    client_id = forms.CharField(
        label="Client ID", max_length=CREDENTIAL_MAX, widget=forms.TextInput(attrs={"class": "vTextField"})
    )
    secret = MaskedSecretField(
        label="Secret",
        max_length=CREDENTIAL_MAX,
        required=False,
        widget=MaskedSecretInput(),
        help_text="Leave as is to keep the stored secret; type a new one to replace it.",
    )
    password = MaskedSecretField(
        label="Password",
        max_length=CREDENTIAL_MAX,
        required=False,
        widget=MaskedSecretInput(),
        help_text="Leave as is to keep the stored password; type a new one to replace it.",
    )
    events_secret = MaskedSecretField(
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
        self.changes: ConnectionChanges | None = None
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
            if self.stored_unreadable:
                self.fields["client_id"].error_messages["required"] = (
                    "Enter the Client ID again: the stored one cannot be decrypted."
                )
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
        if name not in self.fields:
            return None
        value = self.cleaned_data.get(name) or ""
        if not value or value == self.fields[name].widget.masked_value:
            return None
        return value

    @sensitive_variables()
    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        # Runs before the ModelForm copies the values onto the instance: prepare_update compares them with
        # what is stored, tests new credentials live, and saves nothing.
        try:
            self.changes = prepare_update(
                self.instance,
                name=cleaned["name"],
                base_url=cleaned["base_url"],
                client_id=cleaned["client_id"],
                secret=self._new_secret("secret"),
                username=cleaned["username"],
                password=self._new_secret("password"),
                enabled=cleaned["enabled"],
                events_secret=self._new_secret("events_secret"),
            )
        except ConnectionNotSaved as exc:
            self.test_result = exc.result
            raise ValidationError(exc.result.message, code="connection_test") from None
        except ValidationError as exc:
            for field_name, messages in exc.message_dict.items():
                self.add_error(
                    field_name if field_name in self.fields else None,
                    [sentence(message) for message in messages],
                )
        return cleaned

    @cached_property
    def changed_data(self) -> list[str]:
        """The fields that really change (Django's change message lists them): the service's verdict once
        validated, so a secret typed again identically, or left as its mask, is not "changed"."""
        if self.changes is None:
            return super().changed_data
        changed = {*self.changes.fields, *self.changes.credentials}
        if self.changes.events_secret is not None:
            changed.add("events_secret")
        return [name for name in self.fields if name in changed]

    @sensitive_variables()
    def save(self, commit: bool = True) -> Connection:
        """Save through the service the command line uses: one save, one History row. With commit=False
        nothing is written (the admin saves in save_model)."""
        if commit:
            if self.changes is None:
                raise ValueError("The form must be validated before it is saved.")
            apply_update(self.changes)
        return self.instance
