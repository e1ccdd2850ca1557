"""How many calls one Akeneo connection has in flight, and when it must hold back: one budget per connection.

Akeneo SaaS allows 4 concurrent calls per API connection. A migration spreads its calls over threads, processes
and machines, so the budget is kept where they all see it:

- `RedisLimiter`: a distributed counting semaphore. The slots held are a sorted set of random tokens scored by
  their expiry (Redis server time, so machines' clocks don't matter); a Lua script removes expired tokens and
  takes a slot only while fewer than `limit` are held, atomically. A holder's slots are renewed every third of
  `slot_ttl` by a background thread while held (a long media body or a slow page keeps its slot), so a worker
  that dies (SIGKILL, a lost machine) frees its slots at most `slot_ttl` seconds later. A release wakes one
  waiter through a short list it blocks on (BLPOP), so freed slots don't sit idle until a poll.
- A 429 (or a Retry-After) pauses the whole connection: a "pause until" key that every process checks before
  taking a slot. The throttled caller holds the pause while it waits and lifts it when it retries (it also
  expires by itself), and a longer pause is never shortened by a shorter one.
- `LocalLimiter`: the same contract inside one process (threads only), used when Redis is not configured or
  not reachable, in the connection test, and by default.

Keys: `akeneo-limit:{<host>:<port>:<hash>}:slots|pause|wake` — the hash covers the base URL and the client id
(never the secret), so two connections never share a budget and two processes of one connection always do; the
`{…}` hash tag keeps a connection's keys in one Redis Cluster slot (Lua scripts need that).

`limiter_for(credentials)` builds the limiter the Django settings ask for (AKENEO_MAX_IN_FLIGHT,
AKENEO_LIMITER_REDIS_URL, AKENEO_SLOT_TTL).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

KEY_PREFIX = "akeneo-limit"
MAX_WAIT = 1.0  # longest a waiter sleeps before asking again (covers a slot freed by expiry, not by release)
REDIS_RETRY_AFTER = 30.0  # after Redis failed, seconds spent on the in-process fallback before trying again
REDIS_CONNECT_TIMEOUT = 2.0


@dataclass(frozen=True)
class Slot:
    """One call's right to be in flight. `token` names it in Redis; `local` when the in-process budget gave it."""

    token: str
    local: bool = False


@dataclass(frozen=True)
class Pause:
    """A connection-wide pause this caller asked for, to lift (`resume`) once it has waited."""

    token: str
    local: bool = False


class Limiter(Protocol):
    limit: int

    def acquire(self, timeout: float | None = None) -> Slot | None: ...

    def release(self, slot: Slot) -> None: ...

    def slot(self) -> contextlib.AbstractContextManager[Slot]: ...

    def pause(self, seconds: float) -> Pause | None: ...

    def resume(self, pause: Pause | None) -> None: ...

    def paused_for(self) -> float: ...


class _SlotContext:
    def slot(self) -> contextlib.AbstractContextManager[Slot]:
        """`with limiter.slot():` — wait for the pause to end and a slot to free, hold it for the block."""
        return self._slot_context()

    @contextlib.contextmanager
    def _slot_context(self) -> Iterator[Slot]:
        slot = self.acquire()
        assert slot is not None  # no timeout: acquire waits
        try:
            yield slot
        finally:
            self.release(slot)


