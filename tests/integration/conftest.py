"""The integration tests run against real services: a throw-away redis-server and a real Celery worker process.

`redis_server` (session) starts `redis-server` on a free loopback port; `celery_app_on_test_redis` points the
test process's Celery app at it; `celery_worker` runs `celery -A akeneo_migration worker` as a subprocess on the
same broker and on the pytest-django test database (so tests that use it need `django_db(transaction=True)`:
rows must be committed for the worker to see them). They live in tests/support/services.py.
"""

from tests.support.services import (  # noqa: F401
    celery_app_on_test_redis,
    celery_worker,
    redis_client,
    redis_server,
    worker_env,
)
