"""Packaging: the wheel is a whole deployment, the locks pin what pyproject.toml declares, and the test tooling
(pytest-timeout, scripts/lib.sh ensure_venv) does what `make test` and CI rely on.

The wheel is built the way a release is: an sdist from a copy of the working tree (so MANIFEST.in counts), then
a wheel from that sdist, with the virtualenv's own (locked) setuptools and no index. It is then installed into a
bare directory and the app is run from there alone, outside the checkout.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from django.apps import apps
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
LOCKS = REPO / "requirements"
# What a copy of the working tree for building leaves out: the build never needs it and some of it is large.
COPY_IGNORE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "var",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    "*.pyc",
    ".pytest_cache",
    ".ruff_cache",
)


def _local_app_dirs() -> list[Path]:
    """The project's own Django apps (those living in this checkout), plus the project package."""
    dirs = {REPO / "akeneo_migration"}
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if path.parent == REPO:
            dirs.add(path)
    return sorted(dirs)


def _files_under(root: Path) -> list[str]:
    return sorted(
        p.relative_to(REPO).as_posix()
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )


def _expected_in_wheel() -> dict[str, list[str]]:
    """What a deployment needs, found in the checkout: a file added there later is checked too."""
    code, migrations, static, templates = [], [], [], _files_under(REPO / "templates")
    for app in _local_app_dirs():
        for path in _files_under(app):
            parts = Path(path).parts
            if "static" in parts:
                static.append(path)
            elif "templates" in parts:
                templates.append(path)
            elif "migrations" in parts and path.endswith(".py"):
                migrations.append(path)
            elif path.endswith(".py"):
                code.append(path)
    return {"code": code, "migrations": migrations, "static files": static, "templates": templates}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    required = Requirement(PYPROJECT["build-system"]["requires"][0])
    installed = importlib.metadata.version("setuptools")
    assert installed in required.specifier, (
        f"this virtualenv has setuptools {installed}, the build needs {required}: run `make venv` "
        "(it installs requirements/test.txt)"
    )
    tmp = tmp_path_factory.mktemp("packaging")
    source, out = tmp / "source", tmp / "dist"
    shutil.copytree(REPO, source, ignore=COPY_IGNORE)
    out.mkdir()
    sdist = subprocess.run(
        [sys.executable, "-c", f"import setuptools.build_meta as b; print(b.build_sdist({str(out)!r}))"],
        cwd=source,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[-1]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(out),
            str(out / sdist),
        ],
        cwd=tmp,
        capture_output=True,
        text=True,
        check=True,
    )
    (wheel,) = out.glob("*.whl")
    return {"sdist": out / sdist, "wheel": wheel, "tmp": tmp}


def test_the_wheel_ships_code_migrations_static_files_and_templates(built):
    names = set(zipfile.ZipFile(built["wheel"]).namelist())
    expected = _expected_in_wheel()
    assert expected["migrations"] and expected["static files"] and expected["templates"]
    for kind, files in expected.items():
        missing = [f for f in files if f not in names]
        assert not missing, f"{kind} missing from the wheel: {missing}"
    assert not [n for n in names if n.startswith(("tests/", "var/", "scripts/", "requirements/"))]


def test_the_sdist_carries_the_locks_and_manage_py(built):
    import tarfile

    with tarfile.open(built["sdist"]) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert {"manage.py", "requirements/test.txt", "requirements/production.txt"} <= names
    project_templates = _files_under(REPO / "templates")
    assert project_templates and set(project_templates) <= names
    assert not [n for n in names if n.startswith("tests/")]


