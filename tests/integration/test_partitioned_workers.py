"""Many workers, one budget: a partitioned products step read by two Celery pool processes at once, on real Redis.

The step's own process plans the partitions and queues helper tasks; the worker's second pool process takes a
helper and reads partitions beside it. The shared Redis limiter keeps the connection's calls in flight at
AKENEO_MAX_IN_FLIGHT however many processes read, as the demo server counts them. A pool process killed while it
holds partitions loses them only until their lease expires: another process takes them over, from their saved
cursors, and no product is counted twice.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field

import pytest

from demo_akeneo.server import DemoServer, start_demo_server
from devtools.workers import child_pids
from migrations_runs.importers import IMPORTERS
from migrations_runs.models import MigrationPartition, MigrationRun, MigrationStep, Status
from migrations_runs.services import start_run
from migrations_runs.tasks import execute_partitions_task, execute_step_task
from tests.factories import connection_for
from tests.support.services import Worker, wait_for_end

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LIMIT = 4
PARTITIONS = 6
RUN_TIMEOUT = 90.0


@pytest.fixture
def worker_env() -> dict[str, str]:
    # Two prefork pool processes; partitions for any step of 100+ records, each read over several pages (so a
    # kill lands mid-partition); two partitions at a time per process, so the step's own process leaves big
    # partitions to the helper; a short lease and short limiter slots so that a killed process's partitions and
    # slots are free again within seconds.
    return {
        "AKENEO_PAGE_SIZE": "50",
        "MIGRATION_PARTITION_THREADS": "2",
        "CELERY_WORKER_CONCURRENCY": "2",
        "AKENEO_MAX_IN_FLIGHT": str(LIMIT),
        "MIGRATION_PARTITIONS": str(PARTITIONS),
        "MIGRATION_PARTITION_MIN_RECORDS": "100",
        "MIGRATION_STEP_LEASE_SECONDS": "5",
        "AKENEO_SLOT_TTL": "3",
    }


@dataclass
class PoolActivity:
    """What the worker's pool processes were running, as `celery inspect active` reports it."""

    step_pids: set[int] = field(default_factory=set)
    helper_pids: set[int] = field(default_factory=set)
    side_by_side: bool = False  # a helper and the step's task seen running at once, in distinct processes

    def sample(self, app, worker: Worker) -> None:
        replies = app.control.inspect(destination=[worker.nodename], timeout=1, limit=1).active() or {}
        step_now, helpers_now = set(), set()
        for task in replies.get(worker.nodename, []):
            if task.get("name") == execute_step_task.name:
                step_now.add(task["worker_pid"])
            elif task.get("name") == execute_partitions_task.name:
                helpers_now.add(task["worker_pid"])
        self.step_pids |= step_now
        self.helper_pids |= helpers_now
        if step_now and helpers_now - step_now:
            self.side_by_side = True


def slots_left(redis_client) -> list[bytes]:
    return [key for key in redis_client.keys("akeneo-limit:*") if key.endswith(b":slots")]


def assert_exact_copy(run: MigrationRun, demo: DemoServer) -> list[MigrationPartition]:
    """The run completed with every source product once: the step's and every partition's counters agree.
    Returns the partitions."""
    source = demo.catalog.product_count
    step = run.steps.get(entity="products")
    partitions = list(step.partitions.order_by("index"))
    assert run.status == Status.COMPLETED, run.error
    assert step.status == Status.COMPLETED
    assert IMPORTERS["products-uuid"].model.objects.count() == source
    assert (step.total, step.read, step.created, step.failed) == (source, source, source, 0)
    # Family groups plus "no family": planned, not fallen back to one cursor.
    assert len(partitions) > 1, list(step.logs.values_list("message", flat=True))
    assert all(p.status == Status.COMPLETED for p in partitions), [(p.index, p.status) for p in partitions]
    assert [p.read for p in partitions] == [p.expected for p in partitions]
    assert sum(p.expected for p in partitions) == source
    return partitions


def test_two_pool_processes_read_partitions_within_one_budget(
    celery_worker, celery_app_on_test_redis, redis_client
):
    demo = start_demo_server(products=1500, page_latency_ms=100, media_latency_ms=30)
    try:
        run = start_run(connection_for(demo), ["products"])
        activity = PoolActivity()
        deadline = time.monotonic() + RUN_TIMEOUT
        while run.is_active and time.monotonic() < deadline:
            activity.sample(celery_app_on_test_redis, celery_worker)
            run.refresh_from_db()
        run = wait_for_end(run, timeout=max(1.0, deadline - time.monotonic()))

        partitions = assert_exact_copy(run, demo)
        # Two readers held partitions: the step's own process and a helper in the other pool process.
        assert len({p.owner for p in partitions}) >= 2, [(p.index, p.owner) for p in partitions]
        assert activity.side_by_side, activity
        assert len(activity.step_pids | activity.helper_pids) == 2
        # One budget for both processes, and it was used: calls overlapped, never past the limit.
        stats = demo.stats.snapshot()
        assert 2 <= stats["max_in_flight"] <= LIMIT, stats
        assert slots_left(redis_client) == []  # every slot given back
    finally:
        demo.stop()


def test_pool_process_killed_while_holding_partitions_is_taken_over(
    celery_worker, celery_app_on_test_redis, redis_client
):
    demo = start_demo_server(products=800, page_latency_ms=100, media_latency_ms=30)
    try:
        run = start_run(connection_for(demo), ["products"])
        step = MigrationStep.objects.get(run=run)
        activity = PoolActivity()
        deadline = time.monotonic() + 60
        while True:
            assert time.monotonic() < deadline, f"no helper ever read beside the step: {activity}"
            run.refresh_from_db()
            assert run.is_active, f"the run ended before a helper held a partition: {run.status} {run.error}"
            activity.sample(celery_app_on_test_redis, celery_worker)
            running = list(step.partitions.filter(status=Status.RUNNING).values_list("pk", "owner", "read"))
            owners = {owner for _pk, owner, _read in running}
            if activity.step_pids and len(owners) >= 2 and any(read for _pk, _owner, read in running):
                break
        [step_pid] = activity.step_pids
        [victim] = [pid for pid in child_pids(celery_worker.process.pid) if pid != step_pid]
        held = {pk: owner for pk, owner, _read in running}
        os.kill(victim, signal.SIGKILL)

        run = wait_for_end(run, timeout=RUN_TIMEOUT)
        partitions = assert_exact_copy(run, demo)
        output = celery_worker.output()
        assert "SIGKILL" in output or "WorkerLostError" in output
        # The dead process's partitions were finished by another holder, after their lease expired.
        taken_over = [p.index for p in partitions if p.pk in held and p.owner != held[p.pk]]
        assert taken_over, {p.index: (held.get(p.pk), p.owner) for p in partitions}
        assert demo.stats.snapshot()["max_in_flight"] <= LIMIT
        assert slots_left(redis_client) == []
    finally:
        demo.stop()
