"""A whole migration from the demo Akeneo over real HTTP, through `akeneo_migrate --sync` and the step executor."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from connections.akeneo.auth import Credentials
from connections.akeneo.client import AkeneoClient, ClientSettings
from demo_akeneo.server import start_demo_server
from migrations_runs.entities import ENTITIES, ENTITY_CODES
from migrations_runs.importers import IMPORTERS
from migrations_runs.models import Mapping, MigrationLog, MigrationRun, MigrationStep, Status
from migrations_runs.reconciliation import reconcile
from migrations_runs.services import StepBusy, execute_step, finish_run, start_run
from tests.factories import connection_for
from tests.support.demo import demo_fixture
from tests.support.source import export_differences, source_records, without_links

pytestmark = pytest.mark.django_db(transaction=True)


demo = demo_fixture(products=150)


def local_count(resource: str) -> int:
    return IMPORTERS[resource].model.objects.count()


def migrate(connection, entities: str = "all") -> tuple[MigrationRun, str]:
    out, err = StringIO(), StringIO()
    call_command(
        "akeneo_migrate", str(connection.pk), "--entities", entities, "--sync", stdout=out, stderr=err
    )
    return MigrationRun.objects.latest("pk"), out.getvalue() + err.getvalue()


def test_full_migration_imports_every_record_and_a_rerun_changes_nothing(demo, connection):
    served = source_records(demo)
    run, output = migrate(connection)
    assert run.status == Status.COMPLETED, run.error
    assert f"Migration run #{run.pk} completed." in output
    for resource, records in served.items():
        assert local_count(resource) == len(records), resource
    steps = {step.entity: step for step in run.steps.all()}
    assert sum(step.read for step in steps.values()) == sum(len(r) for r in served.values())
    assert all(step.failed == 0 for step in steps.values()), {s.entity: s.failed for s in steps.values()}

    warnings = list(
        MigrationLog.objects.filter(step__run=run).exclude(level="info").values_list("code", "message")[:5]
    )
    assert warnings == [], warnings  # a consistent catalog migrates without a single warning
    assert len(run.reconciliation) == len(ENTITIES) and all(row["match"] for row in run.reconciliation), (
        run.reconciliation
    )
    products = {str(p.uuid): p.data for p in IMPORTERS["products-uuid"].model.objects.all()}
    for record in served["products-uuid"]:
        assert products[record["uuid"]] == without_links(record), record["uuid"]

    mappings = Mapping.objects.count()
    rerun, _ = migrate(connection)
    assert rerun.status == Status.COMPLETED
    assert Mapping.objects.count() == mappings
    for step in rerun.steps.all():
        assert (step.created, step.updated) == (0, 0), step.entity
        assert step.unchanged == step.read


def test_staged_migration_equals_one_run(demo, connection):
    structure = [code for code in ENTITY_CODES if code not in ("product-models", "products")]
    assert migrate(connection, ",".join(structure))[0].status == Status.COMPLETED
    assert migrate(connection, "product-models,products")[0].status == Status.COMPLETED
    served = source_records(demo)
    for resource, records in served.items():
        assert local_count(resource) == len(records), resource


class WorkerKilled(BaseException):
    """Not an Exception: like a SIGKILL, nothing in the step gets to handle it."""


def test_resume_after_a_kill_mid_step_ends_with_exactly_the_source(demo, connection):
    run = start_run(connection, ["products"], enqueue=False)
    step = run.steps.get()
    client = AkeneoClient(connection.credentials(), ClientSettings(page_size=20))
    real_pages = client.pages

    def dying_pages(*args, **kwargs):
        for index, page in enumerate(real_pages(*args, **kwargs)):
            if index == 3:
                raise WorkerKilled
            yield page

    client.pages = dying_pages
    with pytest.raises(WorkerKilled):
        execute_step(step.pk, client=client)
    step.refresh_from_db()
    assert step.status == Status.RUNNING and step.read == 60 and step.cursor["next_url"]

    # Redelivered while the lease is fresh (the first worker might still be alive): it must not run twice.
    with pytest.raises(StepBusy):
        execute_step(step.pk, client=AkeneoClient(connection.credentials(), ClientSettings(page_size=20)))
    # No heartbeat for longer than the lease: the worker is gone, the redelivered task takes over.
    MigrationStep.objects.filter(pk=step.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    execute_step(step.pk, client=AkeneoClient(connection.credentials(), ClientSettings(page_size=20)))
    step.refresh_from_db()
    assert step.status == Status.COMPLETED
    assert step.read == 150 and step.created == 150  # no page read twice, none lost
    assert local_count("products-uuid") == 150
    assert finish_run(run.pk).status == Status.COMPLETED


def test_an_unreachable_akeneo_fails_the_run_and_later_steps_do_not_run(connection, settings):
    from connections.models import Connection

    settings.AKENEO_MAX_ATTEMPTS = 2  # retried, then given up: quickly

    Connection.objects.filter(pk=connection.pk).update(base_url="http://127.0.0.1:9")
    out = StringIO()
    with pytest.raises(Exception, match="failed"):
        call_command(
            "akeneo_migrate",
            connection.name,
            "--entities",
            "locales,currencies",
            "--sync",
            stdout=out,
            stderr=out,
        )
    run = MigrationRun.objects.get()
    assert (
        run.status == Status.FAILED and "Could not reach" not in run.error
    ) or "connection was refused" in run.error
    assert list(run.steps.values_list("entity", "status")) == [
        ("locales", Status.FAILED),
        ("currencies", Status.CANCELLED),
    ]
    assert MigrationStep.objects.filter(run=run, status=Status.COMPLETED).count() == 0


def test_reconciliation_lists_mismatches(connection, client, superuser):
    from django.urls import reverse

    run, _ = migrate(connection, "locales,products")
    IMPORTERS["products-uuid"].model.objects.order_by("pk").first().delete()  # lost locally after the run
    run.reconciliation = reconcile(run)
    run.save()
    rows = {row["entity"]: row for row in run.reconciliation}
    assert rows["locales"]["match"] and not rows["products"]["match"]
    assert (rows["products"]["source"], rows["products"]["local"]) == (150, 149)
    client.force_login(superuser)
    html = client.get(reverse("admin:migrations_runs_migrationrun_change", args=[run.pk])).content.decode()
    assert "Mismatch: Products: Akeneo reported 150, the local catalog holds 149." in html


def test_media_are_downloaded_once_byte_identical_and_failures_retried(demo, connection, settings, tmp_path):
    import hashlib

    from catalog.models import MediaFile

    settings.MEDIA_ROOT = tmp_path
    served = source_records(demo)
    codes = {
        entry["data"]
        for record in served["products-uuid"] + served["product-models"]
        for entries in record["values"].values()
        for entry in entries
        if isinstance(entry, dict) and "_links" in entry
    }
    run, _ = migrate(connection, "attributes,families,product-models,products")
    assert run.status == Status.COMPLETED, run.error
    stored = {media.code: media for media in MediaFile.objects.all()}
    assert codes <= set(stored)
    assert sum(step.media for step in run.steps.all()) == len(stored)
    client = AkeneoClient(Credentials(base_url=demo.base_url, **demo.credentials), ClientSettings())
    for code in sorted(codes)[:20]:
        import io

        buffer = io.BytesIO()
        client.download(client.media_download_path("product", code), buffer)
        media = stored[code]
        with media.file.open("rb") as handle:
            data = handle.read()
        assert (
            data == buffer.getvalue()
            and hashlib.sha256(data).hexdigest()
            == media.sha256
            == hashlib.sha256(buffer.getvalue()).hexdigest()
        )
    client.close()

    # A media lost locally (or that failed) is fetched again by the next run; the others are not re-downloaded.
    lost = sorted(codes)[0]
    MediaFile.objects.filter(code=lost).delete()
    rerun, _ = migrate(connection, "products,product-models")
    assert sum(step.media for step in rerun.steps.all()) == 1
    assert MediaFile.objects.filter(code=lost).exists()


def test_export_equals_what_akeneo_serves_field_by_field(demo, connection, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "storage"
    served = source_records(demo)
    assert migrate(connection)[0].status == Status.COMPLETED
    out = tmp_path / "export"
    call_command("export_catalog", "--out", str(out), stdout=StringIO())
    differences = export_differences(out, served)
    assert not differences, "\n".join(differences[:30])
    assert (out / "media").is_dir() and any((out / "media").rglob("*.png"))


def test_deleting_a_connection_deletes_its_mappings_not_the_catalog(demo, connection):
    assert migrate(connection, "locales,products")[0].status == Status.COMPLETED
    products = local_count("products-uuid")
    assert Mapping.objects.filter(connection=connection).count() == 12 + products
    connection.delete()
    assert not Mapping.objects.exists() and not MigrationRun.objects.exists()
    assert local_count("products-uuid") == products and local_count("locales") == 12


def test_export_of_one_connection_holds_only_what_it_imported(demo, connection, tmp_path):
    import uuid

    assert migrate(connection, "locales,products")[0].status == Status.COMPLETED
    stray = IMPORTERS["products-uuid"].model.objects.create(
        uuid=uuid.uuid4(), data={"uuid": "stray"}, checksum="x"
    )
    everything, mine = tmp_path / "all", tmp_path / "mine"
    call_command("export_catalog", "--out", str(everything), stdout=StringIO())
    call_command("export_catalog", "--out", str(mine), "--connection", connection.name, stdout=StringIO())
    assert str(stray.uuid) not in (mine / "products.jsonl").read_text()
    assert len((mine / "products.jsonl").read_text().splitlines()) == 150
    assert len((everything / "products.jsonl").read_text().splitlines()) == 151


def test_cancel_stops_the_step_between_two_pages(connection):
    run = start_run(connection, ["products", "locales"], enqueue=False)
    products = run.steps.get(entity="products")
    pages = []

    def cancel_after_first_page(step):
        pages.append(step.read)
        if len(pages) == 1:
            MigrationRun.objects.filter(pk=run.pk).update(cancel_requested=True)

    client = AkeneoClient(connection.credentials(), ClientSettings(page_size=50))
    execute_step(run.steps.get(entity="locales").pk, client=client)
    execute_step(products.pk, client=client, progress=cancel_after_first_page)
    products.refresh_from_db()
    run.refresh_from_db()
    assert products.status == Status.CANCELLED and products.read == 50  # one page, then it stopped
    assert run.status == Status.CANCELLED and local_count("products-uuid") == 50


def test_a_parent_akeneo_never_sends_is_logged_with_the_record_code(connection):

    run, _ = migrate(connection, "products")  # variant products, but their product models were not migrated
    step = run.steps.get()
    assert run.status == Status.COMPLETED and step.failed == 0
    warnings = MigrationLog.objects.filter(step=step, level="warning", message__contains="parent")
    variants = (
        IMPORTERS["products-uuid"].model.objects.exclude(parent_code__isnull=True).exclude(parent_code="")
    )
    assert variants.exists() and warnings.count() == min(variants.count(), 200)
    assert set(warnings.values_list("code", flat=True)) <= {str(p.uuid) for p in variants}


def test_a_value_naming_an_unknown_option_is_logged_and_kept(connection):
    from catalog.models import AttributeOption

    assert migrate(connection, "attributes")[0].status == Status.COMPLETED
    option = AttributeOption.objects.order_by("attribute_code", "code").first()
    AttributeOption.objects.filter(pk=option.pk).delete()  # as if Akeneo had lost it
    run, _ = migrate(connection, "products")
    assert run.status == Status.COMPLETED
    product_model = IMPORTERS["products-uuid"].model
    users = [
        p for p in product_model.objects.all()
        if any(
            option.code == entry["data"] or option.code in (entry["data"] if isinstance(entry["data"], list) else [])
            for entry in p.data["values"].get(option.attribute_code, [])
        )
    ]  # fmt: skip
    logged = MigrationLog.objects.filter(step__run=run, message__contains=f"unknown option {option.code!r}")
    assert users and {line.code for line in logged} == {str(p.uuid) for p in users}
    assert all(option.attribute_code in p.data["values"] for p in users)  # nothing dropped


def media_served(served: dict[str, list[dict]]) -> dict[str, str]:
    """Every media code the demo's records reference (products, product models, assets, records, reference
    entities, categories) -> where it downloads; written here again, not taken from the code tested."""
    found: dict[str, str] = {}
    image_attributes = {
        (record["__parent"][0], record["code"])
        for record in served["reference-entity-attributes"]
        if record["type"] == "image"
    }
    for resource in ("products-uuid", "product-models", "assets"):
        for record in served[resource]:
            for entries in record["values"].values():
                for entry in entries:
                    if "_links" in entry:
                        found[entry["data"]] = entry["_links"]["download"]["href"]
    for record in served["reference-entity-records"]:
        for attribute, entries in record["values"].items():
            if (record["__parent"][0], attribute) in image_attributes:
                for entry in entries:
                    found[entry["data"]] = f"/api/rest/v1/reference-entities-media-files/{entry['data']}"
    for record in served["reference-entities"]:
        if record.get("image"):
            found[record["image"]] = record["_links"]["image_download"]["href"]
    for record in served["categories"]:
        for value in (record.get("values") or {}).values():
            if isinstance(value["data"], dict) and value["data"].get("file_path"):
                path = value["data"]["file_path"]
                found[path] = f"/api/rest/v1/category-media-files/{path}/download"
    return found


def test_every_media_referenced_anywhere_is_exported_byte_for_byte(demo, connection, tmp_path, settings):
    import io

    settings.MEDIA_ROOT = tmp_path / "storage"
    served = source_records(demo)
    media = media_served(served)
    kinds = {
        "products": any("/media-files/" in href for href in media.values()),
        "assets": any("/asset-media-files/" in href for href in media.values()),
        "records and entities": any("/reference-entities-media-files/" in href for href in media.values()),
        "categories": any("/category-media-files/" in href for href in media.values()),
    }
    assert all(kinds.values()), kinds  # the demo serves media of every kind
    assert migrate(connection)[0].status == Status.COMPLETED
    out = tmp_path / "export"
    counts = StringIO()
    call_command("export_catalog", "--out", str(out), stdout=counts)
    client = AkeneoClient(Credentials(base_url=demo.base_url, **demo.credentials), ClientSettings())
    differing = []
    for code, href in sorted(media.items()):
        buffer = io.BytesIO()
        client.download(href, buffer)
        exported = out / "media" / code
        if not exported.is_file() or exported.read_bytes() != buffer.getvalue():
            differing.append(code)
    client.close()
    assert not differing, differing[:10]
    exported_files = [path for path in (out / "media").rglob("*") if path.is_file()]
    assert len(exported_files) == len(media)


def test_a_pim_without_measurement_families_is_read_through_measure_families(tmp_path):
    from catalog.models import MeasurementFamily
    from connections.akeneo.resources import measure_family_to_measurement_family

    server = start_demo_server(products=5, legacy_measurements=True)
    try:
        connection = connection_for(server)
        client = AkeneoClient(Credentials(base_url=server.base_url, **server.credentials), ClientSettings())
        old = list(client.items("measure-families"))
        client.close()
        run, _ = migrate(connection, "measurement-families")
        assert run.status == Status.COMPLETED, run.error
        stored = {row.code: row.data for row in MeasurementFamily.objects.all()}
        assert old and stored == {
            family["code"]: without_links(measure_family_to_measurement_family(family)) for family in old
        }
        assert run.steps.get().total is None  # /measure-families gives no count: no made-up progress total
    finally:
        server.stop()


def test_flags_a_server_refuses_are_dropped_with_a_warning(tmp_path):
    from catalog.models import Attribute, Category

    server = start_demo_server(
        products=5, refuse_flags=("with_enriched_attributes", "with_table_select_options")
    )
    try:
        connection = connection_for(server)
        run, _ = migrate(connection, "categories,attributes")
        assert run.status == Status.COMPLETED, run.error
        assert Category.objects.exists() and Attribute.objects.exists()
        assert not any("values" in row.data for row in Category.objects.all())
        logged = MigrationLog.objects.filter(step__run=run, level="warning", message__contains="refused")
        assert set(logged.values_list("step__entity", flat=True)) == {"categories", "attributes"}
    finally:
        server.stop()
