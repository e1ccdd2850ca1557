"""Shared fixtures: the demo Akeneo's token endpoint (with its token faults), users with chosen permissions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Permission

from tests.support.akeneo import VALID, Endpoint, TokenAkeneo, start_token_akeneo


@pytest.fixture(scope="session")
def fake_akeneo() -> Iterator[TokenAkeneo]:
    """The demo Akeneo for connection tests: VALID logs in, `base_url("forbidden")` etc. meet a token fault."""
    server = start_token_akeneo()
    yield server
    server.stop()


@pytest.fixture
def silent_server(fake_akeneo: TokenAkeneo) -> Endpoint:
    """A Base URL whose token call is accepted and never answered: the client's read timeout must fire."""
    return Endpoint(fake_akeneo.base_url("silent"))


@pytest.fixture
def short_timeouts(settings):
    settings.AKENEO_CONNECT_TIMEOUT = 1.0
    settings.AKENEO_READ_TIMEOUT = 1.0


@pytest.fixture
def valid_credentials() -> dict[str, str]:
    return dict(VALID)


@pytest.fixture
def make_staff(django_user_model):
    """A staff user holding exactly the given `connections` permissions (codenames)."""

    def make(*codenames: str, username: str = "staff"):
        user = django_user_model.objects.create_user(
            username=username, password="pw-for-tests-123", is_staff=True
        )
        if codenames:
            user.user_permissions.set(
                Permission.objects.filter(content_type__app_label="connections", codename__in=codenames)
            )
        return user

    return make


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser(
        username="root", password="pw-for-tests-123", email="r@x.test"
    )


@pytest.fixture
def connection(demo):
    """A connection to the module's `demo` server (each module starts the demo it needs)."""
    from tests.factories import connection_for

    return connection_for(demo)


@pytest.fixture
def hostile(demo):
    """`hostile(**tamper)` starts a HostileAkeneo in front of the module's `demo` server; all are stopped after."""
    from tests.hostile_akeneo import HostileAkeneo

    started: list[HostileAkeneo] = []

    def make(**tamper) -> HostileAkeneo:
        server = HostileAkeneo(demo, **tamper)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path_factory):
    """Media written by a test (migrations download them) land in a temporary folder, never in var/media."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    return settings.MEDIA_ROOT


@pytest.fixture
def admin(client, superuser):
    """The test client, logged in as a superuser."""
    client.force_login(superuser)
    return client


@pytest.fixture
def enqueued(monkeypatch):
    """Runs handed to Celery, as run ids (the worker itself is covered by the integration tests)."""
    calls: list[int] = []
    monkeypatch.setattr("migrations_runs.tasks.enqueue_run", lambda run: calls.append(run.pk))
    return calls
