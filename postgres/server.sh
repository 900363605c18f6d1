#!/usr/bin/env bash
# A real local PostgreSQL server, for people and for the build's integration tests (the state
# store's Postgres contract tests, dev.quiver.host.store.PostgresStateStoreIT).
#
#   postgres/server.sh start [--state-dir DIR] [--port N]   # prints the JDBC URL on stdout
#   postgres/server.sh stop  [--state-dir DIR]
#   postgres/server.sh status [--state-dir DIR]
#
# start: runs Debian's PostgreSQL server binaries (/usr/lib/postgresql/<major>/bin, the newest
# major installed, or QUIVER_PG_BIN) on a fresh cluster: initdb with trust authentication and the
# superuser `quiver`, then pg_ctl start listening on 127.0.0.1:PORT only (and a Unix socket in the
# cluster folder), waits until it accepts connections and prints
#   jdbc:postgresql://127.0.0.1:PORT/postgres?user=quiver
# Without --port a free port is picked. A server left running from the same state dir is stopped
# first. Progress goes to stderr.
#
# As root (every machine here), initdb and postgres refuse to run ("cannot be run as root"), so
# they run as the unprivileged `postgres` user through runuser, and the cluster lives in a folder
# that user owns under /tmp (quiver-pg.XXXXXX, its path kept in DIR/cluster.path; short, so the
# Unix socket path fits). As any other user they run as that user. stop copies the server log to
# DIR/postgres.log and deletes the cluster: every start is a new, empty server.
#
# If the binaries are missing: as root with apt-get, `apt-get update && apt-get install -y
# postgresql` installs them; otherwise it fails and says what to install. Never a silent skip.
#
# Environment: QUIVER_PG_BIN (folder with initdb, pg_ctl, postgres), QUIVER_PG_START_TIMEOUT_S
# (default 60).
set -euo pipefail
# Functions below run in $(...); without this, a failure inside them would not stop the script.
shopt -s inherit_errexit
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
timeout_s="${QUIVER_PG_START_TIMEOUT_S:-60}"

say() { echo "postgres/server.sh: $*" >&2; }
die() { echo "postgres/server.sh: error: $*" >&2; exit 1; }

cmd="${1:-}"
[ -n "$cmd" ] || die "usage: server.sh start|stop|status [--state-dir DIR] [--port N]"
shift
state="$here/.server"
port=""
while [ $# -gt 0 ]; do
    case "$1" in
        --state-dir) [ $# -ge 2 ] || die "--state-dir needs a folder"; state="$2"; shift 2 ;;
        --port) [ $# -ge 2 ] || die "--port needs a number"; port="$2"; shift 2 ;;
        *) die "unknown option '$1' (expected --state-dir DIR or --port N)" ;;
    esac
done
if [ -n "$port" ] && ! [[ "$port" =~ ^[0-9]+$ && "$port" -ge 1 && "$port" -le 65535 ]]; then
    die "--port '$port' is not a port number (1..65535)"
fi
clusterfile="$state/cluster.path"
urlfile="$state/server.url"

# as_pg CMD...: run a PostgreSQL binary as the user that owns the cluster.
as_pg() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

