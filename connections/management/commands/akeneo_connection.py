"""`akeneo_connection test|create|list|update`: the same services as the admin, for scripts."""

from __future__ import annotations

import os
import re
from typing import NoReturn

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from connections.akeneo.auth import Credentials
from connections.base_url import normalize_base_url
from connections.models import Connection
from connections.services import (
    CONNECTION_OK,
    ConnectionNotSaved,
    ConnectionTestResult,
    create_connection,
    field_max_length,
    find_connection,
    length_errors,
    verify_credentials,
)

ENV_FALLBACKS = {
    "client_id": "AKENEO_CLIENT_ID",
    "secret": "AKENEO_SECRET",
    "username": "AKENEO_USERNAME",
    "password": "AKENEO_PASSWORD",
}

EVENTS_SECRET_VARIABLE = "AKENEO_EVENTS_SECRET"
CREDENTIAL_MAX = field_max_length("secret")

# What a stored name, a URL or an Akeneo message could use to take over the terminal: C0/C1 control characters
# (ESC starts escape sequences, CR rewrites a line) and the bidi controls that reorder what is displayed.
UNSAFE_FOR_TERMINAL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def for_terminal(text: object) -> str:
    """The text with each unsafe character shown as its escape (`\\x1b`), never sent to the terminal raw."""
    return UNSAFE_FOR_TERMINAL.sub(
        lambda match: match.group().encode("unicode_escape").decode("ascii"), str(text)
    )


class Command(BaseCommand):
    help = "Test, create or list Akeneo connections."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        for action, description in (
            ("test", "Test credentials against Akeneo without saving anything."),
            ("create", "Test credentials, then save an enabled connection."),
        ):
            sub = actions.add_parser(action, help=description)
            sub.add_argument(
                "--base-url", required=True, help="Akeneo Base URL, e.g. https://your-instance.cloud"
            )
            for option, variable in ENV_FALLBACKS.items():
                sub.add_argument(
                    f"--{option.replace('_', '-')}",
                    dest=option,
                    help=f"defaults to ${variable} (prefer the variable for secrets: options show in ps)",
                )
            if action == "create":
                sub.add_argument(
                    "--name", default="", help="defaults to the Base URL's host (and path prefix)"
                )
        actions.add_parser("list", help="List connections.")
        update = actions.add_parser("update", help="Change a stored connection: its events secret.")
        update.add_argument("connection", metavar="ID|NAME", help="the connection's id or name")
        update.add_argument(
            "--events-secret",
            dest="events_secret",
            help=f"the secret Akeneo signs its events with; defaults to ${EVENTS_SECRET_VARIABLE} (prefer the "
            "variable: options show in ps)",
        )

    def handle(self, *args, **options) -> None:
        action = options["action"]
        if action == "list":
            self._list()
            return
        if action == "update":
            self._update(options)
            return
        credentials = self._credentials(options)
        if action == "test":
            result = verify_credentials(credentials)
            if not result.ok:
                self._fail(result)
            self.stdout.write(CONNECTION_OK)
            return
        try:
            connection = create_connection(credentials, name=options["name"] or "")
        except ConnectionNotSaved as exc:
            self._fail(exc.result)
        self.stdout.write(CONNECTION_OK)
        self.stdout.write(f"Created connection {connection.pk}: {for_terminal(connection.name)}")

    def _update(self, options: dict) -> None:
        """Set the events secret (History says "Events secret: changed", never the value)."""
        connection = find_connection(options["connection"])
        if connection is None:
            raise CommandError(
                f"No connection {for_terminal(options['connection'])!r} (give its id or name)."
            )
        secret = options.get("events_secret")
        if secret is None:
            secret = os.environ.get(EVENTS_SECRET_VARIABLE)
        if not secret:
            raise CommandError(f"--events-secret (or ${EVENTS_SECRET_VARIABLE}) is required")
        if len(secret) > CREDENTIAL_MAX:
            raise CommandError(f"--events-secret: at most {CREDENTIAL_MAX} characters")
        if connection.set_events_secret(secret):
            connection._change_reason = "command line"
            connection.save(update_fields=["events_secret_encrypted", "events_secret_revision", "updated_at"])
            self.stdout.write(f"Events secret of connection {connection.pk} changed.")
        else:
            self.stdout.write(f"Events secret of connection {connection.pk} unchanged (the same value).")

    def _credentials(self, options: dict) -> Credentials:
        try:
            base_url = normalize_base_url(options["base_url"])
        except ValidationError as exc:
            raise CommandError(f"--base-url: {exc.messages[0]}") from None
        values = {}
        for option, variable in ENV_FALLBACKS.items():
            value = options.get(option) or os.environ.get(variable, "")
            if not value:
                raise CommandError(f"--{option.replace('_', '-')} (or ${variable}) is required")
            values[option] = value
        name = options.get("name") or ""
        errors = length_errors(base_url=base_url, name=name, **values)
        if errors:
            field_name, message = next(iter(errors.items()))
            raise CommandError(f"--{field_name.replace('_', '-')}: {message}")
        return Credentials(base_url=base_url, **values)

    def _fail(self, result: ConnectionTestResult) -> NoReturn:
        """The exact user message on stdout (scripts match it), the explanation on stderr, exit status 1."""
        self.stdout.write(for_terminal(result.message))
        if result.explanation:
            self.stderr.write(for_terminal(result.explanation))
        raise SystemExit(1)

    def _list(self) -> None:
        rows = [("ID", "NAME", "BASE URL", "USERNAME", "STATUS")]
        rows += [
            tuple(for_terminal(cell) for cell in (c.pk, c.name, c.base_url, c.username, c.status))
            for c in Connection.objects.order_by("pk")
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        for row in rows:
            self.stdout.write(
                "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            )
