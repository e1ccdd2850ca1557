# shellcheck shell=bash
# Shared helpers for scripts/run.sh, scripts/test.sh and the Makefile.
#
# Source it (`source scripts/lib.sh`), or run one function from it: `bash scripts/lib.sh ensure_venv test`.
# Nothing here prints a secret.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV_DIR="$REPO_ROOT/.venv"
VENV_PY="$VENV_DIR/bin/python"

# --- Output ---------------------------------------------------------------------------------------------------

if [[ -t 1 ]]; then
    _BOLD=$'\033[1m' _RED=$'\033[31m' _RESET=$'\033[0m'
else
    _BOLD="" _RED="" _RESET=""
fi

section() { printf '\n%s==> %s%s\n' "$_BOLD" "$*" "$_RESET"; }
info() { printf '    %s\n' "$*"; }
warn() { printf '%sWARNING:%s %s\n' "$_RED" "$_RESET" "$*" >&2; }
die() {
    printf '%sERROR:%s %s\n' "$_RED" "$_RESET" "$*" >&2
    exit 1
}

# A URL with the password of its user-info part replaced by ***, for printing.
mask_url() { sed -E 's#^([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@]*):[^@/]*@#\1:***@#' <<<"$1"; }

is_root() { [[ "$(id -u)" -eq 0 ]]; }

# --- System packages ------------------------------------------------------------------------------------------

# apt_install PACKAGE...: install Debian packages (as root, non-interactively). The caller passes only
# packages it found missing, so `apt-get update` runs only when something is really missing.
apt_install() {
    (($#)) || return 0
    if ! is_root; then
        die "Missing Debian package(s): $*. Install them as root (apt-get update && apt-get install -y $*), then run again."
    fi
    command -v apt-get >/dev/null || die "Missing package(s) $* and no apt-get on this machine: install them with its package manager."
    section "Installing Debian package(s): $*"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q "$@"
}

# --- Python and the virtualenv --------------------------------------------------------------------------------

# Print the interpreter to build the virtualenv with: python3.11, else python3 if it is 3.11 or newer.
find_python() {
    local candidate
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    die "Python 3.11 or newer is needed (python3.11 or python3 on PATH). On Debian: apt-get install python3"
}

_create_venv() {
    local python
    python="$(find_python)"
    section "Creating the virtualenv .venv ($("$python" --version 2>&1))"
    rm -rf "$VENV_DIR"
    if ! "$python" -m venv "$VENV_DIR"; then
        # Debian splits venv/ensurepip off the interpreter package.
        rm -rf "$VENV_DIR"
        apt_install "python$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')-venv"
        "$python" -m venv "$VENV_DIR" || die "Could not create $VENV_DIR with $python"
    fi
}

# The dependency locks, compiled by `make lock` from pyproject.toml: every package pinned with its hashes.
#   requirements/test.txt        the project + its test and production extras + its build backend (make test, CI)
#   requirements/production.txt  the project + its production extra + its build backend (make run), pinned to the
#                                same versions as test.txt
LOCK_DIR="$REPO_ROOT/requirements"

# ensure_venv LOCK: .venv has every package of requirements/LOCK.txt (hash-checked: pip refuses a file whose
# hash differs, and any package the lock does not pin) and the project itself installed editable, with no
# dependency resolution of its own and built by the locked setuptools. Redone whenever the lock or
# pyproject.toml changes: the stamp .venv/.installed-LOCK keeps the checksum of both (content, not mtime, which
# a checkout resets). A package the lock dropped stays installed until .venv is recreated (make distclean).
ensure_venv() {
    local lock=$1 lock_file="$LOCK_DIR/$1.txt" stamp="$VENV_DIR/.installed-$1" want
    [[ -f "$lock_file" ]] || die "No lock file $lock_file (locks: $(cd "$LOCK_DIR" 2>/dev/null && echo ./*.txt))"
    if ! [[ -x "$VENV_PY" ]] || ! "$VENV_PY" -c '' 2>/dev/null; then
        _create_venv
    fi
    want="$(cat "$lock_file" "$REPO_ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)"
    if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
        section "Installing requirements/$lock.txt into .venv, then the project (a minute or two the first time)"
        "$VENV_PY" -m pip install --disable-pip-version-check -q --require-hashes -r "$lock_file"
        (cd "$REPO_ROOT" && "$VENV_PY" -m pip install --disable-pip-version-check -q --no-deps \
            --no-build-isolation -e .)
        printf '%s\n' "$want" >"$stamp"
    fi
}

# update_lock [--upgrade]: recompile requirements/*.txt from pyproject.toml with pip-tools (its options are in
# [tool.pip-tools] there), in a tool virtualenv of its own (.venv/lock-tools) so that the app's .venv keeps
# exactly what the lock says. Without --upgrade, pins that still satisfy pyproject.toml are kept and only what
# changed is resolved; with it, everything moves to the newest versions allowed. Reads the package index (PyPI).
update_lock() {
    local tools="$VENV_DIR/lock-tools" upgrade=()
    [[ "${1:-}" == --upgrade ]] && upgrade=(--upgrade)
    if ! [[ -x "$tools/bin/pip-compile" ]]; then
        section "Installing pip-tools into $tools"
        rm -rf "$tools"
        "$(find_python)" -m venv "$tools" || die "Could not create $tools"
        "$tools/bin/python" -m pip install --disable-pip-version-check -q 'pip-tools>=7.4'
    fi
    mkdir -p "$LOCK_DIR"
    cd "$REPO_ROOT"
    section "Compiling requirements/test.txt (extras test + production)"
    CUSTOM_COMPILE_COMMAND="make lock" "$tools/bin/pip-compile" --quiet "${upgrade[@]}" \
        --extra test --extra production -o requirements/test.txt pyproject.toml
    # The production lock is a subset of the test lock at the same versions: what `make test` proved is what
    # `make run` and a deployment install.
    section "Compiling requirements/production.txt (extra production, versions of requirements/test.txt)"
    rm -f requirements/production.txt # fully set by the constraint: no old pin to keep
    CUSTOM_COMPILE_COMMAND="make lock" "$tools/bin/pip-compile" --quiet \
        --extra production -c requirements/test.txt -o requirements/production.txt pyproject.toml
    info "Review and commit requirements/*.txt; the next make run / make test installs them."
}

# --- Ports and processes --------------------------------------------------------------------------------------

# Print a TCP port that is free on 127.0.0.1 now (someone may still take it before it is used: retry then).
free_port() {
    "$(find_python)" -c '
import socket
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])'
}

