"""Akeneo events: verify a delivery, record its events, enqueue them; then, on the worker, apply each one.

Two delivery mechanisms reach `POST /akeneo/events/<connection id>/`:

- the **Event Platform** (CloudEvents JSON, one event per request): `X-AKENEO-SIGNATURE-PRIMARY` and, when the
  subscription has a second secret, `X-AKENEO-SIGNATURE-SECONDARY` carry the hex HMAC-SHA256 of the raw body
  (`X-AKENEO-SIGNATURE-ALGORITHM: HmacSHA256`). One of them must match the connection's events secret: the
  secondary is there so a secret can be rotated on either side without losing events. There is no timestamp:
  a replayed delivery is recognised by its event id (a repeat, answered and not applied again).
- the older **Events API** (`{"events": [...]}`, up to 10 events): `X-Akeneo-Request-Signature` is the hex
  HMAC-SHA256 of `"<X-Akeneo-Request-Timestamp>.<body>"`; a timestamp older than 300 s (or more than 60 s
  ahead) is refused, so a captured delivery cannot be replayed later.

Answering is fast (Akeneo allows a few seconds, then retries): verify, insert one row per event (the unique
(connection, event id) pair makes a repeat an UPDATE of its counter), enqueue a task carrying the row id only.
Every refusal (401 bad or missing signature, 403 disabled connection or no secret, 404 unknown connection, 413
body too large, 400 malformed, 429 too many pending, 503 queue down) changes nothing.

Events are references that may come twice, late or out of order: the worker fetches the record's CURRENT state
from Akeneo and imports it through the same importers as a migration (so order does not matter); a deleted event,
or a 404 on that fetch, marks the local record deleted for this connection.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid as uuid_module
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from connections.akeneo.client import AkeneoClient
from connections.akeneo.errors import AkeneoError, AkeneoHTTPError
from connections.akeneo.resources import API_ROOT, RESOURCES
from connections.crypto import CredentialsUnreadable
from connections.models import Connection
from events.models import ReceivedEvent

logger = logging.getLogger(__name__)

Outcome = ReceivedEvent.Outcome
Action = ReceivedEvent.Action

PRIMARY_HEADER = "X-AKENEO-SIGNATURE-PRIMARY"
SECONDARY_HEADER = "X-AKENEO-SIGNATURE-SECONDARY"
ALGORITHM_HEADER = "X-AKENEO-SIGNATURE-ALGORITHM"
EVENTS_API_SIGNATURE_HEADER = "X-Akeneo-Request-Signature"
EVENTS_API_TIMESTAMP_HEADER = "X-Akeneo-Request-Timestamp"
ACCEPTED_ALGORITHMS = {"hmacsha256", "hmac-sha256", "hmac_sha256", "sha256"}

EVENT_PLATFORM_PREFIX = "com.akeneo.pim.v1."
MESSAGE_LENGTH = 2000


def max_body_bytes() -> int:
    return int(getattr(settings, "AKENEO_EVENTS_MAX_BODY_BYTES", 1024 * 1024))


def max_age_seconds() -> int:
    return int(getattr(settings, "AKENEO_EVENTS_MAX_AGE_SECONDS", 300))


def max_future_seconds() -> int:
    return int(getattr(settings, "AKENEO_EVENTS_MAX_FUTURE_SECONDS", 60))


def processing_lease_seconds() -> int:
    return int(getattr(settings, "AKENEO_EVENTS_PROCESSING_LEASE_SECONDS", 600))


def max_pending() -> int:
    return int(getattr(settings, "AKENEO_EVENTS_MAX_PENDING", 10_000))


class EventRefused(Exception):
    """The delivery is refused as a whole, with this HTTP status; nothing was recorded."""

    def __init__(self, status: int, message: str, *, retry_after: int | None = None) -> None:
        self.status = status
        self.retry_after = retry_after
        super().__init__(message)


# ---------------------------------------------------------------------------------------------- what events name
@dataclass(frozen=True)
class Reference:
    """The record an event is about: the resource of the table, its parent codes, its own code."""

    resource: str  # "" when the event names nothing we keep (app deleted, completeness...)
    parents: tuple[str, ...] = ()
    code: str = ""

    @property
    def key(self) -> str:
        """The mapping key: "code", "parent/code" or the product uuid (as importers and mappings write it)."""
        return "/".join((*self.parents, self.code)) if self.code else ""


@dataclass
class ParsedEvent:
    event_id: str
    mechanism: str
    event_type: str
    action: str
    reference: Reference
    occurred_at: datetime | None
    payload: dict[str, Any]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _dig(data: Any, *path: str) -> Any:
    for name in path:
        data = data.get(name) if isinstance(data, dict) else None
    return data


# Event Platform nouns: (resource, the data key of the record, parent path inside it or None).
EVENT_PLATFORM_NOUNS: dict[str, tuple[str, str, tuple[str, ...] | None]] = {
    "product": ("products-uuid", "product", None),
    "product-model": ("product-models", "product_model", None),
    "category": ("categories", "category", None),
    "family": ("families", "family", None),
    "attribute": ("attributes", "attribute", None),
    "attribute-group": ("attribute-groups", "attribute_group", None),
    "attribute-option": ("attribute-options", "attribute_option", ("attribute", "code")),
    "asset": ("assets", "asset", ("asset_family", "code")),
    "reference-entity-record": (
        "reference-entity-records",
        "reference_entity_record",
        ("reference_entity", "code"),
    ),
}
ACTIONS = {"created": Action.CREATED, "updated": Action.UPDATED, "deleted": Action.DELETED}


MAX_CODE_LENGTH = 255


def _usable(code: str, *, uuid_only: bool = False) -> bool:
    """A code from an event becomes a path segment of the REST call and a mapping key: `.`, `..`, a slash, a
    control character or an over-long value would name another endpoint or another record, so it names nothing."""
    if not code or code in (".", "..") or "/" in code or "\\" in code or len(code) > MAX_CODE_LENGTH:
        return False
    if any(ord(char) < 32 or ord(char) == 127 for char in code):
        return False
    if uuid_only:
        try:
            uuid_module.UUID(code)
        except ValueError:
            return False
    return True


def _checked(action: str, reference: Reference) -> tuple[str, Reference]:
    """The reference, or one naming no record (recorded, never fetched) when a code in it is unusable."""
    if not reference.code:
        return action, reference
    codes_ok = all(_usable(parent) for parent in reference.parents) and _usable(
        reference.code, uuid_only=reference.resource == "products-uuid"
    )
    return action, reference if codes_ok else Reference(reference.resource)


def _event_platform_reference(event_type: str, data: Any) -> tuple[str, Reference]:
    """(action, reference) of a CloudEvents type such as com.akeneo.pim.v1.product.updated(.delta)."""
    if not event_type.startswith(EVENT_PLATFORM_PREFIX):
        return Action.OTHER, Reference("")
    parts = event_type[len(EVENT_PLATFORM_PREFIX) :].split(".")
    if len(parts) < 2 or parts[0] not in EVENT_PLATFORM_NOUNS or parts[1] not in ACTIONS:
        return Action.OTHER, Reference("")
    resource, data_key, parent_path = EVENT_PLATFORM_NOUNS[parts[0]]
    record = _dig(data, data_key)
    if record is None and resource == "product-models":  # the reference page names it `product` once
        record = _dig(data, "product")
    code = _text(_dig(record, "uuid" if resource == "products-uuid" else "code"))
    parents = ()
    if parent_path is not None:
        parent = _text(_dig(record, *parent_path))
        if not parent:
            return ACTIONS[parts[1]], Reference(resource)
        parents = (parent,)
    return _checked(ACTIONS[parts[1]], Reference(resource, parents, code))


def _events_api_reference(action: str, data: Any) -> tuple[str, Reference]:
    """(action, reference) of an Events API action: product.created/updated/removed, product_model.*."""
    noun, _, verb = action.partition(".")
    verb_action = {"created": Action.CREATED, "updated": Action.UPDATED, "removed": Action.DELETED}.get(verb)
    resource = _dig(data, "resource")
    if verb_action is None or noun not in ("product", "product_model"):
        return Action.OTHER, Reference("")
    if noun == "product_model":
        return _checked(verb_action, Reference("product-models", (), _text(_dig(resource, "code"))))
    uuid = _text(_dig(resource, "uuid"))
    if uuid:
        return _checked(verb_action, Reference("products-uuid", (), uuid))
    # Before 7.0 a product is named by its identifier only: read from /products.
    return _checked(verb_action, Reference("products", (), _text(_dig(resource, "identifier"))))


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _malformed(message: str) -> EventRefused:
    return EventRefused(400, message)


def parse_event_platform(body: bytes) -> list[ParsedEvent]:
    """One CloudEvent. Raises EventRefused(400) for what is not one."""
    document = _json(body)
    if not isinstance(document, dict):
        raise _malformed("The body must be a CloudEvents JSON object.")
    event_id = _text(document.get("id")).strip()
    event_type = _text(document.get("type")).strip()
    if not event_id or not event_type:
        raise _malformed("The event has no id or no type.")
    action, reference = _event_platform_reference(event_type, document.get("data"))
    return [
        ParsedEvent(
            event_id=event_id[:255],
            mechanism=ReceivedEvent.Mechanism.EVENT_PLATFORM,
            event_type=event_type[:255],
            action=action,
            reference=reference,
            occurred_at=_when(document.get("time")),
            payload=document,
        )
    ]


def parse_events_api(body: bytes) -> list[ParsedEvent]:
    """`{"events": [...]}`: each event needs an `event_id` and an `action`. Raises EventRefused(400)."""
    document = _json(body)
    events = document.get("events") if isinstance(document, dict) else None
    if not isinstance(events, list):
        raise _malformed('The body must be {"events": [...]}.')
    parsed = []
    for event in events:
        if not isinstance(event, dict):
            raise _malformed("Each event must be a JSON object.")
        event_id = _text(event.get("event_id")).strip()
        event_type = _text(event.get("action")).strip()
        if not event_id or not event_type:
            raise _malformed("An event has no event_id or no action.")
        action, reference = _events_api_reference(event_type, event.get("data"))
        parsed.append(
            ParsedEvent(
                event_id=event_id[:255],
                mechanism=ReceivedEvent.Mechanism.EVENTS_API,
                event_type=event_type[:255],
                action=action,
                reference=reference,
                occurred_at=_when(event.get("event_datetime")),
                payload=event,
            )
        )
    return parsed


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise _malformed("The body is not valid JSON.") from None


# ---------------------------------------------------------------------------------------------- signatures
def sign(secret: str, payload: bytes) -> str:
    """Hex HMAC-SHA256 of `payload` with `secret`: what Akeneo sends (and what a test sender computes)."""
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def _matches(expected: str, given: str | None) -> bool:
    if not given:
        return False
    # Bytes, so any header (even non-ASCII) is compared in constant time instead of raising.
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode("utf-8", "replace"))


def verify_signature(
    secret: str, body: bytes, headers: Mapping[str, str], *, now: float | None = None
) -> str:
    """Which mechanism signed the delivery (a ReceivedEvent.Mechanism), or EventRefused(401)."""
    if headers.get(EVENTS_API_SIGNATURE_HEADER) is not None:
        timestamp = (headers.get(EVENTS_API_TIMESTAMP_HEADER) or "").strip()
        if not timestamp.isdigit() or len(timestamp) > 12:
            raise EventRefused(401, f"Missing or invalid {EVENTS_API_TIMESTAMP_HEADER}.")
        expected = sign(secret, timestamp.encode() + b"." + body)
        if not _matches(expected, headers.get(EVENTS_API_SIGNATURE_HEADER)):
            raise EventRefused(401, "The signature does not match the events secret.")
        age = (time.time() if now is None else now) - int(timestamp)
        if age > max_age_seconds():
            raise EventRefused(401, f"The request is too old ({int(age)} s; at most {max_age_seconds()} s).")
        if age < -max_future_seconds():
            raise EventRefused(401, "The request timestamp is in the future.")
        return ReceivedEvent.Mechanism.EVENTS_API
    primary, secondary = headers.get(PRIMARY_HEADER), headers.get(SECONDARY_HEADER)
    if not primary and not secondary:
        raise EventRefused(401, "The request is not signed.")
    algorithm = (headers.get(ALGORITHM_HEADER) or "HmacSHA256").strip().lower()
    if algorithm not in ACCEPTED_ALGORITHMS:
        raise EventRefused(401, "Unsupported signature algorithm (HmacSHA256 expected).")
    expected = sign(secret, body)
    # Both compared, always: the answer takes the same time whichever matched.
    primary_ok, secondary_ok = _matches(expected, primary), _matches(expected, secondary)
    if not (primary_ok or secondary_ok):
        raise EventRefused(401, "The signature does not match the events secret.")
    return ReceivedEvent.Mechanism.EVENT_PLATFORM


# ---------------------------------------------------------------------------------------------- receiving
@dataclass
class Receipt:
    recorded: list[int] = field(default_factory=list)  # rows enqueued for processing
    ignored: int = 0  # recorded, but naming nothing we keep
    repeats: int = 0  # event ids already received: answered, not applied again

    def as_json(self) -> dict[str, int]:
        return {"recorded": len(self.recorded), "ignored": self.ignored, "duplicates": self.repeats}


def receive(
    connection_id: int,
    body: bytes,
    headers: Mapping[str, str],
    *,
    now: float | None = None,
    enqueue: Callable[[list[int]], None] | None = None,
) -> Receipt:
    """Verify, record and enqueue one delivery. Raises EventRefused (nothing recorded) when it is refused."""
    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None:
        raise EventRefused(404, "No such connection.")
    if not connection.enabled:
        raise EventRefused(403, "This connection is disabled.")
    try:
        secret = connection.events_secret
    except CredentialsUnreadable:
        raise EventRefused(403, "The events secret of this connection cannot be decrypted.") from None
    if not secret:
        raise EventRefused(403, "This connection has no events secret: set one on its Events tab.")
    if len(body) > max_body_bytes():
        raise EventRefused(413, f"The body is larger than {max_body_bytes()} bytes.")
    mechanism = verify_signature(secret, body, headers, now=now)
    events = (
        parse_events_api(body)
        if mechanism == ReceivedEvent.Mechanism.EVENTS_API
        else parse_event_platform(body)
    )
    if not events:
        return Receipt()
    limit = max_pending()  # 0 or less: no limit
    pending = ReceivedEvent.objects.filter(connection_id=connection.pk, outcome=Outcome.PENDING)
    if limit > 0 and pending[limit - 1 : limit].exists():
        raise EventRefused(429, "Too many events are waiting to be processed: slow down.", retry_after=30)
    receipt = _record(connection.pk, events)
    if receipt.recorded:
        try:
            (enqueue or enqueue_events)(receipt.recorded)
        except Exception as error:
            # The broker is down: forget the rows, so Akeneo's retry is recorded (not taken for a repeat).
            logger.exception("Could not queue Akeneo events %s", receipt.recorded)
            ReceivedEvent.objects.filter(pk__in=receipt.recorded).delete()
            raise EventRefused(
                503, f"The events could not be queued ({type(error).__name__}).", retry_after=30
            ) from None
    return receipt


def _record(connection_id: int, events: list[ParsedEvent]) -> Receipt:
    from migrations_runs.services import retry_on_lock

    def write() -> Receipt:
        receipt = Receipt()
        now = timezone.now()
        with transaction.atomic():
            for event in events:
                reference = event.reference
                actionable = bool(reference.resource and reference.code)
                try:
                    with transaction.atomic():
                        row = ReceivedEvent.objects.create(
                            connection_id=connection_id,
                            event_id=event.event_id,
                            mechanism=event.mechanism,
                            event_type=event.event_type,
                            action=event.action,
                            resource=reference.resource,
                            record_key=reference.key[:600],
                            occurred_at=event.occurred_at,
                            outcome=Outcome.PENDING if actionable else Outcome.IGNORED,
                            processed_at=None if actionable else now,
                            message="" if actionable else _ignored_reason(event),
                            payload=event.payload,
                        )
                except IntegrityError:
                    ReceivedEvent.objects.filter(connection_id=connection_id, event_id=event.event_id).update(
                        repeats=F("repeats") + 1, last_repeat_at=now
                    )
                    receipt.repeats += 1
                    continue
                if actionable:
                    receipt.recorded.append(row.pk)
                else:
                    receipt.ignored += 1
        return receipt

    return retry_on_lock(write, "Recording Akeneo events")


def _ignored_reason(event: ParsedEvent) -> str:
    if event.reference.resource:
        return "The event does not name its record."
    return f"Events of type {event.event_type} are not applied to the catalog."


def enqueue_events(event_ids: Iterable[int]) -> None:
    from events.tasks import process_event_task

    for event_id in event_ids:
        process_event_task.delay(event_id)


def process_again(events: Iterable[ReceivedEvent]) -> int:
    """Put failed (or stuck) events back to pending and enqueue them: the admin's "Process again"."""
    ids = [event.pk for event in events if event.resource and event.record_key]
    if not ids:
        return 0
    ReceivedEvent.objects.filter(pk__in=ids).exclude(outcome=Outcome.PENDING).update(
        outcome=Outcome.PENDING, message="", processed_at=None
    )
    enqueue_events(ids)
    return len(ids)


