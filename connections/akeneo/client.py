"""The Akeneo REST client: one per connection and run, shared by the connection test and the migrations.

What it guarantees, because other importers break on exactly these:
- one token per client, refreshed before it expires and once after a 401 (keeping the NEW refresh token each
  answer brings); a spent refresh token means logging in again, never a failed run;
- every call has connect/read timeouts, is retried with exponential backoff and jitter on 408/429/5xx, resets and
  timeouts (honouring Retry-After), a bounded number of times;
- at most `max_in_flight` requests at once (Akeneo SaaS allows 4 concurrent calls per connection);
- lists are followed through `_links.next.href` (never a hand-built cursor), one page and one prefetched page in
  memory, resumable from a saved next-page URL;
- media are streamed to a file object in chunks, with their size and checksum.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, Any, TypeVar
from urllib.parse import quote, urlencode, urljoin, urlsplit

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
    AkeneoError,
    AkeneoHTTPError,
    AkeneoMalformedResponse,
    AkeneoNotAnAPI,
    AkeneoUnreachable,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")
API_ROOT = "/api/rest/v1"
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 300.0
DOWNLOAD_CHUNK = 256 * 1024


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
        }
        values.update(overrides)
        return cls(**values)

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)


@dataclass(frozen=True)
class Page:
    """One list page. `url` re-fetches this page; `next_url` is the cursor to save after importing it."""

    items: list[dict[str, Any]]
    url: str
    next_url: str | None
    items_count: int | None = None


@dataclass(frozen=True)
class Download:
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Resource:
    path: str  # may hold {parent} (attribute code, family code, entity code, asset family code)
    pagination: str = "page"  # "page", "search_after" or "none" (one unpaginated array)


RESOURCES: dict[str, Resource] = {
    "locales": Resource(f"{API_ROOT}/locales"),
    "currencies": Resource(f"{API_ROOT}/currencies"),
    "measurement-families": Resource(f"{API_ROOT}/measurement-families", "none"),
    "channels": Resource(f"{API_ROOT}/channels"),
    "categories": Resource(f"{API_ROOT}/categories"),
    "attribute-groups": Resource(f"{API_ROOT}/attribute-groups"),
    "attributes": Resource(f"{API_ROOT}/attributes"),
    "attribute-options": Resource(f"{API_ROOT}/attributes/{{parent}}/options"),
    "families": Resource(f"{API_ROOT}/families"),
    "family-variants": Resource(f"{API_ROOT}/families/{{parent}}/variants"),
    "association-types": Resource(f"{API_ROOT}/association-types"),
    "product-models": Resource(f"{API_ROOT}/product-models", "search_after"),
    "products-uuid": Resource(f"{API_ROOT}/products-uuid", "search_after"),
    "products": Resource(f"{API_ROOT}/products", "search_after"),
    "asset-families": Resource(f"{API_ROOT}/asset-families", "search_after"),
    "asset-family-attributes": Resource(f"{API_ROOT}/asset-families/{{parent}}/attributes", "none"),
    "assets": Resource(f"{API_ROOT}/asset-families/{{parent}}/assets", "search_after"),
    "reference-entities": Resource(f"{API_ROOT}/reference-entities", "search_after"),
    "reference-entity-attributes": Resource(f"{API_ROOT}/reference-entities/{{parent}}/attributes", "none"),
    "reference-entity-records": Resource(f"{API_ROOT}/reference-entities/{{parent}}/records", "search_after"),
}
# Asset families, reference entities and their records/assets only know search_after and take no pagination_type.
IMPLICIT_SEARCH_AFTER = {"asset-families", "assets", "reference-entities", "reference-entity-records"}


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
    ) -> None:
        self.credentials = credentials
        self.settings = settings or ClientSettings()
        self.session = session or requests.Session()
        adapter = requests.adapters.HTTPAdapter(
            pool_connections=2, pool_maxsize=max(self.settings.max_in_flight, 1) + 2, max_retries=0
        )
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self._sleep, self._clock, self._jitter = sleep, clock, jitter
        self._token_lock = threading.Lock()
        self._gate = threading.BoundedSemaphore(max(self.settings.max_in_flight, 1))
        self._token: Token | None = None
        self._expires_at = 0.0
        self._products_path: str | None = None
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
        """Resolve a path or a (possibly relative) `_links` href against the base URL, keeping its path prefix."""
        if urlsplit(url_or_path).scheme:
            return url_or_path
        base = self.credentials.base_url.rstrip("/")
        prefix = urlsplit(base).path
        if url_or_path.startswith("/"):
            if prefix and url_or_path.startswith(prefix + "/"):
                return urljoin(base + "/", url_or_path)
            return base + url_or_path
        return urljoin(base + "/", url_or_path)

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.settings.backoff_max, self.settings.backoff_base * (2 ** (attempt - 1)))
        return ceiling * (0.5 + self._jitter() / 2)  # "equal jitter": never zero, never in lockstep

    def _with_retries(self, call: Callable[[], T]) -> T:
        attempt = 0
        while True:
            attempt += 1
            try:
                return call()
            except AkeneoError as error:
                if not error.retryable or attempt >= self.settings.max_attempts:
                    raise
                delay = getattr(error, "retry_after", None) or self._backoff(attempt)
                self._count("retries")
                logger.warning(
                    "Akeneo %s (attempt %s/%s); retrying in %.1fs",
                    error,
                    attempt,
                    self.settings.max_attempts,
                    delay,
                )
                self._sleep(delay)

    def _send(self, method: str, url: str, consume: Callable[[requests.Response], T], **kwargs: Any) -> T:
        """One HTTP exchange, body included, inside the in-flight gate; a 401 renews the token and replays once."""
        url = self.absolute(url)
        path = urlsplit(url).path
        token = self._access_token()
        for replay in (False, True):
            with self._gate:
                self._count("requests")
                try:
                    response = self.session.request(
                        method,
                        url,
                        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                        timeout=self.settings.timeout,
                        allow_redirects=False,
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
        """A JSON call with retries. A body that is not JSON is retried too (proxies), then reported clearly."""

        def parse(response: requests.Response) -> Any:
            self._count("bytes", len(response.content))
            try:
                return response.json()
            except ValueError:
                raise AkeneoMalformedResponse(
                    f"{method} {urlsplit(response.url).path}: the answer is not valid JSON "
                    f"({len(response.content)} bytes, {response.headers.get('Content-Type', 'no content type')})",
                    status=response.status_code,
                    path=urlsplit(response.url).path,
                ) from None

        return self._with_retries(
            lambda: self._send(method, url, parse, params=encode_params(params), **kwargs)
        )

    def get(self, path_or_url: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request_json("GET", path_or_url, params=params)

    # ------------------------------------------------------------------ paging
    def list_url(
        self, resource: str, *, parent: str | None = None, params: Mapping[str, Any] | None = None
    ) -> str:
        """The first-page URL of a resource, with `limit` and the pagination type Akeneo supports there."""
        spec = RESOURCES[resource]
        path = spec.path.format(parent=quote(parent or "", safe=""))
        if resource in ("products", "products-uuid"):
            path = self.products_path() if resource == "products-uuid" else path
        query: dict[str, Any] = {}
        if spec.pagination != "none" and resource not in IMPLICIT_SEARCH_AFTER:
            query["limit"] = self.settings.page_size
            if spec.pagination == "search_after":
                query["pagination_type"] = "search_after"
        query.update(params or {})
        encoded = urlencode(encode_params(query))
        return self.absolute(path + (f"?{encoded}" if encoded else ""))

    def pages(
        self,
        resource: str,
        *,
        parent: str | None = None,
        params: Mapping[str, Any] | None = None,
        start_url: str | None = None,
        prefetch: bool = True,
    ) -> Iterator[Page]:
        """Pages of a resource, from the first or from a saved `next_url`; the next page downloads meanwhile."""
        url = start_url or self.list_url(resource, parent=parent, params=params)
        if RESOURCES[resource].pagination == "none":
            data = self.get(url)
            items = data if isinstance(data, list) else _embedded_items(data, url)
            yield Page(items=items, url=url, next_url=None, items_count=len(items))
            return
        yield from self._follow(url, prefetch=prefetch)

    def _follow(self, url: str, *, prefetch: bool) -> Iterator[Page]:
        if not prefetch:
            next_url: str | None = url
            while next_url:
                page = self._fetch_page(next_url)
                next_url = page.next_url
                yield page
            return
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="akeneo-prefetch")
        pending: Future[Page] | None = executor.submit(self._fetch_page, url)
        try:
            while pending is not None:
                page = pending.result()
                pending = executor.submit(self._fetch_page, page.next_url) if page.next_url else None
                yield page
        finally:
            if pending is not None:
                pending.cancel()
            executor.shutdown(wait=True)

    def _fetch_page(self, url: str) -> Page:
        data = self.get(url)
        items = _embedded_items(data, url)
        links = data.get("_links") or {}
        next_href = (links.get("next") or {}).get("href")
        return Page(
            items=items,
            url=url,
            next_url=self.absolute(next_href) if next_href else None,
            items_count=data.get("items_count"),
        )

    def items(self, resource: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        for page in self.pages(resource, **kwargs):
            yield from page.items

    def count(self, resource: str, *, parent: str | None = None) -> int | None:
        """How many records Akeneo holds (one `with_count` call on a 1-item page); None where it cannot say.

        `with_count` is slow on big catalogs, so this is called once per step, never per page.
        """
        spec = RESOURCES[resource]
        if spec.pagination == "none":
            data = self.get(self.list_url(resource, parent=parent))
            return len(data) if isinstance(data, list) else None
        if resource in IMPLICIT_SEARCH_AFTER:
            return None  # search_after-only resources have no count
        path = (
            self.products_path()
            if resource == "products-uuid"
            else spec.path.format(parent=quote(parent or "", safe=""))
        )
        data = self.get(path, params={"limit": 1, "with_count": True})
        count = data.get("items_count") if isinstance(data, dict) else None
        return count if isinstance(count, int) else None

    def products_path(self) -> str:
        """`/products-uuid` where the server has it (7.0 / SaaS), else `/products` (identifier-less are skipped)."""
        if self._products_path is None:
            index = self.get(API_ROOT)
            routes = index.get("routes", {}) if isinstance(index, dict) else {}
            has_uuid = any(
                isinstance(route, dict) and str(route.get("route", "")).rstrip("/").endswith("/products-uuid")
                for route in routes.values()
            )
            self._products_path = f"{API_ROOT}/products-uuid" if has_uuid else f"{API_ROOT}/products"
        return self._products_path

    # ------------------------------------------------------------------ media
    def download(self, href: str, target: IO[bytes]) -> Download:
        """Stream a media file into `target` (memory independent of size). A retry rewinds a seekable target."""

        def stream(response: requests.Response) -> Download:
            digest, size = hashlib.sha256(), 0
            for chunk in response.iter_content(DOWNLOAD_CHUNK):
                target.write(chunk)
                digest.update(chunk)
                size += len(chunk)
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
            if target.seekable():
                target.seek(0)
                target.truncate()
            return self._send("GET", href, stream, stream=True)

        if not target.seekable():
            return attempt()  # a stream we cannot rewind gets one try
        return self._with_retries(attempt)

    @staticmethod
    def media_download_path(kind: str, code: str) -> str:
        """Where a media code downloads when no `_links.download.href` came with it. Slashes stay slashes."""
        prefix = {
            "product": "media-files",
            "asset": "asset-media-files",
            "reference-entity": "reference-entities-media-files",
        }[kind]
        suffix = "/download" if kind == "product" else ""
        return f"{API_ROOT}/{prefix}/{quote(code, safe='/')}{suffix}"


def _embedded_items(data: Any, url: str) -> list[dict[str, Any]]:
    if isinstance(data, dict):
        embedded = data.get("_embedded") or {}
        # `_items`: the official spec's own assets example spells it so; tolerate it rather than lose a page.
        items = embedded.get("items", embedded.get("_items"))
        if isinstance(items, list):
            return items
    raise AkeneoMalformedResponse(
        f"GET {urlsplit(url).path}: the answer has no _embedded.items list", path=urlsplit(url).path
    )


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (seconds or HTTP date), capped; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max(when.timestamp() - time.time(), 0.0), MAX_RETRY_AFTER) or None
