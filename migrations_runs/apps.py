from django.apps import AppConfig


class MigrationsRunsConfig(AppConfig):
    """Migration runs, steps, logs and mappings: filled by the migrations issue."""

    name = "migrations_runs"
    verbose_name = "Migration History"
    default_auto_field = "django.db.models.BigAutoField"
