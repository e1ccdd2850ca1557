"""`manage.py akeneo_connection test|create|list`: the same service and messages as the admin."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from connections.models import Connection
from tests.fake_akeneo import VALID, closed_port_url
from tests.test_connection_test_service import MESSAGE_TABLE

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    old_env = os.environ.copy()
    os.environ.update(env or {})
    try:
        call_command("akeneo_connection", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    finally:
        os.environ.clear()
        os.environ.update(old_env)
    return code, out.getvalue(), err.getvalue()


def credential_args(base_url: str, **overrides: str) -> list[str]:
    values = {**VALID, **overrides}
    return [
        "--base-url", base_url,
        "--client-id", values["client_id"],
        "--secret", values["secret"],
        "--username", values["username"],
        "--password", values["password"],
    ]  # fmt: skip


def test_test_ok(fake_akeneo):
    code, out, _ = run("test", *credential_args(fake_akeneo.base_url()))
    assert (code, out.strip()) == (0, "Connection OK")


@pytest.mark.parametrize(("scenario", "message"), MESSAGE_TABLE)
def test_test_prints_the_exact_message_and_exits_1(fake_akeneo, scenario, message):
    code, out, err = run("test", *credential_args(fake_akeneo.base_url(scenario)))
    assert code == 1
    assert out.strip() == message
    assert err.strip()  # the explanation
    assert VALID["secret"] not in out + err and VALID["password"] not in out + err


def test_unreachable():
    code, out, _ = run("test", *credential_args(closed_port_url()))
    assert (code, out.strip()) == (1, "Could not reach the Akeneo server")


def test_credentials_from_environment(fake_akeneo):
    env = {
        "AKENEO_CLIENT_ID": VALID["client_id"],
        "AKENEO_SECRET": VALID["secret"],
        "AKENEO_USERNAME": VALID["username"],
        "AKENEO_PASSWORD": VALID["password"],
    }
    code, out, _ = run("test", "--base-url", fake_akeneo.base_url(), env=env)
    assert (code, out.strip()) == (0, "Connection OK")


@pytest.mark.django_db
def test_create_tests_first_then_saves(fake_akeneo):
    code, out, _ = run("create", *credential_args(fake_akeneo.base_url("pim") + "///"))
    assert code == 0
    connection = Connection.objects.get()
    assert out.strip().splitlines() == [
        "Connection OK",
        f"Created connection {connection.pk}: {connection.name}",
    ]
    assert connection.name == fake_akeneo.base_url("pim").removeprefix("http://")
    assert connection.base_url == fake_akeneo.base_url("pim")
    assert connection.enabled
    assert connection.credentials().secret == VALID["secret"]


@pytest.mark.django_db
def test_create_with_name_and_second_connection_to_same_host(fake_akeneo):
    assert run("create", *credential_args(fake_akeneo.base_url()), "--name", "Production")[0] == 0
    assert run("create", *credential_args(fake_akeneo.base_url()))[0] == 0
    assert run("create", *credential_args(fake_akeneo.base_url()))[0] == 0
    host = fake_akeneo.base_url().removeprefix("http://")
    assert sorted(Connection.objects.values_list("name", flat=True)) == sorted(
        ["Production", host, f"{host}-2"]
    )


@pytest.mark.django_db
def test_create_with_bad_credentials_saves_nothing(fake_akeneo):
    code, out, _ = run("create", *credential_args(fake_akeneo.base_url(), password="wrong"))
    assert (code, out.strip()) == (1, "Authentication was rejected")
    assert not Connection.objects.exists()


@pytest.mark.django_db
def test_list(fake_akeneo):
    run("create", *credential_args(fake_akeneo.base_url()))
    Connection.objects.update(enabled=False)
    code, out, _ = run("list")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].split() == ["ID", "NAME", "BASE", "URL", "USERNAME", "STATUS"]
    connection = Connection.objects.get()
    assert lines[1].split() == [
        str(connection.pk),
        connection.name,
        connection.base_url,
        VALID["username"],
        "Disabled",
    ]


def test_invalid_base_url_is_a_clear_error(fake_akeneo):
    with pytest.raises(Exception, match="valid http"):
        call_command("akeneo_connection", "test", *credential_args("ftp://example.com"))


def test_real_process_exit_status(fake_akeneo):
    """The exit status scripts rely on, through a real `manage.py` process."""
    command = [sys.executable, str(ROOT / "manage.py"), "akeneo_connection", "test"]
    ok = subprocess.run(
        command + credential_args(fake_akeneo.base_url()),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert (ok.returncode, ok.stdout.strip()) == (0, "Connection OK")
    bad = subprocess.run(
        command + credential_args(fake_akeneo.base_url("forbidden")),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert (bad.returncode, bad.stdout.strip()) == (1, "Access was denied by Akeneo")
    assert VALID["secret"] not in bad.stdout + bad.stderr


def test_server_that_never_answers(silent_server, short_timeouts):
    code, out, err = run("test", *credential_args(silent_server.url))
    assert (code, out.strip()) == (1, "Could not reach the Akeneo server")
    assert "No answer within 1 seconds" in err
