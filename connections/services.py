"""Connection operations shared by the admin, the command line and (later) the migrations.

`verify_credentials` is the one place that turns the outcome of Akeneo's token call into the message a user
reads. Results and exceptions never carry a credential.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.views.decorators.debug import sensitive_variables

from connections.akeneo.auth import Credentials, token_url
from connections.akeneo.client import AkeneoClient, ClientSettings
from connections.akeneo.errors import AkeneoError, AkeneoHTTPError, AkeneoNotAnAPI, AkeneoUnreachable
from connections.base_url import name_from_base_url, normalize_base_url
from connections.crypto import CredentialsUnreadable
from connections.guards import delete_refusal
from connections.models import SECRET_FIELDS, Connection

logger = logging.getLogger(__name__)

CONNECTION_OK = "Connection OK"
API_NOT_FOUND = "The Akeneo API was not found at this Base URL"
AUTHENTICATION_REJECTED = "Authentication was rejected"
ACCESS_DENIED = "Access was denied by Akeneo"
REQUEST_REJECTED = "Akeneo rejected the request"
SERVER_ERROR = "Akeneo returned a server error"
UNREACHABLE = "Could not reach the Akeneo server"

# Words in a 400/422 body that mean "these credentials are wrong" (Akeneo's own messages and OAuth codes).
# Akeneo's "…"grant_type", "username" or "password" is missing, empty or invalid" is not among them:
# that is a malformed request, not wrong credentials.
CREDENTIAL_HINTS = (
    "invalid_grant",
    "invalid_client",
    "no user found",
    "does not match any client",
    "secret is invalid",
    "bad credentials",
    "invalid credentials",
)


# The encrypted columns are unbounded text, so the plaintext gets its own limit: far above any real client id,
# secret or password, small enough that the ciphertext (about 4/3 of the UTF-8 bytes, plus 57) stays small.
CREDENTIAL_MAX_LENGTH = 500


def field_max_length(field_name: str) -> int:
    """The most characters a connection field may hold: its column's max_length (plaintext limit for secrets)."""
    if field_name in SECRET_FIELDS:
        return CREDENTIAL_MAX_LENGTH
    return Connection._meta.get_field(field_name).max_length


def length_errors(**values: str) -> dict[str, str]:
    """Field -> message for each value longer than its column holds.

    Checked before saving on every database: PostgreSQL refuses an over-long value with a DataError (a crash
    page), SQLite silently stores it.
    """
    errors = {}
    for field_name, value in values.items():
        limit = field_max_length(field_name)
        if value is not None and len(value) > limit:
            errors[field_name] = f"at most {limit} characters (it has {len(value)})"
    return errors


@dataclass(frozen=True)
class ConnectionTestResult:
    ok: bool
    message: str
    explanation: str = ""
    status: int | None = None

    def __str__(self) -> str:
        return self.message if not self.explanation else f"{self.message}. {self.explanation}"


def verify_credentials(credentials: Credentials) -> ConnectionTestResult:
    """Ask Akeneo for a token with these credentials and say, in the user's terms, how it went."""
    # The migrations' client, with one attempt: a person is waiting for the answer.
    client = AkeneoClient(
        credentials, ClientSettings.from_django(max_attempts=1, read_timeout=settings.AKENEO_READ_TIMEOUT)
    )
    try:
        client.authenticate()
    except AkeneoError as error:
        result = describe_failure(error, credentials)
        logger.info("Akeneo connection test for %s failed: %s", credentials.base_url, result.message)
        return result
    finally:
        client.close()
    logger.info("Akeneo connection test for %s succeeded", credentials.base_url)
    return ConnectionTestResult(ok=True, message=CONNECTION_OK, explanation="", status=200)


