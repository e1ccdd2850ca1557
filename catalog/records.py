"""Akeneo's standard format as the catalog stores it: `_links` stripped everywhere, a canonical checksum.

`_links` are transport (absolute URLs of one server, media download hrefs); dropping them everywhere makes a
stored record exactly what an export should write, and makes the checksum stable across servers and runs.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

LINKS_KEY = "_links"


def strip_links(value: Any) -> Any:
    """A deep copy of `value` without any `_links` key, at any depth (values' download links included)."""
    if isinstance(value, dict):
        return {key: strip_links(item) for key, item in value.items() if key != LINKS_KEY}
    if isinstance(value, list):
        return [strip_links(item) for item in value]
    return value


def canonical_json(data: Any) -> str:
    """The one JSON spelling of `data` checksums are taken of: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def checksum_of(data: Any) -> str:
    """sha256 hex of the canonical JSON: equal checksums mean an import would write the same record."""
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


def label_of(data: Any, locale: str = "en_US") -> str:
    """A record's label in `locale`, else its first label, else an empty string (for admin lists)."""
    labels = data.get("labels") if isinstance(data, dict) else None
    if not isinstance(labels, dict) or not labels:
        return ""
    value = labels.get(locale) or next((text for text in labels.values() if text), "")
    return value if isinstance(value, str) else str(value)
