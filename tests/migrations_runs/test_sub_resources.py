"""Sub-resources follow the SOURCE: parents come from what Akeneo lists in this run, the cursor holds parent codes,
a parent gone from the source is a warning, and media of a committed page survive a crash before their download.

All against the demo Akeneo over real HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Family, FamilyVariant, MediaFile, Product
from connections.akeneo.auth import Credentials
from connections.akeneo.client import AkeneoClient, ClientSettings
from connections.akeneo.resources import RESOURCES
from migrations_runs.models import MigrationLog, MigrationStep, Status
from migrations_runs.services import execute_step, start_run
from migrations_runs.source import walk
from tests.support.demo import demo_fixture

pytestmark = pytest.mark.django_db(transaction=True)


demo = demo_fixture(products=60)


def demo_client(demo, **settings) -> AkeneoClient:
    return AkeneoClient(Credentials(base_url=demo.base_url, **demo.credentials), ClientSettings(**settings))


class WorkerKilled(BaseException):
    """Not an Exception: like a SIGKILL, nothing in the step gets to handle it."""


def source_families(demo) -> list[str]:
    with demo_client(demo) as client:
        return sorted(item["code"] for item in client.items("families"))


def test_a_family_only_in_the_local_catalog_does_not_fail_the_run(demo, connection):
    Family.objects.create(code="aaa_local_only", data={"code": "aaa_local_only"}, checksum="x")
    Family.objects.create(code="zzz_local_only", data={"code": "zzz_local_only"}, checksum="x")
    run = start_run(connection, ["families"], enqueue=False)
    step = execute_step(run.steps.get().pk, client=demo_client(demo))
    assert step.status == Status.COMPLETED, step.error
    assert (
        not MigrationLog.objects.filter(step=step).exclude(level="info").exists()
    )  # the local family was never asked for
    with demo_client(demo) as client:
        served = {
            (family, variant["code"])
            for family in source_families(demo)
            for variant in client.items("family-variants", parent=family)
        }
    assert set(FamilyVariant.objects.values_list("family_code", "code")) == served


def test_walk_takes_parents_from_the_source_and_a_gone_parent_is_one_page(demo):
    families = source_families(demo)
    with demo_client(demo) as client:
        pages = list(walk(client, "family-variants"))
        assert sorted({page.parents for page in pages}) == [(code,) for code in families]
        assert all(page.gone is None for page in pages)

        # A parent listed when the step began but deleted since: Akeneo answers 404 for its variants.
        given = [(families[0],), ("deleted_since",)]
        pages = list(walk(client, "family-variants", parents=given))
        gone = [page for page in pages if page.gone]
        assert [page.parents for page in gone] == [("deleted_since",)] and "404" in gone[0].gone
        assert gone[0].cursor == {"parent": ["deleted_since"], "next_url": None}

        # Resuming after a parent (by its code): the walk goes on with the next codes, whatever came before.
        resumed = list(walk(client, "family-variants", start={"parent": [families[0]], "next_url": None}))
        assert {page.parents for page in resumed} == {(code,) for code in families[1:]}


def test_a_two_level_walk_reads_both_parent_levels_from_the_source(demo):
    with demo_client(demo) as client:
        spec = RESOURCES["asset-family-attribute-options"]
        attributes = {
            (page.parents[0], item["code"])
            for page in walk(client, "asset-family-attributes")
            for item in page.items
            if spec.accepts_parent(item)
        }
        pages = list(walk(client, "asset-family-attribute-options"))
    assert attributes and {page.parents for page in pages} == attributes
    assert all(len(page.parents) == 2 for page in pages)


def test_a_resumed_sub_resource_part_goes_on_after_the_parent_code_in_its_cursor(demo, connection):
    families = source_families(demo)
    run = start_run(connection, ["families"], enqueue=False)
    step = run.steps.get()
    # As if a worker died after committing the variants of the first family (the cursor names its code).
    MigrationStep.objects.filter(pk=step.pk).update(
        status=Status.RUNNING,
        heartbeat_at=timezone.now() - timedelta(hours=1),
        cursor={"part": 1, "parent": [families[0]], "next_url": None},
    )
    step = execute_step(step.pk, client=demo_client(demo))
    assert step.status == Status.COMPLETED, step.error
    assert set(FamilyVariant.objects.values_list("family_code", flat=True)) <= set(families[1:])
    assert FamilyVariant.objects.exists()


def test_the_cursor_of_a_sub_resource_holds_the_parent_code(demo, connection):
    run = start_run(connection, ["attributes"], enqueue=False)
    step = run.steps.get()
    client = demo_client(demo, max_in_flight=1)  # one parent at a time: seen is in the walk's order
    real_pages = client.pages
    seen = []

    def dying_pages(resource, **kwargs):
        for page in real_pages(resource, **kwargs):
            if resource == "attribute-options":
                seen.append(kwargs.get("parent"))
                if len(seen) == 2:
                    raise WorkerKilled
            yield page

    client.pages = dying_pages
    with pytest.raises(WorkerKilled):
        execute_step(step.pk, client=client)
    step.refresh_from_db()
    assert step.cursor["part"] == 1 and step.cursor["parent"] == list(seen[0])
    MigrationStep.objects.filter(pk=step.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    assert execute_step(step.pk, client=demo_client(demo)).status == Status.COMPLETED


def test_media_of_a_committed_page_are_fetched_by_the_resumed_step(demo, connection, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    run = start_run(connection, ["products"], enqueue=False)
    step = run.steps.get()

    class DiesOnFirstDownload(AkeneoClient):
        def download(self, href, target):
            raise WorkerKilled  # the page is committed; the process dies before its media are stored

    with pytest.raises(WorkerKilled):
        execute_step(step.pk, client=DiesOnFirstDownload(**_client_args(demo, page_size=20)))
    step.refresh_from_db()
    # Downloads go on while the next pages are imported: the process died with one or more committed pages
    # whose media are pending (listed in the cursor), and none stored.
    pending = step.cursor.get("media")
    assert pending and step.read >= 20 and not MediaFile.objects.exists()
    assert all(entry["resource"] == "products-uuid" and entry["url"] for entry in pending)

    MigrationStep.objects.filter(pk=step.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    step = execute_step(step.pk, client=demo_client(demo, page_size=20))
    assert step.status == Status.COMPLETED and "media" not in step.cursor
    used = {
        entry["data"]
        for product in Product.objects.all()
        for entries in product.data["values"].values()
        for entry in entries
        if isinstance(entry.get("data"), str) and "/" in entry["data"] and "." in entry["data"]
    }
    stored = set(MediaFile.objects.values_list("code", flat=True))
    assert used and used <= stored, sorted(used - stored)[:5]


def _client_args(demo, **settings) -> dict:
    return {
        "credentials": Credentials(base_url=demo.base_url, **demo.credentials),
        "settings": ClientSettings(**settings),
    }
