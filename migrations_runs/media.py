"""Media of imported records: downloaded after their page is committed, into Django's storage.

- A pipeline (`MediaPipeline`): pages feed it once committed and downloads go on while the next pages are read
  and imported; the client's limiter keeps downloads and page reads within the connection's budget (4).
- A media code already stored is never downloaded again; equal bytes under two codes are stored once (sha256).
- Bytes spool through an anonymous temporary file (memory up to 1 MiB, then disk): nothing to clean up, nothing
  a concurrent worker could delete or collide with.
- A failed download is a warning on the record; the code stays missing, so the next run downloads it.
- Media codes come from Akeneo and are not trusted: `media_path` turns each into a safe relative path (storage
  and export), the same as the code for Akeneo's own codes ("7/5/8/e/<sha1>_name.jpg").
"""

from __future__ import annotations

import hashlib
import logging
import re
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from django.core.files import File
from django.core.files.storage import default_storage

from connections.akeneo.client import AkeneoClient, Download
from connections.akeneo.errors import AkeneoError
from connections.akeneo.resources import RESOURCES, Parents, parent_codes

logger = logging.getLogger(__name__)

SPOOL_IN_MEMORY = 1024 * 1024
STORAGE_PREFIX = "akeneo-media/"
REFERENCE_ENTITY_MEDIA_TYPES = ("image",)
# Where codes that are not plain relative paths go, under a hash of the raw code: no plain code starts with it.
UNSAFE_DIR = "_unsafe"
MAX_SEGMENT_BYTES = 200  # file systems allow 255 per name; room for the suffix storage adds on a name clash
MAX_PATH_BYTES = 900  # MediaFile.file holds 1024 characters, the storage prefix and that suffix included
UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f\\]")
HEARTBEAT_EVERY = 30.0  # seconds between two lease renewals while media download


def media_path(code: str) -> str:
    """A relative path for an untrusted media code, used in storage (after STORAGE_PREFIX) and in exports
    (under media/). A plain code (non-empty segments, no `.`/`..`, no backslash, NUL or control character, not
    too long) is kept as it is; any other becomes `_unsafe/<hash of the code>_<sanitised file name>`, distinct
    per code and never outside its folder."""
    return code if _is_plain(code) else hashed_media_path(code)


