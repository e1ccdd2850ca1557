"""`akeneo_connection test|create|list|update|delete`: the same services as the admin, for scripts."""

from __future__ import annotations

import os
from typing import NoReturn

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser

from connections.akeneo.auth import Credentials
from connections.base_url import normalize_base_url
from connections.models import Connection
from connections.services import (
    CONNECTION_OK,
    ConnectionBusy,
    ConnectionNotSaved,
    ConnectionTestResult,
    apply_update,
    create_connection,
    delete_connection,
    find_connection,
    length_errors,
    prepare_update,
    verify_connection,
    verify_credentials,
)
from connections.terminal import UNSAFE_FOR_TERMINAL, TerminalCommand, for_terminal

__all__ = ["UNSAFE_FOR_TERMINAL", "Command", "for_terminal"]

ENV_FALLBACKS = {
    "client_id": "AKENEO_CLIENT_ID",
    "secret": "AKENEO_SECRET",
    "username": "AKENEO_USERNAME",
    "password": "AKENEO_PASSWORD",
}
EVENTS_SECRET_VARIABLE = "AKENEO_EVENTS_SECRET"
FIELD_LABELS = {"events_secret": "events secret", "base_url": "base URL", "client_id": "client ID"}


def connection_or_error(key: str) -> Connection:
    """The connection a user named by id or name, or a one-line command error."""
    connection = find_connection(key)
    if connection is None:
        raise CommandError(
            f"No connection {for_terminal(key)!r} (give its id or name; see: manage.py akeneo_connection list)"
        )
    return connection


def validation_error(exc: ValidationError) -> CommandError:
    """A service's field errors as one line naming the options (`--name: may not be empty`)."""
    if hasattr(exc, "message_dict"):
        parts = [
            f"--{field_name.replace('_', '-')}: {'; '.join(messages)}"
            for field_name, messages in exc.message_dict.items()
        ]
    else:
        parts = exc.messages
    return CommandError(for_terminal(" / ".join(parts)))


