"""`manage.py akeneo_connection test|create|list|update|delete`: the same service and messages as the admin."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from catalog.models import Locale
from connections.models import Connection
from migrations_runs.models import Mapping, MigrationRun, MigrationStep, Status
from tests.factories import ConnectionFactory
from tests.support.akeneo import VALID, closed_port_url
from tests.support.connections import MESSAGE_TABLE, credential_args
from tests.support.connections import run_connection_command as run

ROOT = Path(__file__).resolve().parent.parent


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
    assert (
        ok.stderr == ""
    )  # the service's INFO log line ("connection test … succeeded") stays off the terminal
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


# --------------------------------------------------------------------------- test ID|NAME (a stored connection)


@pytest.fixture
def stored(fake_akeneo):
    fake_akeneo.requests.clear()
    return ConnectionFactory(name="prod", base_url=fake_akeneo.base_url())


@pytest.mark.django_db
def test_test_a_stored_connection_by_id_and_by_name(stored, fake_akeneo):
    assert run("test", str(stored.pk)) == (0, "Connection OK\n", "")
    assert run("test", "prod") == (0, "Connection OK\n", "")
    assert len(fake_akeneo.requests) == 2  # each one a live token call


@pytest.mark.django_db
def test_test_a_stored_connection_akeneo_refuses_exits_1(fake_akeneo):
    ConnectionFactory(name="broken", base_url=fake_akeneo.base_url(), credentials={"password": "wrong"})
    code, out, err = run("test", "broken")
    assert (code, out.strip()) == (1, "Authentication was rejected")
    assert "Check the Client ID" in err


@pytest.mark.django_db
def test_test_an_unknown_connection_or_both_forms_is_a_command_error(stored, fake_akeneo):
    with pytest.raises(CommandError, match="No connection 'nope'"):
        run("test", "nope")
    with pytest.raises(CommandError, match="--base-url: give either a stored connection"):
        run("test", "prod", "--base-url", fake_akeneo.base_url())
    with pytest.raises(CommandError, match="--base-url is required"):
        run("test")
    assert fake_akeneo.requests == []


# --------------------------------------------------------------------------- update


def history_count(connection: Connection) -> int:
    return connection.history.count()


@pytest.mark.django_db
def test_update_name_and_status_saves_without_a_live_test(stored, fake_akeneo):
    code, out, _ = run("update", "prod", "--name", "production", "--disable")
    assert (code, out.strip()) == (0, f"Connection {stored.pk} (production) changed: name, enabled.")
    stored.refresh_from_db()
    assert (stored.name, stored.enabled) == ("production", False)
    assert fake_akeneo.requests == []  # nothing Akeneo authenticates changed
    latest = stored.history.first()
    assert latest.history_change_reason == "command line"
    assert run("update", str(stored.pk), "--enable")[0] == 0
    stored.refresh_from_db()
    assert stored.enabled


@pytest.mark.django_db
def test_update_credentials_is_tested_live_then_saved(stored, fake_akeneo):
    """The fake accepts only VALID: a changed username must come with a password Akeneo accepts; here the
    secret is re-typed identical and the base URL gets a trailing slash, normalised away (no change)."""
    code, out, _ = run(
        "update", "prod", "--base-url", fake_akeneo.base_url() + "/", "--secret", VALID["secret"]
    )
    assert (code, out.strip()) == (0, f"Connection {stored.pk} (prod) unchanged: the same values.")
    assert fake_akeneo.requests == []
    other = ConnectionFactory(name="other", base_url=fake_akeneo.base_url(), credentials={"secret": "old"})
    revision = other.secret_revision
    code, out, _ = run("update", "other", "--secret", VALID["secret"])
    assert code == 0
    assert out.strip().splitlines() == ["Connection OK", f"Connection {other.pk} (other) changed: secret."]
    other.refresh_from_db()
    assert other.secret == VALID["secret"] and other.secret_revision == revision + 1
    assert len(fake_akeneo.requests) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--password", "wrong"], "Authentication was rejected"),
        (["--username", "someone-else"], "Authentication was rejected"),
        (["--base-url", closed_port_url()], "Could not reach the Akeneo server"),
    ],
)
def test_update_with_credentials_akeneo_refuses_changes_nothing(stored, fake_akeneo, options, message):
    before = (stored.base_url, stored.username, stored.password_encrypted, stored.password_revision)
    rows = history_count(stored)
    code, out, err = run("update", "prod", "--name", "renamed", *options)
    assert (code, out.strip()) == (1, message)
    assert err.strip()
    stored.refresh_from_db()
    assert stored.name == "prod"  # the other changes of the same command are not saved either
    assert (stored.base_url, stored.username, stored.password_encrypted, stored.password_revision) == before
    assert history_count(stored) == rows
    assert "wrong" not in out + err


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--name", "taken"], "--name: a connection named 'taken' already exists"),
        (["--name", "  "], "--name: may not be empty"),
        (["--base-url", "ftp://example.com"], "--base-url: .*valid http"),
        (["--password", ""], "--password: may not be empty"),
        (["--username", "u" * 256], "--username: at most 255 characters"),
        (["--events-secret", "e" * 501], "--events-secret: at most 500 characters"),
    ],
)
def test_update_with_a_bad_value_is_a_command_error_and_changes_nothing(
    stored, fake_akeneo, options, message
):
    ConnectionFactory(name="taken")
    rows = history_count(stored)
    with pytest.raises(CommandError, match=message):
        run("update", "prod", *options)
    stored.refresh_from_db()
    assert stored.name == "prod" and history_count(stored) == rows
    assert fake_akeneo.requests == []


@pytest.mark.django_db
def test_update_an_unknown_connection_or_with_nothing_to_change(stored):
    with pytest.raises(CommandError, match="No connection '404'"):
        run("update", "404", "--name", "x")
    with pytest.raises(CommandError, match="Nothing to change"):
        run("update", "prod")


@pytest.mark.django_db
def test_update_events_secret_from_the_environment(stored, fake_akeneo):
    code, out, _ = run("update", "prod", env={"AKENEO_EVENTS_SECRET": "events-secret-123456"})
    assert (code, out.strip()) == (0, f"Connection {stored.pk} (prod) changed: events secret.")
    stored.refresh_from_db()
    assert stored.events_secret == "events-secret-123456"
    # --from-env takes every variable set; the credentials among them are tested live
    env = {"AKENEO_EVENTS_SECRET": "another-secret-123456", "AKENEO_PASSWORD": "wrong"}
    code, out, _ = run("update", "prod", "--from-env", env=env)
    assert (code, out.strip()) == (1, "Authentication was rejected")
    stored.refresh_from_db()
    assert stored.events_secret == "events-secret-123456"
    env["AKENEO_PASSWORD"] = VALID["password"]
    code, out, _ = run("update", "prod", "--from-env", "--name", "p2", env=env)
    assert (code, out.strip().splitlines()[-1]) == (
        0,
        f"Connection {stored.pk} (p2) changed: name, events secret.",
    )
    stored.refresh_from_db()
    assert stored.events_secret == "another-secret-123456"


@pytest.mark.django_db
def test_update_output_shows_control_characters_escaped(stored):
    code, out, _ = run("update", "prod", "--name", "evil\x1b[31mred")
    assert code == 0
    assert "\x1b" not in out and "evil\\x1b[31mred" in out


# --------------------------------------------------------------------------- delete


def imported_catalog(connection: Connection) -> tuple[MigrationRun, Locale]:
    """A finished run of the connection and the catalog row it imported (with its mapping)."""
    run = MigrationRun.objects.create(connection=connection, entities=["locales"], status=Status.COMPLETED)
    MigrationStep.objects.create(run=run, entity="locales", position=0, status=Status.COMPLETED, read=1)
    locale = Locale.objects.create(code="en_US", data={"code": "en_US", "enabled": True})
    Mapping.objects.create(connection=connection, resource="locales", akeneo_key="en_US", object_id=locale.pk)
    return run, locale


@pytest.mark.django_db
def test_delete_with_yes_keeps_the_imported_catalog(stored):
    run_, locale = imported_catalog(stored)
    code, out, _ = run("delete", "prod", "--yes")
    assert (code, out.strip()) == (0, f"Deleted connection {stored.pk} (prod); the imported catalog is kept.")
    assert not Connection.objects.filter(pk=stored.pk).exists()
    assert not MigrationRun.objects.filter(pk=run_.pk).exists() and not Mapping.objects.exists()
    assert Locale.objects.filter(pk=locale.pk).exists()


@pytest.mark.django_db
def test_delete_asks_first_and_only_yes_deletes(stored):
    with pytest.raises(CommandError, match="Not deleted"):
        run("delete", "prod", stdin="n\n")
    with pytest.raises(CommandError, match="Not deleted"):
        run("delete", "prod", stdin="")  # end of input: no
    assert Connection.objects.filter(pk=stored.pk).exists()
    code, _, err = run("delete", "prod", stdin="yes\n")
    assert code == 0 and "The imported catalog is kept." in err  # the question
    assert not Connection.objects.filter(pk=stored.pk).exists()


@pytest.mark.django_db
def test_delete_no_input_does_not_ask(stored):
    assert run("delete", str(stored.pk), "--no-input", stdin="")[0] == 0
    assert not Connection.objects.exists()


@pytest.mark.django_db
def test_delete_is_refused_while_a_run_is_alive_and_unknown_names_are_errors(stored):
    run_ = MigrationRun.objects.create(connection=stored, entities=["locales"], status=Status.RUNNING)
    MigrationStep.objects.create(
        run=run_, entity="locales", position=0, status=Status.RUNNING, heartbeat_at=timezone.now()
    )
    with pytest.raises(CommandError, match=f"Migration run #{run_.pk} is running on this connection"):
        run("delete", "prod", "--yes")
    assert Connection.objects.filter(pk=stored.pk).exists()
    with pytest.raises(CommandError, match="No connection 'ghost'"):
        run("delete", "ghost", "--yes")
