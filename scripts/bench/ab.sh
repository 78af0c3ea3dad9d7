#!/usr/bin/env bash
# Two release builds compared at the same time on the same machine (run.sh measures one build):
#
#   scripts/bench/ab.sh BIN_A BIN_B        e.g. two copies of .build/release/reelbase from two commits
#
# Starts a throwaway PostgreSQL as run.sh does (fsync and synchronous_commit on, shared_buffers=256MB), loads one
# database per binary with that binary's own `seed-bench` (each then runs on the schema it migrates itself), and
# runs each scenario with the two servers taking turns, A then B, for AB_ROUNDS rounds. Two run.sh runs minutes
# apart on a shared 2-core machine differ by 15 % or more on identical statements; taking turns puts whatever else
# runs meanwhile on both alike. Prints every measurement and the mean req/s per scenario.
#
# Settings (environment): AB_ROUNDS (3), AB_DURATION (seconds per scenario and turn, 10), AB_SCENARIOS (likes
# follows feed balance purchase; also `effect`: effect jobs, after bench0 is made an admin and grants each of the 32
# users 1,000,000 credits on both databases), BENCH_PG_PORT (54379), BENCH_PORT (18501), BENCH_USERS/VIDEOS/LIKES/FOLLOWS/SEED
# (as run.sh), AB_STATEMENTS (N > 0: after every turn, the N statements that took the most time in it, from
# pg_stat_statements: calls, total and mean ms). Everything listens on 127.0.0.1 and is removed at exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
[ $# -eq 2 ] && [ -x "$1" ] && [ -x "$2" ] || { echo "usage: scripts/bench/ab.sh BIN_A BIN_B (two reelbase binaries)" >&2; exit 2; }
bins=("$1" "$2")
labels=(A B)
rounds=${AB_ROUNDS:-3}
duration=${AB_DURATION:-10}
scenarios=${AB_SCENARIOS:-likes follows feed balance purchase}
pg_port=${BENCH_PG_PORT:-54379}
port=${BENCH_PORT:-18501}
base="http://127.0.0.1:$port"

work=$(mktemp -d /tmp/reelbase-ab.XXXXXX)
chmod 755 "$work"
server_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; server_pid=""; fi
}
cleanup() { stop_server; scripts/pg.sh stop "$work/cluster" || true; rm -rf "$work"; }
trap cleanup EXIT

command -v wrk >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
scripts/pg.sh install
pg_bin=$(scripts/pg.sh bin)
statements=${AB_STATEMENTS:-0}
pg_options=(-c shared_buffers=256MB)
[ "$statements" -gt 0 ] && pg_options+=(-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all)
scripts/pg.sh start "$work/cluster" "$pg_port" "${pg_options[@]}"
psql=("$pg_bin/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U postgres)
url() { echo "postgres://postgres@127.0.0.1:$pg_port/ab_$1"; }
for side in 0 1; do
  "${psql[@]}" -c "CREATE DATABASE ab_$side"
  [ "$statements" -gt 0 ] && "${psql[@]}" -d "ab_$side" -c "CREATE EXTENSION pg_stat_statements"
  echo "ab.sh: loading the data set for ${bins[$side]}" >&2
  "${bins[$side]}" seed-bench --database-url "$(url $side)" --users "${BENCH_USERS:-100000}" --videos "${BENCH_VIDEOS:-200000}" \
    --likes "${BENCH_LIKES:-1000000}" --follows "${BENCH_FOLLOWS:-1000000}" --seed "${BENCH_SEED:-42}" --log-level error
done

# The same seed gives both databases the same ids: the request bodies are built once, from A's.
query() { "${psql[@]}" -d ab_0 -c "$1"; }
viewer=$(query "SELECT id FROM users WHERE email = 'bench0@example.com'")
ids() { # $1: the viewer's marks (likes or follows), $2: the table to fill up with, newest first, to 100 ids
  query "WITH mine AS ($1 LIMIT 100), other AS (SELECT id FROM $2 WHERE id <> '$viewer' AND id NOT IN (SELECT id FROM mine)
         ORDER BY created_at DESC LIMIT 100 - (SELECT count(*) FROM mine))
         SELECT '[\"' || string_agg(id::text, '\",\"' ORDER BY md5(id::text)) || '\"]' FROM (SELECT id FROM mine UNION ALL SELECT id FROM other) ids"
}
like_body="{\"video_ids\":$(ids "SELECT video_id AS id FROM likes WHERE user_id = '$viewer'" videos)}"
follow_body="{\"user_ids\":$(ids "SELECT following_id AS id FROM follows WHERE follower_id = '$viewer'" users)}"
purchase_body='{"package_id":"basic_500","payment_method":"card","payment_token":"pm_card_visa"}'
effect_body="{\"video_id\":\"$(query "SELECT id FROM videos ORDER BY created_at DESC, id DESC LIMIT 1")\"}"
funded=(0 0)

