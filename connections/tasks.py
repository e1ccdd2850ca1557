"""Celery adapters over connection services. Arguments are ids only, never credentials."""

from celery import shared_task

from connections.models import Connection
from connections.services import verify_connection


@shared_task(name="connections.verify_connection")
def verify_connection_task(connection_id: int) -> dict:
    """Test a stored connection from a worker; the result holds the user message, never a credential."""
    connection = Connection.objects.get(pk=connection_id)
    result = verify_connection(connection)
    return {"connection_id": connection_id, "ok": result.ok, "message": result.message}