def hashed_media_path(code: str) -> str:
    """`_unsafe/<hash>_<name>`: always a free, safe path (also for a plain code whose path is unusable, e.g.
    `a/b` stored already as a file and this code is `a/b/c`)."""
    digest = hashlib.sha256(str(code).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    segments = [part for part in re.split(r"[/\\]", str(code)) if part not in ("", ".", "..")]
    name = UNSAFE_NAME_CHARS.sub("_", segments[-1] if segments else "").strip("._")[:100]
    return f"{UNSAFE_DIR}/{digest}_{name or 'media'}"


def _is_plain(code: str) -> bool:
    if not isinstance(code, str) or not code or CONTROL_CHARS.search(code):
        return False
    try:
        if len(code.encode("utf-8")) > MAX_PATH_BYTES:
            return False
    except UnicodeEncodeError:  # a lone surrogate (JSON allows "\ud800")
        return False
    segments = code.split("/")
    return segments[0] != UNSAFE_DIR and all(
        part not in ("", ".", "..") and len(part.encode("utf-8")) <= MAX_SEGMENT_BYTES for part in segments
    )


def storable_code(code: str) -> str | None:
    """Why a code cannot be a MediaFile row (too long, NUL or lone surrogate: PostgreSQL refuses the whole
    batch), or None."""
    from catalog.models import MEDIA_CODE_LENGTH

    if len(code) > MEDIA_CODE_LENGTH:
        return f"is longer than {MEDIA_CODE_LENGTH} characters"
    if "\x00" in code:
        return "holds a NUL character"
    try:
        code.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode text"
    return None


@dataclass(frozen=True)
class MediaRef:
    code: str  # the Akeneo media code (slashes included)
    href: str  # where it downloads
    record: str  # the record that uses it, for the log


def media_references(
    client: AkeneoClient, resource: str, records: Iterable[dict], parent: Parents
) -> list[MediaRef]:
    """Media used by a page of records of a resource whose table entry has a media kind: values carrying
    `_links.download.href`, record images by code (reference entity `image` attributes), a reference entity's own
    `image`, and category values whose data is a file (`file_path`, enriched categories)."""
    kind = RESOURCES[resource].media
    if kind is None:
        return []
    parents = parent_codes(parent)
    image_attributes: set[str] = set()
    if resource == "reference-entity-records" and parents:
        from catalog.models import ReferenceEntityAttribute

        image_attributes = {
            attribute.code
            for attribute in ReferenceEntityAttribute.objects.filter(reference_entity_code=parents[0])
            if attribute.data.get("type") in REFERENCE_ENTITY_MEDIA_TYPES
        }
    found: dict[str, MediaRef] = {}

    def add(code: Any, links: Any, link_name: str, by_code: bool, record: str) -> None:
        if not isinstance(code, str) or not code:
            return
        link = links.get(link_name) if isinstance(links, dict) else None
        href = link.get("href") if isinstance(link, dict) else None
        if not isinstance(href, str) or not href:
            href = client.media_download_path(kind, code) if by_code else None
        if href:
            found.setdefault(code, MediaRef(code, href, record))

    for record in records:
        if not isinstance(record, dict):  # null, a string...: the importer already reported it
            continue
        key = str(record.get("uuid") or record.get("identifier") or record.get("code") or "")
        if resource == "reference-entities":  # the entity's own image
            add(record.get("image"), record.get("_links"), "image_download", True, key)
        values = record.get("values")
        if not isinstance(values, dict):
            continue
        for attribute, entries in values.items():
            if isinstance(entries, dict):  # categories: {"attribute|uuid|channel|locale": {data, type, ...}}
                entries = [entries]
            for entry in entries if isinstance(entries, list) else []:
                if not isinstance(entry, dict):
                    continue
                data = entry.get("data")
                if isinstance(data, dict) and kind == "category":  # an image or file value: {file_path, ...}
                    add(data.get("file_path"), entry.get("_links"), "download", True, key)
                elif isinstance(data, str):
                    add(data, entry.get("_links"), "download", attribute in image_attributes, key)
    return list(found.values())


def import_media(
    client: AkeneoClient, refs: list[MediaRef], *, heartbeat: Callable[[], None] | None = None
) -> tuple[int, list[tuple[str, str]]]:
    """Download the media not stored yet, and wait for them. Returns (stored, [(record code, problem)])."""
    with MediaPipeline(client, heartbeat=heartbeat) as pipeline:
        pipeline.submit(None, refs)
        finished = pipeline.drain()
    return (finished[0].stored, finished[0].problems) if finished else (0, [])


@dataclass
class Batch:
    """The media of one committed page (or slice): done when every download ended, stored or not."""

    key: Any  # the caller's handle, e.g. the cursor entry saying this page's media are pending
    outstanding: int = 0
    stored: int = 0
    problems: list[tuple[str, str]] = field(default_factory=list)


class MediaPipeline:
    """Media downloads that go on while the next pages are read and imported: committed pages feed it, up to
    `max_queued` downloads wait or run at once (the caller blocks beyond that: memory and pending work stay
    bounded), and the client's limiter keeps the connection's in-flight budget shared with page reads.

    Threads only move bytes (Akeneo -> storage). Every database read and write (which codes are stored already,
    the MediaFile rows) happens on the caller's thread, in `submit`, `poll` and `drain`, so SQLite sees one
    writer per process and a step's transaction rules stay simple. `heartbeat` is called at least every
    HEARTBEAT_EVERY seconds while the caller waits for downloads (the step's lease).
    """

    def __init__(
        self,
        client: AkeneoClient,
        *,
        heartbeat: Callable[[], None] | None = None,
        max_queued: int | None = None,
    ) -> None:
        self.client = client
        self.heartbeat = heartbeat
        workers = max(1, client.settings.max_in_flight)
        self.max_queued = max(workers, max_queued or workers * 25)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="akeneo-media")
        self._running: dict[Future, tuple[Batch, MediaRef]] = {}
        self._batches: list[Batch] = []  # in submission order: finished batches are handed back in that order
        self._fetched: list[tuple[Batch, MediaRef, str, Download]] = []  # downloaded, row not written yet
        self._last_beat = time.monotonic()

    def __enter__(self) -> MediaPipeline:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @property
    def pending(self) -> int:
        """Batches submitted and not handed back yet."""
        return len(self._batches)

    def submit(self, key: Any, refs: Iterable[MediaRef]) -> None:
        """Queue the media of one committed page. Codes stored already are skipped (one query); codes that
        cannot be stored are problems of the batch at once. Blocks while too many downloads are queued."""
        from catalog.models import MediaFile

        batch = Batch(key)
        self._batches.append(batch)
        usable = []
        for ref in refs:
            refusal = storable_code(ref.code)
            if refusal is None:
                usable.append(ref)
            else:
                batch.problems.append(
                    (ref.record, f"Media code {_shown(ref.code)} {refusal}: not downloaded.")
                )
        if usable:
            stored = set(
                MediaFile.objects.filter(code__in=[ref.code for ref in usable]).values_list("code", flat=True)
            )
            queued = {ref.code for _batch, ref in self._running.values()}  # another page uses it too
            for ref in usable:
                if ref.code in stored or ref.code in queued:
                    continue
                queued.add(ref.code)
                while len(self._running) >= self.max_queued:
                    self._collect(wait_for_one=True)
                batch.outstanding += 1
                self._running[self._pool.submit(_download, self.client, ref)] = (batch, ref)

    def poll(self) -> list[Batch]:
        """Store what finished downloading; hand back the batches (oldest first) whose media all ended."""
        self._collect(wait_for_one=False)
        self._flush()
        return self._finished()

    def drain(self) -> list[Batch]:
        """Wait for every queued download; hand back all the batches not handed back yet."""
        while self._running:
            self._collect(wait_for_one=True)
        self._flush()
        return self._finished()

    def _flush(self) -> None:
        """One write for every download finished since the last (not one per download)."""
        if self._fetched:
            fetched, self._fetched = self._fetched, []
            _store(fetched)
            for batch, *_rest in fetched:
                batch.outstanding -= 1

    def close(self) -> None:
        """Stop: queued downloads are dropped (their pages stay pending in the cursor: the next run, or the
        resumed step, fetches them), running ones end on their own deadline."""
        for future in self._running:
            future.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._running.clear()
        try:  # files already downloaded keep their row (else they would be orphans in storage)
            self._flush()
        except Exception:
            logger.exception("Media rows of finished downloads could not be written")

    def _finished(self) -> list[Batch]:
        done = []
        while self._batches and self._batches[0].outstanding == 0:
            done.append(self._batches.pop(0))
        return done

    def _collect(self, *, wait_for_one: bool) -> None:
        if not self._running:
            return
        timeout = HEARTBEAT_EVERY if wait_for_one else 0
        while True:
            ready, _ = wait(list(self._running), timeout=timeout, return_when=FIRST_COMPLETED)
            self._beat(force=bool(wait_for_one and not ready))
            if ready or not wait_for_one:
                break
        for future in ready:
            batch, ref = self._running.pop(future)
            outcome = future.result()
            if isinstance(outcome, str):
                batch.outstanding -= 1
                batch.problems.append((ref.record, outcome))
            else:  # done once its row is written (_flush)
                self._fetched.append((batch, ref, *outcome))

    def _beat(self, *, force: bool) -> None:
        now = time.monotonic()
        if self.heartbeat is not None and (force or now - self._last_beat >= HEARTBEAT_EVERY):
            self._last_beat = now
            self.heartbeat()


