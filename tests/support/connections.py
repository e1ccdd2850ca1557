"""Connection-test expectations shared by the service, CLI and admin tests."""

from __future__ import annotations

import os
from io import StringIO

from django.core.management import call_command

from connections import services
from tests.support.akeneo import VALID

# token fault of the demo (the Base URL's path prefix) -> the one message the user must read
MESSAGE_TABLE = [
    ("not-found", services.API_NOT_FOUND),
    ("method-not-allowed", services.API_NOT_FOUND),
    ("html", services.API_NOT_FOUND),
    ("not-json", services.API_NOT_FOUND),
    ("no-token", services.API_NOT_FOUND),
    ("redirect", services.API_NOT_FOUND),
    ("unauthorized", services.AUTHENTICATION_REJECTED),
    ("invalid-grant", services.AUTHENTICATION_REJECTED),
    ("invalid-client", services.AUTHENTICATION_REJECTED),
    ("wrong-client", services.AUTHENTICATION_REJECTED),
    ("wrong-user", services.AUTHENTICATION_REJECTED),
    ("forbidden", services.ACCESS_DENIED),
    ("bad-request", services.REQUEST_REJECTED),
    ("not-acceptable", services.REQUEST_REJECTED),
    ("unsupported-media", services.REQUEST_REJECTED),
    ("missing-grant", services.REQUEST_REJECTED),
    ("throttled", services.REQUEST_REJECTED),
    ("server-error", services.SERVER_ERROR),
    ("bad-gateway", services.SERVER_ERROR),
    ("unavailable", services.SERVER_ERROR),
]


def credential_args(base_url: str, **overrides: str) -> list[str]:
    """`akeneo_connection` options for VALID credentials (some overridden) at `base_url`."""
    values = {**VALID, **overrides}
    return [
        "--base-url", base_url,
        "--client-id", values["client_id"],
        "--secret", values["secret"],
        "--username", values["username"],
        "--password", values["password"],
    ]  # fmt: skip


def run_connection_command(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> tuple[int, str, str]:
    """`manage.py akeneo_connection ARGS` in this process: (exit code, stdout, stderr); `env` is set meanwhile."""
    out, err = StringIO(), StringIO()
    old_env = os.environ.copy()
    os.environ.update(env or {})
    extra = {"stdin": StringIO(stdin)} if stdin is not None else {}
    try:
        call_command("akeneo_connection", *args, stdout=out, stderr=err, **extra)
        code = 0
    except SystemExit as exc:
        code = exc.code
    finally:
        os.environ.clear()
        os.environ.update(old_env)
    return code, out.getvalue(), err.getvalue()