# ---------------------------------------------------------------------------------------------- applying
class _Gone(Exception):
    """Akeneo answered 404 for the record: it no longer exists there."""


def apply_event(event_id: int, *, client: AkeneoClient | None = None) -> ReceivedEvent | None:
    """Apply one recorded event (on the worker). Idempotent: an event already done, or claimed by a worker that
    is still within its lease, is left alone; one whose worker died (claimed longer ago than the lease) is taken
    over when its task is redelivered. While processing, `processed_at` is the time of the claim."""
    now = timezone.now()
    stale = now - timedelta(seconds=processing_lease_seconds())
    claimed = (
        ReceivedEvent.objects.filter(pk=event_id)
        .filter(Q(outcome=Outcome.PENDING) | Q(outcome=Outcome.PROCESSING, processed_at__lt=stale))
        .update(outcome=Outcome.PROCESSING, processed_at=now)
    )
    if not claimed:
        return None
    event = ReceivedEvent.objects.select_related("connection").get(pk=event_id)
    try:
        outcome, message = _apply(event, client)
    except Exception as error:  # one bad event never stops the worker: recorded with its reason
        logger.exception("Akeneo event %s failed", event_id)
        outcome, message = Outcome.FAILED, f"{type(error).__name__}: {error}"
    event.outcome = outcome
    event.message = message[:MESSAGE_LENGTH]
    event.processed_at = timezone.now()
    event.save(update_fields=["outcome", "message", "processed_at"])
    return event


