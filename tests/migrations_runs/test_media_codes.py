"""Media codes come from Akeneo and are not trusted: they never become paths outside storage or `--out`, and one
bad code never fails its step."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from catalog.models import MediaFile, Product
from migrations_runs.media import media_path
from migrations_runs.models import MigrationLog, MigrationRun, Status
from tests.factories import connection_for
from tests.hostile_akeneo import start_hostile
from tests.support.demo import demo_fixture

pytestmark = pytest.mark.django_db(transaction=True)


demo = demo_fixture(products=12)


def files_under(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file()} if folder.exists() else set()


@pytest.mark.parametrize(
    "pattern",
    [
        "{outside}/escape-{{n}}.jpg",  # absolute: `media_dir / code` would be that path
        "../../../escape-{{n}}.jpg",  # climbs out of storage and of --out
        "..\\..\\escape-{{n}}.jpg",  # backslashes
        "a//b/./c\x01-{{n}}.jpg",  # empty segments, `.`, a control character
    ],
)
def test_hostile_media_codes_stay_inside_storage_and_the_export(demo, tmp_path, settings, pattern):
    settings.MEDIA_ROOT = tmp_path / "storage"
    outside = tmp_path / "outside"
    hostile = start_hostile(demo, media_code=pattern.format(outside=outside))
    try:
        connection = connection_for(hostile)
        output = StringIO()
        call_command("akeneo_migrate", str(connection.pk), "--entities", "products", "--sync", stdout=output)
    finally:
        hostile.stop()
    run = MigrationRun.objects.get(connection=connection)
    step = run.steps.get()
    assert run.status == Status.COMPLETED, run.error
    assert step.read == 12 and step.failed == 0
    codes = list(MediaFile.objects.values_list("code", "file"))
    assert codes and all(media_path(code) != code for code, _file in codes)  # every code was hostile
    storage = Path(settings.MEDIA_ROOT).resolve()
    for _code, stored in codes:
        assert (storage / stored).resolve().is_relative_to(storage / "akeneo-media")
        assert (storage / stored).is_file()
    # One warning per code, naming the record that uses it.
    warnings = MigrationLog.objects.filter(step=step, message__contains="not a safe relative path")
    assert warnings.count() == len(codes)
    product_uuids = {str(uuid) for uuid in Product.objects.values_list("uuid", flat=True)}
    assert set(warnings.values_list("code", flat=True)) <= product_uuids

    before = files_under(tmp_path) - files_under(tmp_path / "storage")
    out = tmp_path / "deep" / "export"
    call_command("export_catalog", "--out", str(out), stdout=StringIO())
    written = files_under(tmp_path) - files_under(tmp_path / "storage") - before
    assert written and all(path.resolve().is_relative_to(out.resolve()) for path in written)
    assert not outside.exists()
    exported = [path for path in (out / "media").rglob("*") if path.is_file()]
    assert len(exported) == len(codes)


def test_a_second_run_with_the_same_hostile_codes_changes_nothing(demo, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "storage"
    hostile = start_hostile(demo, media_code="../../escape-{n}.jpg")
    try:
        connection = connection_for(hostile)
        for _ in range(2):
            call_command(
                "akeneo_migrate", str(connection.pk), "--entities", "products", "--sync", stdout=StringIO()
            )
    finally:
        hostile.stop()
    first, second = MigrationRun.objects.filter(connection=connection).order_by("pk")
    assert first.status == second.status == Status.COMPLETED
    assert (
        second.steps.get().media == 0
    )  # stored the first time, under their safe paths: not downloaded again
    stored = list((Path(settings.MEDIA_ROOT) / "akeneo-media").rglob("*"))
    assert len([path for path in stored if path.is_file()]) == MediaFile.objects.count()


def test_akeneo_codes_keep_their_path_and_strange_ones_never_collide():
    normal = "7/5/8/e/758e39d48ea7b42a55091434fd3d8b6cf3189b7f_10806799_1356.jpg"
    assert media_path(normal) == normal
    assert media_path("é/ü/photo (1).png") == "é/ü/photo (1).png"
    hostile = [
        "/etc/passwd",
        "../passwd",
        "..\\passwd",
        "a/../passwd",
        "a//passwd",
        "passwd\x00",
        "",
        "x" * 999,
    ]
    paths = [media_path(code) for code in hostile]
    assert len(set(paths)) == len(hostile)
    for path in paths:
        parts = path.split("/")
        assert parts[0] == "_unsafe" and len(parts) == 2 and ".." not in parts and len(path) < 140
        assert "\\" not in path and "\x00" not in path
    # a code that looks like a neutralised path is neutralised itself: it cannot take another code's place
    assert media_path(paths[0]) != paths[0]