find_bin() {
    if [ -n "${QUIVER_PG_BIN:-}" ]; then
        [ -x "$QUIVER_PG_BIN/initdb" ] && [ -x "$QUIVER_PG_BIN/pg_ctl" ] \
            || die "QUIVER_PG_BIN=$QUIVER_PG_BIN has no executable initdb and pg_ctl"
        echo "$QUIVER_PG_BIN"
        return
    fi
    local d
    # The highest major version installed (by number: the glob would sort 10 before 9).
    for d in /usr/lib/postgresql/*/bin; do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; fi
    done | sort -t/ -k5,5n | tail -n 1
}

ensure_bin() {
    local bin
    bin="$(find_bin)"
    if [ -z "$bin" ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            say "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin: installing Debian's postgresql (apt-get update && apt-get install -y postgresql)"
            apt-get update >&2 || die "apt-get update failed (see above); install PostgreSQL by hand: apt-get install postgresql"
            DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2 \
                || die "apt-get install -y postgresql failed (see above)"
            bin="$(find_bin)"
        fi
        [ -n "$bin" ] || die "no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin: install them (Debian: apt-get install postgresql) or set QUIVER_PG_BIN to their folder"
    fi
    if [ "$(id -u)" = 0 ]; then
        command -v runuser >/dev/null 2>&1 || die "running as root needs runuser (util-linux) to start PostgreSQL as the postgres user"
        id postgres >/dev/null 2>&1 || die "running as root needs the unprivileged user 'postgres' (Debian's postgresql package creates it)"
    fi
    echo "$bin"
}

cluster_dir() {
    [ -f "$clusterfile" ] || return 1
    local d
    d="$(cat "$clusterfile")"
    [ -n "$d" ] && [ -d "$d" ] && { echo "$d"; return 0; }
    return 1
}

stop_server() {
    local d bin
    if d="$(cluster_dir)"; then
        if [ -f "$d/data/postmaster.pid" ]; then
            bin="$(cat "$d/bin.path" 2>/dev/null || true)"
            say "stopping the server of $d"
            if [ -z "$bin" ] || ! as_pg "$bin/pg_ctl" -D "$d/data" -m fast -w -t 30 stop >&2; then
                local pid
                pid="$(head -n 1 "$d/data/postmaster.pid" 2>/dev/null || true)"
                if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
                    say "pg_ctl stop failed: SIGKILL to postmaster $pid"
                    kill -KILL "$pid" 2>/dev/null || true
                fi
            fi
        fi
        [ -f "$d/postgres.log" ] && cp "$d/postgres.log" "$state/postgres.log" 2>/dev/null || true
        case "$d" in
            /tmp/quiver-pg.*) rm -rf -- "$d" ;;
            *) die "refusing to delete '$d' named in $clusterfile: not a /tmp/quiver-pg.* folder" ;;
        esac
    fi
    rm -f "$clusterfile" "$urlfile"
}

free_port() {
    local p
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return
        fi
    done
    die "found no free port on 127.0.0.1 in 50 tries; pass --port N"
}

start_server() {
    local bin
    bin="$(ensure_bin)"
    mkdir -p "$state"
    stop_server
    [ -n "$port" ] || port="$(free_port)"
    local d
    d="$(mktemp -d /tmp/quiver-pg.XXXXXX)"
    echo "$d" > "$clusterfile"
    echo "$bin" > "$d/bin.path"
    if [ "$(id -u)" = 0 ]; then chown postgres "$d"; fi
    local url="jdbc:postgresql://127.0.0.1:$port/postgres?user=quiver"
    say "initdb $d/data with $("$bin/postgres" --version) (trust auth, superuser quiver)"
    # --no-sync only skips flushing initdb's own files; the server itself runs with fsync on.
    as_pg "$bin/initdb" -D "$d/data" -A trust -U quiver -E UTF8 --locale=C.UTF-8 --no-sync \
        > "$d/initdb.log" 2>&1 \
        || { cat "$d/initdb.log" >&2; die "initdb failed (output above)"; }
    say "starting postgres on 127.0.0.1:$port (log $d/postgres.log, copied to $state/postgres.log on stop)"
    if ! as_pg "$bin/pg_ctl" -D "$d/data" -l "$d/postgres.log" -w -t "$timeout_s" \
            -o "-p $port -k $d -c listen_addresses=127.0.0.1" start >&2; then
        tail -n 30 "$d/postgres.log" >&2 || true
        stop_server
        die "postgres did not start on 127.0.0.1:$port within $timeout_s s (log above)"
    fi
    echo "$url" > "$urlfile"
    say "ready: $url"
    echo "$url"
}

case "$cmd" in
    start) start_server ;;
    stop) stop_server; say "stopped" ;;
    status)
        if d="$(cluster_dir)" && [ -f "$d/data/postmaster.pid" ]; then
            echo "running at $(cat "$urlfile" 2>/dev/null) (cluster $d)"
        else
            echo "not running"; exit 3
        fi ;;
    *) die "unknown command '$cmd' (start, stop or status)" ;;
esac