def test_the_installed_wheel_runs_the_app_on_its_own(built):
    """Installed alone in a directory, outside the checkout: the templates, static files and migrations come from
    there, the database migrates and `check --deploy` has nothing to say with production settings."""
    from cryptography.fernet import Fernet

    target, run_dir = built["tmp"] / "site", built["tmp"] / "run"
    run_dir.mkdir()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            "--target",
            str(target),
            str(built["wheel"]),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    expected = _expected_in_wheel()
    # as on a server: nothing the test session sets for itself (the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE)
    unwanted = {"DATABASE_URL", "STATIC_ROOT", "MEDIA_ROOT", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in unwanted}
    env.update(
        PYTHONPATH=str(target),
        DJANGO_SETTINGS_MODULE="akeneo_migration.settings",
        DEBUG="0",
        SECRET_KEY=Fernet.generate_key().decode() * 2,
        ALLOWED_HOSTS="pim.example.test",
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        VAR_DIR=str(run_dir / "var"),
        DATABASE_URL=f"sqlite:///{run_dir / 'db.sqlite3'}",
    )
    script = r"""
import sys
from pathlib import Path
import django
django.setup()
from django.apps import apps
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.db.migrations.loader import MigrationLoader
from django.template.loader import get_template

target = Path(sys.argv[1]).resolve()
templates, static, migrations = sys.argv[2].split(), sys.argv[3].split(), sys.argv[4].split()

def inside(path):
    assert Path(path).resolve().is_relative_to(target), f"{path} is not from the installed wheel"

for config in apps.get_app_configs():
    if config.name.split(".")[0] in sys.argv[5].split():
        inside(config.path)
for name in templates:  # templates/admin/x.html -> admin/x.html; app/templates/admin/x.html -> admin/x.html
    inside(get_template(name.split("templates/", 1)[1]).origin.name)
for name in static:
    found = finders.find(name.split("static/", 1)[1])
    assert found, name
    inside(found)
on_disk = {f"{app}/migrations/{name}.py" for app, name in MigrationLoader(None).disk_migrations}
assert set(migrations) <= on_disk, set(migrations) - on_disk
call_command("migrate", "--noinput", verbosity=0)
call_command("check", "--deploy", "--fail-level", "WARNING")
print("installed app OK")
"""
    app_names = " ".join(p.name for p in _local_app_dirs())
    migrations = [m for m in expected["migrations"] if not m.endswith("__init__.py")]
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            str(target),
            " ".join(expected["templates"]),
            " ".join(expected["static files"]),
            " ".join(migrations),
            app_names,
        ],
        cwd=run_dir,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "installed app OK" in result.stdout


# --- Locks ------------------------------------------------------------------------------------------------------


def _read_lock(name: str) -> dict[str, tuple[str, frozenset[str]]]:
    """requirements/NAME.txt as {package: (version, hashes)}; every entry must be an exact pin with hashes."""
    text = (LOCKS / name).read_text()
    entries: dict[str, tuple[str, frozenset[str]]] = {}
    for logical in re.sub(r"\\\n", " ", text).splitlines():
        line = logical.split("#", 1)[0].strip()
        if not line:
            continue
        spec, *options = line.split(" --hash=")
        requirement = Requirement(spec.strip())
        (pin,) = requirement.specifier
        assert pin.operator == "==", f"{name}: {spec} is not an exact pin"
        assert options, f"{name}: {spec} has no hash"
        entries[canonicalize_name(requirement.name)] = (pin.version, frozenset(o.strip() for o in options))
    return entries


def _declared(*extras: str) -> list[Requirement]:
    project = PYPROJECT["project"]
    declared = [*project["dependencies"], *PYPROJECT["build-system"]["requires"]]
    for extra in extras:
        declared += project["optional-dependencies"][extra]
    return [Requirement(r) for r in declared]


@pytest.mark.parametrize(
    ("lock", "extras"), [("test.txt", ("test", "production")), ("production.txt", ("production",))]
)
def test_each_lock_pins_everything_pyproject_declares(lock, extras):
    locked = _read_lock(lock)
    for requirement in _declared(*extras):
        name = canonicalize_name(requirement.name)
        assert name in locked, (
            f"{requirement} is declared in pyproject.toml but not in requirements/{lock}: make lock"
        )
        version = locked[name][0]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"requirements/{lock} pins {name}=={version}, pyproject.toml wants {requirement}: make lock"
        )
    for needed in ("nh3", "tqdm", "pytest-timeout") if "test" in extras else ("nh3", "tqdm"):
        assert needed in locked


