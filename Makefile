# Entry points for developers and CI. The real work is in scripts/ (shared helpers in scripts/lib.sh).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
# Make sure .venv has requirements/test.txt (the locked test + production extras) and the project (reinstalled
# when the lock or pyproject.toml changes).
DEV_VENV := bash scripts/lib.sh ensure_venv test
SHELL_SCRIPTS := scripts/lib.sh scripts/run.sh scripts/test.sh .ci/run

.PHONY: help run test lint format venv lock clean distclean

help:
	@echo "make run        start the app (web server, Celery worker, private Redis) on http://127.0.0.1:\$${PORT:-8000}/admin/"
	@echo "make test       install what is missing, then ruff and pytest on SQLite and on a throw-away PostgreSQL"
	@echo "make lint       ruff check + ruff format --check (and shellcheck on the scripts if installed)"
	@echo "make format     ruff check --fix + ruff format"
	@echo "make venv       create/update .venv from requirements/test.txt (the locked test and production extras)"
	@echo "make lock       recompile requirements/*.txt after a change of pyproject.toml (UPGRADE=1: newest versions)"
	@echo "make clean      remove caches and generated files (keeps .venv, the database, keys and admin login)"
	@echo "make distclean  clean + remove .venv, the SQLite database, var/media, the dev encryption key and admin login"

run:
	@bash scripts/run.sh

test:
	@bash scripts/test.sh

lint:
	@$(DEV_VENV)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@if command -v shellcheck >/dev/null; then echo "shellcheck $(SHELL_SCRIPTS)"; shellcheck -x $(SHELL_SCRIPTS); \
	else echo "(shellcheck not installed: shell scripts not checked)"; fi

# Fixes what can be fixed; lint errors that need a human are listed but do not stop the formatting.
format:
	@$(DEV_VENV)
	-$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

venv:
	@$(DEV_VENV)

# The locks pin every package with its hashes (pip-tools, options in [tool.pip-tools] of pyproject.toml).
lock:
	@bash scripts/lib.sh update_lock $(if $(filter 1,$(UPGRADE)),--upgrade,)

clean:
	rm -rf .pytest_cache .ruff_cache build *.egg-info var/static var/redis var/log
	rm -f var/test-db-*.sqlite3 var/test-db-*.sqlite3-journal var/test-db-*.sqlite3-wal var/test-db-*.sqlite3-shm
	find . -path ./$(VENV) -prune -o -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +

# The dev key (var/field-encryption.key) decrypts the credentials stored in the database: it goes only with the
# SQLite database it belongs to, never while DATABASE_URL points at another database.
distclean: clean
	@if [[ -n "$${DATABASE_URL:-}" ]]; then \
		echo "DATABASE_URL is set: refusing to delete var/field-encryption.key, which that database may need." >&2; exit 1; fi
	rm -rf $(VENV) var/media
	rm -f var/db.sqlite3 var/admin-credentials.txt var/field-encryption.key
