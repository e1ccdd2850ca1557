"""`manage.py ensure_admin` (run by `make run`): a superuser with a random password, shown again on later runs."""

from __future__ import annotations

import re
import stat
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

LOGIN = re.compile(r"^Admin login: (?P<url>\S+)  user: (?P<user>\S+)  password: (?P<password>\S+)$", re.M)


@pytest.fixture
def var_dir(settings, tmp_path) -> Path:
    settings.VAR_DIR = tmp_path / "var"
    return settings.VAR_DIR


def ensure_admin(*args: str) -> re.Match:
    out = StringIO()
    call_command("ensure_admin", *args, stdout=out)
    match = LOGIN.search(out.getvalue())
    assert match, out.getvalue()
    return match


def stored_file(var_dir: Path) -> Path:
    return var_dir / "admin-credentials.txt"


@pytest.mark.django_db
def test_creates_a_superuser_with_a_random_password_and_stores_it_privately(var_dir):
    login = ensure_admin()

    assert login["url"] == "http://127.0.0.1:8000/admin/"
    assert login["user"] == "admin"
    user = get_user_model().objects.get(username="admin")
    assert user.is_superuser and user.is_staff and user.is_active
    assert user.check_password(login["password"])
    assert len(login["password"]) >= 16
    path = stored_file(var_dir)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert f"password: {login['password']}" in path.read_text()
    assert not list(var_dir.glob(".*.tmp"))


@pytest.mark.django_db
def test_two_installations_get_different_passwords(var_dir):
    first = ensure_admin()["password"]
    get_user_model().objects.all().delete()
    stored_file(var_dir).unlink()

    assert ensure_admin()["password"] != first


@pytest.mark.django_db
def test_a_second_run_prints_the_same_login_and_changes_nothing(var_dir):
    first = ensure_admin()
    hashed = get_user_model().objects.get(username="admin").password

    second = ensure_admin()

    assert second.group(0) == first.group(0)
    assert get_user_model().objects.get(username="admin").password == hashed
    assert get_user_model().objects.count() == 1


@pytest.mark.django_db
def test_existing_user_without_the_file_gets_a_new_password_that_is_stored(var_dir):
    user = get_user_model().objects.create_user(username="admin", password="old-password-123")

    login = ensure_admin()

    user.refresh_from_db()
    assert login["password"] != "old-password-123"
    assert user.check_password(login["password"])
    assert not user.check_password("old-password-123")
    assert user.is_superuser and user.is_staff and user.is_active
    assert stat.S_IMODE(stored_file(var_dir).stat().st_mode) == 0o600
    assert ensure_admin()["password"] == login["password"]


@pytest.mark.django_db
def test_stale_file_from_a_deleted_database_is_replaced(var_dir):
    var_dir.mkdir(parents=True)
    stored_file(var_dir).write_text("username: admin\npassword: from-an-old-database\n")

    login = ensure_admin()

    assert login["password"] != "from-an-old-database"
    assert get_user_model().objects.get(username="admin").check_password(login["password"])
    assert f"password: {login['password']}" in stored_file(var_dir).read_text()


@pytest.mark.django_db
def test_username_host_and_port_options(var_dir):
    login = ensure_admin("--username", "pim-admin", "--host", "localhost", "--port", "8123")

    assert login["url"] == "http://localhost:8123/admin/"
    assert login["user"] == "pim-admin"
    assert get_user_model().objects.get(username="pim-admin").check_password(login["password"])
    assert not get_user_model().objects.filter(username="admin").exists()


@pytest.mark.django_db
def test_file_written_for_another_user_is_not_used(var_dir):
    ensure_admin()
    user = get_user_model().objects.create_user(username="other", password="their-password-123")

    login = ensure_admin("--username", "other")

    user.refresh_from_db()
    assert user.check_password(login["password"])
    assert "username: other" in stored_file(var_dir).read_text()


@pytest.mark.django_db
def test_password_changed_in_the_admin_is_reported_not_overwritten(var_dir):
    ensure_admin()
    user = get_user_model().objects.get(username="admin")
    user.set_password("changed-by-hand-123")
    user.save()

    out = StringIO()
    call_command("ensure_admin", stdout=out)

    assert "was changed since" in out.getvalue()
    user.refresh_from_db()
    assert user.check_password("changed-by-hand-123")