def describe_failure(error: AkeneoError, credentials: Credentials) -> ConnectionTestResult:
    """Map a token-call failure to exactly one of the six user messages, with a short explanation."""
    endpoint = token_url(credentials.base_url)
    if isinstance(error, AkeneoUnreachable):
        return ConnectionTestResult(
            False,
            UNREACHABLE,
            f"{error.reason[:1].upper()}{error.reason[1:]}. Check the host name and port, that the server is running and that "
            "this machine can reach it.",
        )
    if isinstance(error, AkeneoNotAnAPI):
        return ConnectionTestResult(
            False,
            API_NOT_FOUND,
            f"{error}, not Akeneo's token answer, at {endpoint}. The Base URL is the address of the PIM "
            "itself (with its path prefix, if any).",
            error.status,
        )
    assert isinstance(error, AkeneoHTTPError)
    status = error.status or 0
    said = f" Akeneo said: “{error.akeneo_message}”." if error.akeneo_message else ""
    if status in (404, 405):
        return ConnectionTestResult(
            False,
            API_NOT_FOUND,
            f"HTTP {status} at {endpoint}. The Base URL is the address of the PIM itself "
            "(with its path prefix, if any).",
            status,
        )
    if status == 401 or (status in (400, 422) and _about_credentials(error.akeneo_message)):
        return ConnectionTestResult(
            False,
            AUTHENTICATION_REJECTED,
            "Check the Client ID and Secret (Akeneo: Connect → Connection settings) and the API user's "
            f"Username and Password.{said}",
            status,
        )
    if status == 403:
        return ConnectionTestResult(
            False,
            ACCESS_DENIED,
            f"HTTP 403: the API user's role may lack web API access, or a firewall refuses this client.{said}",
            status,
        )
    if status >= 500:
        return ConnectionTestResult(
            False,
            SERVER_ERROR,
            f"HTTP {status}: the PIM may be down or overloaded; try again later.{said}",
            status,
        )
    if status == 429:
        return ConnectionTestResult(
            False,
            REQUEST_REJECTED,
            f"HTTP 429: too many requests; wait a little and try again.{said}",
            status,
        )
    return ConnectionTestResult(False, REQUEST_REJECTED, f"HTTP {status}.{said}", status)


def _about_credentials(message: str) -> bool:
    lowered = message.lower()
    return any(hint in lowered for hint in CREDENTIAL_HINTS)


def verify_connection(connection: Connection) -> ConnectionTestResult:
    """Test a stored connection's credentials (a key problem becomes a result, never a crash)."""
    try:
        credentials = connection.credentials()
    except CredentialsUnreadable as exc:
        return ConnectionTestResult(False, "The stored credentials cannot be read", str(exc))
    return verify_credentials(credentials)


class ConnectionNotSaved(Exception):
    """The credentials failed the live test: nothing was saved."""

    def __init__(self, result: ConnectionTestResult):
        self.result = result
        super().__init__(str(result))


def unique_connection_name(base_url: str, *, exclude_pk: int | None = None) -> str:
    """The name derived from the base URL, suffixed `-2`, `-3`… if another connection already has it.

    A base URL may be longer than a name can be: the derived name is then cut, leaving room for the suffix.
    """
    limit = field_max_length("name")
    base = name_from_base_url(base_url)
    if len(base) > limit:
        base = base[: limit - 8]  # room for "-9999999"
    taken = set(
        Connection.objects.filter(Q(name=base) | Q(name__startswith=f"{base}-"))
        .exclude(pk=exclude_pk)
        .values_list("name", flat=True)
    )
    candidate, counter = base, 1
    while candidate in taken:
        counter += 1
        candidate = f"{base}-{counter}"
    return candidate


def create_connection(credentials: Credentials, *, name: str = "") -> Connection:
    """Test the credentials live, then save an enabled connection named from its base URL (or `name`).

    Raises ValidationError (field -> message) before any call when a value is longer than its column, or when
    `name` is taken; ConnectionNotSaved when Akeneo refuses the credentials (nothing is saved).
    """
    errors = length_errors(
        name=name,
        base_url=credentials.base_url,
        client_id=credentials.client_id,
        secret=credentials.secret,
        username=credentials.username,
        password=credentials.password,
    )
    if name and not errors and Connection.objects.filter(name=name).exists():
        errors["name"] = f"a connection named {name!r} already exists"
    if errors:
        raise ValidationError(errors)
    result = verify_credentials(credentials)
    if not result.ok:
        raise ConnectionNotSaved(result)
    return save_new_connection(credentials, name=name)


