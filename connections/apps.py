from django.apps import AppConfig


class ConnectionsConfig(AppConfig):
    name = "connections"
    verbose_name = "Akeneo Migration"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from connections import checks  # noqa: F401 - registers the start-up check on stored credentials
