"""The receiving endpoint for Akeneo events: only adapts HTTP to events.services.receive."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from connections.models import Connection
from events import services


@csrf_exempt  # Akeneo has no CSRF token: the HMAC signature is what authenticates a delivery
@require_http_methods(["POST", "HEAD"])
def receive(request: HttpRequest, connection_id: int) -> HttpResponse:
    if request.method == "HEAD":
        # The Event Platform checks a destination with HEAD before subscribing it (404 or 5xx: refused).
        exists = Connection.objects.filter(pk=connection_id).exists()
        return HttpResponse(status=200 if exists else 404)
    limit = services.max_body_bytes()
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared.isdigit() and int(declared) > limit:
        return _refused(services.EventRefused(413, f"The body is larger than {limit} bytes."))
    body = request.read(limit + 1)  # never more than the limit in memory, whatever the length says
    try:
        receipt = services.receive(connection_id, body, request.headers)
    except services.EventRefused as refused:
        return _refused(refused)
    return JsonResponse(receipt.as_json())


def _refused(refused: services.EventRefused) -> JsonResponse:
    response = JsonResponse({"error": str(refused)}, status=refused.status)
    if refused.retry_after:
        response["Retry-After"] = str(refused.retry_after)
    return response