@sensitive_variables()
def save_new_connection(credentials: Credentials, *, name: str = "") -> Connection:
    """Save an enabled connection with credentials that have just passed the live test (`create_connection`, or
    the admin's create form, which tests them while validating). Named `name`, or from the base URL, made
    unique with `-2`, `-3`… (retried if a concurrent create takes the same derived name)."""
    connection = Connection(base_url=credentials.base_url, username=credentials.username, enabled=True)
    connection.set_credentials(
        client_id=credentials.client_id, secret=credentials.secret, password=credentials.password
    )
    for _attempt in range(3):
        connection.name = name or unique_connection_name(credentials.base_url)
        try:
            with transaction.atomic():
                connection.save()
            return connection
        except IntegrityError:
            if name:
                raise ValidationError({"name": f"a connection named {name!r} already exists"}) from None
    raise IntegrityError("Could not find a free connection name")


# The plain fields a change may set, and the ones whose change means the credentials must be tested again.
PLAIN_FIELDS = ("name", "base_url", "username", "enabled")
TESTED_FIELDS = ("base_url", "username", *SECRET_FIELDS)


@dataclass
class ConnectionChanges:
    """A validated change of a stored connection, ready to save: only the values that really differ.

    `test` is the live test the new credentials passed (None: no credential changed, nothing was tested)."""

    connection: Connection
    fields: dict[str, object]
    credentials: dict[str, str]
    events_secret: str | None = None
    test: ConnectionTestResult | None = None

    def __bool__(self) -> bool:
        return bool(self.fields or self.credentials or self.events_secret is not None)


@sensitive_variables()
def prepare_update(
    connection: Connection,
    *,
    name: str | None = None,
    base_url: str | None = None,
    client_id: str | None = None,
    secret: str | None = None,
    username: str | None = None,
    password: str | None = None,
    enabled: bool | None = None,
    events_secret: str | None = None,
) -> ConnectionChanges:
    """Check a change (None: keep the stored value) and, when it touches what Akeneo authenticates (base URL,
    username, client id, secret, password), test the resulting credentials live, as saving in the admin does.

    Raises ValidationError (field -> message) for a bad value, ConnectionNotSaved when Akeneo refuses the new
    credentials. Nothing is saved: `apply_update` does that.
    """
    errors: dict[str, str] = {}
    if name is not None:
        name = name.strip()
        if not name:
            errors["name"] = "may not be empty"
        elif Connection.objects.filter(name=name).exclude(pk=connection.pk).exists():
            errors["name"] = f"a connection named {name!r} already exists"
    if base_url is not None:
        try:
            base_url = normalize_base_url(base_url)
        except ValidationError as exc:
            errors["base_url"] = exc.messages[0]
    for field_name, value in (("client_id", client_id), ("username", username)):
        if value is not None and not value.strip():
            errors[field_name] = "may not be empty"
    for field_name, value in (("secret", secret), ("password", password)):
        if value is not None and not value:
            errors[field_name] = "may not be empty"
    values = {"name": name, "base_url": base_url, "username": username, "client_id": client_id}
    values.update(secret=secret, password=password, events_secret=events_secret)
    for field_name, message in length_errors(
        **{key: value for key, value in values.items() if key != "events_secret"}
    ).items():
        errors.setdefault(field_name, message)
    if events_secret is not None and len(events_secret) > CREDENTIAL_MAX_LENGTH:
        errors["events_secret"] = f"at most {CREDENTIAL_MAX_LENGTH} characters (it has {len(events_secret)})"
    if errors:
        raise ValidationError(errors)

    fields = {
        field_name: value
        for field_name, value in (("name", name), ("base_url", base_url), ("username", username))
        if value is not None and value != getattr(connection, field_name)
    }
    if enabled is not None and enabled != connection.enabled:
        fields["enabled"] = enabled
    stored: dict[str, str] = {}
    for field_name in SECRET_FIELDS:
        with suppress(CredentialsUnreadable):  # unreadable: must be given again to test new credentials
            stored[field_name] = getattr(connection, field_name)
    given = {"client_id": client_id, "secret": secret, "password": password}
    credentials = {
        field_name: value
        for field_name, value in given.items()
        if value is not None and value != stored.get(field_name)
    }
    if events_secret is not None:
        try:
            unchanged = connection.events_secret == events_secret
        except CredentialsUnreadable:
            unchanged = False
        if unchanged:
            events_secret = None
    changes = ConnectionChanges(connection, fields, credentials, events_secret)
    if credentials or any(field_name in fields for field_name in TESTED_FIELDS):
        effective = {**stored, **credentials}
        missing = [field_name for field_name in SECRET_FIELDS if not effective.get(field_name)]
        if missing:
            raise ValidationError(
                {
                    field_name: "the stored value cannot be decrypted with the configured key: give it again"
                    for field_name in missing
                }
            )
        changes.test = verify_credentials(
            Credentials(
                base_url=fields.get("base_url", connection.base_url),
                client_id=effective["client_id"],
                secret=effective["secret"],
                username=fields.get("username", connection.username),
                password=effective["password"],
            )
        )
        if not changes.test.ok:
            raise ConnectionNotSaved(changes.test)
    return changes


