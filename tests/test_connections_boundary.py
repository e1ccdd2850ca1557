"""connections is the base app: migrations_runs builds on it and hooks into it (admin URLs, template tags, delete
guards), never the other way round. These tests keep that boundary, and check that the hooks still do their job."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.urls import reverse

import connections
from connections.guards import delete_refusal, register_delete_guard, unregister_delete_guard
from connections.services import ConnectionBusy, delete_connection
from migrations_runs.apps import live_run_refusal
from migrations_runs.models import MigrationRun, Status
from tests.factories import ConnectionFactory

APP = Path(connections.__file__).parent
FORBIDDEN = "migrations_runs"


def connections_modules() -> list[Path]:
    """Every Python file of the app but its Django migrations (which may name other apps' models)."""
    return sorted(path for path in APP.rglob("*.py") if "migrations" not in path.relative_to(APP).parts[:1])


def imported_modules(source: str) -> list[str]:
    modules = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.append(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in {
            "import_module",
            "__import__",
        }:
            modules += [arg.value for arg in node.args if isinstance(arg, ast.Constant)]
    return modules


def test_the_scan_sees_the_whole_app():
    files = {path.relative_to(APP).as_posix() for path in connections_modules()}
    assert {"admin.py", "services.py", "guards.py", "models.py"} <= files
    assert not any(name.startswith("migrations/") for name in files)


@pytest.mark.parametrize("path", connections_modules(), ids=lambda path: path.relative_to(APP).as_posix())
def test_connections_never_imports_migrations_runs(path: Path):
    source = path.read_text(encoding="utf-8")
    offending = [name for name in imported_modules(source) if name.split(".")[0] == FORBIDDEN]
    assert not offending, f"{path} imports {offending}: hook migrations_runs into connections instead"
    # Nor names it at all (permission strings, URL names): the migration side belongs to migrations_runs.
    assert FORBIDDEN not in source


def test_the_import_scan_catches_every_import_form():
    source = (
        "import migrations_runs.services\n"
        "from migrations_runs.models import MigrationRun\n"
        "def f():\n    from migrations_runs import entities\n"
        "importlib.import_module('migrations_runs.verify')\n"
    )
    assert imported_modules(source) == [
        "migrations_runs.services",
        "migrations_runs.models",
        "migrations_runs",
        "migrations_runs.verify",
    ]


@pytest.mark.django_db
def test_migrations_runs_registers_its_delete_guard_and_it_refuses_a_live_run():
    connection = ConnectionFactory(name="busy")
    run = MigrationRun.objects.create(connection=connection, entities=["locales"], status=Status.RUNNING)
    assert delete_refusal(connection) == (
        f"Migration run #{run.pk} is running on this connection: cancel it (and let it stop) first."
    )
    with pytest.raises(ConnectionBusy, match=f"Migration run #{run.pk} is running"):
        delete_connection(connection)
    MigrationRun.objects.filter(pk=run.pk).update(status=Status.COMPLETED)
    assert live_run_refusal(connection) is None
    delete_connection(connection)
    assert not MigrationRun.objects.filter(pk=run.pk).exists()


@pytest.mark.django_db
def test_any_registered_guard_can_refuse_a_delete_and_registering_twice_asks_once():
    connection = ConnectionFactory(name="guarded")
    calls = []

    def guard(candidate):
        calls.append(candidate.pk)
        return "held by another app"

    register_delete_guard(guard)
    register_delete_guard(guard)
    try:
        with pytest.raises(ConnectionBusy, match="held by another app"):
            delete_connection(connection)
        assert calls == [connection.pk]
    finally:
        unregister_delete_guard(guard)
    delete_connection(connection)
    assert not type(connection).objects.filter(pk=connection.pk).exists()


@pytest.mark.django_db
def test_the_edit_page_posts_runs_to_the_migrations_runs_admin(admin):
    connection = ConnectionFactory(name="production")
    html = admin.get(reverse("admin:connections_connection_change", args=[connection.pk])).content.decode()
    start = reverse("admin:migrations_runs_migrationrun_start", args=[connection.pk])
    assert start == f"/admin/migrations_runs/migrationrun/connection/{connection.pk}/migrate/"
    assert f'<form id="start-migration-form" method="post" action="{start}"' in html
