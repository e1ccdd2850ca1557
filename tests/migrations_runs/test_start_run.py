"""Starting a run: guards, dependency order whatever the order asked, ids-only steps."""

from __future__ import annotations

import pytest

from migrations_runs.entities import ENTITY_CODES
from migrations_runs.models import MigrationRun, Status
from migrations_runs.services import MigrationNotStarted, request_cancel, start_run
from tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db


def test_steps_follow_dependency_order_regardless_of_the_order_asked():
    run = start_run(
        ConnectionFactory(), ["products", "locales", "attributes", "channels", "categories"], enqueue=False
    )
    assert run.entities == ["locales", "categories", "channels", "attributes", "products"]
    assert list(run.steps.values_list("entity", "position", "status")) == [
        ("locales", 0, Status.QUEUED),
        ("categories", 1, Status.QUEUED),
        ("channels", 2, Status.QUEUED),
        ("attributes", 3, Status.QUEUED),
        ("products", 4, Status.QUEUED),
    ]


def test_dependency_order_puts_channels_after_what_they_need():
    order = list(ENTITY_CODES)
    for before, after in [
        ("locales", "channels"),
        ("currencies", "channels"),
        ("categories", "channels"),
        ("attribute-groups", "attributes"),
        ("attributes", "families"),
        ("families", "product-models"),
        ("product-models", "products"),
        ("assets", "products"),
        ("reference-entities", "products"),
    ]:
        assert order.index(before) < order.index(after), (before, after)


def test_at_least_one_entity():
    with pytest.raises(MigrationNotStarted, match="Choose at least one entity"):
        start_run(ConnectionFactory(), [], enqueue=False)
    assert not MigrationRun.objects.exists()


def test_unknown_entity_is_refused():
    with pytest.raises(MigrationNotStarted, match="Unknown entities: widgets"):
        start_run(ConnectionFactory(), ["widgets", "locales"], enqueue=False)


def test_disabled_connection_is_refused():
    with pytest.raises(MigrationNotStarted, match="disabled"):
        start_run(ConnectionFactory(enabled=False), ["locales"], enqueue=False)
    assert not MigrationRun.objects.exists()


def test_one_active_run_per_connection():
    connection = ConnectionFactory()
    first = start_run(connection, ["locales"], enqueue=False)
    with pytest.raises(MigrationNotStarted, match=f"#{first.pk} is still queued"):
        start_run(connection, ["currencies"], enqueue=False)
    start_run(ConnectionFactory(), ["locales"], enqueue=False)  # another connection is not blocked
    MigrationRun.objects.filter(pk=first.pk).update(status=Status.COMPLETED)
    start_run(connection, ["currencies"], enqueue=False)  # finished runs do not block


def test_cancel_only_touches_active_runs():
    queued = start_run(ConnectionFactory(), ["locales", "products"], enqueue=False)
    running = start_run(ConnectionFactory(), ["locales"], enqueue=False)
    finished = start_run(ConnectionFactory(), ["locales"], enqueue=False)
    MigrationRun.objects.filter(pk=running.pk).update(status=Status.RUNNING)
    MigrationRun.objects.filter(pk=finished.pk).update(status=Status.COMPLETED)
    # Not started: cancelled at once, so a run no worker ever picks up cannot block its connection.
    assert request_cancel(queued) == Status.CANCELLED
    assert set(queued.steps.values_list("status", flat=True)) == {Status.CANCELLED}
    start_run(queued.connection, ["locales"], enqueue=False)
    # Running: flagged; the worker stops between two pages.
    assert request_cancel(running) == Status.RUNNING
    assert request_cancel(finished) == Status.COMPLETED
    running.refresh_from_db()
    finished.refresh_from_db()
    assert running.cancel_requested and not finished.cancel_requested


def test_a_broker_that_does_not_answer_leaves_no_queued_run_behind(monkeypatch):
    def broker_down(run):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("migrations_runs.tasks.enqueue_run", broker_down)
    connection = ConnectionFactory()
    with pytest.raises(MigrationNotStarted, match="could not be queued: the Celery broker"):
        start_run(connection, ["locales"])
    run = MigrationRun.objects.get()
    assert run.status == Status.FAILED and "REDIS_URL" in run.error
    assert list(run.steps.values_list("status", flat=True)) == [Status.CANCELLED]
    monkeypatch.setattr("migrations_runs.tasks.enqueue_run", lambda run: None)
    start_run(connection, ["locales"])  # the connection is not blocked by the failed attempt
