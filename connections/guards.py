"""Delete guards: other apps say why a connection may not be deleted right now, without connections knowing them.

Apps that hang work off a connection (a migration run's worker, for one) register a guard from their
`AppConfig.ready()`; `connections.services.delete_connection` asks every guard before deleting. The dependency
points from those apps to connections, never back.
"""

from __future__ import annotations

from collections.abc import Callable

from connections.models import Connection

DeleteGuard = Callable[[Connection], "str | None"]
"""Returns why `connection` may not be deleted now (a sentence the user reads), or None when it may."""

_delete_guards: list[DeleteGuard] = []


def register_delete_guard(guard: DeleteGuard) -> DeleteGuard:
    """Add a guard (once: `ready()` may run again, in tests for one). Usable as a decorator."""
    if guard not in _delete_guards:
        _delete_guards.append(guard)
    return guard


def unregister_delete_guard(guard: DeleteGuard) -> None:
    """Remove a guard; a guard that was never registered is ignored."""
    if guard in _delete_guards:
        _delete_guards.remove(guard)


def delete_refusal(connection: Connection) -> str | None:
    """The first registered guard's reason to refuse deleting `connection`, or None when none objects."""
    for guard in tuple(_delete_guards):
        reason = guard(connection)
        if reason:
            return reason
    return None
