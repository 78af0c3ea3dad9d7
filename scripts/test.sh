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
swift test "$@"

if [ $# -eq 0 ]; then
  swift build
  scripts/schemathesis.sh "sqlite://$data/schemathesis.sqlite"
  "$(scripts/pg.sh bin)/psql" -q -h 127.0.0.1 -p "$port" -U postgres -c 'CREATE DATABASE reelbase_schemathesis'
  scripts/schemathesis.sh "postgres://postgres@127.0.0.1:$port/reelbase_schemathesis"
fi
