"""What error reports (the DEBUG page, the mails to ADMINS) may show: never a credential.

Django's own filter hides settings by name and only the variables marked `sensitive_variables`, and only when
DEBUG is off. This app handles Akeneo credentials in many frames (forms, the client, requests, urllib3), so the
filter is always on and works on values too: credential objects are hidden whole, `Authorization` values and
the passwords inside URLs are cut out of every variable, setting, header and POST value, and the plaintext of
any credential found in the crashing call stack is removed wherever else it shows up.
"""

from __future__ import annotations

import base64
import contextlib
import re
from collections.abc import Iterable, Mapping
from types import FrameType
from typing import Any

from django.template.defaultfilters import pprint
from django.views.debug import SafeExceptionReporterFilter

SUBSTITUTE = "********************"

# Settings, META keys, POST fields, mapping keys and variable names whose value is hidden whole.
SENSITIVE_NAMES = re.compile(
    "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|CREDENTIAL|CLIENT_ID|PLAINTEXT|CIPHERTEXT", re.I
)
# Settings only: connection strings (broker, result backend, cache, database) carry passwords.
SENSITIVE_SETTINGS = re.compile(
    SENSITIVE_NAMES.pattern + "|URL$|BROKER|RESULT_BACKEND|^DATABASES$|DATABASE_URL|LOCATION|DSN", re.I
)

# scheme://user:password@host -> the password replaced (redis://:pw@h, postgres://u:pw@h/db, amqp://…).
URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s/?#@:'\"]*:)[^\s/?#@'\"]+@")
# An Authorization header's value, as text, in a repr or a raw request; a Basic/Bearer token-like word anywhere.
AUTHORIZATION = re.compile(
    r"(?i)(authorization['\"]?\s*[:=,]\s*\(?\s*(?:b?['\"])?)[^'\"\r\n]+"
    r"|\b(basic|bearer)\s+(?=[A-Za-z0-9+/=._~-]*[0-9+/=])[A-Za-z0-9+/=._~-]{6,}"
)
# "password": "…", password=…, 'secret': '…' as JSON, form bodies and reprs write them.
SECRET_PAIR = re.compile(
    r"(?i)((?:password|secret|client_secret|client_id|access_token|refresh_token|token)['\"]?\s*[:=]\s*b?['\"]?)"
    r"[^'\"&\s,}]+"
)

MIN_SECRET_LENGTH = 3  # shorter values would blank out ordinary text


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove every known secret value, URL password, Authorization value and `password=…` pair from text."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, SUBSTITUTE)
    text = URL_PASSWORD.sub(lambda m: m.group(1) + SUBSTITUTE + "@", text)
    text = AUTHORIZATION.sub(
        lambda m: (m.group(1) + SUBSTITUTE) if m.group(1) else f"{m.group(2)} {SUBSTITUTE}", text
    )
    return SECRET_PAIR.sub(lambda m: m.group(1) + SUBSTITUTE, text)


class Redacted(str):
    """An already redacted rendering: the report prints it as is (its repr is itself, not a quoted string)."""

    def __repr__(self) -> str:
        return str(self)


def _sensitive_types() -> tuple[type, ...]:
    # Imported late: this module is loaded by Django's error handling, possibly before the apps are ready.
    import requests

    from connections.akeneo.auth import Credentials, Token

    return (Credentials, Token, requests.PreparedRequest, requests.Request, requests.Session)


def secrets_in(value: Any) -> list[str]:
    """The plaintext secrets a credential-bearing object holds (and the Basic header built from them)."""
    from connections.akeneo.auth import Credentials, Token
    from connections.models import Connection

    found: list[str] = []
    if isinstance(value, Credentials):
        found += [value.client_id, value.secret, value.password]
        pair = f"{value.client_id}:{value.secret}".encode()
        found.append(base64.b64encode(pair).decode("ascii"))
    elif isinstance(value, Token):
        found += [value.access_token, value.refresh_token]
    elif isinstance(value, Connection):
        for name in ("client_id", "secret", "password"):
            with contextlib.suppress(Exception):  # a key problem must not break the error report
                found.append(getattr(value, name))
    return [secret for secret in found if isinstance(secret, str) and len(secret) >= MIN_SECRET_LENGTH]


