"""`export_catalog --out` that cannot take the export: one line on stderr, exit status 1, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.models import Locale
from devtools.workers import database_url

ROOT = Path(__file__).resolve().parent.parent


def export(out) -> str:
    stdout = StringIO()
    call_command("export_catalog", "--out", str(out), stdout=stdout)
    return stdout.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("/proc/nope", "--out /proc/nope: "),
        ("/etc/passwd", "--out /etc/passwd: exists and is not a directory"),
        ("/etc/passwd/export", "--out /etc/passwd/export: /etc/passwd is not a directory"),
    ],
)
def test_an_unusable_out_is_a_command_error(out, message):
    with pytest.raises(CommandError, match=f"^{message}"):
        export(out)


@pytest.mark.django_db
def test_a_file_where_a_resource_file_goes_is_a_command_error(tmp_path):
    """Refused mid-way by the file system (here `locales.jsonl` is a directory): still one line."""
    Locale.objects.create(code="en_US", data={"code": "en_US", "enabled": True})
    (tmp_path / "locales.jsonl").mkdir()
    with pytest.raises(
        CommandError, match=f"^--out {tmp_path}: cannot write {tmp_path}/locales.jsonl: Is a directory"
    ):
        export(tmp_path)


@pytest.mark.django_db
def test_an_unknown_connection_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="No connection with id or name 'nope'"):
        call_command("export_catalog", "--out", str(tmp_path), "--connection", "nope", stdout=StringIO())


@pytest.mark.django_db
def test_a_new_nested_out_is_created(tmp_path):
    Locale.objects.create(code="en_US", data={"code": "en_US", "enabled": True})
    out = tmp_path / "a" / "b"
    assert "Exported 1 records and media files" in export(out)
    assert (out / "locales.jsonl").read_text() == '{"code": "en_US", "enabled": true}\n'


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("out", ["/proc/nope", "/etc/passwd"])
def test_a_real_process_prints_one_line_and_exits_1(out):
    env = {**os.environ, "DATABASE_URL": database_url()}  # this test database, SQLite or PostgreSQL
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "export_catalog", "--out", out],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=env,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert (
        done.stderr.startswith(f"CommandError: --out {out}: ") and len(done.stderr.strip().splitlines()) == 1
    )