class LocalLimiter(_SlotContext):
    """At most `limit` calls in flight among this process's threads, and a process-wide pause."""

    def __init__(self, limit: int) -> None:
        self.limit = max(int(limit), 1)
        self._cond = threading.Condition()
        self._in_flight = 0
        self._pause_until = 0.0
        self._pause_token: str | None = None

    def __repr__(self) -> str:
        return f"LocalLimiter(limit={self.limit})"

    def acquire(self, timeout: float | None = None) -> Slot | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                now = time.monotonic()
                paused = self._pause_until - now
                if paused <= 0 and self._in_flight < self.limit:
                    self._in_flight += 1
                    return Slot(token="", local=True)
                wait = paused if paused > 0 else None
                if deadline is not None:
                    left = deadline - now
                    if left <= 0:
                        return None
                    wait = left if wait is None else min(wait, left)
                self._cond.wait(wait)

    def release(self, slot: Slot) -> None:
        with self._cond:
            if self._in_flight <= 0:
                raise ValueError("released more slots than were acquired")
            self._in_flight -= 1
            self._cond.notify()

    def pause(self, seconds: float) -> Pause | None:
        if seconds <= 0:
            return None
        token = uuid.uuid4().hex
        with self._cond:
            until = time.monotonic() + seconds
            if until <= self._pause_until:
                return Pause(token, local=True)  # a longer pause is already on; ours is part of it
            self._pause_until, self._pause_token = until, token
        return Pause(token, local=True)

    def resume(self, pause: Pause | None) -> None:
        if pause is None:
            return
        with self._cond:
            if self._pause_token == pause.token:
                self._pause_until, self._pause_token = 0.0, None
                self._cond.notify_all()

    def paused_for(self) -> float:
        with self._cond:
            return max(self._pause_until - time.monotonic(), 0.0)


# KEYS[1] slots, KEYS[2] pause. ARGV: token, limit, ttl ms. -> {1, 0} taken; {0, ms} not now, ask again in ms.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then return {0, paused} end
local ttl = tonumber(ARGV[3])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ttl)
  return {1, 0}
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, math.max(tonumber(first[2]) - now, 1)}
"""

# KEYS[1] slots, KEYS[2] wake. ARGV: token, limit, ttl ms. Wakes one waiter (the list is capped at `limit`).
_RELEASE = """
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('LPUSH', KEYS[2], '1')
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[2]) - 1)
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[3]))
return removed
"""

# KEYS[1] slots. ARGV: ttl ms, tokens... -> the tokens no longer held (their slot expired and was taken back).
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
local lost = {}
for i = 2, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], 'XX', now + ttl, ARGV[i])
  else
    table.insert(lost, ARGV[i])
  end
end
if #lost < #ARGV - 1 then redis.call('PEXPIRE', KEYS[1], ttl) end
return lost
"""

# KEYS[1] pause. ARGV: token, ms. A pause is only ever lengthened.
_PAUSE = """
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[2]))
  return 1
end
return 0
"""

# KEYS[1] pause, KEYS[2] wake. ARGV: token, limit, ttl ms. Lifts the pause if it is still the caller's own.
_RESUME = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  for i = 1, tonumber(ARGV[2]) do redis.call('LPUSH', KEYS[2], '1') end
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[2]) - 1)
  redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[3]))
  return 1
