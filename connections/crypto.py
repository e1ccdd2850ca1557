"""Encryption of credentials at rest with a MultiFernet over FIELD_ENCRYPTION_KEYS (newest key first)."""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver


class CredentialsUnreadable(Exception):
    """Stored ciphertext cannot be decrypted with any configured key (the key was changed or lost)."""

    def __init__(self) -> None:
        super().__init__(
            "The stored Akeneo credentials cannot be decrypted with the configured FIELD_ENCRYPTION_KEYS. "
            "If the key was rotated, list the new key first and the old key after it, then run "
            "'manage.py rotate_encryption_keys'. Otherwise enter the credentials again."
        )


@cache
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def _current() -> MultiFernet:
    return _multifernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


@receiver(setting_changed)
def _forget_keys(setting: str, **kwargs) -> None:
    if setting == "FIELD_ENCRYPTION_KEYS":
        _multifernet.cache_clear()


def encrypt(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    if not ciphertext:
        return ""
    try:
        return _current().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise CredentialsUnreadable() from None


def rotate(ciphertext: str) -> str:
    """Re-encrypt with the newest key; raises CredentialsUnreadable if no key opens it."""
    if not ciphertext:
        return ciphertext
    try:
        return _current().rotate(ciphertext.encode()).decode()
    except InvalidToken:
        raise CredentialsUnreadable() from None
