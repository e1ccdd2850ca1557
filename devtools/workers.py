"""Real Celery workers for `manage.py bench_migration --workers N`: a private redis-server on a free loopback
port, N `celery worker` processes on it and on this process's database, and their peak memory.

Each worker is its own process with one prefork pool process (`--concurrency 1`), as separate containers or
machines would be: a partitioned step runs on one of them and its helper tasks on the others, and every worker
shares the connection's in-flight budget through the same Redis (the limiter follows REDIS_URL).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

import redis
from django.conf import settings
from django.db import connection as db_connection
from django.test.utils import override_settings

from devtools.benchmark import free_port

REDIS_START_TIMEOUT = 10.0
WORKER_START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


class BenchSetupError(RuntimeError):
    """Redis or a worker could not be started (the command turns it into a CommandError)."""


def database_url() -> str:
    """A DATABASE_URL for the database this process uses now, so the workers write where it reads."""
    info = db_connection.settings_dict
    engine = info["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        name = str(info["NAME"])
        if name == ":memory:" or name.startswith("file:") or "mode=memory" in name:
            raise BenchSetupError(f"the SQLite database is in memory ({name!r}): workers cannot share it")
        return "sqlite:///" + str(Path(name).resolve())
    schemes = {"django.db.backends.postgresql": "postgres", "django.db.backends.mysql": "mysql"}
    if engine not in schemes:
        raise BenchSetupError(f"no DATABASE_URL known for the database engine {engine}")
    user = quote(str(info.get("USER") or ""), safe="")
    password = quote(str(info.get("PASSWORD") or ""), safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = quote(str(info.get("HOST") or ""), safe="")  # a socket directory is percent-encoded
    port = f":{info['PORT']}" if info.get("PORT") else ""
    options = {
        key: value
        for key, value in (info.get("OPTIONS") or {}).items()
        if isinstance(value, str | int) and not isinstance(value, bool)
    }
    query = f"?{urlencode(options)}" if options else ""
    return f"{schemes[engine]}://{auth}{host}{port}/{quote(str(info['NAME']), safe='')}{query}"


def child_pids(pid: int) -> list[int]:
    """Direct children of a process (Linux /proc): a worker's prefork pool processes."""
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


def peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident memory so far (VmHWM), in MB; None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def stop_process(process: subprocess.Popen, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM (a worker's warm shutdown), and after `timeout` SIGKILL the process and the children it left."""
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=timeout)
    if process.poll() is None:
        children = child_pids(process.pid)
        process.kill()
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
    process.wait(timeout=timeout)


def _tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""


@dataclass
class BenchWorker:
    index: int
    nodename: str
    process: subprocess.Popen
    log_path: Path


@dataclass
class PeakRss:
    megabytes: float
    which: str  # e.g. "worker 2's pool process, pid 1234"


@dataclass
class WorkerPool:
    """The started redis-server and workers; `peak_rss()` before `stop()`."""

    redis_url: str
    workdir: Path
    workers: list[BenchWorker] = field(default_factory=list)

    def dead(self) -> list[BenchWorker]:
        return [worker for worker in self.workers if worker.process.poll() is not None]

    def describe_failure(self) -> str:
        return "\n".join(
            f"--- worker {worker.index} (exit {worker.process.poll()}), {worker.log_path}:\n{_tail(worker.log_path)}"
            for worker in self.workers
        )

    def peak_rss(self) -> PeakRss | None:
        """The largest VmHWM among the workers and their pool processes (the pool processes run the tasks)."""
        best: PeakRss | None = None
        for worker in self.workers:
            candidates = [(worker.process.pid, f"worker {worker.index}'s main process")]
            candidates += [
                (pid, f"worker {worker.index}'s pool process") for pid in child_pids(worker.process.pid)
            ]
            for pid, role in candidates:
                peak = peak_rss_mb(pid)
                if peak is not None and (best is None or peak > best.megabytes):
                    best = PeakRss(peak, f"{role}, pid {pid}")
        return best


def _forget_celery_connections(app) -> None:
    """Drop the app's cached broker pool, producer pool and result backend, so a new broker URL takes effect."""
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None
    app._backend_cache = None
    vars(app._local).pop("backend", None)


def start_redis(workdir: Path) -> tuple[subprocess.Popen, str]:
    """A private redis-server on a free loopback port, without persistence, files in `workdir`: (process, URL)."""
    executable = shutil.which("redis-server")
    if executable is None:
        raise BenchSetupError(
            "redis-server is not on PATH: --workers needs it for the Celery broker "
            "(Debian/Ubuntu: apt-get install redis-server)."
        )
    log_path = workdir / "redis.log"
    for _attempt in range(3):  # the free port may be taken between probing and binding: try another
        port = free_port()
        url = f"redis://127.0.0.1:{port}/0"
        with log_path.open("ab") as log:
            command = [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
            process = subprocess.Popen(  # noqa: S603
                [*command, "no", "--dir", str(workdir)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            deadline = time.monotonic() + REDIS_START_TIMEOUT
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    if client.ping():
                        return process, url
                except redis.exceptions.RedisError:
                    time.sleep(0.05)
        finally:
            client.close()
        stop_process(process, 5)
    raise BenchSetupError(f"redis-server did not start: {_tail(log_path)}")


def _worker_env(redis_url: str) -> dict[str, str]:
    """The workers' environment: this process's database, media folder and keys, DEBUG=0 as in production."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "akeneo_migration.settings",
        "REDIS_URL": redis_url,
        "DATABASE_URL": database_url(),
        "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
        "VAR_DIR": str(settings.VAR_DIR),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "DEBUG": "0",
        # DEBUG=0 requires these; the workers serve no HTTP, so this process's values do
        "SECRET_KEY": str(settings.SECRET_KEY),
        "ALLOWED_HOSTS": ",".join(settings.ALLOWED_HOSTS) or "localhost",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        "PYTHONUNBUFFERED": "1",
    }
    # The in-flight limit is shared through the private Redis, unless it is explicitly per process ("")
    if os.environ.get("AKENEO_LIMITER_REDIS_URL") != "":
        env["AKENEO_LIMITER_REDIS_URL"] = redis_url
    return env


@contextlib.contextmanager
def celery_workers(count: int) -> Iterator[WorkerPool]:
    """Start a private redis-server and `count` workers on it; point this process's Celery app (the run is
    enqueued from here) and settings at it; stop and restore everything on the way out."""
    from akeneo_migration.celery import app

    celery_script = Path(sys.executable).parent / "celery"
    if not celery_script.exists():
        raise BenchSetupError(f"no celery script next to the Python interpreter ({celery_script})")
    workdir = Path(tempfile.mkdtemp(prefix="bench-migration-"))
    redis_process = None
    pool = None
    keep_logs = False
    names = ("broker_url", "result_backend", "task_always_eager")
    saved = {name: app.conf[name] for name in names}
    try:
        redis_process, url = start_redis(workdir)
        pool = WorkerPool(redis_url=url, workdir=workdir)
        env = _worker_env(url)
        host = socket.gethostname()
        command = [str(celery_script), "-A", "akeneo_migration", "worker", "-l", "info", "--concurrency", "1"]
        # no worker-to-worker chatter: it does nothing for the tasks and slows start-up
        command += ["--pool", "prefork", "--without-heartbeat", "--without-gossip", "--without-mingle"]
        for index in range(1, count + 1):
            name = f"bench{index}-{os.getpid()}"
            log_path = workdir / f"worker-{index}.log"
            with log_path.open("wb") as log:
                process = subprocess.Popen(  # noqa: S603
                    [*command, "-n", f"{name}@%h"],
                    cwd=settings.BASE_DIR,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            pool.workers.append(BenchWorker(index, f"{name}@{host}", process, log_path))
        app.conf.broker_url = app.conf.result_backend = url
        app.conf.task_always_eager = False  # the point is a real round trip through the broker
        _forget_celery_connections(app)
        _wait_until_ready(app, pool)
        with override_settings(
            REDIS_URL=url,
            CELERY_BROKER_URL=url,
            CELERY_RESULT_BACKEND=url,
            AKENEO_LIMITER_REDIS_URL=env.get("AKENEO_LIMITER_REDIS_URL", ""),
        ):
            yield pool
    except BaseException as error:
        # a worker that failed to start or died: its log is the only account of why
        keep_logs = (
            pool is not None
            and bool(pool.workers)
            and (isinstance(error, BenchSetupError) or bool(pool.dead()))
        )
        raise
    finally:
        if pool is not None:
            for worker in pool.workers:
                with contextlib.suppress(Exception):
                    stop_process(worker.process)
        if redis_process is not None:
            stop_process(redis_process, 5)
        _forget_celery_connections(app)
        for name, value in saved.items():
            app.conf[name] = value
        if keep_logs:
            sys.stderr.write(f"bench_migration: worker logs kept in {workdir}\n")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _wait_until_ready(app, pool: WorkerPool) -> None:
    waiting = {worker.nodename for worker in pool.workers}
    deadline = time.monotonic() + WORKER_START_TIMEOUT
    while waiting:
        if pool.dead():
            raise BenchSetupError(f"a Celery worker exited while starting:\n{pool.describe_failure()}")
        for reply in app.control.ping(destination=sorted(waiting), timeout=1) or []:
            waiting -= set(reply)
        if waiting and time.monotonic() > deadline:
            raise BenchSetupError(
                f"Celery workers did not answer ping within {WORKER_START_TIMEOUT:.0f} s: {sorted(waiting)}\n"
                f"{pool.describe_failure()}"
            )
