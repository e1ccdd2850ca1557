"""Error reports (the DEBUG page, the mails to ADMINS) never show a credential, a Basic header or a URL password.

The crash is real: the connection test is run on a host urllib3 refuses (LocationParseError deep in requests),
so the frames hold the Credentials, the Authorization header and the JSON body exactly as they do in production.
"""

from __future__ import annotations

import sys

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.views.debug import ExceptionReporter, technical_500_response

import connections.forms
from connections.akeneo.auth import Credentials, basic_auth_header
from connections.services import verify_credentials

CLIENT_ID = "client-id-7d1e4b"
SECRET = "secret-value-58c2a9"
PASSWORD = "password-value-3f7b10"
REDIS_PASSWORD = "redis-pw-6a0c55"
DB_PASSWORD = "db-pw-91ab3e"
BASIC = basic_auth_header(CLIENT_ID, SECRET).removeprefix("Basic ")
SECRETS = (CLIENT_ID, SECRET, PASSWORD, REDIS_PASSWORD, DB_PASSWORD, BASIC)
BAD_HOST_URL = "http://a..localhost"


@pytest.fixture
def secret_settings(settings):
    """Connection strings with passwords, as production sets them, and the DEBUG page on."""
    settings.DEBUG = True
    settings.REDIS_URL = f"redis://:{REDIS_PASSWORD}@cache.internal:6379/0"
    settings.CELERY_BROKER_URL = settings.REDIS_URL
    settings.CELERY_RESULT_BACKEND = settings.REDIS_URL
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"server": f"redis://:{REDIS_PASSWORD}@cache.internal:6379/1"},
        }
    }
    settings.SOME_SERVICE = f"postgres://app:{DB_PASSWORD}@db.internal/app"
    return settings


def crash_in_the_connection_test() -> tuple:
    """Run the real connection test on a host urllib3 cannot parse; return the exception info."""
    database_url = f"postgres://app:{DB_PASSWORD}@db.internal/app"  # noqa: F841 - a frame variable on purpose
    credentials = Credentials(
        base_url=BAD_HOST_URL, client_id=CLIENT_ID, secret=SECRET, username="api_user", password=PASSWORD
    )
    try:
        verify_credentials(credentials)
    except Exception:
        return sys.exc_info()
    raise AssertionError("the connection test did not crash")


def a_request_with_secrets():
    return RequestFactory().post(
        "/admin/connections/connection/add/",
        {"base_url": BAD_HOST_URL, "client_id": CLIENT_ID, "secret": SECRET, "password": PASSWORD},
        HTTP_AUTHORIZATION=f"Basic {BASIC}",
        REDIS_URL=f"redis://:{REDIS_PASSWORD}@cache.internal:6379/0",
        HTTP_X_UPSTREAM=f"postgres://app:{DB_PASSWORD}@db.internal/app",
    )


def assert_no_secret(text: str) -> None:
    leaked = [secret for secret in SECRETS if secret in text]
    assert not leaked, f"leaked {leaked}"


def test_debug_page_hides_credentials_headers_and_url_passwords(secret_settings):
    exc_info = crash_in_the_connection_test()
    assert exc_info[0].__name__ == "LocationParseError"  # the real crash, deep in urllib3
    html = technical_500_response(a_request_with_secrets(), *exc_info).content.decode()
    assert "LocationParseError" in html and "credentials" in html  # it is the report, frames and all
    assert "cache.internal" in html  # the URL is shown, only its password hidden
    assert_no_secret(html)


def test_text_and_html_reports_for_mails_hide_them_too(secret_settings):
    exc_info = crash_in_the_connection_test()
    for is_email in (False, True):
        reporter = ExceptionReporter(a_request_with_secrets(), *exc_info, is_email=is_email)
        text, html = reporter.get_traceback_text(), reporter.get_traceback_html()
        assert "LocationParseError" in text
        assert_no_secret(text)
        assert_no_secret(html)


@pytest.mark.django_db
def test_admin_crash_page_with_debug_on_shows_no_typed_credential(
    client, superuser, secret_settings, monkeypatch
):
    """Through the admin: if a bad host ever got past the form, the DEBUG page would still show no secret."""
    monkeypatch.setattr(connections.forms, "normalize_base_url", lambda value: value)
    client.force_login(superuser)
    client.raise_request_exception = False
    response = client.post(
        reverse("admin:connections_connection_add"),
        {
            "base_url": BAD_HOST_URL,
            "client_id": CLIENT_ID,
            "secret": SECRET,
            "username": "api_user",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 500
    html = response.content.decode()
    assert "LocationParseError" in html
    assert_no_secret(html)
