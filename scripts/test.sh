#!/usr/bin/env bash
# Runs every test on SQLite and PostgreSQL: installs PostgreSQL if missing, starts a throwaway server on
# 127.0.0.1:${REELBASE_TEST_PG_PORT:-54329}, runs `swift test`, and stops the server whatever happens.
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
