"""Products and product models read through disjoint partitions: proven to cover the step, read concurrently,
each resumable on its own, cancellable, and imported exactly once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Product, ProductModel
from connections.akeneo.auth import Credentials
from connections.akeneo.client import AkeneoClient, ClientSettings
from migrations_runs.models import MigrationLog, MigrationPartition, MigrationStep, RecordResult, Status
from migrations_runs.partitions import NotPartitioned, plan, with_search
from migrations_runs.services import execute_step, request_cancel, start_run
from tests.support.demo import demo_fixture

pytestmark = pytest.mark.django_db(transaction=True)

PRODUCTS = 420


class WorkerKilled(BaseException):
    """Not an Exception: like a SIGKILL, nothing in the step gets to handle it."""


demo = demo_fixture(products=PRODUCTS)


@pytest.fixture(autouse=True)
def small_partitions(settings):
    settings.MIGRATION_PARTITIONS = 4
    settings.MIGRATION_PARTITION_MIN_RECORDS = 50
    settings.MIGRATION_PARTITION_THREADS = 3


def client_for(demo, **settings) -> AkeneoClient:
    return AkeneoClient(Credentials(base_url=demo.base_url, **demo.credentials), ClientSettings(**settings))


def served_products(demo) -> set[str]:
    client = client_for(demo)
    try:
        return {item["uuid"] for page in client.pages("products-uuid") for item in page.items}
    finally:
        client.close()


def test_the_plan_covers_every_product_exactly_once(demo):
    client = client_for(demo)
    try:
        total = client.count("products-uuid")
        planned = plan(client, "products-uuid", None, total)
        assert len(planned) >= 3 and planned[-1].label == "no family"
        assert sum(part.expected for part in planned) == total == PRODUCTS
        families = [code for part in planned for code in part.families]
        assert len(families) == len(set(families))  # each family in one partition only
        seen: list[str] = []
        for part in planned:
            read = [
                item["uuid"]
                for page in client.pages("products-uuid", params=with_search({}, part.search))
                for item in page.items
            ]
            assert len(read) == part.expected, part.label
            seen += read
        assert len(seen) == len(set(seen)) and set(seen) == served_products(demo)
        with pytest.raises(NotPartitioned, match="add up to"):  # a count that does not match: not proven
            plan(client, "products-uuid", None, total + 1)
    finally:
        client.close()


def test_a_products_step_reads_its_partitions_concurrently_and_imports_each_product_once(demo, connection):
    demo.page_latency = 0.05
    try:
        run = start_run(connection, ["products"], enqueue=False)
        step = execute_step(run.steps.get().pk)
    finally:
        demo.page_latency = 0
    assert step.status == Status.COMPLETED, step.error
    partitions = list(step.partitions.all())
    assert len(partitions) >= 3 and all(p.status == Status.COMPLETED for p in partitions)
    assert sum(p.read for p in partitions) == step.read == step.total == PRODUCTS
    assert [p.read for p in partitions] == [p.expected for p in partitions]
    assert step.created == PRODUCTS and Product.objects.count() == PRODUCTS
    assert set(Product.objects.values_list("uuid", flat=True).iterator()) == {
        __import__("uuid").UUID(value) for value in served_products(demo)
    }
    assert RecordResult.objects.filter(run_id=run.pk).count() == PRODUCTS  # one result per product
    assert step.media > 0 and step.media == sum(p.media for p in partitions)
    assert MigrationLog.objects.filter(step=step, message__contains="partitions whose counts add up").exists()
    assert demo.stats.max_in_flight >= 2  # several cursors (and media) at once


def test_product_models_are_partitioned_without_a_no_family_part(demo, connection, settings):
    settings.MIGRATION_PARTITION_MIN_RECORDS = 10
    run = start_run(connection, ["product-models"], enqueue=False)
    step = execute_step(run.steps.get().pk)
    assert step.status == Status.COMPLETED, step.error
    labels = list(step.partitions.values_list("label", flat=True))
    assert labels and "no family" not in labels
    assert step.read == step.total == ProductModel.objects.count() > 0


def test_a_killed_worker_resumes_each_partition_from_its_own_cursor(demo, connection, settings):
    settings.AKENEO_PAGE_SIZE = 25
    run = start_run(connection, ["products"], enqueue=False)
    step = run.steps.get()
    pages = {"n": 0}
    lock = threading.Lock()

    class DiesAfterSomePages(AkeneoClient):
        def _fetch_page(self, url):
            with lock:
                pages["n"] += 1
                if pages["n"] > 6:
                    raise WorkerKilled
            return super()._fetch_page(url)

    killed = DiesAfterSomePages(
        Credentials(base_url=demo.base_url, **demo.credentials), ClientSettings(page_size=25)
    )
    with pytest.raises(WorkerKilled):
        execute_step(step.pk, client=killed)
    step.refresh_from_db()
    assert step.status == Status.RUNNING and 0 < step.read < PRODUCTS
    done_before = {p.pk: p.read for p in step.partitions.all()}
    assert len(done_before) >= 3
    assert sum(done_before.values()) == step.read  # the step's counters are its partitions' sum

    # The lease of the dead process expires; the step (redelivered) takes every partition back.
    stale = timezone.now() - timedelta(hours=1)
    MigrationStep.objects.filter(pk=step.pk).update(heartbeat_at=stale)
    MigrationPartition.objects.filter(step=step, status=Status.RUNNING).update(heartbeat_at=stale)
    step = execute_step(step.pk, client=client_for(demo, page_size=25))
    assert step.status == Status.COMPLETED, step.error
    assert step.read == PRODUCTS and Product.objects.count() == PRODUCTS
    assert step.created == PRODUCTS  # nothing counted twice
    assert all(p.read == p.expected for p in step.partitions.all())


def test_cancel_stops_every_partition(demo, connection, settings):
    settings.AKENEO_PAGE_SIZE = 20
    run = start_run(connection, ["products"], enqueue=False)
    calls = {"n": 0}

    def cancel_after_a_few_pages(step):
        calls["n"] += 1
        if calls["n"] == 3:
            request_cancel(run)

    before = {thread.name for thread in threading.enumerate()}
    step = execute_step(
        run.steps.get().pk, client=client_for(demo, page_size=20), progress=cancel_after_a_few_pages
    )
    assert step.status == Status.CANCELLED
    assert step.read < PRODUCTS
    assert step.partitions.count() >= 3
    assert not step.partitions.filter(status=Status.RUNNING).exists()  # none left looking held
    leftover = {t.name for t in threading.enumerate() if t.is_alive()} - before
    assert not [name for name in leftover if name.startswith(("akeneo-partition", "akeneo-walk"))]


def test_running_again_changes_nothing(demo, connection):
    first = start_run(connection, ["products"], enqueue=False)
    assert execute_step(first.steps.get().pk).status == Status.COMPLETED
    from migrations_runs.services import finish_run

    finish_run(first.pk)
    again = start_run(connection, ["products"], enqueue=False)
    step = execute_step(again.steps.get().pk)
    assert step.status == Status.COMPLETED, step.error
    assert step.partitions.count() >= 3
    assert (step.read, step.created, step.updated, step.unchanged) == (PRODUCTS, 0, 0, PRODUCTS)
    assert step.media == 0  # every media file is stored already: nothing downloaded again
    assert Product.objects.count() == PRODUCTS
