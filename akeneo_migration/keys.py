"""Loading the Fernet keys that encrypt credentials at rest (kept apart from settings so it can be tested)."""

import os
from pathlib import Path

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

DEVELOPMENT_KEY_FILENAME = "field-encryption.key"  # in VAR_DIR
GENERATE_HINT = "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"


def load_field_encryption_keys(raw: str, *, debug: bool, key_file: Path) -> list[str]:
    """Return the configured keys (newest first), or in development a key generated once into `key_file`.

    In production a missing or malformed key stops start-up: silently generating one would make every
    stored credential unreadable on the next machine.
    """
    keys = [part.strip() for part in raw.split(",") if part.strip()]
    if not keys:
        if not debug:
            raise ImproperlyConfigured(
                "FIELD_ENCRYPTION_KEYS is not set. With DEBUG=0 it is required to encrypt Akeneo credentials "
                f"at rest: generate a key with {GENERATE_HINT} and set FIELD_ENCRYPTION_KEYS to it "
                "(several keys comma-separated, newest first, to rotate)."
            )
        keys = [_development_key(key_file)]
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEYS: key #{position} is not a valid Fernet key "
                f"(32 url-safe base64-encoded bytes). Generate one with {GENERATE_HINT}."
            ) from exc
    return keys


def _development_key(key_file: Path) -> str:
    if key_file.exists():
        return key_file.read_text().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode()
    # O_EXCL: two processes starting together must not each write a different key.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def development_key_in_use(keys: list[str], key_file: Path) -> bool:
    """Whether the keys are just the development key from `key_file` (FIELD_ENCRYPTION_KEYS was not set)."""
    try:
        return key_file.is_file() and list(keys) == [key_file.read_text().strip()]
    except OSError:
        return False
