"""Celery adapter over events.services. The argument is a ReceivedEvent id, never a payload or a credential."""

from celery import shared_task

from events import services
from events.models import ReceivedEvent


@shared_task(bind=True, name="events.process_event", acks_late=True, ignore_result=True, max_retries=None)
def process_event_task(self, event_id: int) -> None:
    """acks_late: a worker lost mid-event gets it redelivered. A redelivery that finds the event still claimed (its
    worker was killed moments ago, within the claim's lease) comes back after the lease instead of dropping it, so
    a killed process never leaves an event "processing" for good."""
    held = (
        services.apply_event(event_id) is None
        and ReceivedEvent.objects.filter(pk=event_id, outcome=ReceivedEvent.Outcome.PROCESSING).exists()
    )
    if held and not self.request.is_eager:  # eager (tests, debugging): no worker to come back on
        raise self.retry(countdown=services.processing_lease_seconds() + 1)
