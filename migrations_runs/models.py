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

    def record_counts(self) -> dict[str, int]:
        """Per-record results of this run by outcome (every outcome, 0 when none), plus "total": one aggregate
        query, no row loaded, so the run page stays fast at 100k records."""
        counts = dict.fromkeys(RecordResult.Outcome.values, 0)
        found = (
            RecordResult.objects.filter(run_id=self.pk)
            .order_by()
            .values_list("outcome")
            .annotate(n=models.Count("pk"))
        )
        counts.update(dict(found))
        counts["total"] = sum(counts.values())
        return counts


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


class MigrationPartition(models.Model):
    """A disjoint slice of a big step (products, product models): e.g. "family IN [...]" or "no family".

    Each partition has its own cursor, counters and lease, so several threads or workers (on several machines)
    read one step at once, and each resumes on its own after a crash. The step's counters are the sum of its
    partitions' (both are incremented in the same transaction as each page)."""

    step = models.ForeignKey(MigrationStep, on_delete=models.CASCADE, related_name="partitions")
    index = models.PositiveIntegerField()
    label = models.CharField(max_length=255)
    search = models.JSONField(
        default=dict, help_text="Akeneo search conditions added to each of the step's reads."
    )
    expected = models.PositiveIntegerField(null=True, blank=True, help_text="Akeneo's count when planned.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    cursor = models.JSONField(default=dict, blank=True)
    read = models.PositiveIntegerField(default=0)
    media = models.PositiveIntegerField(default=0)
    owner = models.CharField(max_length=64, blank=True, help_text="The lease holder (a worker's claim).")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["step", "index"]
        constraints = [
            models.UniqueConstraint(fields=["step", "index"], name="one_partition_per_index_per_step")
        ]

    def __str__(self) -> str:
        return f"{self.step.entity} partition {self.index} ({self.label})"


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


class VerifyReport(models.Model):
    """One check of a connection's local catalog against its Akeneo: a *verify* (record by record, field by
    field, media by checksum) or a *preview* (what a migration would create / update / leave unchanged; a dry run
    that writes nothing to the catalog). Started from the connection page (on Celery) or `akeneo_verify`."""

    class Kind(models.TextChoices):
        VERIFY = "verify", "Verify"
        PREVIEW = "preview", "Preview"

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="verify_reports")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.VERIFY)
    entities = models.JSONField(default=list, help_text="Entity codes, in dependency order.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    error = models.TextField(blank=True)
    counts = models.JSONField(
        default=list,
        blank=True,
        help_text="Per resource: source, local, identical, missing, extra, differing (verify); "
        "source, create, update, unchanged, failed (preview).",
    )
    differences_total = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [("verify_catalog", "Can verify a catalog against Akeneo")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} of {self.connection}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def identical(self) -> bool:
        """A completed verify that found nothing different."""
        return self.status == Status.COMPLETED and self.differences_total == 0


class VerifyDifference(models.Model):
    """One record (or media file) that differs between Akeneo and the local catalog. At most
    `verify.MAX_LISTED` are kept per resource and report; the counts in the report cover them all."""

    class Kind(models.TextChoices):
        MISSING = "missing", "Missing locally"
        EXTRA = "extra", "Extra locally"
        DIFFERING = "differing", "Differing"
        INVALID = "invalid", "Unreadable in Akeneo"

    report = models.ForeignKey(VerifyReport, on_delete=models.CASCADE, related_name="differences")
    resource = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    key = models.CharField(max_length=600, help_text="The Akeneo key: uuid, code, parent/code or media code.")
    label = models.CharField(max_length=800, help_text="How the record is named: key and identifier.")
    fields = models.JSONField(default=list, blank=True, help_text="The differing fields.")
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.resource} {self.kind} {self.label}"


class VerifySeenKey(models.Model):
    """Scratch rows of a running verify: the source keys seen so far for one resource, so the local rows that
    are not in the source ("extra") are found by an anti-join in the database instead of a set in memory.
    Deleted when the resource is done (and with the report)."""

    report = models.ForeignKey(VerifyReport, on_delete=models.CASCADE, related_name="+")
    resource = models.CharField(max_length=64)
    akeneo_key = models.CharField(max_length=600)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["report", "resource", "akeneo_key"], name="one_seen_key_per_report"
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource}:{self.akeneo_key}"


class RecordResult(models.Model):
    """What a run (or an Akeneo event, `run` empty and `source="event"`) did to one record: created, updated,
    deleted, failed or skipped. Unchanged records are only counted on the step, never written here, so a
    re-run of an unchanged catalog adds no rows. Written in bulk, one INSERT per imported page
    (`migrations_runs.records`), in the page's transaction."""

    class Outcome(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        DELETED = "deleted", "Deleted"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    connection = models.ForeignKey(
        Connection, null=True, blank=True, on_delete=models.CASCADE, related_name="record_results"
    )
    run = models.ForeignKey(
        MigrationRun, null=True, blank=True, on_delete=models.CASCADE, related_name="record_results"
    )
    step = models.ForeignKey(
        MigrationStep, null=True, blank=True, on_delete=models.CASCADE, related_name="record_results"
    )
    source = models.CharField(
        max_length=32, blank=True, default="run", help_text='"run", or "event" for Akeneo events (no run).'
    )
    entity = models.CharField(max_length=64, help_text="The Akeneo resource, e.g. products-uuid.")
    key = models.CharField(max_length=600, help_text="code, parent/code, or the product uuid.")
    label = models.CharField(
        max_length=800, blank=True, help_text="How the record is named: the identifier of a product."
    )
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        indexes = [
            models.Index(fields=["run", "outcome"], name="record_result_run_outcome"),
            models.Index(fields=["run", "entity"], name="record_result_run_entity"),
            models.Index(fields=["key"], name="record_result_key"),
            models.Index(fields=["connection", "source"], name="record_result_connection"),
        ]

    def __str__(self) -> str:
        return f"{self.entity} {self.key}: {self.outcome}"
