"""Akeneo's standard format as the catalog stores it: `_links` stripped everywhere, a canonical checksum.

`_links` are transport (absolute URLs of one server, media download hrefs); dropping them everywhere makes a
stored record exactly what an export should write, and makes the checksum stable across servers and runs.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

LINKS_KEY = "_links"


# hashlib lets go of the GIL for buffers of 2 KiB and more. A record's JSON hashes in microseconds, but while the
# page fetchers and media threads are busy, taking the GIL back costs up to a switch interval (5 ms): fed in
# smaller pieces, the hash never lets go of it.
HASH_PIECE = 2047


def strip_links(value: Any) -> Any:
    """A deep copy of `value` without any `_links` key, at any depth (values' download links included)."""
    if isinstance(value, dict):
        return _strip_dict(value)
    if isinstance(value, list):
        return _strip_list(value)
    return value


# The two helpers below are `strip_links` unrolled: a product holds hundreds of scalars, and a call per scalar
# was a third of a page's import time.
def _strip_dict(value: dict) -> dict:
    copy = {}
    for key, item in value.items():
        if key == LINKS_KEY:
            continue
        kind = type(item)
        copy[key] = (
            _strip_dict(item)
            if kind is dict
            else _strip_list(item)
            if kind is list
            else strip_links(item)
            if isinstance(item, (dict, list))
            else item
        )
    return copy


def _strip_list(value: list) -> list:
    return [
        _strip_dict(item)
        if type(item) is dict
        else _strip_list(item)
        if type(item) is list
        else strip_links(item)
        if isinstance(item, (dict, list))
        else item
        for item in value
    ]


def canonical_json(data: Any) -> str:
    """The one JSON spelling of `data` checksums are taken of: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def checksum_of(data: Any) -> str:
    """sha256 hex of the canonical JSON: equal checksums mean an import would write the same record."""
    return checksum_of_json(canonical_json(data))


def checksum_of_json(text: str) -> str:
    """sha256 hex of a canonical JSON text (`canonical_json`); UnicodeEncodeError for a lone surrogate."""
    encoded = memoryview(text.encode("utf-8"))
    digest = hashlib.sha256()
    for start in range(0, len(encoded), HASH_PIECE):
        digest.update(encoded[start : start + HASH_PIECE])
    return digest.hexdigest()


def label_of(data: Any, locale: str = "en_US") -> str:
    """A record's label in `locale`, else its first label, else an empty string (for admin lists)."""
    labels = data.get("labels") if isinstance(data, dict) else None
    if not isinstance(labels, dict) or not labels:
        return ""
    value = labels.get(locale) or next((text for text in labels.values() if text), "")
    return value if isinstance(value, str) else str(value)
