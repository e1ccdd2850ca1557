"""The Akeneo REST client: one per connection and run, shared by the connection test and the migrations.

What it guarantees, because other importers break on exactly these:
- one token per client, refreshed before it expires and once after a 401 (keeping the NEW refresh token each
  answer brings); a spent refresh token means logging in again, never a failed run;
- every call has connect/read timeouts, is retried with exponential backoff and jitter on 408/429/5xx, resets and
  timeouts (honouring Retry-After), a bounded number of times;
- at most `max_in_flight` requests at once (Akeneo SaaS allows 4 concurrent calls per connection), counted by
  the client's limiter: this client's own by default, or one shared by every process of the connection through
  Redis (`limiter_for`); a 429 or a Retry-After pauses the whole connection while the throttled call waits;
- lists are followed through `_links.next.href` (never a hand-built cursor), one page and one prefetched page in
  memory, resumable from a saved next-page URL;
- media are streamed to a file object in chunks, with their size and checksum.

And, because the server is not trusted (it may be broken, or hostile):
- credentials only ever go to the connection's own scheme, host, port and path prefix: every URL passes through
  `absolute()`, which refuses a link elsewhere before any request is made;
- every wait is bounded: the time spent waiting between the attempts of one request (Retry-After included), each
  media download (an overall deadline and a maximum size), each JSON answer (a maximum size, read streamed);
- a pages() iteration stops when a `next` link repeats a page already read, or when it reads far more items than
  the caller expects;
- list entries that are not JSON objects are dropped and counted, never handed over.
"""

from __future__ import annotations

import contextlib
import dataclasses
import email.utils
import hashlib
import ipaddress
import json
import logging
import os
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, Any, TypeVar
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit

import requests

from connections.akeneo.auth import (
    Credentials,
    Token,
    json_or_none,
    message_of,
    request_password_token,
    request_refresh_token,
    unreachable_reason,
)
from connections.akeneo.errors import (
    AkeneoDeadline,
    AkeneoError,
    AkeneoForeignLink,
    AkeneoHTTPError,
    AkeneoMalformedResponse,
    AkeneoNotAnAPI,
    AkeneoPagingLoop,
    AkeneoTooLarge,
    AkeneoUnreachable,
    AkeneoWaitTooLong,
)
from connections.akeneo.limiter import Limiter, LocalLimiter
from connections.akeneo.resources import API_ROOT, MEDIA_KINDS, RESOURCES, Parents, ResourceSpec, parent_codes

logger = logging.getLogger(__name__)

T = TypeVar("T")
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
DOWNLOAD_CHUNK = 256 * 1024
READ_CHUNK = 64 * 1024
ERROR_BODY_MAX = 64 * 1024  # an error answer is only read for its message
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class ClientSettings:
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_attempts: int = 6
    max_in_flight: int = 4
    refresh_buffer: float = 300.0
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    page_size: int = 100
    max_retry_wait: float = 300.0  # total seconds waited between the attempts of one request
    media_deadline: float = 600.0  # one media download, start to end, retries included
    media_max_bytes: int = 1024**3
    max_page_bytes: int = 16 * 1024**2  # any JSON answer (a list page, mostly)
    answer_deadline: float = 300.0  # reading one JSON answer's body, first byte to last

    @classmethod
    def from_django(cls, **overrides: Any) -> ClientSettings:
        """Defaults from Django settings (env-driven), then explicit overrides."""
        from django.conf import settings

        values = {
            "connect_timeout": settings.AKENEO_CONNECT_TIMEOUT,
            "read_timeout": settings.AKENEO_API_READ_TIMEOUT,
            "max_attempts": settings.AKENEO_MAX_ATTEMPTS,
            "max_in_flight": settings.AKENEO_MAX_IN_FLIGHT,
            "refresh_buffer": settings.AKENEO_TOKEN_REFRESH_BUFFER,
            "page_size": settings.AKENEO_PAGE_SIZE,
            "max_retry_wait": settings.AKENEO_MAX_RETRY_WAIT,
            "media_deadline": settings.AKENEO_MEDIA_DEADLINE,
            "media_max_bytes": settings.AKENEO_MEDIA_MAX_BYTES,
            "max_page_bytes": settings.AKENEO_MAX_PAGE_BYTES,
            "answer_deadline": settings.AKENEO_ANSWER_DEADLINE,
        }
        values.update(overrides)
        return cls(**values)

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)


