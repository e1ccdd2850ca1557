"""An Akeneo connection. Credentials are stored only as Fernet ciphertext (see connections.crypto).

History: django-simple-history records every save, but never the ciphertext columns. Instead each secret has a
revision counter that goes up when its value really changes, so the History tab can say "Secret: changed"
without any secret, plaintext or encrypted, reaching a history row.
"""

from __future__ import annotations

from django.db import models
from django.views.decorators.debug import sensitive_variables
from simple_history.models import HistoricalRecords

from connections import crypto
from connections.akeneo.auth import Credentials

SECRET_FIELDS = ("client_id", "secret", "password")


class Connection(models.Model):
    name = models.CharField(max_length=255, unique=True, help_text="Defaults to the Base URL's host.")
    base_url = models.CharField("Akeneo Base URL", max_length=500)
    client_id_encrypted = models.TextField(editable=False)
    secret_encrypted = models.TextField(editable=False)
    username = models.CharField(max_length=255)
    password_encrypted = models.TextField(editable=False)
    enabled = models.BooleanField(default=True)
    client_id_revision = models.PositiveIntegerField("Client ID", default=0, editable=False)
    secret_revision = models.PositiveIntegerField("Secret", default=0, editable=False)
    password_revision = models.PositiveIntegerField("Password", default=0, editable=False)
    migration_entities = models.JSONField(
        default=list,
        blank=True,
        help_text="The entities last chosen on the Run a Migration area (kept for next time).",
    )
    import_filters = models.JSONField(
        default=dict,
        blank=True,
        help_text="Import filters (channel, locales, families, status, updated…) applied as Akeneo's own query.",
    )
    events_secret_encrypted = models.TextField(blank=True, default="", editable=False)
    events_secret_revision = models.PositiveIntegerField("Events secret", default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(
        # The entity selection is a preference, not a change of the connection: not in its History.
        excluded_fields=[
            "client_id_encrypted",
            "secret_encrypted",
            "password_encrypted",
            "events_secret_encrypted",
            "updated_at",
            "migration_entities",
        ],
    )

    class Meta:
        ordering = ["name"]
        permissions = [("test_connection", "Can test connection")]

    def __str__(self) -> str:
        return self.name

    @property
    def status(self) -> str:
        return "Enabled" if self.enabled else "Disabled"

    @property
    def client_id(self) -> str:
        return crypto.decrypt(self.client_id_encrypted)

    @property
    def secret(self) -> str:
        return crypto.decrypt(self.secret_encrypted)

    @property
    def password(self) -> str:
        return crypto.decrypt(self.password_encrypted)

    @sensitive_variables()
    def set_credentials(
        self, *, client_id: str | None = None, secret: str | None = None, password: str | None = None
    ) -> list[str]:
        """Encrypt the given values; bump the revision of each that really changed. Returns changed names."""
        changed = []
        for field_name, value in (("client_id", client_id), ("secret", secret), ("password", password)):
            if value is None:
                continue
            ciphertext_field = f"{field_name}_encrypted"
            current = getattr(self, ciphertext_field)
            try:
                unchanged = bool(current) and crypto.decrypt(current) == value
            except crypto.CredentialsUnreadable:
                unchanged = False
            if unchanged:
                continue
            setattr(self, ciphertext_field, crypto.encrypt(value))
            revision_field = f"{field_name}_revision"
            setattr(self, revision_field, getattr(self, revision_field) + 1)
            changed.append(field_name)
        return changed

    @property
    def events_secret(self) -> str:
        """The secret Akeneo signs its events with ("" when none is set): see the `events` app."""
        return crypto.decrypt(self.events_secret_encrypted)

    @sensitive_variables()
    def set_events_secret(self, value: str) -> bool:
        """Encrypt the events secret; bump its revision when it really changed (History says "changed", never
        the value). Returns whether it changed. An empty value clears it (events are then refused)."""
        current = self.events_secret_encrypted
        try:
            unchanged = crypto.decrypt(current) == value if current else value == ""
        except crypto.CredentialsUnreadable:
            unchanged = False
        if unchanged:
            return False
        self.events_secret_encrypted = crypto.encrypt(value) if value else ""
        self.events_secret_revision += 1
        return True

    def credentials(self) -> Credentials:
        """Decrypted credentials for a live call (raises crypto.CredentialsUnreadable on a wrong key)."""
        return Credentials(
            base_url=self.base_url,
            client_id=self.client_id,
            secret=self.secret,
            username=self.username,
            password=self.password,
        )

    def rotated_ciphertexts(self) -> dict[str, str]:
        fields = {
            f"{name}_encrypted": crypto.rotate(getattr(self, f"{name}_encrypted")) for name in SECRET_FIELDS
        }
        if self.events_secret_encrypted:
            fields["events_secret_encrypted"] = crypto.rotate(self.events_secret_encrypted)
        return fields
