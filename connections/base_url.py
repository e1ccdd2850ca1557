"""Akeneo base URLs: validation, normalisation and the connection name derived from them."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ValidationError


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
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme.lower(), netloc, path, "", ""))


def name_from_base_url(base_url: str) -> str:
    """`https://your-instance.cloud/pim/` -> `your-instance.cloud/pim` (the port is kept when one is given)."""
    parts = urlsplit(base_url)
    return parts.netloc.lower() + parts.path.rstrip("/")
