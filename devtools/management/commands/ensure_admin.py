"""`ensure_admin`: make sure there is a superuser to log in with, and say how.

Why: `make run` on a fresh checkout must end with a login that works, without asking anything (it also runs
unattended) and without a default password that would be the same on every machine. The random password is
kept in VAR_DIR/admin-credentials.txt (mode 0600) so that later runs can print the same login again.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

CREDENTIALS_FILE_NAME = "admin-credentials.txt"


def credentials_path() -> Path:
    return Path(settings.VAR_DIR) / CREDENTIALS_FILE_NAME


def read_stored_login(path: Path) -> tuple[str, str] | None:
    """(username, password) from the credentials file, or None if it is missing or unreadable."""
    try:
        text = path.read_text()
    except (FileNotFoundError, IsADirectoryError):
        return None
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            values[key.strip()] = value.strip()
    if values.get("username") and values.get("password"):
        return values["username"], values["password"]
    return None


def write_stored_login(path: Path, username: str, password: str) -> None:
    """Write the file readable by its owner only; never, even for an instant, with wider permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # O_CREAT's mode is reduced by the umask, and ignored for an existing file
        with os.fdopen(fd, "w") as handle:
            handle.write(
                "# Written by `manage.py ensure_admin` (make run). Delete this file and run it again to get a "
                "new password.\n"
                f"username: {username}\npassword: {password}\n"
            )
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    os.replace(temporary, path)


class Command(BaseCommand):
    help = (
        "Create the superuser (default `admin`) with a random password if it does not exist, keep the "
        f"password in VAR_DIR/{CREDENTIALS_FILE_NAME} (mode 0600) and print the admin login. If the user "
        "exists but that file does not, the password is reset to a new random one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin", help="the superuser's username (default: admin)")
        parser.add_argument("--host", default="127.0.0.1", help="host shown in the login URL")
        parser.add_argument("--port", default="8000", help="port shown in the login URL")

    def handle(self, *args, **options) -> None:
        username: str = options["username"]
        path = credentials_path()
        User = get_user_model()
        with transaction.atomic():
            user = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()
            stored = read_stored_login(path)
            note = ""
            if user is not None and stored is not None and stored[0] == username:
                password = stored[1]
                if not user.check_password(password):
                    note = (
                        f"(This password was changed since {path} was written; delete that file and run "
                        "`manage.py ensure_admin` again to reset it.)"
                    )
            else:
                password = secrets.token_urlsafe(15)
                if user is None:
                    User._default_manager.create_superuser(
                        **{User.USERNAME_FIELD: username}, email="", password=password
                    )
                else:
                    # No record of its password: give it a new one we can show, and make sure it can log in.
                    user.set_password(password)
                    user.is_active = user.is_staff = user.is_superuser = True
                    user.save()
                write_stored_login(path, username, password)
        url = f"http://{options['host']}:{options['port']}/admin/"
        self.stdout.write(f"Admin login: {url}  user: {username}  password: {password}")
        if note:
            self.stdout.write(note)
