#!/usr/bin/env bash
# Runs every test on SQLite and PostgreSQL: installs PostgreSQL if missing, starts a throwaway server on
# 127.0.0.1:${REELBASE_TEST_PG_PORT:-54329}, runs `swift test`, then (on a full run, without arguments)
# fuzzes the API against its OpenAPI document with schemathesis on both databases, and stops the server
# whatever happens. Arguments go to `swift test` (e.g. --filter Credits) and skip the fuzzing.
set -euo pipefail
cd "$(dirname "$0")/.."

port=${REELBASE_TEST_PG_PORT:-54329}
data=$(mktemp -d /tmp/reelbase-test-pg.XXXXXX)
chmod 755 "$data"
cleanup() { scripts/pg.sh stop "$data/cluster" || true; rm -rf "$data"; }
trap cleanup EXIT

scripts/pg.sh install
# Durability is not under test here: skip fsync to keep hundreds of throwaway databases cheap.
scripts/pg.sh start "$data/cluster" "$port" -c fsync=off -c synchronous_commit=off -c full_page_writes=off

export REELBASE_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
export REELBASE_TEST_PG_SCRIPT="$PWD/scripts/pg.sh"
# A watchdog on the Swift tests: once built, the suite takes about five minutes (the ledger harness's 10,000 operations
# per database are most of it), and longer on a machine
# loaded by other builds. A run still going after REELBASE_TEST_TIMEOUT seconds is a hang, which is a bug in the
# product or its tests: the watchdog prints the tests still in flight and every thread's backtrace of its own test
# process, ends that run (and nothing else), and fails. The run gets a process group of its own (setsid) so that
# only it is ever killed, never another checkout's tests; its output is line-buffered so a stall loses no line.
swift build --build-tests
timeout=${REELBASE_TEST_TIMEOUT:-1200}
log="$data/swift-test.log"
# Swift Testing would start every test at once; at most REELBASE_TEST_PARALLELISM run together, so that 300 apps'
# pools do not make requests wait past the 5 s lease timeout on a 2-core machine (a 503 the test did not expect).
setsid stdbuf -oL -eL swift test --skip-build \
  --experimental-maximum-parallelization-width "${REELBASE_TEST_PARALLELISM:-12}" "$@" > >(tee "$log") 2>&1 &
tests=$!
# The tests take SIGTERM and SIGINT as a graceful shutdown of the app under test, so the run is killed outright.
trap 'kill -KILL -- "-$tests" 2>/dev/null; exit 130' INT TERM
deadline=$((SECONDS + timeout))
while kill -0 "$tests" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
  sleep 1
  # Time the run spends stopped (SIGSTOP, as a load limiter on a shared machine sends) is not a stall.
  if pgrep -r T -g "$tests" >/dev/null; then deadline=$((deadline + 1)); fi
done
if kill -0 "$tests" 2>/dev/null; then
  echo "test.sh: STALL: swift test did not finish within $timeout s" >&2
  # Swift Testing prints "◇ Test NAME started." and, when it ends, "✔/✘ Test NAME [with N test cases] passed/failed".
  plain=$(sed 's/\x1b\[[0-9;]*m//g' "$log")
  started=$(sed -n -e '/ Test case passing /d' -e 's/^[^ ]* Test \("[^"]*"\|[^ ]*\) started\.$/\1/p' <<<"$plain" | grep -vx run || true)
  ended=$(sed -n -e '/ Test case passing /d' \
    -e 's/^[^ ]* Test \("[^"]*"\|[^ ]*\) \(with [0-9]* test cases\? \)\?\(passed\|failed\|skipped\).*/\1/p' <<<"$plain")
  grep -vxF -f <(echo "$ended") <<<"$started" | sed 's/^/test.sh: in flight: /' >&2 || true
  for pid in $(pgrep -g "$tests" -f '\.xctest'); do
    echo "test.sh: backtraces of test process $pid:" >&2
    if command -v gdb >/dev/null; then
      gdb -p "$pid" -batch -ex 'thread apply all bt' 2>&1 | grep -v -e '^During symbol reading' -e '^warning: ' >&2 || true
    else
      echo "test.sh: gdb is not installed (apt-get install gdb) - no backtraces" >&2
    fi
  done
  kill -KILL -- "-$tests" 2>/dev/null || true
  wait "$tests" 2>/dev/null || true
  exit 1
fi
wait "$tests"
trap - INT TERM

if [ $# -eq 0 ]; then
  swift build
  scripts/schemathesis.sh "sqlite://$data/schemathesis.sqlite"
  "$(scripts/pg.sh bin)/psql" -q -h 127.0.0.1 -p "$port" -U postgres -c 'CREATE DATABASE reelbase_schemathesis'
  scripts/schemathesis.sh "postgres://postgres@127.0.0.1:$port/reelbase_schemathesis"
  scripts/browser-test.sh
fi
