from django.apps import AppConfig


class DemoAkeneoConfig(AppConfig):
    """A small Akeneo-compatible server with a generated catalog, for trying the app and for tests."""

    name = "demo_akeneo"
    verbose_name = "Demo Akeneo"
