#!/usr/bin/env bash
# Writes the distribution's class data sharing archive (AppCDS, JDK 17 dynamic archive):
# a training run of `bin/quiver serve` with the distribution's own plugins, stopped with SIGTERM
# once it listens and has answered /health/ready; the JVM writes the classes it loaded from the
# JDK and lib/*.jar to lib/quiver.jsa at exit. A tracking URI (port 1, nothing listens) makes it
# build its registry clients: the JDK's HTTP client and the TLS classes it loads when it is built
# (about 450 classes a restart from the model cache loaded outside the archive) are archived too.
# bin/quiver uses the archive when it is there and matches this JVM and these jars, and starts
# without it otherwise (silently: -Xlog:cds=off).
# Usage: cds-archive.sh DIST   (DIST = the assembled distribution folder, e.g. host/target/quiver)
set -euo pipefail
dist=$(cd "$1" && pwd)
archive="$dist/lib/quiver.jsa"
work=$(mktemp -d)
pid=""
# never leave the training run behind, whatever stops this script
trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$work"' EXIT
rm -f "$archive"
QUIVER_CDS=off JAVA_OPTS="-XX:ArchiveClassesAtExit=$archive -Xlog:cds=off -Xlog:cds+dynamic=off" \
  "$dist/bin/quiver" serve --strategy none --port 0 --fit-on none --watch-interval-ms 0 \
  --state-url "jdbc:sqlite:$work/state.db" --rollouts-dir "$work/rollouts" \
  --reports-dir "$work/reports" --model-cache "$work/models" \
  --tracking-uri http://127.0.0.1:1 >"$work/out.log" 2>"$work/err.log" &
pid=$!
port=""
for _ in $(seq 1 1800); do
  port=$(sed -n 's|^quiver serve: listening on http://[^:]*:\([0-9]*\)/.*|\1|p' "$work/out.log")
  [ -n "$port" ] && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "cds-archive: the training run of quiver serve ended before listening:" >&2
    cat "$work/out.log" "$work/err.log" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$port" ]; then
  kill -TERM "$pid" || true
  echo "cds-archive: quiver serve did not listen within 180 s" >&2
  exit 1
fi
# One request through the HTTP stack, so its classes are archived too.
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
head -c 200 <&3 >/dev/null || true
exec 3<&-
kill -TERM "$pid"
# the JVM writes the archive on its way out; give it 120 s, then stop it hard
for _ in $(seq 1 1200); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
  echo "cds-archive: quiver serve did not exit within 120 s of SIGTERM" >&2
  exit 1
fi
wait "$pid" || true
pid=""
if [ ! -s "$archive" ]; then
  echo "cds-archive: no archive written at $archive" >&2
  cat "$work/err.log" >&2
  exit 1
fi
echo "cds-archive: $(du -h "$archive" | cut -f1) archive at $archive"
