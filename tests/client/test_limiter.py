"""The per-connection limiter against a real redis-server: slots, expiry of a dead holder's slots, the pause,
the in-process fallback, and the client honouring and publishing a 429's pause."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import redis

from connections.akeneo.auth import Credentials
from connections.akeneo.client import AkeneoClient, ClientSettings
from connections.akeneo.limiter import (
    LocalLimiter,
    RedisLimiter,
    connection_identity,
    limiter_for,
)
from demo_akeneo.server import start_demo_server
from tests.support.services import redis_server  # noqa: F401  (the session's throw-away redis-server)

PROJECT = Path(__file__).resolve().parents[2]
WAIT = 30.0  # generous bound on waits that must end (never asserted as a duration)


@pytest.fixture
def rdb(redis_server):  # noqa: F811
    client = redis.Redis.from_url(redis_server, socket_timeout=WAIT)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def limiter(rdb, identity="pim.example:443:abc", limit=2, **options) -> RedisLimiter:
    """A limiter on its own Redis client (as another process would have)."""
    other = redis.Redis(connection_pool=redis.ConnectionPool(**rdb.connection_pool.connection_kwargs))
    return RedisLimiter(other, identity, limit, **options)


CREDS = Credentials(
    base_url="https://Pim.Example.com/",
    client_id="client-123",
    secret="s3cr3t-value",
    username="u",
    password="pw",
)


def test_identity_names_the_host_hashes_the_client_and_never_holds_a_secret():
    identity = connection_identity(CREDS)
    assert identity.startswith("pim.example.com:443:")
    assert "client-123" not in identity and "s3cr3t" not in identity
    other_client = Credentials(
        base_url=CREDS.base_url, client_id="client-456", secret="x", username="u", password="p"
    )
    same_connection_other_secret = Credentials(
        base_url="https://pim.example.com", client_id="client-123", secret="other", username="v", password="q"
    )
    assert connection_identity(other_client) != identity
    assert connection_identity(same_connection_other_secret) == identity


def test_slots_are_shared_between_limiters_of_one_connection(rdb):
    first, second = limiter(rdb), limiter(rdb)
    a = first.acquire(timeout=0)
    b = second.acquire(timeout=0)
    assert a is not None and b is not None and not a.local and not b.local
    assert first.acquire(timeout=0) is None and second.acquire(timeout=0) is None
    assert first.held() == 2
    first.release(a)
    c = second.acquire(timeout=0)
    assert c is not None
    second.release(b)
    second.release(c)
    assert first.held() == 0


def test_two_connections_do_not_share_a_budget(rdb):
    one, other = limiter(rdb, "a.example:443:1", limit=1), limiter(rdb, "b.example:443:2", limit=1)
    assert one.acquire(timeout=0) is not None
    assert other.acquire(timeout=0) is not None
    assert one.acquire(timeout=0) is None


def test_keys_carry_the_identity_and_nothing_secret(rdb):
    limiter_ = limiter(rdb, connection_identity(CREDS))
    slot = limiter_.acquire(timeout=0)
    pause = limiter_.pause(5)
    keys = [key.decode() for key in rdb.keys("*")]
    assert keys and all(key.startswith("akeneo-limit:{pim.example.com:443:") for key in keys)
    assert not any("client-123" in key or "s3cr3t" in key for key in keys)
    limiter_.resume(pause)
    limiter_.release(slot)


def test_a_waiter_gets_the_slot_a_release_frees(rdb):
    holder, waiter = limiter(rdb, limit=1), limiter(rdb, limit=1)
    slot = holder.acquire(timeout=0)
    got: list = []
    thread = threading.Thread(target=lambda: got.append(waiter.acquire(timeout=WAIT)))
    thread.start()
    holder.release(slot)
    thread.join(WAIT)
    assert got and got[0] is not None and not got[0].local


DEAD_HOLDER = textwrap.dedent(
    """
    import os, sys, redis
    from connections.akeneo.limiter import RedisLimiter
    limiter = RedisLimiter(redis.Redis.from_url(sys.argv[1]), "dead.example:443:x", 2, slot_ttl=float(sys.argv[2]))
    slots = [limiter.acquire(timeout=10) for _ in range(2)]
    assert all(slot is not None for slot in slots)
    print("held", flush=True)
    sys.stdin.read()  # killed here, holding both slots
    """
)


def test_a_dead_holders_slots_expire(rdb, redis_server):  # noqa: F811
    ttl = 3.0
    child = subprocess.Popen(
        [sys.executable, "-c", DEAD_HOLDER, redis_server, str(ttl)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=PROJECT,
    )
    try:
        assert child.stdout.readline().strip() == "held"
    finally:
        child.kill()  # SIGKILL: no release, no renewal
        child.wait(WAIT)
    survivor = limiter(rdb, "dead.example:443:x", limit=2, slot_ttl=ttl)
    assert survivor.held() == 2  # the dead process's slots are still counted...
    assert survivor.acquire(timeout=0) is None
    slot = survivor.acquire(timeout=WAIT)  # ...until they expire
    assert slot is not None and not slot.local
    assert rdb.zcard(survivor.slots_key) == 1
    survivor.release(slot)


def test_a_held_slot_is_renewed(rdb):
    holder = limiter(rdb, limit=1, slot_ttl=1.0)
    slot = holder.acquire(timeout=0)
    first = rdb.zscore(holder.slots_key, slot.token)
    deadline = time.monotonic() + WAIT
    while rdb.zscore(holder.slots_key, slot.token) == first and time.monotonic() < deadline:
        time.sleep(0.05)
    renewed = rdb.zscore(holder.slots_key, slot.token)
    assert renewed is not None and renewed > first
    holder.release(slot)
    assert rdb.zscore(holder.slots_key, slot.token) is None


def test_the_pause_holds_every_limiter_back_until_lifted(rdb):
    throttled, other = limiter(rdb), limiter(rdb)
    pause = throttled.pause(60)
    assert other.paused_for() > 30
    assert other.acquire(timeout=0) is None  # free slots, but the connection is paused
    shorter = other.pause(1)  # a shorter pause never shortens a longer one...
    other.resume(shorter)  # ...and lifting it leaves the longer one on
    assert other.paused_for() > 30
    throttled.resume(pause)
    assert other.paused_for() == 0
    assert other.acquire(timeout=0) is not None


def test_a_waiter_resumes_when_the_pause_is_lifted(rdb):
    throttled, waiter = limiter(rdb), limiter(rdb)
    pause = throttled.pause(60)
    got: list = []
    thread = threading.Thread(target=lambda: got.append(waiter.acquire(timeout=WAIT)))
    thread.start()
    thread.join(0.3)
    assert thread.is_alive() and got == []  # held back by the pause
    throttled.resume(pause)
    thread.join(WAIT)
    assert got and got[0] is not None


def test_the_local_limiter_counts_and_pauses():
    local = LocalLimiter(2)
    a, b = local.acquire(timeout=0), local.acquire(timeout=0)
    assert a and b and local.acquire(timeout=0) is None
    local.release(a)
    pause = local.pause(60)
    assert local.acquire(timeout=0) is None and local.paused_for() > 30
    local.resume(pause)
    c = local.acquire(timeout=0)
    assert c is not None
    local.release(b)
    local.release(c)
    with pytest.raises(ValueError):
        local.release(c)


def test_limiter_for_uses_redis_when_configured(settings, redis_server):  # noqa: F811
    settings.AKENEO_LIMITER_REDIS_URL = redis_server
    settings.AKENEO_MAX_IN_FLIGHT = 3
    settings.AKENEO_SLOT_TTL = 20.0
    made = limiter_for(CREDS)
    assert isinstance(made, RedisLimiter)
    assert (made.limit, made.slot_ttl, made.identity) == (3, 20.0, connection_identity(CREDS))


def test_limiter_for_falls_back_in_process_without_redis(settings, caplog):
    settings.AKENEO_LIMITER_REDIS_URL = ""
    assert isinstance(limiter_for(CREDS), LocalLimiter)
    assert limiter_for(CREDS) is limiter_for(CREDS)  # one per connection in a process
    with socket_nobody_listens_on() as url:
        settings.AKENEO_LIMITER_REDIS_URL = url
        with caplog.at_level(logging.WARNING, logger="connections.akeneo.limiter"):
            first, second = limiter_for(CREDS), limiter_for(CREDS)
    assert isinstance(first, LocalLimiter) and second is first
    warnings = [r for r in caplog.records if "is not reachable" in r.getMessage()]
    assert len(warnings) == 1  # logged once


class socket_nobody_listens_on:
    """A redis:// URL on a loopback port that refuses connections."""

    def __enter__(self) -> str:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        return f"redis://127.0.0.1:{self.sock.getsockname()[1]}/0"

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


def test_a_429_pauses_the_connection_while_the_throttled_call_waits(rdb):
    """The client publishes the Retry-After as the connection's pause for as long as it waits, then lifts it."""
    server = start_demo_server(products=30, faults="throttle_every=3")
    shared = limiter(rdb, limit=4)
    seen: list[float] = []
    try:
        client = AkeneoClient(
            Credentials(base_url=server.base_url, **server.credentials),
            ClientSettings(page_size=10),
            sleep=lambda seconds: seen.append(shared.paused_for()),
            limiter=shared,
        )
        with client:
            assert len(list(client.items("products-uuid", prefetch=False))) == 30
    finally:
        server.stop()
    assert server.stats.faults.get("throttle", 0) >= 1
    assert seen and all(0 < left <= 1.0 for left in seen)  # the demo's Retry-After: 1, seen by everyone
    assert shared.paused_for() == 0  # lifted once the call retried
    assert shared.held() == 0
