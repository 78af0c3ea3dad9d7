#!/usr/bin/env bash
# Live-events benchmark (issue 14): one instance holding EVENTS_STREAMS open `GET /v1/events` streams (one per user)
# while EVENTS_RATE events per second are produced (admin credit grants, each a `balance` event to a random streaming
# user) for EVENTS_DURATION seconds. Prints the server's RSS growth and the delivery latency p50/p99 (from the
# producing request being sent, an upper bound of commit -> client), and whether the targets hold: RSS growth
# <= 100 MiB, p99 <= 100 ms, no event lost.
#
#   scripts/bench/events.sh                                   # release build, 1000 streams, 100 events/s, 30 s, SQLite
#   EVENTS_BUILD=debug EVENTS_STREAMS=50 EVENTS_DURATION=5 scripts/bench/events.sh     # a quick check
#   EVENTS_DATABASE_URL=postgres://postgres@127.0.0.1:54379/postgres scripts/bench/events.sh
#
# Settings: EVENTS_BUILD (release|debug), EVENTS_STREAMS (1000), EVENTS_RATE (100), EVENTS_DURATION (30),
# EVENTS_PORT (18601), EVENTS_DATABASE_URL (a fresh SQLite file), BENCH_SCRATCH (SwiftPM scratch path, .build).
# Everything listens on 127.0.0.1; the server and its files are removed at exit. The client is scripts/bench/events.py
# (Python 3 standard library only).
set -euo pipefail
cd "$(dirname "$0")/../.."

build=${EVENTS_BUILD:-release}
streams=${EVENTS_STREAMS:-1000}
rate=${EVENTS_RATE:-100}
duration=${EVENTS_DURATION:-30}
port=${EVENTS_PORT:-18601}
scratch=${BENCH_SCRATCH:-.build}
work=$(mktemp -d /tmp/reelbase-events-bench.XXXXXX)
database_url=${EVENTS_DATABASE_URL:-sqlite://$work/events.sqlite}
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Each stream is a socket on both ends, and the client runs on this machine too.
ulimit -n $((4 * streams + 1024))

echo "== $build build" >&2
swift build -c "$build" --scratch-path "$scratch" >&2
bin="$(swift build -c "$build" --scratch-path "$scratch" --show-bin-path)/reelbase"

echo "== server on 127.0.0.1:$port ($database_url)" >&2
HOST=127.0.0.1 PORT=$port DATABASE_URL="$database_url" LOG_LEVEL=warning RATE_LIMITS=off BCRYPT_COST=4 \
  JWT_SECRET=reelbase-events-bench-secret-0123456789abcdef ACCESS_TOKEN_TTL=3600 "$bin" serve >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 150); do curl -fs -o /dev/null "http://127.0.0.1:$port/readyz" && break; sleep 0.2; done
curl -fs -o /dev/null "http://127.0.0.1:$port/readyz" || { cat "$work/server.log" >&2; echo "events.sh: the server did not start" >&2; exit 1; }

admin=$(curl -fsS -X POST "http://127.0.0.1:$port/v1/auth/register" -H 'Content-Type: application/json' \
  -d '{"email":"events-admin@example.com","password":"events-bench","username":"events_admin"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
DATABASE_URL="$database_url" LOG_LEVEL=warning "$bin" users set-role --email events-admin@example.com --role admin >/dev/null 2>&1

echo "== $streams streams, $rate events/s for $duration s" >&2
python3 scripts/bench/events.py --port "$port" --pid "$server_pid" --admin-token "$admin" \
  --streams "$streams" --rate "$rate" --duration "$duration"
if grep -q '"level":"error"' "$work/server.log"; then
  echo "events.sh: the server logged errors:" >&2
  grep '"level":"error"' "$work/server.log" | head -n 10 >&2
  exit 1
fi
