"""Admin and command-line hardening: bad hosts and over-long values are form / command errors (never a 500 or
a DataError), odd ids in the admin's own URLs are 404s, testing a connection needs the view permission, the
terminal never receives a stored control character, and unreadable stored credentials are reported at start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.core.management.base import SystemCheckError
from django.urls import reverse

from connections.models import Connection
from tests.factories import ConnectionFactory
from tests.support.akeneo import VALID
from tests.support.connections import credential_args
from tests.support.connections import run_connection_command as run_cli

ROOT = Path(__file__).resolve().parent.parent
ADD_URL = reverse("admin:connections_connection_add")
LONG_LABEL_URL = "http://" + "a" * 64 + ".localhost"
BAD_HOSTS = [
    LONG_LABEL_URL,
    "http://a..localhost",
    "http://" + ".".join(["a" * 60] * 5),  # labels fine, 304 characters in all
    "http://-a.localhost",
    "http://a_%2e.localhost",
]


def create_payload(base_url: str, **overrides: str) -> dict[str, str]:
    return {"base_url": base_url, **VALID, **overrides}


@pytest.fixture
def admin(client, superuser):
    client.force_login(superuser)
    client.raise_request_exception = False  # a crash must show as the 500 a user gets, not as a test error
    return client


# --------------------------------------------------------------------------- bad hosts, over-long values


@pytest.mark.django_db
@pytest.mark.parametrize("url", BAD_HOSTS)
def test_a_bad_host_is_a_form_error_not_a_500(admin, fake_akeneo, url):
    fake_akeneo.requests.clear()
    response = admin.post(ADD_URL, create_payload(url))
    assert response.status_code == 200
    assert "not a valid host" in response.content.decode()
    assert not Connection.objects.exists()


@pytest.mark.django_db
def test_a_bad_host_on_the_change_form_is_a_form_error(admin, fake_akeneo):
    connection = ConnectionFactory(name="prod", base_url=fake_akeneo.base_url())
    response = admin.post(
        reverse("admin:connections_connection_change", args=[connection.pk]),
        {
            "name": "prod",
            "base_url": LONG_LABEL_URL,
            "client_id": VALID["client_id"],
            "secret": "",
            "username": VALID["username"],
            "password": "",
            "enabled": "on",
        },
    )
    assert response.status_code == 200
    assert "not a valid host" in response.content.decode()
    connection.refresh_from_db()
    assert connection.base_url == fake_akeneo.base_url()


@pytest.mark.parametrize("url", BAD_HOSTS[:2])
def test_a_bad_host_is_a_command_error(url):
    with pytest.raises(CommandError, match="not a valid host"):
        call_command("akeneo_connection", "test", *credential_args(url))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("option", "value", "limit"),
    [("username", "u" * 256, 255), ("password", "p" * 501, 500), ("client_id", "c" * 501, 500)],
)
def test_over_long_values_are_command_errors_before_any_call(fake_akeneo, option, value, limit):
    fake_akeneo.requests.clear()
    with pytest.raises(CommandError, match=f"--{option.replace('_', '-')}: at most {limit} characters"):
        call_command(
            "akeneo_connection", "create", *credential_args(fake_akeneo.base_url(), **{option: value})
        )
    assert fake_akeneo.requests == []
    assert not Connection.objects.exists()


@pytest.mark.django_db
def test_an_over_long_name_is_a_command_error(fake_akeneo):
    with pytest.raises(CommandError, match="--name: at most 255 characters"):
        call_command(
            "akeneo_connection", "create", *credential_args(fake_akeneo.base_url()), "--name", "n" * 256
        )
    assert not Connection.objects.exists()


@pytest.mark.django_db
def test_a_name_derived_from_a_long_base_url_fits_its_column(admin, fake_akeneo):
    """A 400-character path prefix makes a name longer than the 255 the column holds (PostgreSQL: DataError)."""
    base_url = fake_akeneo.base_url("p" * 400)
    assert admin.post(ADD_URL, create_payload(base_url)).status_code == 302
    code, out, _ = run_cli("create", *credential_args(base_url))
    assert code == 0, out
    names = list(Connection.objects.order_by("pk").values_list("name", flat=True))
    assert len(names) == 2 and len(set(names)) == 2
    assert all(len(name) <= 255 for name in names)
    assert names[0].startswith("127.0.0.1:") and names[1].startswith(names[0])


@pytest.mark.django_db
def test_an_over_long_username_is_a_form_error(admin, fake_akeneo):
    response = admin.post(ADD_URL, create_payload(fake_akeneo.base_url(), username="u" * 256))
    assert response.status_code == 200
    assert "at most 255 characters" in response.content.decode()


# --------------------------------------------------------------------------- the admin's own URLs


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/admin/connections/connection/{}/test/",
        "/admin/migrations_runs/migrationrun/connection/{}/migrate/",
        "/admin/migrations_runs/migrationrun/{}/change/",
    ],
)
@pytest.mark.parametrize("object_id", ["abc", "1abc", "999999", "1/x"])
def test_odd_ids_in_test_migrate_and_run_urls_are_404(admin, url, object_id):
    ConnectionFactory(name="prod")
    response = admin.post(url.format(object_id))
    assert response.status_code == 404


@pytest.mark.django_db
def test_testing_needs_the_view_permission_too(client, make_staff, fake_akeneo):
    connection = ConnectionFactory(name="prod", base_url=fake_akeneo.base_url())
    client.force_login(make_staff("test_connection"))
    fake_akeneo.requests.clear()
    response = client.post(reverse("admin:connections_connection_test", args=[connection.pk]))
    assert response.status_code == 403
    assert fake_akeneo.requests == []


# --------------------------------------------------------------------------- terminal output


@pytest.mark.django_db
def test_list_never_sends_control_characters_to_the_terminal():
    ConnectionFactory(
        name="evil\x1b[2J\x1b]0;owned\x07\rname\u202e",
        base_url="https://x.example/\x1b[31mred",
        username="user\x9b1m",
    )
    code, out, _ = run_cli("list")
    assert code == 0
    for raw in ("\x1b", "\x07", "\r", "\x9b", "\u202e"):
        assert raw not in out
    assert "evil\\x1b[2J\\x1b]0;owned\\x07\\rname\\u202e" in out
    assert "https://x.example/\\x1b[31mred" in out and "user\\x9b1m" in out


# --------------------------------------------------------------------------- start-up check on the key


@pytest.fixture
def other_key(settings):
    """What a lost key looks like: the connection was saved with one key, the app now has another."""
    ConnectionFactory(name="prod")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    return settings


@pytest.mark.django_db
def test_check_warns_when_no_key_opens_stored_credentials(other_key):
    with pytest.raises(SystemCheckError) as raised:
        call_command("check", fail_level="WARNING", stdout=StringIO(), stderr=StringIO())
    message = str(raised.value)
    assert "connections.W001" in message
    assert "no key in FIELD_ENCRYPTION_KEYS can decrypt" in message
    assert "rotate_encryption_keys" in message


@pytest.mark.django_db
def test_check_names_the_development_key_file_when_it_is_in_use(other_key, tmp_path):
    other_key.VAR_DIR = tmp_path
    (tmp_path / "field-encryption.key").write_text(other_key.FIELD_ENCRYPTION_KEYS[0] + "\n")
    with pytest.raises(SystemCheckError, match=r"development key file .*field-encryption\.key"):
        call_command("check", fail_level="WARNING", stdout=StringIO(), stderr=StringIO())


@pytest.mark.django_db
def test_check_is_quiet_when_the_key_opens_everything():
    ConnectionFactory(name="prod")
    call_command("check", fail_level="WARNING", stdout=StringIO(), stderr=StringIO())


def test_check_before_migrate_does_not_crash(tmp_path):
    """A fresh database without tables (the first `migrate` runs the checks too)."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "check", "--fail-level", "WARNING"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