def _apply(event: ReceivedEvent, client: AkeneoClient | None) -> tuple[str, str]:
    connection = event.connection
    if not connection.enabled:
        return Outcome.FAILED, "The connection was disabled before the event was processed."
    reference = _reference_of(event)
    if event.action == Action.DELETED:
        return _mark_deleted(connection.pk, reference, "deleted in Akeneo")
    from migrations_runs.services import make_client

    owned = client is None
    try:
        client = client or make_client(connection)
    except CredentialsUnreadable as error:
        return Outcome.FAILED, str(error)
    try:
        try:
            record = _fetch(client, reference)
        except _Gone:
            return _mark_deleted(connection.pk, reference, "Akeneo answered 404 for it")
        message = _import(client, connection.pk, reference, [record])
        if reference.resource == "product-models":
            message += _refresh_descendants(client, connection.pk, reference.code)
        return Outcome.APPLIED, message
    except AkeneoError as error:
        return Outcome.FAILED, str(error)
    finally:
        if owned:
            client.close()


def _reference_of(event: ReceivedEvent) -> Reference:
    spec = RESOURCES[event.resource]
    parts = event.record_key.split("/", spec.depth) if spec.depth else [event.record_key]
    return Reference(event.resource, tuple(parts[:-1]), parts[-1])


