"""Akeneo events: `POST /akeneo/events/<connection id>/` through Django's test client, applied against the demo
Akeneo (Celery eager here; tests/integration/test_events_live.py does it with the real server, worker and Redis).

Signatures (Event Platform primary/secondary, Events API timestamp window), forged/missing/stale/replayed
deliveries, unknown/disabled connections, size and rate limits; then what an event does to the catalog (fetch
the current record: create, update, variants re-read, deleted on a deleted event or a 404); the connection page
(masked secret, History "changed", Events tab) and `akeneo_connection update --events-secret`.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from akeneo_migration.celery import app as celery_app
from catalog.models import AttributeOption, Category, Family, Product, ProductModel
from connections.models import Connection
from events import services
from events.models import ReceivedEvent
from migrations_runs.importers import IMPORTERS
from migrations_runs.services import record_mappings
from tests.factories import connection_for
from tests.support.demo import demo_fixture

pytestmark = pytest.mark.django_db

SECRET = "a-long-events-secret-for-tests"
OLD_SECRET = "the-previous-events-secret"


demo = demo_fixture(products=40)


@pytest.fixture
def connection(demo) -> Connection:
    connection = connection_for(demo)
    connection.set_events_secret(SECRET)
    connection.save()
    return connection


@pytest.fixture(autouse=True)
def eager():
    """Tasks run in the request (the integration test runs them on a real worker)."""
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = saved


def url(connection_or_id) -> str:
    pk = connection_or_id if isinstance(connection_or_id, int) else connection_or_id.pk
    return reverse("events:receive", args=[pk])


def cloud_event(event_type: str, data: dict, event_id: str | None = None) -> dict:
    return {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "type": event_type,
        "source": "pim",
        "subject": "0190fe8a-6213-76ce-8a9f-ba36a5ef555a",
        "time": "2026-01-05T10:00:00Z",
        "datacontenttype": "application/json",
        "data": {**data, "author": {"identifier": "julia", "type": "user"}},
    }


def post_platform(client, target, event: dict, *, primary=SECRET, secondary=None, algorithm="HmacSHA256"):
    body = json.dumps(event).encode()
    headers = {}
    if primary is not None:
        headers["X-AKENEO-SIGNATURE-PRIMARY"] = services.sign(primary, body)
    if secondary is not None:
        headers["X-AKENEO-SIGNATURE-SECONDARY"] = services.sign(secondary, body)
    if algorithm:
        headers["X-AKENEO-SIGNATURE-ALGORITHM"] = algorithm
    return client.post(url(target), body, content_type="application/json", headers=headers)


def events_api_body(*events: dict) -> bytes:
    return json.dumps({"events": list(events)}).encode()


def legacy_event(action: str, resource: dict, event_id: str | None = None) -> dict:
    return {
        "action": action,
        "event_id": event_id or str(uuid.uuid4()),
        "event_datetime": "2026-01-05T10:00:00+00:00",
        "author": "julia",
        "author_type": "ui",
        "pim_source": "https://pim.example",
        "data": {"resource": resource},
    }


def post_events_api(client, target, body: bytes, *, secret=SECRET, timestamp: int | None = None, signed=None):
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = services.sign(secret, f"{timestamp}.".encode() + (body if signed is None else signed))
    headers = {"X-Akeneo-Request-Signature": signature, "X-Akeneo-Request-Timestamp": str(timestamp)}
    return client.post(url(target), body, content_type="application/json", headers=headers)


def import_local(connection, resource: str, records: list[dict], parent=()) -> None:
    """The local copy as a run left it (test setup)."""
    importer = IMPORTERS[resource]
    with transaction.atomic():
        result = importer.import_page(records, parent=parent)
        record_mappings(connection.pk, importer.resource, result.ids)


def altered_product(demo, index: int) -> dict:
    record = demo.catalog.product(index)
    record["enabled"] = not record["enabled"]
    record["categories"] = ["altered_locally"]
    return record


def the_event(event_id: str) -> ReceivedEvent:
    return ReceivedEvent.objects.get(event_id=event_id)


# ---------------------------------------------------------------------------------------------- signatures
def test_event_platform_primary_signature_updates_the_product(client, demo, connection):
    import_local(connection, "products-uuid", [altered_product(demo, 0)])
    product_uuid = demo.catalog.product_uuid(0)
    event = cloud_event("com.akeneo.pim.v1.product.updated", {"product": {"uuid": product_uuid}})
    response = post_platform(client, connection, event)
    assert response.status_code == 200
    assert response.json() == {"recorded": 1, "ignored": 0, "duplicates": 0}
    received = the_event(event["id"])
    assert (received.outcome, received.resource, received.record_key) == (
        "applied",
        "products-uuid",
        product_uuid,
    )
    assert received.message.startswith("1 updated")
    product = Product.objects.get(uuid=product_uuid)
    source = demo.catalog.product(0)
    assert (product.enabled, product.data["categories"]) == (source["enabled"], source["categories"])


def test_secondary_signature_alone_is_enough_for_a_rotation(client, demo, connection):
    """Akeneo signs with both secrets while one is rotated: whichever is ours must do."""
    event = cloud_event(
        "com.akeneo.pim.v1.product.created", {"product": {"uuid": demo.catalog.product_uuid(1)}}
    )
    assert post_platform(client, connection, event, primary=OLD_SECRET, secondary=SECRET).status_code == 200
    assert the_event(event["id"]).outcome == "applied"
    other = cloud_event(
        "com.akeneo.pim.v1.product.created", {"product": {"uuid": demo.catalog.product_uuid(2)}}
    )
    assert post_platform(client, connection, other, primary=SECRET, secondary=OLD_SECRET).status_code == 200
    assert (
        Product.objects.filter(uuid__in=[demo.catalog.product_uuid(1), demo.catalog.product_uuid(2)]).count()
        == 2
    )


@pytest.mark.parametrize(
    "tamper",
    ["wrong secret", "no signature", "tampered body", "other algorithm", "not hex"],
)
def test_forged_event_platform_deliveries_are_refused_and_change_nothing(client, demo, connection, tamper):
    import_local(connection, "products-uuid", [altered_product(demo, 3)])
    before = Product.objects.get(uuid=demo.catalog.product_uuid(3)).checksum
    event = cloud_event(
        "com.akeneo.pim.v1.product.updated", {"product": {"uuid": demo.catalog.product_uuid(3)}}
    )
    body = json.dumps(event).encode()
    headers = {"X-AKENEO-SIGNATURE-PRIMARY": services.sign(SECRET, body)}
    if tamper == "wrong secret":
        headers["X-AKENEO-SIGNATURE-PRIMARY"] = services.sign("not-the-secret", body)
    elif tamper == "no signature":
        headers = {}
    elif tamper == "tampered body":
        body = body.replace(b"product.updated", b"product.deleted")
    elif tamper == "other algorithm":
        headers["X-AKENEO-SIGNATURE-ALGORITHM"] = "HmacSHA1"
    else:
        headers["X-AKENEO-SIGNATURE-PRIMARY"] = "é" * 64
    response = client.post(url(connection), body, content_type="application/json", headers=headers)
    assert response.status_code == 401
    assert not ReceivedEvent.objects.exists()
    assert Product.objects.get(uuid=demo.catalog.product_uuid(3)).checksum == before


def test_events_api_signature_and_timestamp_window(client, demo, connection):
    model = demo.catalog.model_code(0)
    fresh = legacy_event("product_model.created", {"code": model})
    assert post_events_api(client, connection, events_api_body(fresh)).status_code == 200
    assert the_event(fresh["event_id"]).outcome == "applied"
    assert ProductModel.objects.filter(code=model).exists()

    now = int(time.time())
    refused = {
        "stale": {"timestamp": now - 301},
        "future": {"timestamp": now + 120},
        "wrong secret": {"secret": OLD_SECRET},
        "body without timestamp": {"signed": b"x"},
    }
    for name, options in refused.items():
        event = legacy_event("product.created", {"uuid": demo.catalog.product_uuid(4)})
        body = events_api_body(event)
        if name == "body without timestamp":  # the signature of the body alone is not the Events API's
            options = {"signed": None}
            response = client.post(
                url(connection),
                body,
                content_type="application/json",
                headers={
                    "X-Akeneo-Request-Signature": services.sign(SECRET, body),
                    "X-Akeneo-Request-Timestamp": str(now),
                },
            )
        else:
            response = post_events_api(client, connection, body, **options)
        assert response.status_code == 401, name
    assert ReceivedEvent.objects.count() == 1
    assert not Product.objects.filter(uuid=demo.catalog.product_uuid(4)).exists()
    # within the window, both edges
    within = legacy_event("product.created", {"uuid": demo.catalog.product_uuid(4)})
    assert (
        post_events_api(client, connection, events_api_body(within), timestamp=now - 290).status_code == 200
    )
    assert Product.objects.filter(uuid=demo.catalog.product_uuid(4)).exists()


def test_a_replayed_event_is_answered_but_not_applied_twice(client, demo, connection):
    product_uuid = demo.catalog.product_uuid(5)
    import_local(connection, "products-uuid", [altered_product(demo, 5)])
    event = cloud_event("com.akeneo.pim.v1.product.updated", {"product": {"uuid": product_uuid}})
    assert post_platform(client, connection, event).status_code == 200
    first = the_event(event["id"])
    import_local(connection, "products-uuid", [altered_product(demo, 5)])  # changed locally again meanwhile
    altered = Product.objects.get(uuid=product_uuid).checksum
    response = post_platform(client, connection, event)
    assert response.status_code == 200
    assert response.json() == {"recorded": 0, "ignored": 0, "duplicates": 1}
    again = the_event(event["id"])
    assert (again.repeats, again.processed_at, again.outcome) == (1, first.processed_at, "applied")
    assert Product.objects.get(uuid=product_uuid).checksum == altered  # not fetched and applied again
    # an Events API batch repeating an id is recognised the same way
    legacy = legacy_event("product.updated", {"uuid": product_uuid})
    body = events_api_body(legacy, legacy)
    assert post_events_api(client, connection, body).json() == {"recorded": 1, "ignored": 0, "duplicates": 1}


def test_unknown_disabled_and_secretless_connections(client, demo, connection):
    event = cloud_event(
        "com.akeneo.pim.v1.product.updated", {"product": {"uuid": demo.catalog.product_uuid(0)}}
    )
    assert post_platform(client, connection.pk + 1000, event).status_code == 404
    Connection.objects.filter(pk=connection.pk).update(enabled=False)
    assert post_platform(client, connection, event).status_code == 403
    Connection.objects.filter(pk=connection.pk).update(enabled=True, events_secret_encrypted="")
    response = post_platform(client, connection, event)
    assert response.status_code == 403
    assert "no events secret" in response.json()["error"]
    assert not ReceivedEvent.objects.exists()
    assert not Product.objects.exists()


def test_limits_malformed_bodies_and_methods(client, demo, connection, settings):
    assert client.head(url(connection)).status_code == 200  # the Event Platform checks a destination first
    assert client.head(url(connection.pk + 1000)).status_code == 404
    assert client.get(url(connection)).status_code == 405
    no_slash = reverse("events:receive-no-slash", args=[connection.pk])
    event = cloud_event(
        "com.akeneo.pim.v1.product.created", {"product": {"uuid": demo.catalog.product_uuid(6)}}
    )
    body = json.dumps(event).encode()
    signed = {"X-AKENEO-SIGNATURE-PRIMARY": services.sign(SECRET, body)}
    assert client.post(no_slash, body, content_type="application/json", headers=signed).status_code == 200

    settings.AKENEO_EVENTS_MAX_BODY_BYTES = 200
    big = cloud_event("com.akeneo.pim.v1.product.created", {"product": {"uuid": "x" * 300}})
    assert post_platform(client, connection, big).status_code == 413
    settings.AKENEO_EVENTS_MAX_BODY_BYTES = 1024 * 1024

    not_json = b"{not json"
    response = client.post(
        url(connection),
        not_json,
        content_type="application/json",
        headers={"X-AKENEO-SIGNATURE-PRIMARY": services.sign(SECRET, not_json)},
    )
    assert response.status_code == 400
    no_id = {"type": "com.akeneo.pim.v1.product.created", "data": {}}
    assert post_platform(client, connection, no_id).status_code == 400
    assert ReceivedEvent.objects.count() == 1

    # events naming nothing the catalog keeps are recorded as ignored, not applied
    app_deleted = cloud_event("com.akeneo.pim.v1.app.deleted", {"app": {"client_id": "x"}})
    assert post_platform(client, connection, app_deleted).json() == {
        "recorded": 0,
        "ignored": 1,
        "duplicates": 0,
    }
    assert the_event(app_deleted["id"]).outcome == "ignored"


def test_too_many_pending_events_get_429(client, demo, connection, settings):
    settings.AKENEO_EVENTS_MAX_PENDING = 1
    ReceivedEvent.objects.create(
        connection=connection,
        event_id="waiting",
        mechanism="event-platform",
        event_type="com.akeneo.pim.v1.product.updated",
        resource="products-uuid",
        record_key=demo.catalog.product_uuid(0),
    )
    event = cloud_event(
        "com.akeneo.pim.v1.product.updated", {"product": {"uuid": demo.catalog.product_uuid(0)}}
    )
    response = post_platform(client, connection, event)
    assert response.status_code == 429
    assert response["Retry-After"] == "30"
    assert ReceivedEvent.objects.count() == 1


def test_a_broker_that_does_not_answer_gets_503_and_forgets_the_events(demo, connection):
    """Akeneo retries a 503: the retry must be recorded and applied, not taken for a repeat."""
    event = cloud_event(
        "com.akeneo.pim.v1.product.updated", {"product": {"uuid": demo.catalog.product_uuid(0)}}
    )
    body = json.dumps(event).encode()
    headers = {"X-AKENEO-SIGNATURE-PRIMARY": services.sign(SECRET, body)}

    def broker_down(ids):
        raise ConnectionError("redis down")

    with pytest.raises(services.EventRefused) as refused:
        services.receive(connection.pk, body, headers, enqueue=broker_down)
    assert refused.value.status == 503
    assert not ReceivedEvent.objects.exists()


# ---------------------------------------------------------------------------------------------- applying
def test_deleted_event_and_404_mark_the_record_deleted(client, demo, connection):
    import_local(connection, "products-uuid", [demo.catalog.product(7)])
    gone_uuid = str(uuid.uuid4())  # a product the source no longer has
    ghost = {**demo.catalog.product(8), "uuid": gone_uuid}
    import_local(connection, "products-uuid", [ghost])

    deleted = cloud_event(
        "com.akeneo.pim.v1.product.deleted", {"product": {"uuid": demo.catalog.product_uuid(7)}}
    )
    assert post_platform(client, connection, deleted).status_code == 200
    assert the_event(deleted["id"]).outcome == "deleted"
    assert Product.objects.get(uuid=demo.catalog.product_uuid(7)).deleted_at is not None

    updated = cloud_event("com.akeneo.pim.v1.product.updated", {"product": {"uuid": gone_uuid}})
    post_platform(client, connection, updated)
    received = the_event(updated["id"])
    assert received.outcome == "deleted"
    assert "404" in received.message
    assert Product.objects.get(uuid=gone_uuid).deleted_at is not None

    # out of order: a late "created" after the deletion reads the current state (gone) and changes nothing
    late = legacy_event("product.created", {"uuid": gone_uuid})
    post_events_api(client, connection, events_api_body(late))
    assert the_event(late["event_id"]).outcome == "deleted"


def test_product_model_event_rereads_its_sub_models_and_variants(client, demo, connection):
    root = demo.catalog.model_code(0)
    variant = next(
        i for i in range(40) if (demo.catalog.product_header(i).parent or "").startswith(root + "-")
    )
    import_local(connection, "products-uuid", [altered_product(demo, variant)])
    event = cloud_event("com.akeneo.pim.v1.product-model.updated", {"product_model": {"code": root}})
    post_platform(client, connection, event)
    received = the_event(event["id"])
    assert received.outcome == "applied", received.message
    assert "sub-models" in received.message and "variants" in received.message
    sub_model = demo.catalog.product_header(variant).parent
    assert ProductModel.objects.filter(code__in=[root, sub_model]).count() == 2
    source = demo.catalog.product(variant)
    assert Product.objects.get(uuid=source["uuid"]).data["categories"] == source["categories"]


def test_structure_events_fetch_their_record(client, demo, connection):
    option = demo.catalog.attribute_options["color"][0]
    family = demo.catalog.families[0]["code"]
    category = demo.catalog.categories[1]["code"]
    asset = demo.catalog.assets["packshots"][0]["code"]
    record = demo.catalog.records["brands"][0]["code"]
    events = [
        (
            "attribute-option.created",
            {"attribute_option": {"code": option["code"], "attribute": {"code": "color"}}},
        ),
        ("family.updated", {"family": {"code": family}}),
        ("category.created", {"category": {"code": category}}),
        ("asset.created", {"asset": {"code": asset, "asset_family": {"code": "packshots"}}}),
        (
            "reference-entity-record.updated",
            {"reference_entity_record": {"code": record, "reference_entity": {"code": "brands"}}},
        ),
        ("attribute.updated", {"attribute": {"code": "color"}}),
    ]
    for name, data in events:
        event = cloud_event(f"com.akeneo.pim.v1.{name}", data)
        assert post_platform(client, connection, event).status_code == 200
        received = the_event(event["id"])
        assert received.outcome == "applied", (name, received.message)
    assert AttributeOption.objects.filter(attribute_code="color", code=option["code"]).exists()
    assert Family.objects.filter(code=family).exists()
    assert Category.objects.filter(code=category).exists()
    keys = set(ReceivedEvent.objects.values_list("record_key", flat=True))
    assert {f"color/{option['code']}", f"packshots/{asset}", f"brands/{record}"} <= keys


# ---------------------------------------------------------------------------------------------- admin
@pytest.fixture
def admin(client, superuser):
    client.force_login(superuser)
    return client


def test_admin_events_secret_is_masked_kept_when_blank_and_changed_in_history(admin, demo, connection):
    change_url = reverse("admin:connections_connection_change", args=[connection.pk])
    html = admin.get(change_url).content.decode()
    assert SECRET not in html
    assert 'name="events_secret"' in html and "•" * len(SECRET) in html
    assert f"http://testserver/akeneo/events/{connection.pk}/" in html  # the Events tab: the full URL
    assert 'id="panel-events"' in html and "X-AKENEO" not in html

    def post(events_secret: str):
        data = {
            "name": connection.name,
            "base_url": connection.base_url,
            "client_id": connection.client_id,
            "secret": "•" * len(connection.secret),
            "username": connection.username,
            "password": "•" * len(connection.password),
            "enabled": "on",
            "events_secret": events_secret,
            "_continue": "Save",
        }
        response = admin.post(change_url, data)
        assert response.status_code == 302, response.content.decode()[:2000]

    revision = connection.events_secret_revision
    post("")  # blank keeps
    post("•" * len(SECRET))  # the mask keeps
    connection.refresh_from_db()
    assert (connection.events_secret, connection.events_secret_revision) == (SECRET, revision)
    post("a-brand-new-events-secret")
    connection.refresh_from_db()
    assert (connection.events_secret, connection.events_secret_revision) == (
        "a-brand-new-events-secret",
        revision + 1,
    )
    html = admin.get(change_url).content.decode()
    history = html[html.index('id="panel-history"') : html.index('id="panel-migration-history"')]
    rows = [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", history, re.S)[1:]
    ]
    assert ["root", "Events secret", "—", "changed"] in [row[1:] for row in rows]
    assert "a-brand-new-events-secret" not in html and SECRET not in html


def test_admin_lists_received_events_filterable_by_type_and_outcome(admin, demo, connection):
    applied = cloud_event(
        "com.akeneo.pim.v1.product.created", {"product": {"uuid": demo.catalog.product_uuid(9)}}
    )
    ignored = cloud_event("com.akeneo.pim.v1.app.deleted", {"app": {"client_id": "x"}})
    post_platform(admin, connection, applied)
    post_platform(admin, connection, applied)  # a repeat
    post_platform(admin, connection, ignored)
    changelist = reverse("admin:events_receivedevent_changelist")

    def listed(**query) -> str:
        html = admin.get(changelist, query).content.decode()
        return html[html.index('id="result_list"') : html.index("</table>", html.index('id="result_list"'))]

    product, app = demo.catalog.product_uuid(9), "com.akeneo.pim.v1.app.deleted"
    rows = listed(connection__id__exact=connection.pk)
    assert product in rows and app in rows
    rows = listed(outcome="ignored")
    assert app in rows and product not in rows
    rows = listed(type="com.akeneo.pim.v1.product.created")
    assert product in rows and app not in rows
    rows = listed(outcome="duplicate")
    assert product in rows and app not in rows
    tab = admin.get(reverse("admin:connections_connection_change", args=[connection.pk])).content.decode()
    assert f"{changelist}?connection__id__exact={connection.pk}" in tab
    assert demo.catalog.product_uuid(9) in tab  # the last events, on the connection's Events tab


# ---------------------------------------------------------------------------------------------- command line
def run_update(*args: str, env: dict[str, str] | None = None) -> str:
    out = StringIO()
    saved = os.environ.copy()
    os.environ.update(env or {})
    try:
        call_command("akeneo_connection", "update", *args, stdout=out)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return out.getvalue()


def test_cli_update_events_secret(connection):
    revision = connection.events_secret_revision
    assert "changed" in run_update(str(connection.pk), "--events-secret", "from-the-command-line")
    connection.refresh_from_db()
    assert (connection.events_secret, connection.events_secret_revision) == (
        "from-the-command-line",
        revision + 1,
    )
    assert "unchanged" in run_update(connection.name, "--events-secret", "from-the-command-line")
    run_update(connection.name, env={"AKENEO_EVENTS_SECRET": "from-the-environment"})
    connection.refresh_from_db()
    assert connection.events_secret == "from-the-environment"
    last = connection.history.order_by("-history_date", "-history_id").first()
    assert last.history_change_reason == "command line"
    assert "from-the-environment" not in json.dumps(
        list(connection.history.values()), default=str
    ) and "events_secret_encrypted" not in {f.name for f in last._meta.fields}
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No connection"):
        run_update("no-such-connection", "--events-secret", "x")
    with pytest.raises(CommandError, match="--events-secret"):
        run_update(str(connection.pk))


def test_key_rotation_and_lost_key_check_cover_the_events_secret(connection, settings):
    from cryptography.fernet import Fernet

    from connections.checks import stored_credentials_are_readable
    from connections.services import rotate_encryption_keys

    old_keys = list(settings.FIELD_ENCRYPTION_KEYS)
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, *old_keys]
    assert rotate_encryption_keys() == (1, [])
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    connection.refresh_from_db()
    assert connection.events_secret == SECRET
    assert stored_credentials_are_readable() == []
    Connection.objects.filter(pk=connection.pk).update(
        events_secret_encrypted=Fernet(Fernet.generate_key()).encrypt(b"x").decode()
    )
    assert [warning.id for warning in stored_credentials_are_readable()] == ["connections.W001"]


def test_failed_events_are_processed_again_from_the_admin(admin, demo, connection):
    """A failure (here: the connection disabled between receipt and processing) keeps its reason; once fixed,
    the admin's action applies it."""
    from events.services import apply_event

    event = cloud_event(
        "com.akeneo.pim.v1.product.created", {"product": {"uuid": demo.catalog.product_uuid(10)}}
    )
    body = json.dumps(event).encode()
    headers = {"X-AKENEO-SIGNATURE-PRIMARY": services.sign(SECRET, body)}
    services.receive(connection.pk, body, headers, enqueue=lambda ids: None)  # queued, not yet processed
    Connection.objects.filter(pk=connection.pk).update(enabled=False)
    received = apply_event(the_event(event["id"]).pk)
    assert (received.outcome, received.message) == (
        "failed",
        "The connection was disabled before the event was processed.",
    )
    assert apply_event(received.pk) is None  # done: a redelivered task leaves it alone
    Connection.objects.filter(pk=connection.pk).update(enabled=True)
    response = admin.post(
        reverse("admin:events_receivedevent_changelist"),
        {"action": "process_again_action", "_selected_action": [received.pk]},
        follow=True,
    )
    assert "1 event(s) queued again" in response.content.decode()
    assert the_event(event["id"]).outcome == "applied"
    assert Product.objects.filter(uuid=demo.catalog.product_uuid(10)).exists()


