#!/usr/bin/env bash
# `make test` (and CI): system packages, .venv, ruff, the whole pytest suite on SQLite, then the suite without
# the browser tests on a throw-away PostgreSQL cluster. Every stage runs even if an earlier one failed; the
# exit status is non-zero if any failed (pytest's "no tests collected", exit 5, counts as a failure).
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

export DEBIAN_FRONTEND=noninteractive
export PYTHONUNBUFFERED=1
CHROMIUM=/usr/bin/chromium
# A hung test fails alone through pytest-timeout (`timeout` in [tool.pytest.ini_options]; the environment
# variable PYTEST_TIMEOUT overrides it, read by the plugin itself). This outer guard is only for a hang that no
# test owns, which pytest-timeout cannot see: session set-up or teardown, a non-daemon thread or child process
# keeping pytest from exiting. Twice the usual run (about 5 minutes), so that both runs together still end
# within the 25 minutes CI may take: pytest is interrupted with SIGINT, so fixtures clean up and it shows where.
PYTEST_RUN_LIMIT="${PYTEST_RUN_LIMIT:-660}"
PG_DB=akeneo_test
PG_USER=akeneo_test
PG_TMP=""
PG_BIN=""
FAILED=()
TIMINGS=()

# The newest PostgreSQL server binaries (Debian layout: /usr/lib/postgresql/<major>/bin), or fail.
find_pg_bin() {
    local dir
    while IFS= read -r dir; do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/postgres" ]]; then
            printf '%s\n' "$dir"
            return 0
        fi
    done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k5,5 -V -r)
    return 1
}

# initdb and postgres refuse to run as root: run them as the postgres system user then, from a directory it
# may enter.
as_pg_user() {
    if is_root; then
        (cd "$PG_TMP" && runuser -u postgres -- "$@")
    else
        (cd "$PG_TMP" && "$@")
    fi
}

stop_postgres() {
    [[ -n "$PG_TMP" ]] || return 0
    if [[ -f "$PG_TMP/data/postmaster.pid" ]]; then
        section "Stopping PostgreSQL"
        as_pg_user "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m fast -t 30 -w stop >/dev/null ||
            as_pg_user "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m immediate -t 30 -w stop >/dev/null ||
            warn "could not stop the PostgreSQL cluster in $PG_TMP/data"
    fi
    rm -rf "$PG_TMP"
    PG_TMP=""
}
trap stop_postgres EXIT
trap "trap '' PIPE; stop_postgres; exit 130" INT
trap "trap '' PIPE; stop_postgres; exit 143" TERM

# start_postgres: a new cluster in a temporary directory, listening on 127.0.0.1:<free port> (unix sockets in
# that directory only), with a password-protected role and database. Sets DATABASE_URL.
start_postgres() {
    PG_BIN="$(find_pg_bin)" || die "No PostgreSQL server binaries under /usr/lib/postgresql/*/bin"
    if is_root; then
        id postgres >/dev/null 2>&1 || die "No 'postgres' system user to run PostgreSQL as (Debian's postgresql package creates it)"
    fi
    PG_TMP="$(mktemp -d /tmp/akeneo-test-pg.XXXXXX)"
    if is_root; then
        chown postgres:postgres "$PG_TMP"
    fi
    info "$("$PG_BIN/postgres" --version), cluster in $PG_TMP"
    if ! as_pg_user "$PG_BIN/initdb" -D "$PG_TMP/data" -U postgres -E UTF8 --no-locale --no-sync \
        --auth-local=trust --auth-host=scram-sha-256 >"$PG_TMP/initdb.log" 2>&1; then
        cat "$PG_TMP/initdb.log" >&2
        die "initdb failed"
    fi
    local attempt port=""
    for attempt in 1 2 3; do # the free port may be taken before postgres binds it: try another
        port="$(free_port)"
        if as_pg_user "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/postgres.log" -w -t 60 -o \
            "-p $port -k $PG_TMP -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start >/dev/null; then
            break
        fi
        ((attempt < 3)) || {
            cat "$PG_TMP/postgres.log" >&2
            die "PostgreSQL did not start"
        }
    done
    local password
    password="$("$VENV_PY" -c 'import secrets; print(secrets.token_hex(16))')"
    # The password goes through stdin, never a command line.
    as_pg_user "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_TMP" -p "$port" -U postgres -d postgres <<SQL
CREATE ROLE $PG_USER LOGIN CREATEDB PASSWORD '$password';
CREATE DATABASE $PG_DB OWNER $PG_USER;
SQL
    export DATABASE_URL="postgres://$PG_USER:$password@127.0.0.1:$port/$PG_DB"
    info "listening on 127.0.0.1:$port, DATABASE_URL=$(mask_url "$DATABASE_URL")"
}

# run_pytest ARGS...: pytest (per-test limit: pytest-timeout) under the PYTEST_RUN_LIMIT outer guard.
run_pytest() {
    local status=0
    timeout --foreground --signal=INT --kill-after=60 "$PYTEST_RUN_LIMIT" pytest "$@" || status=$?
    case $status in
        0) ;;
        5) warn "pytest collected no tests (exit 5): counted as a failure" ;;
        124 | 137) warn "pytest did not finish within PYTEST_RUN_LIMIT=${PYTEST_RUN_LIMIT}s and was interrupted" ;;
    esac
    return "$status"
}

# stage NAME COMMAND...: run one stage with a header; record its time and whether it failed.
stage() {
    local name=$1 started=$SECONDS status=0
    shift
    section "$name"
    "$@" || status=$?
    TIMINGS+=("$(printf '%-40s %4ss' "$name" $((SECONDS - started)))")
    if ((status != 0)); then
        FAILED+=("$name (exit $status)")
    fi
    return 0
}

started=$SECONDS

section "System packages"
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
[[ -x "$CHROMIUM" ]] || missing+=(chromium)
find_pg_bin >/dev/null || missing+=(postgresql)
if ((${#missing[@]})); then
    apt_install "${missing[@]}"
else
    info "redis-server, chromium and PostgreSQL are installed"
fi

# Never `playwright install`: the browser tests drive Debian's chromium.
ensure_venv test
export PATH="$VENV_DIR/bin:$PATH"

stage "ruff check" ruff check .
stage "ruff format --check" ruff format --check .

# The first run is on the default SQLite database whatever the caller's environment says.
unset DATABASE_URL
stage "pytest (SQLite, whole suite)" run_pytest

section "PostgreSQL"
start_postgres
stage "pytest (PostgreSQL, -m 'not browser')" run_pytest -m "not browser"
stop_postgres

section "Summary"
printf '    %s\n' "${TIMINGS[@]}"
printf '    %-40s %4ss\n' "total" $((SECONDS - started))
if ((${#FAILED[@]})); then
    printf '%sFAILED:%s %s\n' "$_RED" "$_RESET" "$(IFS=';'; echo "${FAILED[*]}")" >&2
    exit 1
fi
printf '%sAll checks passed.%s\n' "$_BOLD" "$_RESET"
