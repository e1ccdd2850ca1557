"""Akeneo events end to end: a test sender POSTs signed deliveries over real HTTP to the real web server
(pytest-django's live_server), which records them and enqueues them on real Redis; a real Celery worker fetches
the current records from the demo Akeneo and applies them. The demo's catalog is changed while it runs (a
family updated, one created, one deleted), so the events describe real changes of the source.

Forged, replayed and stale deliveries are refused (or, for the replay, answered without being applied) and
change nothing.
"""

from __future__ import annotations

import copy
import json
import time
import uuid

import pytest
import requests

from catalog.models import Family, Product
from demo_akeneo.server import start_demo_server
from events import services
from events.models import ReceivedEvent
from migrations_runs.importers import IMPORTERS
from migrations_runs.services import record_mappings
from tests.factories import connection_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SECRET = "live-events-secret-0123456789"


class Sender:
    """What Akeneo does: sign and POST. Event Platform (one CloudEvent) or Events API (a batch)."""

    def __init__(self, base_url: str, connection_id: int, secret: str = SECRET) -> None:
        self.url = f"{base_url}/akeneo/events/{connection_id}/"
        self.secret = secret
        self.session = requests.Session()
        self.session.trust_env = False  # loopback: no proxy

    def platform(
        self, event_type: str, data: dict, *, event_id: str | None = None, secret: str | None = None
    ):
        event = {
            "specversion": "1.0",
            "id": event_id or str(uuid.uuid4()),
            "type": f"com.akeneo.pim.v1.{event_type}",
            "source": "pim",
            "time": "2026-01-05T10:00:00Z",
            "data": data,
        }
        body = json.dumps(event).encode()
        return event["id"], self.send(
            body,
            {
                "X-AKENEO-SIGNATURE-PRIMARY": services.sign(secret or self.secret, body),
                "X-AKENEO-SIGNATURE-ALGORITHM": "HmacSHA256",
            },
        )

    def events_api(self, action: str, resource: dict, *, timestamp: int | None = None):
        event_id = str(uuid.uuid4())
        body = json.dumps(
            {
                "events": [
                    {
                        "action": action,
                        "event_id": event_id,
                        "event_datetime": "2026-01-05T10:00:00+00:00",
                        "data": {"resource": resource},
                    }
                ]
            }
        ).encode()
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = services.sign(self.secret, stamp.encode() + b"." + body)
        return event_id, self.send(
            body, {"X-Akeneo-Request-Signature": signature, "X-Akeneo-Request-Timestamp": stamp}
        )

    def send(self, body: bytes, headers: dict[str, str]) -> requests.Response:
        return self.session.post(
            self.url, data=body, headers={"Content-Type": "application/json", **headers}, timeout=10
        )


def import_local(connection, resource: str, records: list[dict]) -> None:
    importer = IMPORTERS[resource]
    result = importer.import_page(records)
    record_mappings(connection.pk, importer.resource, result.ids)


def wait_until_processed(event_ids: list[str], timeout: float = 30) -> dict[str, ReceivedEvent]:
    deadline = time.monotonic() + timeout
    while True:
        rows = {row.event_id: row for row in ReceivedEvent.objects.filter(event_id__in=event_ids)}
        done = [row for row in rows.values() if row.outcome not in ("pending", "processing")]
        if len(done) == len(event_ids):
            return rows
        if time.monotonic() > deadline:
            raise AssertionError(
                f"not processed within {timeout:.0f} s: {[(r.event_id, r.outcome) for r in rows.values()]}"
            )
        time.sleep(0.1)


