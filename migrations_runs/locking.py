"""What every writer of a run shares: retries on a busy database, and the signals that stop a step.

The database may be busy (SQLite allows one writer; PostgreSQL may detect a deadlock): a write is retried a
bounded number of times with a growing pause. A step checks between two pages whether it must stop (a user
cancelled, or the run was ended elsewhere).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, OperationalError
from django.db import connection as db_connection

from migrations_runs.models import ACTIVE_STATUSES, MigrationRun

logger = logging.getLogger(__name__)

# A write that found the database locked (after the driver's own busy wait) is tried this many times in all,
# with a growing pause, before the error is let through.
LOCK_ATTEMPTS = 5
LOCK_FIRST_PAUSE = 0.2
LOCK_ERRORS = ("database is locked", "database table is locked", "deadlock detected", "could not serialize")

T = TypeVar("T")


class CancelRequested(Exception):
    pass


class StepBusy(Exception):
    """Another worker holds this step's lease (a duplicate delivery): try again later, do not run it twice."""


class RunEnded(Exception):
    """The run was ended elsewhere (superseded as stale, or failed by a task's failure handler): stop quietly."""


class LeaseLost(Exception):
    """Another worker took over a partition this process held (its lease expired): this process stops reading
    it, and its uncommitted page is left to the new holder."""


def is_lock_error(error: BaseException) -> bool:
    """A transient lock conflict (SQLite busy, PostgreSQL deadlock or serialization failure), worth a retry."""
    return isinstance(error, OperationalError) and any(text in str(error).lower() for text in LOCK_ERRORS)


def retry_on_lock(write: Callable[[], T], what: str, *, conflicts: bool = False) -> T:
    """Run `write` (which opens its own transaction), again after a pause when the database was locked.

    With `conflicts`, a unique-key violation is retried too: another run (another connection importing into the
    same catalog) inserted the same code between our read and our insert; the retry reads it and updates it.
    Inside an outer transaction nothing can be retried (the transaction is broken): the error goes up at once.
    """
    retried: tuple[type[Exception], ...] = (
        (OperationalError, IntegrityError) if conflicts else (OperationalError,)
    )
    for attempt in range(1, LOCK_ATTEMPTS + 1):
        try:
            return write()
        except retried as error:
            transient = isinstance(error, IntegrityError) or is_lock_error(error)
            if attempt == LOCK_ATTEMPTS or db_connection.in_atomic_block or not transient:
                raise
            pause = LOCK_FIRST_PAUSE * 2 ** (attempt - 1)
            logger.warning(
                "%s: %s; attempt %d of %d in %.1f s", what, error, attempt + 1, LOCK_ATTEMPTS, pause
            )
            time.sleep(pause)
    raise AssertionError("unreachable")


def check_run(run_id: int) -> None:
    """Between two pages: stop if a user asked to cancel, or if the run was ended elsewhere (superseded)."""
    row = MigrationRun.objects.filter(pk=run_id).values_list("status", "cancel_requested").first()
    if row is None or row[0] not in ACTIVE_STATUSES:
        raise RunEnded
    if row[1]:
        raise CancelRequested