declare -A total
for ((round = 1; round <= rounds; round++)); do
  for side in 0 1; do
    HOST=127.0.0.1 PORT="$port" DATABASE_URL="$(url $side)" LOG_LEVEL=warning JWT_SECRET="reelbase-bench-fixed-jwt-secret-0123456789" \
      ACCESS_TOKEN_TTL=3600 PAYMENT_GATEWAY=mock RATE_LIMITS=off "${bins[$side]}" serve >>"$work/server-$side.log" 2>&1 &
    server_pid=$!
    until curl -fs -o /dev/null "$base/readyz"; do kill -0 "$server_pid" || exit 1; sleep 0.05; done
    tokens=()
    for ((i = 0; i < 32; i++)); do
      tokens+=("$(curl -fsS -X POST "$base/v1/auth/login" -H 'Content-Type: application/json' \
        -d "{\"email\":\"bench$i@example.com\",\"password\":\"reelbase-bench\"}" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')")
    done
    if [[ " $scenarios " == *" effect "* ]] && [ "${funded[$side]}" = 0 ]; then
      "${bins[$side]}" users set-role --database-url "$(url $side)" --email bench0@example.com --role admin >/dev/null 2>&1
      for ((i = 0; i < 32; i++)); do
        grantee=$("${psql[@]}" -d "ab_$side" -c "SELECT id FROM users WHERE email = 'bench$i@example.com'")
        curl -fsS -o /dev/null -X POST "$base/v1/admin/credits/grants" -H "Authorization: Bearer ${tokens[0]}" \
          -H 'Content-Type: application/json' -d "{\"user_id\":\"$grantee\",\"credits\":1000000,\"reason\":\"bench\"}"
      done
      funded[$side]=1
    fi
    for scenario in $scenarios; do
      [ "$statements" -gt 0 ] && "${psql[@]}" -d "ab_$side" -c "SELECT pg_stat_statements_reset()" >/dev/null
      case $scenario in
        likes) path=/v1/likes/check-batch script=check-batch.lua run_tokens=${tokens[0]} body=$like_body ;;
        follows) path=/v1/follows/check-batch script=check-batch.lua run_tokens=${tokens[0]} body=$follow_body ;;
        feed) path="/v1/videos/?limit=20" script=get.lua run_tokens=${tokens[0]} body="" ;;
        balance) path=/v1/credits/balance script=get.lua run_tokens="${tokens[*]}" body="" ;;
        purchase) path=/v1/credits/purchase script=keyed-post.lua run_tokens="${tokens[*]}" body=$purchase_body ;;
        effect) path=/v1/effects/glitch_animate/jobs script=keyed-post.lua run_tokens="${tokens[*]}" body=$effect_body ;;
        *) echo "ab.sh: unknown scenario $scenario" >&2; exit 2 ;;
      esac
      line=$(BENCH_LUA_DIR="$root/scripts/bench" BENCH_TOKENS="$run_tokens" BENCH_BODY="$body" BENCH_RUN_ID="$side-$round" \
        wrk -t2 -c32 -d"${duration}s" -s "$root/scripts/bench/$script" "$base$path" | grep '^BENCH_RESULT')
      read -r _ rps p50 p99 errors _ p95 <<<"$line"
      echo "round $round ${labels[$side]} $scenario: $rps req/s, p50 $p50 ms, p95 $p95 ms, p99 $p99 ms, $errors errors"
      if [ "$statements" -gt 0 ]; then
        "${psql[@]}" -d "ab_$side" -F ' | ' -c "SELECT calls, round(total_exec_time::numeric, 1), round(mean_exec_time::numeric, 3),
          left(regexp_replace(query, '\s+', ' ', 'g'), 140) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
          WHERE d.datname = 'ab_$side' ORDER BY total_exec_time DESC LIMIT $statements" | sed 's/^/    /'
      fi
      total[$scenario,$side]=$(awk "BEGIN { print ${total[$scenario,$side]:-0} + $rps }")
    done
    stop_server
  done
done

echo
echo "| scenario | A req/s (mean of $rounds) | B req/s | B/A |"
echo "|---|---|---|---|"
for scenario in $scenarios; do
  awk -v s="$scenario" -v a="${total[$scenario,0]}" -v b="${total[$scenario,1]}" -v n="$rounds" \
    'BEGIN { printf "| %s | %.0f | %.0f | %+.0f %% |\n", s, a / n, b / n, (b / a - 1) * 100 }'
done