# port_is_free PORT: nothing listens on 127.0.0.1:PORT (nor on a wildcard address covering it).
port_is_free() {
    "$(find_python)" - "$1" <<'EOF'
import socket, sys
with socket.socket() as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do: a TIME_WAIT leftover is no owner
    try:
        s.bind(("127.0.0.1", int(sys.argv[1])))
    except OSError:
        sys.exit(1)
EOF
}

# tcp_open HOST PORT: something accepts connections there.
tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# redis_ping PORT: a Redis on 127.0.0.1:PORT answers PING.
redis_ping() {
    (
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf 'PING\r\n' >&3
        IFS= read -r -t 2 reply <&3 || exit 1
        [[ "$reply" == +PONG* ]]
    ) 2>/dev/null
}

# wait_until SECONDS PID COMMAND...: run COMMAND every 0.2 s until it succeeds (0), PID dies (2) or time is up (1).
# PID may be empty.
wait_until() {
    local seconds=$1 pid=$2 deadline
    shift 2
    deadline=$((SECONDS + seconds))
    while true; do
        "$@" && return 0
        if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
            return 2
        fi
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

# stop_group PID NAME [SECONDS]: SIGTERM the process group led by PID (started with setsid), SIGKILL what is
# left after SECONDS, and reap PID.
stop_group() {
    local pid=$1 name=$2 seconds=${3:-10} deadline
    if kill -0 -- "-$pid" 2>/dev/null; then
        info "stopping $name (pid $pid)"
        kill -TERM -- "-$pid" 2>/dev/null || true
        deadline=$((SECONDS + seconds))
        while kill -0 -- "-$pid" 2>/dev/null && ((SECONDS < deadline)); do
            sleep 0.2
        done
        if kill -0 -- "-$pid" 2>/dev/null; then
            warn "$name did not stop within ${seconds}s: killing it"
            kill -KILL -- "-$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
}

# Run one function of this file when executed rather than sourced (used by the Makefile).
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
    "$@"
fi