def _fetch(client: AkeneoClient, reference: Reference) -> dict[str, Any]:
    """The record's current state: one GET of its item URL (with the table's flags, dropped if refused)."""
    spec = RESOURCES[reference.resource]
    if reference.resource == "products-uuid":
        base = f"{API_ROOT}/products-uuid"
    else:
        base = spec.format_path(reference.parents)
    path = f"{base}/{quote(reference.code, safe='')}"
    flags = dict(spec.flags)
    try:
        record = client.get(path, params=flags or None)
    except AkeneoHTTPError as error:
        if error.status == 404:
            raise _Gone from None
        if flags and error.status in (400, 422):
            record = client.get(path)
        else:
            raise
    if not isinstance(record, dict):
        raise AkeneoError(f"GET {path}: the answer is not a record", path=path)
    return record


def _import(
    client: AkeneoClient,
    connection_id: int,
    reference: Reference,
    records: list[dict[str, Any]],
    *,
    resource: str | None = None,
) -> str:
    """Import records through the migration's importer and mappings (one transaction), then fetch their media.
    Returns what happened, for the event's message."""
    from migrations_runs.importers import IMPORTERS
    from migrations_runs.media import import_media, media_references
    from migrations_runs.services import record_mappings, retry_on_lock

    resource = resource or reference.resource
    importer = IMPORTERS[resource]
    parent = reference.parents if resource == reference.resource else ()

    def write():
        with transaction.atomic():
            result = importer.import_page(records, parent=parent)
            record_mappings(connection_id, importer.resource, result.ids)
            _record_results(importer.resource, getattr(result, "outcomes", []))
            return result

    result = retry_on_lock(write, "Applying an Akeneo event")
    parts = [
        f"{count} {name}"
        for name, count in (
            ("created", result.created),
            ("updated", result.updated),
            ("unchanged", result.unchanged),
            ("failed", result.failed),
            ("skipped", result.skipped),
        )
        if count
    ]
    message = ", ".join(parts) or "nothing to import"
    problems = [f"{problem.code}: {problem.message}" for problem in result.problems[:5]]
    refs = media_references(client, resource, records, parent)
    if refs:
        stored, media_problems = import_media(client, refs)
        if stored:
            message += f"; {stored} media stored"
        problems += [f"{record}: {text}" for record, text in media_problems[:5]]
    if problems:
        message += " (" + "; ".join(problems) + ")"
    return message


