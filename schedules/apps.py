from django.apps import AppConfig


class SchedulesConfig(AppConfig):
    """Per-connection schedules (full or incremental runs) run by Celery beat through django-celery-beat."""

    name = "schedules"
    verbose_name = "Schedules"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from schedules.models import Schedule
        from schedules.services import delete_periodic_task

        # A signal, not Schedule.delete(): bulk deletes (admin action) and cascades (a deleted connection) skip
        # the model's delete() but still send post_delete, and beat must never keep firing an orphan task.
        post_delete.connect(
            lambda sender, instance, **kwargs: delete_periodic_task(instance),
            sender=Schedule,
            weak=False,
            dispatch_uid="schedules_delete_periodic_task",
        )
