from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """The local PIM the migration fills: Akeneo records kept losslessly, keyed by their Akeneo codes."""

    name = "catalog"
    verbose_name = "Catalog"
    default_auto_field = "django.db.models.BigAutoField"