class Command(TerminalCommand):
    help = "Test, create, list, update or delete Akeneo connections."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        test = actions.add_parser(
            "test",
            help="Re-test a stored connection (ID|NAME), or test credentials given as options without saving.",
        )
        test.add_argument("connection", nargs="?", metavar="ID|NAME", help="a stored connection's id or name")
        create = actions.add_parser("create", help="Test credentials, then save an enabled connection.")
        for sub in (test, create):
            sub.add_argument("--base-url", help="Akeneo Base URL, e.g. https://your-instance.cloud")
            for option, variable in ENV_FALLBACKS.items():
                sub.add_argument(
                    f"--{option.replace('_', '-')}",
                    dest=option,
                    help=f"defaults to ${variable} (prefer the variable for secrets: options show in ps)",
                )
        create.add_argument("--name", default="", help="defaults to the Base URL's host (and path prefix)")
        actions.add_parser("list", help="List connections.")

        update = actions.add_parser(
            "update",
            help="Change a stored connection. New credentials (base URL, client ID, secret, username, password) "
            "are tested live first; a failed test changes nothing.",
        )
        update.add_argument("connection", metavar="ID|NAME", help="the connection's id or name")
        update.add_argument("--name")
        update.add_argument("--base-url")
        for option, variable in ENV_FALLBACKS.items():
            update.add_argument(
                f"--{option.replace('_', '-')}", dest=option, help=f"or ${variable} with --from-env"
            )
        state = update.add_mutually_exclusive_group()
        state.add_argument("--enable", dest="enabled", action="store_const", const=True)
        state.add_argument("--disable", dest="enabled", action="store_const", const=False)
        update.add_argument(
            "--events-secret",
            dest="events_secret",
            help=f"the secret Akeneo signs its events with; or ${EVENTS_SECRET_VARIABLE} (with --from-env, or "
            "when no other change is given)",
        )
        update.add_argument(
            "--from-env",
            action="store_true",
            help=f"take each credential not given as an option from its variable, when set "
            f"(${', $'.join([*ENV_FALLBACKS.values(), EVENTS_SECRET_VARIABLE])}): options show in ps",
        )

        delete = actions.add_parser(
            "delete",
            help="Delete a connection with its migration history; the imported catalog is kept.",
        )
        delete.add_argument("connection", metavar="ID|NAME", help="the connection's id or name")
        delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        delete.add_argument(
            "--no-input", "--noinput", dest="interactive", action="store_false", help="do not ask (as --yes)"
        )

    def handle(self, *args, **options) -> None:
        action = options["action"]
        if action == "list":
            self._list()
        elif action == "update":
            self._update(options)
        elif action == "delete":
            self._delete(options)
        elif action == "test" and options.get("connection"):
            self._test_stored(options)
        elif action == "test":
            result = verify_credentials(self._credentials(options))
            if not result.ok:
                self._fail(result)
            self.stdout.write(CONNECTION_OK)
        else:
            self._create(options)

    def _create(self, options: dict) -> None:
        credentials = self._credentials(options)
        try:
            connection = create_connection(credentials, name=options["name"] or "")
        except ValidationError as exc:
            raise validation_error(exc) from None
        except ConnectionNotSaved as exc:
            self._fail(exc.result)
        self.stdout.write(CONNECTION_OK)
        self.stdout.write(f"Created connection {connection.pk}: {for_terminal(connection.name)}")

    def _test_stored(self, options: dict) -> None:
        given = [f"--{name.replace('_', '-')}" for name in ("base_url", *ENV_FALLBACKS) if options.get(name)]
        if given:
            raise CommandError(
                f"{', '.join(given)}: give either a stored connection (ID|NAME) or credentials, not both"
            )
        connection = connection_or_error(options["connection"])
        result = verify_connection(connection)
        if not result.ok:
            self._fail(result)
        self.stdout.write(CONNECTION_OK)

    def _update(self, options: dict) -> None:
        connection = connection_or_error(options["connection"])
        values = {name: options.get(name) for name in ("name", "base_url", *ENV_FALLBACKS, "enabled")}
        values["events_secret"] = options.get("events_secret")
        if options["from_env"]:
            variables = {**ENV_FALLBACKS, "events_secret": EVENTS_SECRET_VARIABLE}
            for name, variable in variables.items():
                if values[name] is None and os.environ.get(variable):
                    values[name] = os.environ[variable]
        elif all(value is None for value in values.values()) and os.environ.get(EVENTS_SECRET_VARIABLE):
            values["events_secret"] = os.environ[EVENTS_SECRET_VARIABLE]
        if all(value is None for value in values.values()):
            raise CommandError(
                "Nothing to change: give at least one of --name, --base-url, --client-id, --secret, "
                "--username, --password, --enable/--disable, --events-secret (or --from-env)"
            )
        try:
            changes = prepare_update(connection, **values)
        except ValidationError as exc:
            raise validation_error(exc) from None
        except ConnectionNotSaved as exc:
            self._fail(exc.result)
        if changes.test is not None:
            self.stdout.write(CONNECTION_OK)
        try:
            changed = apply_update(changes, reason="command line")
        except ValidationError as exc:
            raise validation_error(exc) from None
        label = f"Connection {connection.pk} ({for_terminal(connection.name)})"
        if not changed:
            self.stdout.write(f"{label} unchanged: the same values.")
            return
        names = ", ".join(FIELD_LABELS.get(name, name.replace("_", " ")) for name in changed)
        self.stdout.write(f"{label} changed: {names}.")

    def _delete(self, options: dict) -> None:
        connection = connection_or_error(options["connection"])
        label = f"connection {connection.pk} ({for_terminal(connection.name)})"
        if not options["yes"] and options["interactive"]:
            runs = connection.migration_runs.count()
            if not self.confirm(
                f"Delete {label} with its {runs} migration run(s)? The imported catalog is kept."
            ):
                raise CommandError(f"Not deleted: {label} (answer 'yes', or pass --yes).")
        try:
            delete_connection(connection)
        except ConnectionBusy as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Deleted {label}; the imported catalog is kept.")

    def _credentials(self, options: dict) -> Credentials:
        if not options.get("base_url"):
            raise CommandError("--base-url is required (or, for `test`, a stored connection's ID|NAME)")
        try:
            base_url = normalize_base_url(options["base_url"])
        except ValidationError as exc:
            raise CommandError(f"--base-url: {for_terminal(exc.messages[0])}") from None
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
