"""Typed Akeneo errors. They carry status, Akeneo's message and the URL path, never a credential."""

from __future__ import annotations


class AkeneoError(Exception):
    """Base class. `retryable` says whether the same call may succeed later (decided here, in one place)."""

    retryable = False

    def __init__(self, summary: str, *, status: int | None = None, akeneo_message: str = "", path: str = ""):
        self.status = status
        self.akeneo_message = akeneo_message
        self.path = path
        super().__init__(summary)


class AkeneoUnreachable(AkeneoError):
    """No HTTP answer: DNS failure, refused connection, TLS failure, timeout, reset."""

    retryable = True

    def __init__(self, summary: str, *, reason: str, path: str = ""):
        self.reason = reason
        super().__init__(summary, path=path)


class AkeneoHTTPError(AkeneoError):
    """Akeneo (or something in front of it) answered with an error status."""

    retry_after: float | None = None  # seconds, from a Retry-After header on 429/503

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        return self.status in {408, 429} or (self.status or 0) >= 500


class AkeneoNotAnAPI(AkeneoError):
    """Something answered, but not Akeneo's API: an HTML page, a redirect, a body that is not the JSON expected."""


class AkeneoMalformedResponse(AkeneoError):
    """A 2xx answer whose body is not the JSON expected (truncated page, proxy page). Worth another try."""

    retryable = True


class AkeneoForeignLink(AkeneoError):
    """Akeneo handed back a link outside the connection's scheme, host, port and path: it is never requested
    (the token would go with it)."""


class AkeneoPagingLoop(AkeneoError):
    """Akeneo's `next` links go round: a page already read, or far more items than it said it holds."""


class AkeneoTooLarge(AkeneoError):
    """An answer or a media file larger than the configured maximum."""


class AkeneoDeadline(AkeneoError):
    """A media download that did not finish within its overall deadline (a server trickling bytes)."""


class AkeneoWaitTooLong(AkeneoError):
    """Akeneo asked to wait longer before a retry than what remains of the retry-wait budget of one request."""
