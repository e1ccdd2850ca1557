"""Settings, all from environment variables (see the configuration table in README.md).

DEBUG defaults to on so a fresh checkout just works; production sets DEBUG=0, which makes SECRET_KEY,
ALLOWED_HOSTS and FIELD_ENCRYPTION_KEYS mandatory and turns on the HTTPS hardening `check --deploy` expects.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from akeneo_migration.keys import load_field_encryption_keys

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: str) -> bool:
    return os.environ.get(name, default).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    try:
        return float(raw) if raw not in (None, "") else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number of seconds, got {raw!r}") from exc


DEBUG = env_bool("DEBUG", "1")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG=0 it is required: set it to a long random string "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    SECRET_KEY = "dev-only-insecure-key-set-SECRET_KEY-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS is not set. With DEBUG=0 list the host names the app answers to."
    )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "simple_history",
    "django_celery_beat",
    "connections.apps.ConnectionsConfig",
    "migrations_runs.apps.MigrationsRunsConfig",
    "catalog.apps.CatalogConfig",
    "events.apps.EventsConfig",
    "demo_akeneo.apps.DemoAkeneoConfig",
    "schedules.apps.SchedulesConfig",
    "devtools.apps.DevtoolsConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "akeneo_migration.urls"
WSGI_APPLICATION = "akeneo_migration.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite shared by the web server, workers and `--sync` runs on one machine: WAL lets readers work beside
    # the writer; IMMEDIATE takes the write lock when a transaction begins (a deferred transaction that later
    # writes can fail at once with "database is locked"); a writer waits up to SQLITE_BUSY_TIMEOUT seconds.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
            "transaction_mode": "IMMEDIATE",
            "timeout": env_float("SQLITE_BUSY_TIMEOUT", 30.0),
        }
    )
    # A file (not memory) so a Celery worker process started by the tests sees the same test database;
    # one per test process so two test runs on one checkout never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}

    def _private_sqlite_file(path: Path) -> None:
        """The database holds encrypted credentials and sessions: owner-only. Created empty with mode 0600
        before SQLite opens it (its -wal and -shm files copy that mode); an older, wider file is narrowed."""
        if str(path) in ("", ":memory:") or str(path).startswith("file:"):
            return
        for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            try:
                if file is path and not file.exists():
                    os.close(os.open(file, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600))
                elif file.exists() and file.stat().st_mode & 0o077:
                    file.chmod(0o600)
            except OSError:
                pass  # another process created it meanwhile, or not ours to change: SQLite reports real trouble

    def _private_sqlite_on_connect(sender, connection, **kwargs) -> None:
        # Django recreates the test database file itself: narrow it as soon as it is opened.
        if connection.vendor == "sqlite":
            _private_sqlite_file(Path(str(connection.settings_dict["NAME"])))

    _private_sqlite_file(Path(str(DATABASES["default"]["NAME"])))
    from django.db.backends.signals import connection_created

    connection_created.connect(_private_sqlite_on_connect, dispatch_uid="private_sqlite_file")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"

# --- Security hardening: on by default in production, each switch overridable for a proxy setup.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", "0" if DEBUG else "1")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", "0" if DEBUG else "1")
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", "0" if DEBUG else "1")
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", "0" if DEBUG else "1")
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", "0")
if env_bool("SECURE_PROXY_SSL_HEADER", "0"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
DEFAULT_EXCEPTION_REPORTER_FILTER = "akeneo_migration.error_reports.CredentialSafeExceptionReporterFilter"
# HSTS preload is an opt-in that is hard to undo (browser lists): off unless asked, so its reminder is muted.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# --- Encryption of Akeneo credentials at rest: MultiFernet keys, newest first.
FIELD_ENCRYPTION_KEYS = load_field_encryption_keys(
    os.environ.get("FIELD_ENCRYPTION_KEYS", ""), debug=DEBUG, key_file=VAR_DIR / "field-encryption.key"
)

# --- Akeneo HTTP client. Timeouts in seconds: the token call (and so the connection test) uses
# AKENEO_READ_TIMEOUT; list pages and media use AKENEO_API_READ_TIMEOUT (big pages take longer).
AKENEO_CONNECT_TIMEOUT = env_float("AKENEO_CONNECT_TIMEOUT", 5.0)
AKENEO_READ_TIMEOUT = env_float("AKENEO_READ_TIMEOUT", 10.0)
AKENEO_API_READ_TIMEOUT = env_float("AKENEO_API_READ_TIMEOUT", 60.0)
AKENEO_MAX_ATTEMPTS = int(os.environ.get("AKENEO_MAX_ATTEMPTS", "6"))
AKENEO_MAX_IN_FLIGHT = int(os.environ.get("AKENEO_MAX_IN_FLIGHT", "4"))
# The in-flight limit is per connection, shared by every worker process and machine through this Redis (unset:
# REDIS_URL; empty: each process keeps its own limit). A slot whose holder stops renewing it (a dead worker)
# frees itself after AKENEO_SLOT_TTL seconds; holders renew every third of it.
AKENEO_LIMITER_REDIS_URL = os.environ.get("AKENEO_LIMITER_REDIS_URL")
AKENEO_SLOT_TTL = env_float("AKENEO_SLOT_TTL", 15.0)
AKENEO_TOKEN_REFRESH_BUFFER = env_float("AKENEO_TOKEN_REFRESH_BUFFER", 300.0)
AKENEO_PAGE_SIZE = min(int(os.environ.get("AKENEO_PAGE_SIZE", "100")), 100)  # Akeneo refuses more than 100
# Bounds on what an Akeneo server can make us do (it is not trusted): total seconds spent waiting between the
# attempts of one request (Retry-After included); one media download's overall deadline and maximum size; the
# largest list page body accepted.
AKENEO_MAX_RETRY_WAIT = env_float("AKENEO_MAX_RETRY_WAIT", 300.0)
AKENEO_MEDIA_DEADLINE = env_float("AKENEO_MEDIA_DEADLINE", 600.0)
AKENEO_MEDIA_MAX_BYTES = int(os.environ.get("AKENEO_MEDIA_MAX_BYTES", str(1024**3)))
AKENEO_MAX_PAGE_BYTES = int(os.environ.get("AKENEO_MAX_PAGE_BYTES", str(16 * 1024**2)))
# Reading one list page's (JSON answer's) body, first byte to last.
AKENEO_ANSWER_DEADLINE = env_float("AKENEO_ANSWER_DEADLINE", 300.0)
# The events receiver (POST /akeneo/events/<id>/): largest body, accepted age and clock skew of an Events API
# delivery, unprocessed events before answering 429 (0: no limit), and how long a worker holds an event.
AKENEO_EVENTS_MAX_BODY_BYTES = int(os.environ.get("AKENEO_EVENTS_MAX_BODY_BYTES", str(1024 * 1024)))
AKENEO_EVENTS_MAX_AGE_SECONDS = int(os.environ.get("AKENEO_EVENTS_MAX_AGE_SECONDS", "300"))
AKENEO_EVENTS_MAX_FUTURE_SECONDS = int(os.environ.get("AKENEO_EVENTS_MAX_FUTURE_SECONDS", "60"))
AKENEO_EVENTS_MAX_PENDING = int(os.environ.get("AKENEO_EVENTS_MAX_PENDING", "10000"))
AKENEO_EVENTS_PROCESSING_LEASE_SECONDS = int(os.environ.get("AKENEO_EVENTS_PROCESSING_LEASE_SECONDS", "600"))

# --- Celery on Redis.
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", "0")
# Celery beat reads its schedule from the database (django-celery-beat), where each Schedule keeps its entry.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# A step belongs to the worker that claimed it while its heartbeat (saved with every page) is younger than this;
# a redelivered task waits meanwhile, then takes over a step whose worker died. Longer than the slowest page
# (retries included) can take.
MIGRATION_STEP_LEASE_SECONDS = int(os.environ.get("MIGRATION_STEP_LEASE_SECONDS", "600"))
# An incremental run reads products and product models updated after the start of the connection's last completed
# run minus this overlap (clock skew between us and Akeneo, records saved while that run was starting).
# Products and product models are read through up to this many disjoint partitions (family groups + no family)
# at once, when the step has at least MIGRATION_PARTITION_MIN_RECORDS records; 1 reads them through one cursor.
MIGRATION_PARTITIONS = int(os.environ.get("MIGRATION_PARTITIONS", "8"))
MIGRATION_PARTITION_MIN_RECORDS = int(os.environ.get("MIGRATION_PARTITION_MIN_RECORDS", "1000"))
# Partitions one process reads at once (its other partitions wait, or go to other workers).
MIGRATION_PARTITION_THREADS = int(os.environ.get("MIGRATION_PARTITION_THREADS", "4"))
# Extra Celery tasks queued per partitioned step, so other workers take partitions too.
MIGRATION_PARTITION_HELPERS = int(os.environ.get("MIGRATION_PARTITION_HELPERS", "3"))
MIGRATION_INCREMENTAL_OVERLAP_SECONDS = int(os.environ.get("MIGRATION_INCREMENTAL_OVERLAP_SECONDS", "300"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"urllib3": {"level": "WARNING"}},
}