@dataclass(frozen=True)
class Page:
    """One list page. `url` re-fetches this page; `next_url` is the cursor to save after importing it.

    `items` holds only JSON objects; `dropped` counts the other entries Akeneo sent (null, strings, numbers).
    `items_count` is Akeneo's figure when it gave a non-negative integer; it is not trusted beyond display.
    """

    items: list[dict[str, Any]]
    url: str
    next_url: str | None
    items_count: int | None = None
    dropped: int = 0


@dataclass(frozen=True)
class Download:
    content_type: str
    size: int
    sha256: str


def encode_params(params: Mapping[str, Any] | None) -> dict[str, str]:
    """Query parameters as Akeneo expects: `search` as compact JSON, lists comma-joined, booleans lower-case."""
    encoded: dict[str, str] = {}
    for key, value in (params or {}).items():
        if value is None:
            continue
        if key == "search" and not isinstance(value, str):
            encoded[key] = json.dumps(value, separators=(",", ":"))
        elif isinstance(value, bool):
            encoded[key] = "true" if value else "false"
        elif isinstance(value, list | tuple | set):
            encoded[key] = ",".join(str(item) for item in value)
        else:
            encoded[key] = str(value)
    return encoded


class AkeneoClient:
    def __init__(
        self,
        credentials: Credentials,
        settings: ClientSettings | None = None,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
        limiter: Limiter | None = None,
    ) -> None:
        self.credentials = credentials
        self.settings = settings or ClientSettings()
        self.session = session or requests.Session()
        adapter = requests.adapters.HTTPAdapter(
            pool_connections=2, pool_maxsize=max(self.settings.max_in_flight, 1) + 2, max_retries=0
        )
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        if session is None:
            # Every request goes to the connection's own host (see `absolute`): its proxy and CA bundle are read
            # from the environment once here, not on each request as requests does by default (a sizeable share
            # of a small media download's CPU). Never ~/.netrc: credentials are only the connection's own.
            self.session.trust_env = False
            self.session.proxies = requests.utils.get_environ_proxies(credentials.base_url)
            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            if bundle:
                self.session.verify = bundle
        self._sleep, self._clock, self._jitter = sleep, clock, jitter
        self._token_lock = threading.Lock()
        # calls in flight and the connection-wide pause: shared by every process of a connection (limiter_for)
        self.limiter: Limiter = limiter or LocalLimiter(self.settings.max_in_flight)
        self._token: Token | None = None
        self._expires_at = 0.0
        self._products_path: str | None = None
        self.refused_flags: set[str] = set()  # resources whose flags this server refused (read without them)
        self.fallen_back: set[str] = (
            set()
        )  # resources this server answered 404 to (read through their fallback)
        self.stats = {"requests": 0, "retries": 0, "logins": 0, "refreshes": 0, "bytes": 0}
        self._stats_lock = threading.Lock()

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> AkeneoClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _count(self, name: str, amount: int = 1) -> None:
        with self._stats_lock:
            self.stats[name] += amount

    # ------------------------------------------------------------------ auth
    def authenticate(self) -> None:
        """Log in now (the connection test); later calls reuse and refresh this token."""
        with self._token_lock:
            self._store(self._with_retries(lambda: self._login()))

    def _login(self) -> Token:
        self._count("logins")
        return request_password_token(self.credentials, timeout=self.settings.timeout, session=self.session)

    def _refresh(self, token: Token) -> Token:
        self._count("refreshes")
        return request_refresh_token(
            self.credentials, token.refresh_token, timeout=self.settings.timeout, session=self.session
        )

    def _store(self, token: Token) -> None:
        self._token = token
        self._expires_at = self._clock() + token.expires_in

    def _access_token(self, *, stale: str | None = None) -> str:
        """A valid access token. `stale` = the token a 401 rejected: renew it unless another thread already did."""
        with self._token_lock:
            token = self._token
            must_renew = token is None or (stale is not None and token.access_token == stale)
            if not must_renew and self._clock() < self._expires_at - self.settings.refresh_buffer:
                return token.access_token
            self._store(self._with_retries(lambda: self._renew(token)))
            return self._token.access_token

    def _renew(self, token: Token | None) -> Token:
        if token is None or not token.refresh_token:
            return self._login()
        try:
            return self._refresh(token)
        except AkeneoHTTPError as error:
            if error.status in (400, 401, 422):  # refresh token spent or expired: log in again
                logger.info("Akeneo refresh token rejected (HTTP %s); logging in again", error.status)
                return self._login()
            raise

    # ------------------------------------------------------------------ transport
    def absolute(self, url_or_path: str) -> str:
        """The URL to request for a path or a `_links` href — the one gate every request goes through.

        Relative hrefs resolve against the base URL, keeping its path prefix (a root-relative path outside the
        prefix gets it). An absolute or scheme-relative (`//host/…`) href must be on the connection's own scheme,
        host and port, and under its prefix once dot segments are resolved; anything else raises
        AkeneoForeignLink, before any request. The URL returned is rebuilt from the base URL's own scheme and
        network location and the href's path and query, so what is requested is exactly what was checked.
        """
        base = self.credentials.base_url.rstrip("/")
        own = urlsplit(base)
        prefix = own.path
        href = url_or_path.strip()
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or href.startswith("//"):
            resolved = urlsplit(urljoin(base + "/", href))
            if resolved.username is not None or resolved.password is not None:
                raise AkeneoForeignLink(
                    f"Akeneo linked to {_origin_label(resolved)} with user information in the address; "
                    "the link was not followed and no credentials were sent there",
                    path=resolved.path[:200],
                )
            if resolved.scheme != own.scheme or _origin_key(resolved) != _origin_key(own):
                raise AkeneoForeignLink(
                    f"Akeneo linked to {_origin_label(resolved)}, which is not this connection's server "
                    f"({_origin_label(own)}); the link was not followed and no credentials were sent there",
                    path=resolved.path[:200],
                )
        elif href.startswith("/"):
            under = not prefix or href == prefix or href.startswith(prefix + "/")
            resolved = urlsplit(urljoin(base + "/", href) if under else base + href)
        else:
            resolved = urlsplit(urljoin(base + "/", href))
        path = _remove_dot_segments(resolved.path)
        if not _under(path, prefix) or not _under(_server_view(path), _server_view(prefix)):
            raise AkeneoForeignLink(
                f"Akeneo linked to {_origin_label(own)}{path[:200]}, outside this connection's path "
                f"{prefix!r}; the link was not followed",
                path=path[:200],
            )
        return f"{own.scheme}://{own.netloc}{path}" + (f"?{resolved.query}" if resolved.query else "")

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.settings.backoff_max, self.settings.backoff_base * (2 ** (attempt - 1)))
        return ceiling * (0.5 + self._jitter() / 2)  # "equal jitter": never zero, never in lockstep

    def _with_retries(self, call: Callable[[], T]) -> T:
        """Retry what may succeed later, within `max_attempts` and `max_retry_wait` seconds of waiting in all."""
        attempt, waited = 0, 0.0
        while True:
            attempt += 1
            try:
                return call()
            except AkeneoError as error:
                if not error.retryable or attempt >= self.settings.max_attempts:
                    raise
                asked = getattr(error, "retry_after", None)
                delay = asked or self._backoff(attempt)
                left = self.settings.max_retry_wait - waited
                if delay > left:
                    if not asked:
                        raise
                    raise AkeneoWaitTooLong(
                        f"{error}; Akeneo asked to wait {_seconds(asked)} s before retrying, more than the "
                        f"{_seconds(max(left, 0.0))} s left of the {_seconds(self.settings.max_retry_wait)} s "
                        "one request may spend waiting (AKENEO_MAX_RETRY_WAIT)",
                        status=error.status,
                        akeneo_message=error.akeneo_message,
                        path=error.path,
                    ) from None
                waited += delay
                self._count("retries")
                logger.warning(
                    "Akeneo %s (attempt %s/%s); retrying in %.1fs",
                    error,
                    attempt,
                    self.settings.max_attempts,
                    delay,
                )
                # Throttled: the whole connection holds back (every thread and process) while this call waits.
                throttled = error.status == 429 or asked is not None
                pause = self.limiter.pause(delay) if throttled else None
                try:
                    self._sleep(delay)
                finally:
                    self.limiter.resume(pause)

    def _send(self, method: str, url: str, consume: Callable[[requests.Response], T], **kwargs: Any) -> T:
        """One HTTP exchange, body included, holding a limiter slot; a 401 renews the token and replays once."""
        url = self.absolute(url)
        path = urlsplit(url).path
        token = self._access_token()
        for replay in (False, True):
            with self.limiter.slot():
                self._count("requests")
                try:
                    response = self.session.request(
                        method,
                        url,
                        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                        timeout=self.settings.timeout,
                        allow_redirects=False,
                        stream=True,  # bodies are read by `consume`, within their own bounds
                        **kwargs,
                    )
                except requests.exceptions.RequestException as exc:
                    reason = unreachable_reason(exc, self.settings.timeout)
                    raise AkeneoUnreachable(f"{method} {path}: {reason}", reason=reason, path=path) from None
                try:
                    if response.status_code == 401 and not replay:
                        response.close()
                        token = self._access_token(stale=token)
                        continue
                    if response.status_code >= 300:
                        raise self._http_error(method, path, response)
                    return consume(response)
                except requests.exceptions.RequestException as exc:  # the body broke off mid-way
                    reason = unreachable_reason(exc, self.settings.timeout)
                    raise AkeneoUnreachable(f"{method} {path}: {reason}", reason=reason, path=path) from None
                finally:
                    response.close()
        raise AssertionError("unreachable")  # pragma: no cover

    def _http_error(self, method: str, path: str, response: requests.Response) -> AkeneoError:
        status = response.status_code
        if 300 <= status < 400:
            return AkeneoNotAnAPI(f"{method} {path} redirected (HTTP {status})", status=status, path=path)
        _read_error_body(response)
        message = self.credentials.redact(message_of(json_or_none(response), response))
        error = AkeneoHTTPError(
            f"{method} {path}: HTTP {status}{f' — {message}' if message else ''}",
            status=status,
            akeneo_message=message,
            path=path,
        )
        if status in RETRYABLE_STATUSES:
            error.retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return error

    def request_json(
        self, method: str, url: str, *, params: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> Any:
        """A JSON call with retries. A body that is not JSON is retried too (proxies), then reported clearly.

        The body is read streamed and refused past `max_page_bytes` (a server ignoring `limit`) or when it takes
        longer than `answer_deadline` seconds (a server sending a byte now and then never trips the read timeout).
        """

        def parse(response: requests.Response) -> Any:
            body = self._read_capped(method, response)
            self._count("bytes", len(body))
            try:
                return json.loads(body)
            except ValueError:
                raise AkeneoMalformedResponse(
                    f"{method} {urlsplit(response.url).path}: the answer is not valid JSON "
                    f"({len(body)} bytes, {response.headers.get('Content-Type', 'no content type')})",
                    status=response.status_code,
                    path=urlsplit(response.url).path,
                ) from None

        return self._with_retries(
            lambda: self._send(method, url, parse, params=encode_params(params), **kwargs)
        )

    def get(self, path_or_url: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request_json("GET", path_or_url, params=params)

    def _read_capped(self, method: str, response: requests.Response) -> bytearray:
        limit = self.settings.max_page_bytes
        path = urlsplit(response.url).path

        def too_large(what: str) -> AkeneoTooLarge:
            return AkeneoTooLarge(
                f"{method} {path}: the answer {what}, more than the {limit} bytes accepted "
                "(AKENEO_MAX_PAGE_BYTES); was the page size ignored?",
                status=response.status_code,
                path=path,
            )

        declared = _content_length(response)
        if declared is not None and declared > limit:
            raise too_large(f"announces {declared} bytes")
        expired = threading.Event()

        def cut() -> None:
            expired.set()
            _shut_down(response)

        watchdog = threading.Timer(self.settings.answer_deadline, cut)
        watchdog.daemon = True
        watchdog.start()
        body = bytearray()
        try:
            for chunk in response.iter_content(READ_CHUNK):
                if expired.is_set():
                    break
                if len(body) + len(chunk) > limit:
                    raise too_large("grew past the limit")
                body += chunk
        except AkeneoTooLarge:
            raise
        except Exception:
            if not expired.is_set():
                raise
        finally:
            watchdog.cancel()
        if expired.is_set():
            raise AkeneoDeadline(
                f"{method} {path}: the answer did not finish within {_seconds(self.settings.answer_deadline)} s "
                "(AKENEO_ANSWER_DEADLINE)",
                path=path,
            )
        return body

    # ------------------------------------------------------------------ paging
    def list_url(
        self,
        resource: str,
        *,
        parent: Parents = None,
        params: Mapping[str, Any] | None = None,
        flags: bool = True,
    ) -> str:
        """The first-page URL of a resource: `limit`, the pagination type and the flags the table gives it.

        `parent`: the parent codes of a sub-resource, outermost first (a string for one code). The flags are
        left out once the server refused them (see pages()).
        """
        spec = RESOURCES[resource]
        path = self.products_path() if resource == "products-uuid" else spec.format_path(parent_codes(parent))
        query: dict[str, Any] = {}
        if spec.pagination in ("page", "search_after"):
            query["limit"] = self.settings.page_size
            if spec.pagination == "search_after":
                query["pagination_type"] = "search_after"
        if flags and resource not in self.refused_flags:
            query.update(spec.flags)
        query.update(params or {})
        encoded = urlencode(encode_params(query))
        return self.absolute(path + (f"?{encoded}" if encoded else ""))

    def pages(
        self,
        resource: str,
        *,
        parent: Parents = None,
        params: Mapping[str, Any] | None = None,
        start_url: str | None = None,
        prefetch: bool = True,
        expected_count: int | Callable[[], int | None] | None = None,
    ) -> Iterator[Page]:
        """Pages of a resource, from the first or from a saved URL (`next_url`, or a page's own `url`); the
        next page downloads meanwhile.

        The first page is read with the table's flags; a server refusing them (422, or 400 naming one) is asked
        again without them, with a warning. A resource with a `fallback` that answers 404 is read through the
        fallback, its records converted to this resource's shape (also when resuming from a fallback URL).

        The iteration stops with AkeneoPagingLoop (after handing over the page that carries the bad link) when a
        `next` link repeats a page already read, or when, with `expected_count` given (Akeneo's count for the
        step), the items read run far past it: a server whose links never end cannot keep a run going forever.
        """
        if start_url:
            url = self.absolute(start_url)
            spec = self._spec_of_url(resource, url)
            first = self._fetch_any(url, spec.pagination)
        else:
            spec, first = self._first_page(resource, parent, params)
        convert = spec.converter if spec.name != resource else None  # read as a fallback: the new shape
        guard = _PagingGuard(first.url, expected_count, self.settings)
        stop = guard.check(first)
        yield _converted(first, convert)
        if stop is not None:
            raise stop
        if first.next_url:
            for page in self._follow(first.next_url, prefetch=prefetch, guard=guard):
                yield _converted(page, convert)

    def _spec_of_url(self, resource: str, url: str) -> ResourceSpec:
        """The resource a saved URL belongs to: `resource`, or its fallback when the URL is the fallback's."""
        spec = RESOURCES[resource]
        if spec.fallback:
            fallback = RESOURCES[spec.fallback]
            if urlsplit(url).path.rstrip("/") == urlsplit(self.absolute(fallback.path)).path.rstrip("/"):
                return fallback
        return spec

    def _first_page(
        self, resource: str, parent: Parents, params: Mapping[str, Any] | None
    ) -> tuple[ResourceSpec, Page]:
        spec = RESOURCES[resource]
        if spec.fallback and resource in self.fallen_back:
            return self._first_page(spec.fallback, parent, params)
        url = self.list_url(resource, parent=parent, params=params)
        try:
            return spec, self._fetch_any(url, spec.pagination)
        except AkeneoHTTPError as error:
            if spec.flags and resource not in self.refused_flags and _refuses_flags(error, spec):
                self.refused_flags.add(resource)
                logger.warning(
                    "Akeneo refused %s on %s (%s); reading it without them: this server does not give those "
                    "details",
                    ", ".join(f"{name}={value}" for name, value in spec.flags.items()),
                    resource,
                    error,
                )
                return self._first_page(resource, parent, params)
            if error.status == 404 and spec.fallback:  # (another thread may have found it out meanwhile)
                if resource not in self.fallen_back:
                    self.fallen_back.add(resource)
                    logger.warning(
                        "Akeneo has no %s (HTTP 404): reading %s instead (a PIM older than the first)",
                        resource,
                        spec.fallback,
                    )
                return self._first_page(spec.fallback, parent, params)
            raise

    def _fetch_any(self, url: str, pagination: str) -> Page:
        if pagination != "none":
            return self._fetch_page(url)
        data = self.get(url)
        items, dropped = _objects(data) if isinstance(data, list) else _embedded_items(data, url)
        return Page(items=items, url=url, next_url=None, items_count=len(items), dropped=dropped)

    def _follow(self, url: str, *, prefetch: bool, guard: _PagingGuard) -> Iterator[Page]:
        if not prefetch:
            next_url: str | None = url
            while next_url:
                page = self._fetch_page(next_url)
                stop = guard.check(page)
                next_url = page.next_url if stop is None else None
                yield page
                if stop is not None:
                    raise stop
            return
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="akeneo-prefetch")
        pending: Future[Page] | None = executor.submit(self._fetch_page, url)
        try:
            while pending is not None:
                page = pending.result()
                stop = guard.check(page)
                pending = (
                    executor.submit(self._fetch_page, page.next_url)
                    if page.next_url and stop is None
                    else None
                )
                yield page
                if stop is not None:
                    raise stop
        finally:
            if pending is not None:
                pending.cancel()
            executor.shutdown(wait=True)

    def _fetch_page(self, url: str) -> Page:
        data = self.get(url)
        items, dropped = _embedded_items(data, url)
        links = data.get("_links")
        following = links.get("next") if isinstance(links, dict) else None
        next_href = following.get("href") if isinstance(following, dict) else None
        if next_href is not None and not isinstance(next_href, str):
            raise AkeneoMalformedResponse(
                f"GET {urlsplit(url).path}: the next link is not a URL", path=urlsplit(url).path
            )
        if dropped:
            logger.warning(
                "Akeneo page %s held %s entries that are not records; they were left out",
                urlsplit(url).path,
                dropped,
            )
        return Page(
            items=items,
            url=url,
            next_url=self.absolute(next_href) if next_href else None,
            items_count=_count_or_none(data.get("items_count")),
            dropped=dropped,
        )

    def items(self, resource: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        for page in self.pages(resource, **kwargs):
            yield from page.items

    def count(self, resource: str, *, parent: Parents = None) -> int | None:
        """How many records Akeneo holds (one `with_count` call on a 1-item page); None where it cannot say.

        `with_count` is slow on big catalogs, so this is called once per step, never per page. An unpaginated
        resource is counted by reading it; one that answers 404 is counted through its fallback.
        """
        spec = RESOURCES[resource]
        if spec.fallback and resource in self.fallen_back:
            return self.count(spec.fallback, parent=parent)
        try:
            if spec.pagination == "none":
                data = self.get(self.list_url(resource, parent=parent))
                return len(data) if isinstance(data, list) else None
            if not spec.countable or spec.pagination == "search_after_only":
                return None
            path = (
                self.products_path()
                if resource == "products-uuid"
                else spec.format_path(parent_codes(parent))
            )
            data = self.get(path, params={"limit": 1, "with_count": True})
        except AkeneoHTTPError as error:
            if error.status == 404 and spec.fallback:
                self.fallen_back.add(resource)
                return self.count(spec.fallback, parent=parent)
            raise
        return _count_or_none(data.get("items_count")) if isinstance(data, dict) else None

    def products_path(self) -> str:
        """`/products-uuid` where the server has it (7.0 / SaaS), else `/products` (identifier-less are skipped)."""
        if self._products_path is None:
            index = self.get(API_ROOT)
            routes = index.get("routes") if isinstance(index, dict) else None
            routes = routes if isinstance(routes, dict) else {}
            has_uuid = any(
                isinstance(route, dict) and str(route.get("route", "")).rstrip("/").endswith("/products-uuid")
                for route in routes.values()
            )
            self._products_path = f"{API_ROOT}/products-uuid" if has_uuid else f"{API_ROOT}/products"
        return self._products_path

    # ------------------------------------------------------------------ media
    def download(self, href: str, target: IO[bytes]) -> Download:
        """Stream a media file into `target` (memory independent of size). A retry rewinds a seekable target.

        Bounded: the whole download (retries included) has `media_deadline` seconds — a watchdog cuts the
        connection at the deadline, since a server sending a byte now and then never trips the read timeout —
        and at most `media_max_bytes` are accepted. Both raise errors that are not retried.
        """
        deadline = time.monotonic() + self.settings.media_deadline
        limit = self.settings.media_max_bytes

        def late(path: str) -> AkeneoDeadline:
            return AkeneoDeadline(
                f"GET {path}: the download did not finish within {_seconds(self.settings.media_deadline)} s "
                "(AKENEO_MEDIA_DEADLINE)",
                path=path,
            )

        def too_large(path: str, what: str) -> AkeneoTooLarge:
            return AkeneoTooLarge(
                f"GET {path}: the media file {what}, more than the {limit} bytes accepted (AKENEO_MEDIA_MAX_BYTES)",
                path=path,
            )

        def stream(response: requests.Response) -> Download:
            path = urlsplit(response.url).path
            declared = _content_length(response)
            if declared is not None and declared > limit:
                raise too_large(path, f"announces {declared} bytes")
            left = deadline - time.monotonic()
            if left <= 0:
                raise late(path)
            expired = threading.Event()

            def cut() -> None:
                expired.set()
                _shut_down(response)

            watchdog = threading.Timer(left, cut)
            watchdog.daemon = True
            watchdog.start()
            digest, size = hashlib.sha256(), 0
            try:
                for chunk in response.iter_content(DOWNLOAD_CHUNK):
                    if expired.is_set():
                        break
                    if size + len(chunk) > limit:
                        raise too_large(path, "grew past the limit")
                    target.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
            except Exception:
                if expired.is_set():
                    raise late(path) from None
                raise
            finally:
                watchdog.cancel()
            if expired.is_set() or time.monotonic() > deadline:
                raise late(path)
            expected = response.headers.get("Content-Length")
            if (
                expected is not None
                and expected.isdigit()
                and int(expected) != size
                and not response.headers.get("Content-Encoding")
            ):
                raise AkeneoUnreachable(
                    f"GET {urlsplit(response.url).path}: got {size} of {expected} bytes",
                    reason="the download was cut short",
                    path=urlsplit(response.url).path,
                )
            return Download(
                response.headers.get("Content-Type", "application/octet-stream"), size, digest.hexdigest()
            )

        def attempt() -> Download:
            if time.monotonic() >= deadline:
                raise late(urlsplit(href).path)
            if target.seekable():
                target.seek(0)
                target.truncate()
            return self._send("GET", href, stream)

        if not target.seekable():
            return attempt()  # a stream we cannot rewind gets one try
        return self._with_retries(attempt)

    @staticmethod
    def media_download_path(kind: str, code: str) -> str:
        """Where a media code downloads when no `_links.download.href` came with it (MEDIA_KINDS of the resource
        table: product, asset, reference-entity, category). Slashes stay slashes."""
        return MEDIA_KINDS[kind].format(code=quote(code, safe="/"))


def _refuses_flags(error: AkeneoHTTPError, spec: ResourceSpec) -> bool:
    """A 422 on a read carrying flags, or a 400 naming one of them: the server does not know the flags."""
    if error.status == 422:
        return True
    message = f"{error.akeneo_message or ''} {error}"
    return error.status == 400 and any(name in message for name in spec.flags)


def _converted(page: Page, convert: Callable[[dict[str, Any]], dict[str, Any]] | None) -> Page:
    if convert is None:
        return page
    return dataclasses.replace(page, items=[convert(item) for item in page.items])


def _embedded_items(data: Any, url: str) -> tuple[list[dict[str, Any]], int]:
    """The page's records (JSON objects) and how many other entries were left out."""
    if isinstance(data, dict):
        embedded = data.get("_embedded")
        embedded = embedded if isinstance(embedded, dict) else {}
        # `_items`: the official spec's own assets example spells it so; tolerate it rather than lose a page.
        items = embedded.get("items", embedded.get("_items"))
        if isinstance(items, list):
            return _objects(items)
    raise AkeneoMalformedResponse(
        f"GET {urlsplit(url).path}: the answer has no _embedded.items list", path=urlsplit(url).path
    )


def _objects(entries: list[Any]) -> tuple[list[dict[str, Any]], int]:
    items = [entry for entry in entries if isinstance(entry, dict)]
    return items, len(entries) - len(items)


def _count_or_none(value: Any) -> int | None:
    """Akeneo's `items_count` when it is a non-negative integer (bool is not)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


class _PagingGuard:
    """Bounds one pages() iteration: no page read twice, no reading far past the expected count.

    Memory is one 20-byte digest per page (a million products at 100 per page: about 1 MB).
    """

    def __init__(
        self, first_url: str, expected_count: int | Callable[[], int | None] | None, settings: ClientSettings
    ) -> None:
        self.seen = {_url_digest(first_url)}
        self.read = 0
        # a callable: the count is being read meanwhile (None until it is known)
        self._expected = expected_count
        self.page_size = settings.page_size

    @property
    def expected(self) -> int | None:
        expected = self._expected() if callable(self._expected) else self._expected
        return expected if isinstance(expected, int) and expected >= 0 else None

    @property
    def ceiling(self) -> int | None:
        expected = self.expected
        return None if expected is None else expected * 2 + 10 * self.page_size

    def check(self, page: Page) -> AkeneoPagingLoop | None:
        """None when `page.next_url` may be followed; else the error to raise once `page` is handed over."""
        self.read += len(page.items) + page.dropped
        if not page.next_url:
            return None
        digest = _url_digest(page.next_url)
        parts = urlsplit(page.next_url)
        if digest in self.seen:
            shown = parts.path + (f"?{parts.query}" if parts.query else "")
            return AkeneoPagingLoop(
                f"Akeneo's next link repeats a page already read: {shown[:300]}; stopped reading",
                path=parts.path,
            )
        self.seen.add(digest)
        ceiling = self.ceiling
        if ceiling is not None and self.read > ceiling:
            return AkeneoPagingLoop(
                f"Akeneo's next links keep going: {self.read} items read where it counted {self.expected} "
                f"(the limit is {ceiling}); stopped reading",
                path=parts.path,
            )
        return None


def _url_digest(url: str) -> bytes:
    """The same page whatever the order of its query parameters."""
    parts = urlsplit(url)
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return hashlib.sha1(f"{parts.path}?{query}".encode(), usedforsecurity=False).digest()


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 dot-segment removal; `%2e` counts as a dot (servers decode it before resolving)."""
    segments = path.split("/")
    output: list[str] = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        dots = unquote(segment)
        if dots in (".", ".."):
            if dots == ".." and len(output) > 1:
                output.pop()
            if last:
                output.append("")
            continue
        output.append(segment)
    if not output or output[0] != "":
        output.insert(0, "")
    return "/".join(output) or "/"


def _server_view(path: str) -> str:
    """The path as a lenient server may read it: decoded, `\\` and `//` taken as `/`, dot segments resolved.
    A link must be under the prefix both as sent and read so."""
    return _remove_dot_segments(re.sub(r"/+", "/", unquote(path).replace("\\", "/"))).rstrip("/")


def _under(path: str, prefix: str) -> bool:
    return not prefix or path == prefix or path.startswith(prefix + "/")


def _origin_key(parts: Any) -> tuple[str, str, int | None]:
    """Scheme, host and port compared as servers see them: host case, a final dot, IPv6 spellings, default
    ports. A port that does not parse compares unequal to everything."""
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    with contextlib.suppress(ValueError):
        host = ipaddress.ip_address(host).compressed
    try:
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:
        port = -1
    return scheme, host, port


def _origin_label(parts: Any) -> str:
    """scheme://host:port for messages (never the user information or the query)."""
    scheme, host, port = _origin_key(parts)
    host = f"[{host}]" if ":" in host else host
    shown = f"{scheme}://{host}" + ("" if port is None else f":{port}" if port >= 0 else ":(invalid port)")
    return shown[:200]


def _content_length(response: requests.Response) -> int | None:
    declared = (response.headers.get("Content-Length") or "").strip()
    return int(declared) if declared.isdigit() else None


def _read_error_body(response: requests.Response) -> None:
    """Read at most ERROR_BODY_MAX bytes of an error answer (only its message is used), not a huge body."""
    if getattr(response, "_content_consumed", True):
        return
    body = bytearray()
    try:
        for chunk in response.iter_content(8192):
            body += chunk
            if len(body) >= ERROR_BODY_MAX:
                break
    except requests.exceptions.RequestException:
        pass  # a body cut short still has its start
    response._content = bytes(body[:ERROR_BODY_MAX])  # what .json() and .text read; a body left unread
    # keeps `_content_consumed` false, so closing the response drops the connection instead of reusing it


def _shut_down(response: requests.Response) -> None:
    """Wake a read blocked on this response's socket (from another thread): shutdown, unlike close, does."""
    connection = getattr(response.raw, "connection", None)
    sock = getattr(connection, "sock", None)
    if sock is None:  # the http.client response's socket file
        fp = getattr(getattr(response.raw, "_fp", None), "fp", None)
        sock = getattr(getattr(fp, "raw", None), "_sock", None)
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
    else:
        response.raw.close()


def _seconds(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (seconds or HTTP date), as the server asked (the retry budget decides
    what is acceptable); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return max(when.timestamp() - time.time(), 0.0) or None