def _store(fetched: list[tuple[Batch, MediaRef, str, Download]]) -> None:
    """MediaFile rows for downloaded files. Same bytes under several codes are kept once: the file of a twin
    (stored before, or in this lot) is reused and the new copy deleted."""
    from catalog.models import MediaFile

    twins = dict(
        MediaFile.objects.filter(sha256__in=[result.sha256 for *_rest, result in fetched])
        .exclude(file="")
        .values_list("sha256", "file")
    )
    rows = []
    for batch, ref, name, result in fetched:
        if media_path(ref.code) != ref.code:
            batch.problems.append(
                (
                    ref.record,
                    f"Media code {_shown(ref.code)} is not a safe relative path: kept as {media_path(ref.code)}",
                )
            )
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
        batch.stored += 1
    MediaFile.objects.bulk_create(rows, ignore_conflicts=True)  # a concurrent run may have stored a code too


def _download(client: AkeneoClient, ref: MediaRef) -> tuple[str, Download] | str:
    """Stream one media file into storage: (storage name, download facts), or a problem message. Never raises:
    one bad media is a problem on its record, not the end of the step."""
    shown = _shown(ref.code)
    try:
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
            result = client.download(ref.href, spool)
            path = media_path(ref.code)
            try:
                spool.seek(0)
                name = default_storage.save(STORAGE_PREFIX + path, File(spool, name=path))
            except OSError:
                # e.g. "a/b" is a file already and this code is "a/b/c": the hashed path is always free
                spool.seek(0)
                path = hashed_media_path(ref.code)
                name = default_storage.save(STORAGE_PREFIX + path, File(spool, name=path))
        return name, result
    except AkeneoError as error:
        logger.warning("Media %s could not be downloaded: %s", shown, error)
        return f"Media {shown} could not be downloaded ({error}); it will be retried on the next run."
    except Exception as error:  # storage refusals (SuspiciousFileOperation), disk errors...
        logger.warning("Media %s could not be stored: %s: %s", shown, type(error).__name__, error)
        return (
            f"Media {shown} could not be stored ({type(error).__name__}: {error}); retried on the next run."
        )


def _shown(code: str) -> str:
    """A code as it can be logged: escaped (no control character reaches a log or terminal), shortened."""
    text = ascii(code)[1:-1]
    return text if len(text) <= 300 else text[:300] + "..."