def _refresh_descendants(client: AkeneoClient, connection_id: int, code: str) -> str:
    """A product model's change alters its sub-models' and variants' inherited values: re-read them."""
    codes = [code]
    models: list[dict[str, Any]] = []
    search = {"search": {"parent": [{"operator": "IN", "value": [code]}]}}
    for page in client.pages("product-models", params=search, prefetch=False):
        models.extend(page.items)
    parts = []
    if models:
        parts.append(f"sub-models: {_import(client, connection_id, Reference('product-models'), models)}")
        codes += [model["code"] for model in models if isinstance(model.get("code"), str)]
    variants: list[dict[str, Any]] = []
    for first in range(0, len(codes), 100):  # long IN lists overflow the URL
        search = {"search": {"parent": [{"operator": "IN", "value": codes[first : first + 100]}]}}
        for page in client.pages("products-uuid", params=search, prefetch=False):
            variants.extend(page.items)
            if len(variants) >= 100:
                parts.append(
                    f"variants: {_import(client, connection_id, Reference('products-uuid'), variants)}"
                )
                variants = []
    if variants:
        parts.append(f"variants: {_import(client, connection_id, Reference('products-uuid'), variants)}")
    return "".join(f"; {part}" for part in parts)


def _mark_deleted(connection_id: int, reference: Reference, why: str) -> tuple[str, str]:
    """Mark the record deleted for this connection (kept, flagged; another source may still provide it)."""
    from migrations_runs.deletions import mark_deleted

    resource, key = reference.resource, reference.key
    if (
        resource == "products"
    ):  # named by identifier (Events API before 7.0): the catalog keys products by uuid
        from catalog.models import Product

        uuid = Product.objects.filter(identifier=reference.code).values_list("uuid", flat=True).first()
        if uuid is None:
            return Outcome.DELETED, f"{why}; not in the local catalog"
        resource, key = "products-uuid", str(uuid)
    resource = "products-uuid" if resource == "products" else resource
    with transaction.atomic():  # it writes the per-record results ("deleted", source "event") itself
        marked = mark_deleted(connection_id, resource, [key], run=None)
    if not marked:
        return Outcome.DELETED, (
            f"{why}; nothing marked (not imported by this connection, already marked, or another connection "
            "still provides it)"
        )
    return Outcome.DELETED, f"{why}; {marked} local record(s) marked deleted"


def _record_results(resource: str, outcomes: list) -> None:
    """The per-record results (created, updated, failed...) runs write, for events too: no run, source "event"."""
    if outcomes:
        from migrations_runs.records import record_outcomes

        record_outcomes(None, None, resource, outcomes, source="event")


# ---------------------------------------------------------------------------------------------- the connection page
def receiving_path(connection: Connection) -> str:
    return reverse("events:receive", args=[connection.pk])


def events_tab_context(request, connection: Connection) -> dict[str, Any]:
    """What the connection page's Events tab shows: the full receiving URL, whether a secret is set, the last
    events (when the user may see them) and a link to all of them."""
    can_view = request.user.has_perm("events.view_receivedevent")
    return {
        "events_url": request.build_absolute_uri(receiving_path(connection)),
        "events_secret_set": bool(connection.events_secret_encrypted),
        "can_view_events": can_view,
        "recent_events": list(connection.received_events.all()[:10]) if can_view else [],
        "events_changelist_url": reverse("admin:events_receivedevent_changelist")
        + f"?connection__id__exact={connection.pk}",
    }
