"""Credentials at rest: encrypted columns, no secret in history rows, key rotation, key configuration."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection as db
from django.urls import reverse

from akeneo_migration.keys import load_field_encryption_keys
from connections.akeneo.auth import Credentials
from connections.models import Connection
from tests.factories import ConnectionFactory
from tests.support.akeneo import VALID

ROOT = Path(__file__).resolve().parent.parent


def all_cells(table: str) -> str:
    with db.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {db.ops.quote_name(table)}")
        return "\n".join(" ".join(str(cell) for cell in row) for row in cursor.fetchall())


@pytest.mark.django_db
def test_raw_sql_finds_no_plaintext_secret_in_connection_or_history_tables(client, superuser, fake_akeneo):
    client.force_login(superuser)
    client.post(reverse("admin:connections_connection_add"), {"base_url": fake_akeneo.base_url(), **VALID})
    connection = Connection.objects.get()
    fake_akeneo.valid["secret"] = "rotated-secret-42"
    try:
        response = client.post(
            reverse("admin:connections_connection_change", args=[connection.pk]),
            {
                "name": "renamed",
                "base_url": connection.base_url,
                "client_id": VALID["client_id"],
                "secret": "rotated-secret-42",
                "username": VALID["username"],
                "password": "",
                "enabled": "on",
            },
        )
    finally:
        fake_akeneo.valid["secret"] = VALID["secret"]
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.secret == "rotated-secret-42" and connection.secret_revision == 2

    live = all_cells(Connection._meta.db_table)
    history = all_cells(Connection.history.model._meta.db_table)
    for plaintext in (VALID["client_id"], VALID["secret"], VALID["password"], "rotated-secret-42"):
        assert plaintext not in live
        assert plaintext not in history
    for ciphertext in (
        connection.client_id_encrypted,
        connection.secret_encrypted,
        connection.password_encrypted,
    ):
        assert ciphertext in live
        assert ciphertext not in history  # history keeps no ciphertext either, only revision counters
        assert ciphertext.startswith("gAAAA")  # Fernet token
    assert "renamed" in history


@pytest.mark.django_db
def test_key_rotation_keeps_data_readable(settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    connection = ConnectionFactory()
    history_rows = Connection.history.count()
    before = connection.secret_encrypted

    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    connection.refresh_from_db()
    assert connection.secret == VALID["secret"]  # readable with the old key still listed
    out = StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "Re-encrypted the credentials of 1 connection(s)" in out.getvalue()

    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # old key dropped
    connection.refresh_from_db()
    assert connection.secret_encrypted != before
    assert connection.credentials() == Credentials(
        base_url=connection.base_url, **{k: VALID[k] for k in ("client_id", "secret", "username", "password")}
    )
    assert Connection.history.count() == history_rows  # a re-encryption is not a change


@pytest.mark.django_db
def test_rotation_reports_connections_no_key_opens(settings):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    connection = ConnectionFactory()
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(
        Exception, match=f"could not be decrypted with any configured key \\(ids: {connection.pk}\\)"
    ):
        call_command("rotate_encryption_keys", stdout=StringIO())


def test_development_key_is_generated_once_with_mode_0600(tmp_path):
    key_file = tmp_path / "var" / "field-encryption.key"
    [first] = load_field_encryption_keys("", debug=True, key_file=key_file)
    [second] = load_field_encryption_keys("", debug=True, key_file=key_file)
    assert first == second
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    Fernet(first)


def test_configured_keys_win_and_are_validated(tmp_path):
    keys = [Fernet.generate_key().decode(), Fernet.generate_key().decode()]
    assert load_field_encryption_keys(" , ".join(keys), debug=False, key_file=tmp_path / "k") == keys
    assert not (tmp_path / "k").exists()
    with pytest.raises(ImproperlyConfigured, match="key #2 is not a valid Fernet key"):
        load_field_encryption_keys(f"{keys[0]},not-a-key", debug=True, key_file=tmp_path / "k")


def test_production_without_key_refuses_to_start(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEYS is not set"):
        load_field_encryption_keys("", debug=False, key_file=tmp_path / "k")


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    # A clean environment, as on a server: nothing from the test process (e.g. DJANGO_ALLOW_ASYNC_UNSAFE).
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    env.update(
        DEBUG="0",
        SECRET_KEY="x" * 20 + "-production-secret-key-for-the-deploy-check-0123456789",
        ALLOWED_HOSTS="pim.example.com",
        VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    env.update(extra)
    return env


def test_manage_py_with_debug_0_and_no_key_stops_with_a_clear_message(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS is not set" in result.stderr
    assert not (tmp_path / "field-encryption.key").exists()


def test_production_settings_pass_check_deploy(tmp_path):
    env = production_env(tmp_path, FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode())
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
