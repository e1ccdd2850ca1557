"""Akeneo base URLs: validation, normalisation and the connection name derived from them."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import unquote, urlsplit, urlunsplit

import idna
from django.core.exceptions import ValidationError

INVALID_HOST = "The Base URL's host is not a valid host name or IP address."
MAX_HOST_LENGTH = 253  # DNS: a whole name, in its ASCII (IDNA) form
MAX_LABEL_LENGTH = 63  # DNS: one dot-separated label
# Letters, digits, hyphens inside; underscores too (container and internal host names use them).
ASCII_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$")


def normalize_base_url(raw: str) -> str:
    """Validate an http(s) URL and return it without trailing slashes; a path prefix (`/pim`) is kept.

    Raises ValidationError with a message fit for a form or the command line.
    """
    value = (raw or "").strip()
    try:
        parts = urlsplit(value)
        port = parts.port  # raises ValueError on a bad port
    except ValueError:
        raise ValidationError("Enter a valid http(s) URL, e.g. https://your-instance.cloud") from None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        raise ValidationError("Enter a valid http(s) URL, e.g. https://your-instance.cloud")
    if parts.username or parts.password:
        raise ValidationError(
            "Do not put credentials in the URL: use the Client ID, Secret, Username and Password fields."
        )
    if parts.query or parts.fragment:
        raise ValidationError("The Base URL cannot have a query string or fragment.")
    if any(char.isspace() for char in value):
        raise ValidationError("The Base URL cannot contain spaces.")
    host = parts.hostname.lower()
    validate_host(host)
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme.lower(), netloc, path, "", ""))


def validate_host(host: str) -> None:
    """Refuse a host the HTTP stack cannot use (it would fail deep inside urllib3, not as a form error).

    IP literals are checked as addresses; names as DNS names in their IDNA form (labels of 1..63 characters,
    at most 253 in all), the form requests sends them in.
    """
    if ":" in host:
        try:
            ipaddress.ip_address(unquote(host))
        except ValueError:
            raise ValidationError(INVALID_HOST) from None
        return
    if host.isascii():
        ascii_host = host
    else:
        try:
            ascii_host = idna.encode(host, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            raise ValidationError(INVALID_HOST) from None
    labels = ascii_host.split(".")
    if len(ascii_host) > MAX_HOST_LENGTH or not all(
        len(label) <= MAX_LABEL_LENGTH and ASCII_LABEL.match(label) for label in labels
    ):
        raise ValidationError(INVALID_HOST)


def name_from_base_url(base_url: str) -> str:
    """`https://your-instance.cloud/pim/` -> `your-instance.cloud/pim` (the port is kept when one is given)."""
    parts = urlsplit(base_url)
    return parts.netloc.lower() + parts.path.rstrip("/")
