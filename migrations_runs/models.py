"""Migration runs: one run per start, one step per entity, log lines per step.

A step's `cursor` is the resume point saved in the same transaction as the page it follows, so a worker killed
mid-step loses at most the uncommitted page, and re-importing that page is harmless (upserts by code).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from connections.models import Connection


class Status(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)
COUNTERS = ("read", "created", "updated", "unchanged", "skipped", "failed")


class MigrationRun(models.Model):
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="migration_runs")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    entities = models.JSONField(default=list, help_text="Entity codes, in dependency order.")
    filters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    cancel_requested = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    reconciliation = models.JSONField(
        default=list,
        blank=True,
        help_text="Per entity at the end: records Akeneo reported vs records in the catalog.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [("run_migration", "Can run a migration")]

    def __str__(self) -> str:
        return f"Run #{self.pk} of {self.connection}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class MigrationStep(models.Model):
    run = models.ForeignKey(MigrationRun, on_delete=models.CASCADE, related_name="steps")
    entity = models.CharField(max_length=64)
    position = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    cursor = models.JSONField(
        default=dict, blank=True, help_text="Where to resume: part, parent, next page URL."
    )
    read = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(
        null=True, blank=True, help_text="Records Akeneo reported, when it says."
    )
    media = models.PositiveIntegerField(default=0, help_text="Media files downloaded by this step.")
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life of the worker executing the step (its lease)."
    )

    class Meta:
        ordering = ["run", "position"]
        constraints = [models.UniqueConstraint(fields=["run", "entity"], name="one_step_per_entity_per_run")]

    def __str__(self) -> str:
        return f"{self.entity} ({self.get_status_display()})"


class MigrationLog(models.Model):
    class Level(models.TextChoices):
        INFO = "info", "Info"
        WARNING = "warning", "Warning"
        ERROR = "error", "Error"

    step = models.ForeignKey(MigrationStep, on_delete=models.CASCADE, related_name="logs")
    level = models.CharField(max_length=8, choices=Level.choices, default=Level.INFO, db_index=True)
    code = models.CharField(max_length=255, blank=True, help_text="The Akeneo code of the record concerned.")
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return (
            f"[{self.level}] {self.code}: {self.message}" if self.code else f"[{self.level}] {self.message}"
        )


class Mapping(models.Model):
    """Which local record a connection's Akeneo record became. Deleting the connection deletes these rows
    (CASCADE), never the catalog. Written with each imported page; reconciliation and exports go through it."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="mappings")
    resource = models.CharField(max_length=64, help_text="The Akeneo resource, e.g. products-uuid.")
    akeneo_key = models.CharField(max_length=600, help_text="code, parent/code, or the product uuid.")
    object_id = models.BigIntegerField(help_text="Primary key of the catalog row.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "resource", "akeneo_key"], name="one_mapping_per_key"
            )
        ]
        indexes = [models.Index(fields=["connection", "resource", "object_id"], name="mapping_object")]

    def __str__(self) -> str:
        return f"{self.connection_id}:{self.resource}:{self.akeneo_key} -> {self.object_id}"
