"""Field-level change rows for a connection's History tab, built from django-simple-history records.

Secrets are represented by revision counters (see models), shown as "changed" and never with a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from connections.models import Connection

SECRET_REVISION_FIELDS = {
    "client_id_revision": "Client ID",
    "secret_revision": "Secret",
    "password_revision": "Password",
    "events_secret_revision": "Events secret",
}
SHOWN_FIELDS = {"name": "Name", "base_url": "Akeneo Base URL", "username": "Username", "enabled": "Status"}
DIFFED_FIELDS = [*SHOWN_FIELDS, *SECRET_REVISION_FIELDS]


@dataclass(frozen=True)
class FieldChange:
    when: datetime
    who: str
    field: str
    old: str
    new: str


def _who(record) -> str:
    user = record.history_user
    if user is not None:
        return user.get_username()
    return record.history_change_reason or "system"


def _display(field: str, value) -> str:
    if field == "enabled":
        return "Enabled" if value else "Disabled"
    return "" if value is None else str(value)


def field_changes(connection: Connection) -> list[FieldChange]:
    """Newest first: one row per changed field per save, plus one row for the creation."""
    records = list(connection.history.select_related("history_user").order_by("history_date", "history_id"))
    rows: list[FieldChange] = []
    previous = None
    for record in records:
        if previous is None or record.history_type == "+":
            rows.append(FieldChange(record.history_date, _who(record), "Connection", "", "created"))
        else:
            for field in DIFFED_FIELDS:
                old, new = getattr(previous, field), getattr(record, field)
                if old == new:
                    continue
                if field in SECRET_REVISION_FIELDS:
                    rows.append(
                        FieldChange(
                            record.history_date, _who(record), SECRET_REVISION_FIELDS[field], "", "changed"
                        )
                    )
                else:
                    rows.append(
                        FieldChange(
                            record.history_date,
                            _who(record),
                            SHOWN_FIELDS[field],
                            _display(field, old),
                            _display(field, new),
                        )
                    )
        previous = record
    rows.reverse()
    return rows
