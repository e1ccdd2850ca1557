"""The connection test task through a real Redis broker and a real Celery worker process.

What goes through Redis (the task message, the stored result) must hold the connection id only: never a
plaintext credential nor its ciphertext.
"""

from __future__ import annotations

import base64
import json

import pytest
from celery.result import AsyncResult

from connections.models import SECRET_FIELDS, Connection
from connections.services import AUTHENTICATION_REJECTED, CONNECTION_OK
from connections.tasks import verify_connection_task
from tests.factories import ConnectionFactory
from tests.support.akeneo import VALID

pytestmark = pytest.mark.integration

TASK_TIMEOUT = 30


def forbidden_values(*connections: Connection) -> dict[str, bytes]:
    """Every plaintext secret and every stored ciphertext of these connections, by a readable label."""
    values = {f"plaintext {name}": VALID[name].encode() for name in SECRET_FIELDS}
    for connection in connections:
        connection.refresh_from_db()
        for name in SECRET_FIELDS:
            ciphertext = getattr(connection, f"{name}_encrypted")
            assert ciphertext, f"connection {connection.pk} has no stored {name}"
            values[f"{name}_encrypted of connection {connection.pk}"] = ciphertext.encode()
    return values


def assert_holds_none(data: bytes, forbidden: dict[str, bytes], where: str) -> None:
    leaked = [label for label, value in forbidden.items() if value in data]
    assert not leaked, f"{where} contains {', '.join(leaked)}"


def run_on_worker(connection: Connection) -> tuple[AsyncResult, dict]:
    result = verify_connection_task.delay(connection.pk)
    assert isinstance(result, AsyncResult)  # not an EagerResult: the task really went through the broker
    return result, result.get(timeout=TASK_TIMEOUT)


@pytest.mark.django_db(transaction=True)
def test_worker_verifies_a_connection_against_akeneo(celery_worker, fake_akeneo):
    good = ConnectionFactory(base_url=fake_akeneo.base_url())
    rejected = ConnectionFactory(base_url=fake_akeneo.base_url("wrong-user"))

    good_result, good_outcome = run_on_worker(good)
    rejected_result, rejected_outcome = run_on_worker(rejected)

    assert good_outcome == {"connection_id": good.pk, "ok": True, "message": CONNECTION_OK}
    assert rejected_outcome == {"connection_id": rejected.pk, "ok": False, "message": AUTHENTICATION_REJECTED}
    assert good_result.successful() and rejected_result.successful()
    # Run by the worker subprocess (its log says so), not in this process.
    celery_worker.wait_for_output(f"[{good_result.id}] succeeded")
    celery_worker.wait_for_output(f"[{rejected_result.id}] succeeded")


@pytest.mark.django_db
def test_the_queued_message_holds_the_connection_id_and_no_credential(celery_app_on_test_redis, redis_client):
    connection = ConnectionFactory()
    forbidden = forbidden_values(connection)

    result = verify_connection_task.delay(connection.pk)  # nobody consumes: the message stays in Redis

    messages = redis_client.lrange("celery", 0, -1)
    assert len(messages) == 1
    raw = messages[0]
    envelope = json.loads(raw)
    assert envelope["headers"]["id"] == result.id
    assert envelope["headers"]["task"] == "connections.verify_connection"
    assert envelope["headers"]["argsrepr"] == repr((connection.pk,))
    assert envelope["properties"]["body_encoding"] == "base64"
    body = base64.b64decode(envelope["body"])
    args, kwargs, _embed = json.loads(body)
    assert args == [connection.pk]
    assert kwargs == {}

    assert_holds_none(raw, forbidden, "The raw Redis message")
    assert_holds_none(body, forbidden, "The decoded message body")
    # Nothing else in Redis holds them either (e.g. a copy under another key).
    for key in redis_client.scan_iter():
        if redis_client.type(key) == b"list":
            for item in redis_client.lrange(key, 0, -1):
                assert_holds_none(item, forbidden, f"Redis list {key!r}")


@pytest.mark.django_db(transaction=True)
def test_stored_results_and_worker_log_hold_no_credential(celery_worker, fake_akeneo, redis_client):
    good = ConnectionFactory(base_url=fake_akeneo.base_url())
    rejected = ConnectionFactory(base_url=fake_akeneo.base_url("wrong-user"))
    # A careless server that repeats the password in its error message.
    echoing = ConnectionFactory(base_url=fake_akeneo.base_url("echo"))
    forbidden = forbidden_values(good, rejected, echoing)

    task_ids = []
    for connection in (good, rejected, echoing):
        result, outcome = run_on_worker(connection)
        assert outcome["connection_id"] == connection.pk
        task_ids.append(result.id)
    assert outcome == {"connection_id": echoing.pk, "ok": False, "message": AUTHENTICATION_REJECTED}

    keys = sorted(redis_client.scan_iter(match="celery-task-meta-*"))
    assert {f"celery-task-meta-{task_id}".encode() for task_id in task_ids} <= set(keys)
    for key in keys:
        value = redis_client.get(key)
        assert json.loads(value)["status"] == "SUCCESS"
        assert_holds_none(value, forbidden, f"The stored result {key.decode()}")
    for task_id in task_ids:
        celery_worker.wait_for_output(f"[{task_id}] succeeded")
    assert_holds_none(celery_worker.output().encode(), forbidden, "The worker's log")


@pytest.mark.django_db
def test_a_queued_migration_chain_holds_step_ids_and_no_credential(celery_app_on_test_redis, redis_client):
    from migrations_runs.services import start_run

    connection = ConnectionFactory()
    forbidden = forbidden_values(connection)
    run = start_run(connection, ["products", "locales"])  # nobody consumes: the chain's first message stays

    [raw] = redis_client.lrange("celery", 0, -1)
    envelope = json.loads(raw)
    assert envelope["headers"]["task"] == "migrations_runs.execute_step"
    body = base64.b64decode(envelope["body"])
    args, _kwargs, embed = json.loads(body)
    step_ids = list(run.steps.order_by("position").values_list("pk", flat=True))
    assert args == [step_ids[0]]
    # The rest of the chain travels inside this message: ids only there too.
    assert [link["args"] for link in reversed(embed["chain"])] == [[step_ids[1]], [run.pk]]
    assert_holds_none(raw, forbidden, "The raw Redis message")
    assert_holds_none(body, forbidden, "The decoded message body")
