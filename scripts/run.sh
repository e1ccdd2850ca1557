#!/usr/bin/env bash
# `make run`: the whole app on this machine for development, in the foreground, until Ctrl-C.
#
# .venv (the lock requirements/production.txt, installed again when it or pyproject.toml changed), database
# migrations, an admin user, a private Redis on a free loopback port (unless REDIS_URL is set), a Celery worker,
# Celery beat (it fires the connections' schedules) and Django's development server on 127.0.0.1:${PORT:-8000},
# and the demo Akeneo server (unless DEMO_AKENEO=0) on 127.0.0.1:${DEMO_PORT:-8081} with ${DEMO_PRODUCTS:-1000}
# products, so a migration can be tried without an Akeneo account.
# Ctrl-C, SIGTERM or any of these processes exiting stops all of them.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

PORT="${PORT:-8000}"
HOST=127.0.0.1
if ! [[ "$PORT" =~ ^[0-9]{1,5}$ ]] || ((10#$PORT < 1 || 10#$PORT > 65535)); then
    die "PORT must be a TCP port number, got '$PORT'"
fi
PORT=$((10#$PORT))
export DEBUG="${DEBUG:-1}"
export PYTHONUNBUFFERED=1

# Process groups we started (each with setsid): pid -> name, in start order.
PIDS=()
NAMES=()

cleanup() {
    trap - EXIT
    trap kill_all INT TERM HUP # a second Ctrl-C while stopping: no more waiting
    # Nothing may abort the stopping, not even a closed stdout (`make run | tee log` after Ctrl-C).
    set +e
    trap '' PIPE
    if ((${#PIDS[@]})); then
        section "Stopping"
        local i
        for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do # the reverse of the start order
            stop_group "${PIDS[i]}" "${NAMES[i]}" 15
        done
        info "all stopped"
    fi
}
# shellcheck disable=SC2317  # called by traps
kill_all() {
    trap - INT TERM HUP
    local pid
    for pid in "${PIDS[@]}"; do
        kill -KILL -- "-$pid" 2>/dev/null
    done
    warn "killed everything without waiting"
    exit 130
}
# shellcheck disable=SC2317  # called by the traps below
on_signal() {
    printf '\n'
    cleanup
    exit "$1"
}
trap cleanup EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
trap 'on_signal 129' HUP

# start NAME COMMAND...: run COMMAND in the background in its own session and process group, so that it can be
# stopped as a whole (its children too) and a Ctrl-C reaches this script only, which stops things in order.
start() {
    local name=$1
    shift
    setsid "$@" </dev/null &
    PIDS+=("$!")
    NAMES+=("$name")
}

if ! port_is_free "$PORT"; then
    die "Port $PORT on $HOST is already in use (another 'make run'?). Stop what uses it, or choose another port: PORT=8001 make run"
fi

ensure_venv production

section "Database migrations"
"$VENV_PY" manage.py migrate --noinput

section "Admin user"
login="$("$VENV_PY" manage.py ensure_admin --host "$HOST" --port "$PORT")"
printf '%s\n' "$login"

if [[ -n "${REDIS_URL:-}" ]]; then
    section "Redis: using REDIS_URL=$(mask_url "$REDIS_URL")"
else
    section "Redis: starting a private redis-server"
    if ! command -v redis-server >/dev/null; then
        if is_root; then
            apt_install redis-server
        else
            die "redis-server is not installed. Install Debian's redis-server package (as root: apt-get install redis-server), or set REDIS_URL to a running Redis."
        fi
    fi
    redis_dir="$REPO_ROOT/var/redis"
    mkdir -p "$redis_dir"
    for attempt in 1 2 3; do # the free port may be taken before redis binds it: try another
        redis_port="$(free_port)"
        start redis-server redis-server --port "$redis_port" --bind 127.0.0.1 --protected-mode yes \
            --save '' --appendonly no --dir "$redis_dir" --logfile "$redis_dir/redis.log"
        if wait_until 15 "${PIDS[-1]}" redis_ping "$redis_port"; then
            break
        fi
        stop_group "${PIDS[-1]}" redis-server 5
        unset 'PIDS[-1]' 'NAMES[-1]'
        ((attempt < 3)) || die "redis-server did not start; see $redis_dir/redis.log"
    done
    export REDIS_URL="redis://$HOST:$redis_port/0"
    info "redis-server listening on $REDIS_URL (log: var/redis/redis.log)"
fi

demo_summary="    Demo Akeneo:   not started (DEMO_AKENEO=0)"
if [[ "${DEMO_AKENEO:-1}" != 0 ]]; then
    section "Demo Akeneo server"
    demo_port="${DEMO_PORT:-8081}"
    if ! port_is_free "$demo_port"; then
        warn "port $demo_port is taken: the demo Akeneo server uses a free port instead"
        demo_port="$(free_port)"
    fi
    # Its documented default credentials: a local toy, listening on loopback only.
    start "demo Akeneo" "$VENV_PY" manage.py serve_demo_akeneo --host "$HOST" --port "$demo_port" \
        --products "${DEMO_PRODUCTS:-1000}"
    wait_until 60 "${PIDS[-1]}" tcp_open "$HOST" "$demo_port" ||
        die "The demo Akeneo server did not start listening on $HOST:$demo_port (see its output above)."
    demo_summary="    Demo Akeneo:   Base URL http://$HOST:$demo_port  Client ID demo-client  Secret demo-secret
                   Username demo  Password demo-password  (${DEMO_PRODUCTS:-1000} products)"
fi

section "Celery worker, Celery beat and web server"
worker_name="akeneo-run-$PORT@$(hostname)"
start "celery worker" "$VENV_DIR/bin/celery" -A akeneo_migration worker -l info --concurrency 2 -n "$worker_name"
worker_pid="${PIDS[-1]}"
# Beat fires the connections' schedules, read from the database (django-celery-beat). Its pid file is per
# port: PORT being free means no other `make run` of this port is alive, so a leftover file is stale.
beat_pidfile="var/celery-beat-$PORT.pid"
rm -f "$beat_pidfile"
start "celery beat" "$VENV_DIR/bin/celery" -A akeneo_migration beat -l info \
    -S django_celery_beat.schedulers:DatabaseScheduler --pidfile "$beat_pidfile" \
    --schedule "var/celerybeat-schedule-$PORT"
beat_pid="${PIDS[-1]}"
start "web server" "$VENV_PY" manage.py runserver "$HOST:$PORT"
web_pid="${PIDS[-1]}"

wait_until 60 "$web_pid" tcp_open "$HOST" "$PORT" ||
    die "The web server did not start listening on $HOST:$PORT (see its output above)."
# shellcheck disable=SC2317  # called through wait_until
worker_ping() {
    "$VENV_DIR/bin/celery" -A akeneo_migration inspect ping -d "$worker_name" -t 1 >/dev/null 2>&1
}
worker_state="ready"
if ! wait_until 60 "$worker_pid" worker_ping; then
    kill -0 "$worker_pid" 2>/dev/null || die "The Celery worker exited while starting (see its output above)."
    worker_state="started, but not answering ping yet"
fi

kill -0 "$beat_pid" 2>/dev/null || die "Celery beat exited while starting (see its output above)."

database="$(mask_url "${DATABASE_URL:-sqlite (var/db.sqlite3)}")"
cat <<EOF

${_BOLD}==> Akeneo Migration is running${_RESET}
    $login
    Web server:    http://$HOST:$PORT/  (Django runserver, DEBUG=$DEBUG)
    Celery worker: $worker_name, concurrency 2, $worker_state
    Celery beat:   running, schedules from the database (django-celery-beat; pid file $beat_pidfile)
    Broker:        REDIS_URL=$(mask_url "$REDIS_URL")
    Database:      $database
$demo_summary
    Press Ctrl-C to stop everything.

EOF

# Until Ctrl-C / SIGTERM (the traps), or until one of our processes exits.
status=0
wait -n "${PIDS[@]}" || status=$?
for i in "${!PIDS[@]}"; do
    if ! kill -0 "${PIDS[i]}" 2>/dev/null; then
        warn "${NAMES[i]} exited (status $status): stopping everything"
        break
    fi
done
cleanup
exit 1
