"""`akeneo_verify`: a migrated demo catalog is identical to its source; altered data, a deleted option and a
corrupted media file are each found and named. Real demo Akeneo over HTTP, real storage."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from catalog.models import AttributeOption, MediaFile, Product
from migrations_runs.models import MigrationRun, Status, VerifyDifference, VerifyReport
from migrations_runs.verify import differing_fields
from tests.support.demo import demo_fixture

pytestmark = pytest.mark.django_db(transaction=True)


demo = demo_fixture(products=60)


def verify(connection, *extra: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("akeneo_verify", str(connection.pk), *extra, stdout=out, stderr=out)
    except CommandError as error:
        return 1, out.getvalue() + str(error)
    return 0, out.getvalue()


def test_untouched_catalog_is_identical_and_three_changes_are_named(connection):
    call_command(
        "akeneo_migrate",
        str(connection.pk),
        "--entities",
        "all",
        "--sync",
        stdout=StringIO(),
        stderr=StringIO(),
    )
    assert MigrationRun.objects.get().status == Status.COMPLETED

    status, output = verify(connection)
    assert status == 0, output
    assert "the local catalog is identical to Akeneo" in output
    for resource in ("locales", "attribute-options", "products-uuid", "media"):
        assert f"\n{resource} " in output, output
    report = VerifyReport.objects.get()
    assert report.status == Status.COMPLETED and report.identical
    rows = {row["resource"]: row for row in report.counts}
    assert rows["products-uuid"]["source"] == rows["products-uuid"]["identical"] == 60
    assert rows["media"]["identical"] > 0

    # 1. one product's data altered locally
    product = Product.objects.exclude(identifier=None).order_by("identifier").first()
    product.data = {**product.data, "enabled": not product.data.get("enabled", True)}
    product.save(update_fields=["data"])
    # 2. one attribute option deleted locally
    option = AttributeOption.objects.order_by("attribute_code", "code").first()
    option.delete()
    # 3. one stored media file corrupted
    media = MediaFile.objects.exclude(file="").order_by("code").first()
    with default_storage.open(media.file.name, "wb") as handle:
        handle.write(b"not the original bytes")

    status, output = verify(connection)
    assert status == 1, output
    assert "differences: the local catalog differs from Akeneo" in output
    assert f"products-uuid differing {product.uuid} ({product.identifier}): enabled" in output
    assert f"attribute-options missing {option.attribute_code}/{option.code}" in output
    assert f"media differing {media.code}: sha256" in output
    report = VerifyReport.objects.latest("pk")
    assert report.differences_total == 3
    kinds = set(report.differences.values_list("resource", "kind"))
    assert kinds == {
        ("products-uuid", VerifyDifference.Kind.DIFFERING),
        ("attribute-options", VerifyDifference.Kind.MISSING),
        ("media", VerifyDifference.Kind.DIFFERING),
    }


def test_a_local_row_the_source_does_not_list_is_extra(connection):
    call_command(
        "akeneo_migrate",
        str(connection.pk),
        "--entities",
        "locales",
        "--sync",
        stdout=StringIO(),
        stderr=StringIO(),
    )
    from catalog.models import Locale
    from migrations_runs.models import Mapping

    ghost = Locale.objects.create(code="xx_XX", data={"code": "xx_XX", "enabled": False})
    Mapping.objects.create(connection=connection, resource="locales", akeneo_key="xx_XX", object_id=ghost.pk)
    status, output = verify(connection, "--entities", "locales")
    assert status == 1 and "locales extra xx_XX" in output, output
    row = VerifyReport.objects.latest("pk").counts[0]
    assert (row["extra"], row["local"], row["source"]) == (1, row["source"] + 1, row["identical"])


def test_order_without_meaning_is_ignored_order_with_meaning_is_not():
    types = {"colors": "pim_catalog_multiselect", "assets": "pim_catalog_asset_collection"}
    source = {
        "categories": ["a", "b"],
        "values": {
            "colors": [{"locale": None, "scope": None, "data": ["red", "blue"]}],
            "name": [
                {"locale": "en_US", "scope": None, "data": "x"},
                {"locale": "fr_FR", "scope": None, "data": "y"},
            ],
            "assets": [{"locale": None, "scope": None, "data": ["main", "second"]}],
        },
        "associations": {"X_SELL": {"products": ["p1", "p2"], "product_models": [], "groups": []}},
    }
    shuffled = {
        "categories": ["b", "a"],
        "values": {
            "colors": [{"locale": None, "scope": None, "data": ["blue", "red"]}],
            "name": [
                {"locale": "fr_FR", "scope": None, "data": "y"},
                {"locale": "en_US", "scope": None, "data": "x"},
            ],
            "assets": [{"locale": None, "scope": None, "data": ["main", "second"]}],
        },
        "associations": {"X_SELL": {"products": ["p2", "p1"], "product_models": [], "groups": []}},
    }
    assert differing_fields("products-uuid", source, shuffled, types) == []
    shuffled["values"]["assets"][0]["data"] = ["second", "main"]  # the first asset is the main one
    assert differing_fields("products-uuid", source, shuffled, types) == ["values.assets"]
    option = {"code": "red", "sort_order": 1}
    assert differing_fields("attribute-options", option, {**option, "sort_order": 2}) == ["sort_order"]


def test_unknown_connection_and_entity_are_command_errors(connection):
    with pytest.raises(CommandError, match="No connection"):
        call_command("akeneo_verify", "nope", stdout=StringIO())
    with pytest.raises(CommandError, match="Unknown entities"):
        call_command("akeneo_verify", str(connection.pk), "--entities", "socks", stdout=StringIO())


def test_reconciliation_counts_the_source_independently_and_shows_the_gap(connection, client, superuser):
    from django.urls import reverse

    from migrations_runs.reconciliation import reconcile

    call_command(
        "akeneo_migrate",
        str(connection.pk),
        "--entities",
        "attributes",
        "--sync",
        stdout=StringIO(),
        stderr=StringIO(),
    )
    run = MigrationRun.objects.get()
    (row,) = run.reconciliation
    assert row["match"] and row["difference"] == 0 and row["counted"] == "Akeneo"
    AttributeOption.objects.order_by("pk").first().delete()
    run.reconciliation = reconcile(run)
    run.save()
    (row,) = run.reconciliation
    options = {part["resource"]: part for part in row["parts"]}["attribute-options"]
    assert options["source"] == options["local"] + 1  # Akeneo's own figure, not what the run read
    assert not row["match"] and row["difference"] == -1
    client.force_login(superuser)
    html = client.get(reverse("admin:migrations_runs_migrationrun_change", args=[run.pk])).content.decode()
    assert "<td data-difference>-1</td>" in html
    assert f"attribute-options: Akeneo {options['source']}, local {options['local']}." in html
