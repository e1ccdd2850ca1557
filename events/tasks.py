"""Celery adapter over events.services. The argument is a ReceivedEvent id, never a payload or a credential."""

from celery import shared_task

from events import services


@shared_task(name="events.process_event", acks_late=True, ignore_result=True)
def process_event_task(event_id: int) -> None:
    """acks_late: a worker lost mid-event gets it redelivered; an event already claimed is left alone (the
    admin's "Process again" puts a stuck one back)."""
    services.apply_event(event_id)
