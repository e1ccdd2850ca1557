from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig

if TYPE_CHECKING:
    from connections.models import Connection


def live_run_refusal(connection: Connection) -> str | None:
    """Why `connection` may not be deleted: a run on it is active and alive, and its worker would lose the rows
    it writes to. A stale run (its process stopped) does not block: the deletion ends it."""
    from migrations_runs.models import ACTIVE_STATUSES
    from migrations_runs.services import stale_reason

    for run in connection.migration_runs.filter(status__in=ACTIVE_STATUSES):
        if stale_reason(run) is None:
            return (
                f"Migration run #{run.pk} is {run.get_status_display().lower()} on this connection: "
                "cancel it (and let it stop) first."
            )
    return None


class MigrationsRunsConfig(AppConfig):
    """Migration runs, steps, logs and mappings: filled by the migrations issue."""

    name = "migrations_runs"
    verbose_name = "Migration History"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # connections never imports this app: the app hooks itself into connections instead.
        from connections.guards import register_delete_guard

        register_delete_guard(live_run_refusal)