def test_the_production_lock_is_the_test_lock_s_versions():
    test, production = _read_lock("test.txt"), _read_lock("production.txt")
    assert set(production) < set(test)
    assert {name: test[name] for name in production} == production


def test_the_virtualenv_has_exactly_the_test_lock_and_its_closure():
    """What `make test` ran against is what the lock says, and the lock misses no dependency (extras included)."""
    locked = _read_lock("test.txt")
    stale = {
        name: (importlib.metadata.version(name), version)
        for name, (version, _) in locked.items()
        if Version(importlib.metadata.version(name)) != Version(version)
    }
    assert not stale, f"installed vs locked: {stale}; run `make venv`"
    todo = [
        (canonicalize_name(r.name), extra)
        for r in _declared("test", "production")
        for extra in {"", *r.extras}
    ]
    seen: set[tuple[str, str]] = set()
    while todo:
        name, extra = todo.pop()
        if (name, extra) in seen:
            continue
        seen.add((name, extra))
        for raw in importlib.metadata.requires(name) or []:
            requirement = Requirement(raw)
            if requirement.marker and not requirement.marker.evaluate(
                {**default_environment(), "extra": extra}
            ):
                continue
            dependency = canonicalize_name(requirement.name)
            assert dependency in locked, (
                f"{name} needs {requirement}, which requirements/test.txt does not pin"
            )
            todo += [(dependency, e) for e in {"", *requirement.extras}]


# --- Test tooling -----------------------------------------------------------------------------------------------


def test_pytest_timeout_is_on_with_the_project_s_limit(pytestconfig):
    assert pytestconfig.pluginmanager.hasplugin("timeout")
    assert PYPROJECT["tool"]["pytest"]["ini_options"]["timeout"] == 300
    assert float(pytestconfig.getini("timeout")) == 300


def test_a_hung_test_fails_alone_and_the_run_goes_on(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_hang.py").write_text(
        "import time\n\ndef test_hangs():\n    time.sleep(600)\n\ndef test_after():\n    assert True\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_TIMEOUT"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:django", "-p", "no:cacheprovider", "--timeout", "2", "-q"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,  # a guard only: without the plugin the sleep would run its 600 s
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Timeout" in result.stdout
    assert re.search(r"\b1 failed, 1 passed\b", result.stdout), result.stdout


def test_ensure_venv_installs_the_lock_then_the_project_and_again_only_when_they_change(tmp_path):
    """scripts/lib.sh ensure_venv against a copy of the scripts whose .venv interpreter records its arguments."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "lib.sh", tmp_path / "scripts" / "lib.sh")
    (tmp_path / "requirements").mkdir()
    lock = tmp_path / "requirements" / "test.txt"
    lock.write_text("pkg==1.0 --hash=sha256:" + "0" * 64 + "\n")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    calls = tmp_path / "calls.log"
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\n[ "$1" = -c ] || echo "$*" >> {calls}\n')
    python.chmod(0o755)

    def ensure() -> list[str]:
        calls.write_text("")
        subprocess.run(
            ["bash", "scripts/lib.sh", "ensure_venv", "test"], cwd=tmp_path, check=True, capture_output=True
        )
        return calls.read_text().splitlines()

    first = ensure()
    assert len(first) == 2
    assert "--require-hashes -r" in first[0] and first[0].endswith("/requirements/test.txt")
    assert "--no-deps --no-build-isolation -e ." in first[1]
    assert ensure() == []
    os.utime(lock)  # touched, same content: nothing to do
    assert ensure() == []
    lock.write_text(lock.read_text().replace("1.0", "1.1"))
    assert ensure() == first
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\nversion = '2'\n")
    assert ensure() == first
    missing = subprocess.run(
        ["bash", "scripts/lib.sh", "ensure_venv", "nosuchlock"], cwd=tmp_path, capture_output=True, text=True
    )
    assert missing.returncode != 0 and "No lock file" in missing.stderr