def test_signed_events_update_create_and_delete_within_seconds(celery_worker, live_server):
    demo = start_demo_server(products=40)
    catalog = demo.catalog
    original_families = catalog.families
    try:
        connection = connection_for(demo)
        connection.set_events_secret(SECRET)
        connection.save()
        # The local copy as a run left it: every family; product 0 since changed locally; a product since gone.
        import_local(connection, "families", copy.deepcopy(catalog.families))
        altered = catalog.product(0)
        altered["enabled"] = not altered["enabled"]
        import_local(connection, "products-uuid", [altered])
        ghost_uuid = str(uuid.uuid4())
        import_local(connection, "products-uuid", [{**catalog.product(5), "uuid": ghost_uuid}])

        # Meanwhile, in Akeneo: one family renamed, one created, one deleted.
        updated_family, deleted_family = catalog.families[0]["code"], catalog.families[2]["code"]
        renamed = copy.deepcopy(catalog.families[0])
        renamed["labels"]["en_US"] = "Renamed in Akeneo"
        created = {**copy.deepcopy(catalog.families[1]), "code": "created_in_akeneo"}
        catalog.families = [renamed, catalog.families[1], *catalog.families[3:], created]

        sender = Sender(live_server.url, connection.pk)
        sent = [
            sender.platform("product.updated", {"product": {"uuid": catalog.product_uuid(0)}}),
            sender.platform("family.updated", {"family": {"code": updated_family}}),
            sender.platform("family.created", {"family": {"code": "created_in_akeneo"}}),
            sender.platform("family.deleted", {"family": {"code": deleted_family}}),
            sender.events_api("product.created", {"uuid": catalog.product_uuid(1)}),
            sender.platform("product.updated", {"product": {"uuid": ghost_uuid}}),  # the source answers 404
        ]
        assert [response.status_code for _id, response in sent] == [200] * len(sent)
        first_id, first_response = sent[0]
        rows = wait_until_processed([event_id for event_id, _response in sent])
        assert {event_id: row.outcome for event_id, row in rows.items()} == {
            sent[0][0]: "applied",
            sent[1][0]: "applied",
            sent[2][0]: "applied",
            sent[3][0]: "deleted",
            sent[4][0]: "applied",
            sent[5][0]: "deleted",
        }, [(row.event_type, row.message) for row in rows.values()]

        assert Product.objects.get(uuid=catalog.product_uuid(0)).enabled == catalog.product(0)["enabled"]
        assert Product.objects.filter(uuid=catalog.product_uuid(1), deleted_at=None).exists()
        assert Product.objects.get(uuid=ghost_uuid).deleted_at is not None
        assert Family.objects.get(code=updated_family).data["labels"]["en_US"] == "Renamed in Akeneo"
        assert Family.objects.filter(code="created_in_akeneo", deleted_at=None).exists()
        assert Family.objects.get(code=deleted_family).deleted_at is not None

        # Refused: forged, stale; answered but not applied: the replay of the first delivery.
        import_local(connection, "products-uuid", [altered])  # changed locally again
        before = Product.objects.get(uuid=catalog.product_uuid(0)).checksum
        count = ReceivedEvent.objects.count()
        _id, forged = sender.platform(
            "product.updated", {"product": {"uuid": catalog.product_uuid(0)}}, secret="not-the-secret"
        )
        _id, stale = sender.events_api(
            "product.updated", {"uuid": catalog.product_uuid(0)}, timestamp=int(time.time()) - 400
        )
        _id, replayed = sender.platform(
            "product.updated", {"product": {"uuid": catalog.product_uuid(0)}}, event_id=first_id
        )
        assert (forged.status_code, stale.status_code, replayed.status_code) == (401, 401, 200)
        assert replayed.json() == {"recorded": 0, "ignored": 0, "duplicates": 1}
        # A fresh event after them: once the worker (one process, in order) has applied it, anything the
        # refused ones had enqueued would have been applied too.
        marker, response = sender.platform("product.created", {"product": {"uuid": catalog.product_uuid(3)}})
        assert response.status_code == 200
        wait_until_processed([marker])
        assert ReceivedEvent.objects.count() == count + 1
        assert ReceivedEvent.objects.get(event_id=first_id).repeats == 1
        assert Product.objects.get(uuid=catalog.product_uuid(0)).checksum == before
        assert first_response.elapsed.total_seconds() < 5  # Akeneo's delivery timeout (not a benchmark)
    finally:
        catalog.families = original_families
        demo.stop()