@sensitive_variables()
def apply_update(changes: ConnectionChanges, *, reason: str = "") -> list[str]:
    """Save a prepared change in one save (one History row; secrets recorded only as "changed"). Returns the
    names of the fields that changed (empty: nothing to save, nothing written)."""
    if not changes:
        return []
    connection = changes.connection
    for field_name, value in changes.fields.items():
        setattr(connection, field_name, value)
    changed = list(changes.fields)
    changed += connection.set_credentials(**changes.credentials)
    if changes.events_secret is not None and connection.set_events_secret(changes.events_secret):
        changed.append("events_secret")
    if reason:
        connection._change_reason = reason
    try:
        with transaction.atomic():
            connection.save()
    except IntegrityError:  # a concurrent change took the name
        raise ValidationError({"name": f"a connection named {connection.name!r} already exists"}) from None
    return changed


def update_connection(connection: Connection, *, reason: str = "", **values) -> list[str]:
    """`prepare_update` then `apply_update`: a failed check or live test changes nothing."""
    return apply_update(prepare_update(connection, **values), reason=reason)


class ConnectionBusy(Exception):
    """Work running on the connection (a migration run, say) forbids deleting it under the worker's feet."""


def delete_connection(connection: Connection) -> dict[str, int]:
    """Delete a connection with its migration history, mappings, schedules and received events. The imported
    catalog is kept (its rows do not belong to a connection). Refused (ConnectionBusy) when a registered delete
    guard objects: the apps that run work on a connection register one (connections.guards). Returns what was
    deleted, per model label."""
    reason = delete_refusal(connection)
    if reason:
        raise ConnectionBusy(reason)
    _total, per_model = connection.delete()
    return per_model


def rotate_encryption_keys() -> tuple[int, list[int]]:
    """Re-encrypt every stored credential with the newest key. Returns (rotated, ids that no key opens).

    Done with queryset updates so no history row (and no ciphertext) is written for a mere re-encryption.
    """
    rotated, unreadable = 0, []
    for connection in Connection.objects.order_by("pk").iterator():
        try:
            fields = connection.rotated_ciphertexts()
        except CredentialsUnreadable:
            unreadable.append(connection.pk)
            continue
        Connection.objects.filter(pk=connection.pk).update(**fields)
        rotated += 1
    return rotated, unreadable


def find_connection(key: str) -> Connection | None:
    """A connection by id (digits) or by name, as the command line names them."""
    if key.isdigit():
        found = Connection.objects.filter(pk=int(key)).first()
        if found is not None:
            return found
    return Connection.objects.filter(name=key).first()
