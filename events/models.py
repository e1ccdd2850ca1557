"""Akeneo events received by a connection: one row per event id, so a repeat is recognised and never applied
twice. An event is only a reference ("product X was updated"): the worker fetches the record's current state
from Akeneo and writes here what came of it."""

from __future__ import annotations

from django.db import models

from connections.models import Connection


class ReceivedEvent(models.Model):
    class Mechanism(models.TextChoices):
        EVENT_PLATFORM = "event-platform", "Event Platform"
        EVENTS_API = "events-api", "Events API"

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        DELETED = "deleted", "Deleted"
        OTHER = "other", "Other"

    class Outcome(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        APPLIED = "applied", "Applied"
        DELETED = "deleted", "Deleted"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="received_events")
    event_id = models.CharField(max_length=255, help_text="Akeneo's id of the event (unique per connection).")
    mechanism = models.CharField(max_length=32, choices=Mechanism.choices)
    event_type = models.CharField(
        "type", max_length=255, help_text="e.g. com.akeneo.pim.v1.product.updated or product.updated"
    )
    action = models.CharField(max_length=16, choices=Action.choices, default=Action.OTHER)
    resource = models.CharField(
        max_length=64, blank=True, help_text="The Akeneo resource it names, e.g. products-uuid ('' if none)."
    )
    record_key = models.CharField(
        "record", max_length=600, blank=True, help_text="code, parent/code, or the product uuid."
    )
    occurred_at = models.DateTimeField(null=True, blank=True, help_text="When it happened, as Akeneo says.")
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.PENDING)
    message = models.TextField(blank=True)
    repeats = models.PositiveIntegerField(
        default=0,
        help_text="How many times the same event id was delivered again (answered, not re-applied).",
    )
    last_repeat_at = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField(default=dict, help_text="The event as received.")

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "event_id"], name="one_received_event_per_id")
        ]
        indexes = [
            models.Index(fields=["connection", "outcome"], name="received_event_outcome"),
            models.Index(fields=["connection", "-received_at"], name="received_event_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.record_key or self.event_id}"
