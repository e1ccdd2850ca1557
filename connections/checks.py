"""Start-up check: stored credentials that no configured key opens.

In development a deleted key file is silently replaced by a new key (akeneo_migration.keys), and in production
a key can be changed by mistake; either way every stored credential becomes unreadable, which otherwise shows
only later, as a failing connection test or migration. Said once at start-up (runserver, migrate, any command),
as a warning: an error would also stop the commands that fix it.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.checks import CheckMessage, Warning, register
from django.db import DatabaseError

from akeneo_migration.keys import DEVELOPMENT_KEY_FILENAME, development_key_in_use
from connections import crypto

MAX_IDS_SHOWN = 10


@register("encryption")
def stored_credentials_are_readable(app_configs=None, **kwargs) -> list[CheckMessage]:
    if app_configs is not None and not any(config.label == "connections" for config in app_configs):
        return []
    from connections.models import Connection

    try:
        rows = list(
            Connection.objects.order_by("pk").values_list(
                "pk",
                "client_id_encrypted",
                "secret_encrypted",
                "password_encrypted",
                "events_secret_encrypted",
            )
        )
    except DatabaseError:
        return []  # no database yet, or no table before `migrate`: nothing is stored, nothing to say
    unreadable = [pk for pk, *ciphertexts in rows if not all(_opens(text) for text in ciphertexts)]
    if not unreadable:
        return []
    ids = ", ".join(str(pk) for pk in unreadable[:MAX_IDS_SHOWN]) + (
        ", …" if len(unreadable) > MAX_IDS_SHOWN else ""
    )
    return [
        Warning(
            f"{len(unreadable)} stored Akeneo connection(s) (id {ids}) have credentials that no key in "
            "FIELD_ENCRYPTION_KEYS can decrypt: their tests and migrations will fail.",
            hint=_hint(),
            obj="FIELD_ENCRYPTION_KEYS",
            id="connections.W001",
        )
    ]


def _opens(ciphertext: str) -> bool:
    try:
        crypto.decrypt(ciphertext)
    except crypto.CredentialsUnreadable:
        return False
    return True


def _hint() -> str:
    key_file = Path(getattr(settings, "VAR_DIR", ".")) / DEVELOPMENT_KEY_FILENAME
    fix = (
        "then run 'manage.py rotate_encryption_keys'. If the old key is lost, enter these connections' "
        "credentials again in the admin (or delete the connections)."
    )
    if development_key_in_use(settings.FIELD_ENCRYPTION_KEYS, key_file):
        return (
            f"FIELD_ENCRYPTION_KEYS is not set, so the development key file {key_file} is used; when that "
            "file is missing a new key is generated, which cannot read what the old one encrypted. Put the "
            "old key back in that file, or set FIELD_ENCRYPTION_KEYS to the new key followed by the old one "
            f"(comma-separated), {fix}"
        )
    return (
        "If the key was changed, set FIELD_ENCRYPTION_KEYS to the new key followed by the old one "
        f"(comma-separated, newest first), {fix}"
    )
