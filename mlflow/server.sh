#!/usr/bin/env bash
# A real local MLflow tracking + registry server, for people and for the build's integration tests.
#
#   mlflow/server.sh start [--state-dir DIR] [--port N]   # prints the tracking URI on stdout
#   mlflow/server.sh stop  [--state-dir DIR]
#   mlflow/server.sh status [--state-dir DIR]
#
# start: creates (or reuses) a venv from server-requirements.lock (mlflow==3.17.2 and its exact
# dependencies; no TensorFlow), then runs `mlflow server` on 127.0.0.1 with a SQLite backend store
# (DIR/mlflow.db) and served artifacts (--serve-artifacts, stored in DIR/artifacts), waits until
# /health answers and prints http://127.0.0.1:PORT. Without --port a free port is picked.
# A server left running from the same state dir is stopped first (its pid is in DIR/server.pid).
# Progress goes to stderr; the server's own log to DIR/server.log.
#
# Environment: PYTHON (default python3), QUIVER_MLFLOW_VENV (default mlflow/.server-venv),
# QUIVER_MLFLOW_START_TIMEOUT_S (default 120).
# Fails (exit != 0) with a reason if python3 or its venv module is missing: never a silent skip.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lock="$here/server-requirements.lock"
venv="${QUIVER_MLFLOW_VENV:-$here/.server-venv}"
python="${PYTHON:-python3}"
timeout_s="${QUIVER_MLFLOW_START_TIMEOUT_S:-120}"

say() { echo "server.sh: $*" >&2; }
die() { echo "server.sh: error: $*" >&2; exit 1; }

cmd="${1:-}"
[ -n "$cmd" ] || die "usage: server.sh start|stop|status [--state-dir DIR] [--port N]"
shift
state="$here/.server"
port=""
while [ $# -gt 0 ]; do
    case "$1" in
        --state-dir) state="$2"; shift 2 ;;
        --port) port="$2"; shift 2 ;;
        *) die "unknown option '$1' (expected --state-dir DIR or --port N)" ;;
    esac
done
pidfile="$state/server.pid"
urifile="$state/server.uri"

running_pid() {
    [ -f "$pidfile" ] || return 1
    local pid
    pid="$(cat "$pidfile")"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && { echo "$pid"; return 0; }
    return 1
}

stop_server() {
    local pid
    if pid="$(running_pid)"; then
        say "stopping the server (process group $pid)"
        # The server was started with setsid: its pid is its process group (mlflow + uvicorn workers).
        kill -TERM -- "-$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        if kill -0 "$pid" 2>/dev/null; then
            say "still running after 10 s: SIGKILL"
            kill -KILL -- "-$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$pidfile" "$urifile"
}

ensure_venv() {
    command -v "$python" >/dev/null 2>&1 \
        || die "'$python' not found: the MLflow server needs Python 3 (3.11 was used for the lock); install python3 and python3-venv"
    "$python" -c 'import venv, ensurepip' 2>/dev/null \
        || die "'$python' has no venv/ensurepip module: install python3-venv (Debian: apt-get install python3-venv)"
    if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)'; then
        say "warning: $("$python" --version 2>&1) found; server-requirements.lock was resolved on Python 3.11"
    fi
    local want stamp
    want="$(sha256sum "$lock" | cut -d' ' -f1)"
    stamp="$venv/.lock.sha256"
    if [ -x "$venv/bin/mlflow" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        say "venv $venv matches server-requirements.lock"
        return
    fi
    if [ ! -x "$venv/bin/python" ]; then
        say "creating venv $venv with $("$python" --version 2>&1)"
        "$python" -m venv "$venv" || die "could not create the venv $venv"
    fi
    say "installing server-requirements.lock into $venv (mlflow 3.17.2, ~90 packages, ~850 MB; about a minute)"
    local started=$SECONDS
    "$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar off -r "$lock" >&2 \
        || die "pip install -r $lock failed (see above)"
    "$venv/bin/python" -m pip check >&2 || die "pip check failed in $venv"
    echo "$want" > "$stamp"
    say "venv ready in $((SECONDS - started)) s"
}

free_port() {
    "$venv/bin/python" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start_server() {
    ensure_venv
    stop_server
    mkdir -p "$state/artifacts"
    [ -n "$port" ] || port="$(free_port)"
    local uri="http://127.0.0.1:$port"
    local log="$state/server.log"
    say "starting mlflow server on $uri (backend sqlite:///$state/mlflow.db, artifacts $state/artifacts, log $log)"
    # setsid: own process group, so stop can end the server and its workers and nothing else.
    # The new session's leader writes its own pid and then becomes the server (exec keeps the
    # pid): $! is not always that pid, since setsid forks when it starts as a group leader, and
    # a check on the wrong pid once reported a healthy server as exited and left it running.
    rm -f "$pidfile"
    MLFLOW_ENABLE_ASYNC_LOGGING=false setsid sh -c 'echo $$ > "$0"; exec "$@"' "$pidfile" \
        "$venv/bin/mlflow" server \
        --host 127.0.0.1 --port "$port" --workers 1 \
        --backend-store-uri "sqlite:///$state/mlflow.db" \
        --serve-artifacts --artifacts-destination "$state/artifacts" \
        > "$log" 2>&1 < /dev/null &
    local pid=""
    for _ in $(seq 1 100); do
        pid="$(cat "$pidfile" 2>/dev/null || true)"
        [ -n "$pid" ] && break
        sleep 0.1
    done
    [ -n "$pid" ] || die "mlflow server did not start: no pid in $pidfile after 10 s (log $log)"
    local started=$SECONDS
    until "$venv/bin/python" - "$uri/health" <<'EOF' 2>/dev/null
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
    sys.exit(0 if r.status == 200 else 1)
EOF
    do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 30 "$log" >&2 || true
            rm -f "$pidfile"
            die "mlflow server exited before answering /health (log above, full log $log)"
        fi
        if [ $((SECONDS - started)) -ge "$timeout_s" ]; then
            tail -n 30 "$log" >&2 || true
            stop_server
            die "mlflow server did not answer $uri/health within $timeout_s s"
        fi
        sleep 0.5
    done
    echo "$uri" > "$urifile"
    say "ready in $((SECONDS - started)) s: $uri (pid $pid)"
    echo "$uri"
}

case "$cmd" in
    start) start_server ;;
    stop) stop_server; say "stopped" ;;
    status)
        if pid="$(running_pid)"; then echo "running pid $pid at $(cat "$urifile" 2>/dev/null)"; else echo "not running"; exit 3; fi ;;
    *) die "unknown command '$cmd' (start, stop or status)" ;;
esac