class CredentialSafeExceptionReporterFilter(SafeExceptionReporterFilter):
    """DEFAULT_EXCEPTION_REPORTER_FILTER: active with DEBUG on too (a debug page is a screen others can see)."""

    hidden_settings = SENSITIVE_SETTINGS

    def is_active(self, request) -> bool:
        return True

    # --- settings, request META and cookies
    def cleanse_setting(self, key, value):
        cleansed = super().cleanse_setting(key, value)
        if isinstance(cleansed, str):
            return redact_text(cleansed)
        return cleansed

    # --- POST data
    def get_post_parameters(self, request):
        parameters = super().get_post_parameters(request)
        if not parameters:
            return parameters
        cleansed = parameters.copy()
        for key in cleansed:
            if SENSITIVE_NAMES.search(key):
                cleansed.setlist(key, [self.cleansed_substitute])
            else:
                cleansed.setlist(key, [redact_text(str(item)) for item in cleansed.getlist(key)])
        return cleansed

    def get_cleansed_multivaluedict(self, request, multivaluedict):
        cleansed = super().get_cleansed_multivaluedict(request, multivaluedict).copy()
        for key in cleansed:
            if SENSITIVE_NAMES.search(str(key)):
                cleansed.setlist(key, [self.cleansed_substitute])
        return cleansed

    # --- frame variables
    def get_traceback_frame_variables(self, request, tb_frame: FrameType):
        secrets = self._secrets_in_stack(tb_frame)
        sensitive_types = _sensitive_types()
        cleansed = []
        for name, value in super().get_traceback_frame_variables(request, tb_frame):
            if (isinstance(value, str) and value == self.cleansed_substitute) or SENSITIVE_NAMES.search(
                str(name)
            ):
                cleansed.append((name, self.cleansed_substitute))
            elif isinstance(value, sensitive_types):
                cleansed.append((name, Redacted(f"<{type(value).__name__}: {self.cleansed_substitute}>")))
            else:
                # Leaves first (pprint splits long strings over lines, cutting a secret in two), then the whole.
                shown = pprint(self._cleanse_value(value, secrets))
                cleansed.append((name, Redacted(redact_text(shown, secrets))))
        return cleansed

    def _cleanse_value(self, value: Any, secrets: list[str], depth: int = 0) -> Any:
        """Strings and bytes redacted; mappings (dicts, header dicts) with their sensitive keys hidden; lists and
        tuples walked; anything else left to its repr."""
        if isinstance(value, str):
            return redact_text(value, secrets)
        if isinstance(value, bytes | bytearray):
            return redact_text(bytes(value).decode("latin-1"), secrets).encode("latin-1", "replace")
        if depth > 4:
            return value
        if isinstance(value, _sensitive_types()):
            return Redacted(f"<{type(value).__name__}: {self.cleansed_substitute}>")
        if isinstance(value, Mapping):
            return {
                key: self.cleansed_substitute
                if SENSITIVE_NAMES.search(str(key))
                else self._cleanse_value(item, secrets, depth + 1)
                for key, item in value.items()
            }
        if type(value) in (list, tuple):
            return type(value)(self._cleanse_value(item, secrets, depth + 1) for item in value)
        return value

    def _secrets_in_stack(self, tb_frame: FrameType) -> list[str]:
        """Plaintext credentials held by this frame or any caller: the inner frames (requests, urllib3) carry
        them in forms this filter cannot recognise (a header string, a request body)."""
        secrets: list[str] = []
        frame: FrameType | None = tb_frame
        while frame is not None:
            for value in list(frame.f_locals.values()):
                with contextlib.suppress(Exception):  # a strange object must not break the error report
                    secrets += secrets_in(value)
                    if hasattr(value, "__dict__") and not isinstance(value, type):
                        for attribute in list(vars(value).values()):
                            secrets += secrets_in(attribute)
            frame = frame.f_back
        return secrets