end
return 0
"""


class RedisLimiter(_SlotContext):
    """At most `limit` calls in flight for one connection among every process using the same Redis and key.

    `redis`: a redis-py client (its socket timeout must exceed MAX_WAIT: waiters block on the wake list).
    `fallback`: the in-process limiter used while Redis fails (warned once per failure), so a Redis outage slows a
    migration down to a per-process budget instead of stopping it.
    """

    def __init__(
        self,
        redis: Any,
        identity: str,
        limit: int,
        *,
        slot_ttl: float = 15.0,
        fallback: LocalLimiter | None = None,
    ) -> None:
        if slot_ttl < 1:
            raise ValueError("slot_ttl must be at least 1 second")
        self.redis = redis
        self.identity = identity
        self.limit = max(int(limit), 1)
        self.slot_ttl = float(slot_ttl)
        self.fallback = fallback or LocalLimiter(self.limit)
        base = f"{KEY_PREFIX}:{{{identity}}}"
        self.slots_key, self.pause_key, self.wake_key = f"{base}:slots", f"{base}:pause", f"{base}:wake"
        self._acquire = redis.register_script(_ACQUIRE)
        self._release = redis.register_script(_RELEASE)
        self._renew = redis.register_script(_RENEW)
        self._pause = redis.register_script(_PAUSE)
        self._resume = redis.register_script(_RESUME)
        self._lock = threading.Lock()
        self._holding: set[str] = set()
        self._renewer: threading.Thread | None = None
        self._renewer_pid = 0
        self._failed_until = 0.0

    def __repr__(self) -> str:
        return f"RedisLimiter({self.identity!r}, limit={self.limit}, slot_ttl={self.slot_ttl:g})"

    @property
    def _ttl_ms(self) -> int:
        return int(self.slot_ttl * 1000)

    # ------------------------------------------------------------------ Redis failures
    def _redis_usable(self) -> bool:
        return time.monotonic() >= self._failed_until

    def _redis_failed(self, doing: str, error: Exception) -> None:
        with self._lock:
            first = time.monotonic() >= self._failed_until
            self._failed_until = time.monotonic() + REDIS_RETRY_AFTER
        if first:
            logger.warning(
                "Redis failed while %s for Akeneo connection %s (%s); this process keeps to its own limit of %s "
                "calls in flight for %.0f s, then tries Redis again",
                doing,
                self.identity,
                error,
                self.limit,
                REDIS_RETRY_AFTER,
            )

    # ------------------------------------------------------------------ slots
    def acquire(self, timeout: float | None = None) -> Slot | None:
        import redis as redis_lib

        deadline = None if timeout is None else time.monotonic() + timeout
        token = f"{os.getpid()}:{uuid.uuid4().hex}"
        while True:
            if not self._redis_usable():
                left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
                return self.fallback.acquire(left)
            try:
                taken, wait_ms = self._acquire(
                    keys=[self.slots_key, self.pause_key], args=[token, self.limit, self._ttl_ms]
                )
                if taken:
                    self._hold(token)
                    return Slot(token)
                wait = min(int(wait_ms) / 1000, MAX_WAIT)
                if deadline is not None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return None
                    wait = min(wait, left)
                self.redis.blpop([self.wake_key], timeout=max(wait, 0.01))
            except redis_lib.RedisError as error:
                self._redis_failed("taking a slot", error)

    def release(self, slot: Slot) -> None:
        import redis as redis_lib

        if slot.local:
            self.fallback.release(slot)
            return
        with self._lock:
            self._holding.discard(slot.token)
        try:
            self._release(keys=[self.slots_key, self.wake_key], args=[slot.token, self.limit, self._ttl_ms])
        except redis_lib.RedisError as error:  # the slot expires by itself
            self._redis_failed("freeing a slot", error)

    def held(self) -> int:
        """Slots held now by everyone (expired ones excluded), for monitoring and tests."""
        now_s, now_us = self.redis.time()
        return int(self.redis.zcount(self.slots_key, f"({now_s * 1000 + now_us // 1000}", "+inf"))

    # ------------------------------------------------------------------ renewal
    def _hold(self, token: str) -> None:
        with self._lock:
            self._holding.add(token)
            running = (
                self._renewer is not None and self._renewer.is_alive() and self._renewer_pid == os.getpid()
            )
            if not running:
                self._renewer_pid = os.getpid()
                self._renewer = threading.Thread(
                    target=self._renew_while_held, name="akeneo-slot-renewer", daemon=True
                )
                self._renewer.start()

    def _renew_while_held(self) -> None:
        """Every third of the TTL, push the expiry of this process's slots forward; stop once none is held."""
        import redis as redis_lib

        while True:
            time.sleep(self.slot_ttl / 3)
            with self._lock:
                tokens = sorted(self._holding)
                if not tokens:
                    self._renewer = None
                    return
            try:
                lost = self._renew(keys=[self.slots_key], args=[self._ttl_ms, *tokens])
            except redis_lib.RedisError as error:
                self._redis_failed("renewing slots", error)
                continue
            if lost:
                with self._lock:
                    still = [
                        token
                        for token in lost
                        if (token.decode() if isinstance(token, bytes) else token) in self._holding
                    ]
                if still:
                    logger.warning(
                        "%s slot(s) of Akeneo connection %s expired while held (renewal came too late: raise "
                        "AKENEO_SLOT_TTL); more calls than the limit may be in flight for a moment",
                        len(still),
                        self.identity,
                    )

    # ------------------------------------------------------------------ pause
    def pause(self, seconds: float) -> Pause | None:
        import redis as redis_lib

        if seconds <= 0:
            return None
        token = uuid.uuid4().hex
        try:
            self._pause(keys=[self.pause_key], args=[token, max(int(seconds * 1000), 1)])
            return Pause(token)
        except redis_lib.RedisError as error:
            self._redis_failed("pausing the connection", error)
            return self.fallback.pause(seconds)

    def resume(self, pause: Pause | None) -> None:
        import redis as redis_lib

        if pause is None:
            return
        if pause.local:
            self.fallback.resume(pause)
            return
        try:
            self._resume(keys=[self.pause_key, self.wake_key], args=[pause.token, self.limit, self._ttl_ms])
        except redis_lib.RedisError as error:  # the pause expires by itself
            self._redis_failed("lifting a pause", error)

    def paused_for(self) -> float:
        import redis as redis_lib

        try:
            left = int(self.redis.pttl(self.pause_key))
        except redis_lib.RedisError:
            return self.fallback.paused_for()
        return max(left, 0) / 1000