def test_event_outcomes_are_per_record_results_too(client, demo, connection):
    from migrations_runs.models import RecordResult

    event = cloud_event(
        "com.akeneo.pim.v1.product.created", {"product": {"uuid": demo.catalog.product_uuid(11)}}
    )
    post_platform(client, connection, event)
    deleted = cloud_event(
        "com.akeneo.pim.v1.product.deleted", {"product": {"uuid": demo.catalog.product_uuid(11)}}
    )
    post_platform(client, connection, deleted)
    rows = list(RecordResult.objects.filter(source="event").values_list("run_id", "entity", "key", "outcome"))
    assert rows == [
        (None, "products-uuid", demo.catalog.product_uuid(11), "created"),
        (None, "products-uuid", demo.catalog.product_uuid(11), "deleted"),
    ]


@pytest.mark.parametrize(
    ("event_type", "data"),
    [
        ("com.akeneo.pim.v1.product.updated", {"product": {"uuid": ".."}}),
        ("com.akeneo.pim.v1.product.updated", {"product": {"uuid": "not-a-uuid"}}),
        (
            "com.akeneo.pim.v1.attribute-option.updated",
            {"attribute_option": {"attribute": "..", "code": "x"}},
        ),
        ("com.akeneo.pim.v1.family.updated", {"family": {"code": "a/b"}}),
    ],
)
def test_codes_that_would_name_another_endpoint_are_recorded_never_fetched(
    client, demo, connection, event_type, data
):
    """An event's codes become path segments of the REST call: `..` or a slash would reach another endpoint."""
    demo.stats.reset()
    event = cloud_event(event_type, data)
    assert post_platform(client, connection, event).status_code == 200
    assert the_event(event["id"]).outcome != "applied"
    assert demo.stats.total == 0  # nothing was asked of Akeneo


def test_a_redelivered_event_still_claimed_comes_back_later_instead_of_being_dropped(
    client, demo, connection
):
    """A worker killed mid-event: Celery redelivers at once, within the claim's lease. The task must come back
    after the lease (a retry), not end and leave the event "processing" for good."""
    from celery.exceptions import Retry

    from events.tasks import process_event_task

    event = cloud_event(
        "com.akeneo.pim.v1.product.updated", {"product": {"uuid": demo.catalog.product_uuid(3)}}
    )
    assert post_platform(client, connection, event).status_code == 200
    received = the_event(event["id"])
    ReceivedEvent.objects.filter(pk=received.pk).update(outcome="processing", processed_at=timezone.now())
    with pytest.raises(Retry):
        process_event_task(received.pk)
    assert the_event(event["id"]).outcome == "processing"
