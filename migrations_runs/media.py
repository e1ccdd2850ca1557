"""Media of imported records: downloaded after their page is committed, into Django's storage.

- At most the client's in-flight budget (4) at once: the downloads share the client's gate with paging.
- A media code already stored is never downloaded again; equal bytes under two codes are stored once (sha256).
- Bytes spool through an anonymous temporary file (memory up to 1 MiB, then disk): nothing to clean up, nothing
  a concurrent worker could delete or collide with.
- A failed download is a warning on the record; the code stays missing, so the next run downloads it.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.core.files import File
from django.core.files.storage import default_storage

from connections.akeneo.client import AkeneoClient, Download
from connections.akeneo.errors import AkeneoError

logger = logging.getLogger(__name__)

SPOOL_IN_MEMORY = 1024 * 1024
STORAGE_PREFIX = "akeneo-media/"
REFERENCE_ENTITY_MEDIA_TYPES = ("image",)


@dataclass(frozen=True)
class MediaRef:
    code: str  # the Akeneo media code (slashes included)
    href: str  # where it downloads
    record: str  # the record that uses it, for the log


def media_references(
    client: AkeneoClient, resource: str, records: Iterable[dict], parent: str | None
) -> list[MediaRef]:
    """Media used by a page of records: values carrying `_links.download.href`, and record images by code."""
    image_attributes: set[str] = set()
    if resource == "reference-entity-records" and parent:
        from catalog.models import ReferenceEntityAttribute

        image_attributes = {
            attribute.code
            for attribute in ReferenceEntityAttribute.objects.filter(reference_entity_code=parent)
            if attribute.data.get("type") in REFERENCE_ENTITY_MEDIA_TYPES
        }
    found: dict[str, MediaRef] = {}
    for record in records:
        key = str(record.get("uuid") or record.get("identifier") or record.get("code") or "")
        values = record.get("values") if isinstance(record, dict) else None
        if not isinstance(values, dict):
            continue
        for attribute, entries in values.items():
            for entry in entries if isinstance(entries, list) else []:
                if not isinstance(entry, dict) or not isinstance(entry.get("data"), str) or not entry["data"]:
                    continue
                href = ((entry.get("_links") or {}).get("download") or {}).get("href")
                if not href and attribute in image_attributes:
                    href = client.media_download_path("reference-entity", entry["data"])
                if href:
                    found.setdefault(entry["data"], MediaRef(entry["data"], href, key))
    return list(found.values())


def import_media(client: AkeneoClient, refs: list[MediaRef]) -> tuple[int, list[tuple[str, str]]]:
    """Download the media not stored yet. Returns (stored, [(record code, problem)]).

    Threads only move bytes (Akeneo -> storage); every database read and write stays on the calling thread.
    """
    from catalog.models import MediaFile

    if not refs:
        return 0, []
    stored = set(MediaFile.objects.filter(code__in=[ref.code for ref in refs]).values_list("code", flat=True))
    missing = [ref for ref in refs if ref.code not in stored]
    if not missing:
        return 0, []
    workers = max(1, min(client.settings.max_in_flight, len(missing)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="akeneo-media") as pool:
        outcomes = list(pool.map(lambda ref: _download(client, ref), missing))
    problems: list[tuple[str, str]] = []
    fetched = [
        (ref, outcome) for ref, outcome in zip(missing, outcomes, strict=True) if not isinstance(outcome, str)
    ]
    problems = [
        (ref.record, outcome)
        for ref, outcome in zip(missing, outcomes, strict=True)
        if isinstance(outcome, str)
    ]
    # Same bytes under several codes are kept once: reuse the file of a twin (stored before, or in this batch).
    twins = dict(
        MediaFile.objects.filter(sha256__in=[result.sha256 for _ref, (_name, result) in fetched])
        .exclude(file="")
        .values_list("sha256", "file")
    )
    rows = []
    for ref, (name, result) in fetched:
        if result.sha256 in twins and twins[result.sha256] != name:
            default_storage.delete(name)
            name = twins[result.sha256]
        twins.setdefault(result.sha256, name)
        rows.append(
            MediaFile(
                code=ref.code,
                file=name,
                content_type=result.content_type,
                size=result.size,
                sha256=result.sha256,
            )
        )
    MediaFile.objects.bulk_create(rows, ignore_conflicts=True)  # a concurrent run may have stored a code too
    return len(rows), problems


def _download(client: AkeneoClient, ref: MediaRef) -> tuple[str, Download] | str:
    """Stream one media file into storage: (storage name, download facts), or a problem message."""
    try:
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
            result = client.download(ref.href, spool)
            spool.seek(0)
            name = default_storage.save(STORAGE_PREFIX + ref.code, File(spool, name=ref.code))
        return name, result
    except AkeneoError as error:
        logger.warning("Media %s could not be downloaded: %s", ref.code, error)
        return f"Media {ref.code} could not be downloaded ({error}); it will be retried on the next run."
    except OSError as error:
        return f"Media {ref.code} could not be stored ({type(error).__name__}: {error}); retried on the next run."