# ---------------------------------------------------------------------- factory
def connection_identity(credentials: Any) -> str:
    """`host:port:hash` of a connection: the hash covers the base URL and the client id, never a secret."""
    base = str(credentials.base_url).strip().rstrip("/")
    parts = urlsplit(base)
    host = (parts.hostname or "").rstrip(".").lower()
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower(), 0)
    except ValueError:
        port = 0
    normalized = f"{parts.scheme.lower()}://{host}:{port}{parts.path}"
    digest = hashlib.sha256(f"{normalized}\n{credentials.client_id}".encode()).hexdigest()[:16]
    return f"{host}:{port}:{digest}"


_factory_lock = threading.Lock()
_local_limiters: dict[tuple[int, str, int], LocalLimiter] = {}
_redis_clients: dict[tuple[int, str], Any] = {}
_redis_down: dict[str, float] = {}  # URL -> monotonic time until which it is not tried again
_warned: set[str] = set()


def local_limiter_for(identity: str, limit: int) -> LocalLimiter:
    """This process's in-process limiter of a connection (one per connection and limit, shared by its clients)."""
    key = (os.getpid(), identity, max(int(limit), 1))
    with _factory_lock:
        limiter = _local_limiters.get(key)
        if limiter is None:
            limiter = _local_limiters[key] = LocalLimiter(limit)
        return limiter


def _redis_client(url: str) -> Any | None:
    """A pinged redis-py client for `url` (one per process), or None when Redis cannot be reached now."""
    import redis as redis_lib

    key = (os.getpid(), url)
    with _factory_lock:
        client = _redis_clients.get(key)
        if client is not None:
            return client
        if time.monotonic() < _redis_down.get(url, 0.0):
            return None
    client = redis_lib.Redis.from_url(
        url,
        socket_connect_timeout=REDIS_CONNECT_TIMEOUT,
        socket_timeout=MAX_WAIT + 10.0,
        health_check_interval=30,
    )
    try:
        client.ping()
    except redis_lib.RedisError as error:
        client.close()
        with _factory_lock:
            _redis_down[url] = time.monotonic() + REDIS_RETRY_AFTER
            first = url not in _warned
            _warned.add(url)
        if first:
            logger.warning(
                "Redis at %s is not reachable (%s): each process keeps its own limit of Akeneo calls in flight, "
                "so several workers together may exceed the connection's limit (Akeneo then answers 429)",
                _safe_url(url),
                error,
            )
        return None
    with _factory_lock:
        return _redis_clients.setdefault(key, client)


def _safe_url(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    with contextlib.suppress(ValueError):
        netloc += f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{netloc}{parts.path}"


def limiter_for(credentials: Any, *, limit: int | None = None) -> Limiter:
    """The limiter for a connection as configured: shared through Redis (AKENEO_LIMITER_REDIS_URL, by default
    REDIS_URL; empty: in-process only), else this process's own. `limit` defaults to AKENEO_MAX_IN_FLIGHT."""
    from django.conf import settings

    limit = max(int(limit if limit is not None else settings.AKENEO_MAX_IN_FLIGHT), 1)
    identity = connection_identity(credentials)
    local = local_limiter_for(identity, limit)
    url = getattr(settings, "AKENEO_LIMITER_REDIS_URL", None)
    if url is None:
        url = getattr(settings, "REDIS_URL", "")
    if not url:
        return local
    client = _redis_client(url)
    if client is None:
        return local
    return RedisLimiter(client, identity, limit, slot_ttl=settings.AKENEO_SLOT_TTL, fallback=local)
