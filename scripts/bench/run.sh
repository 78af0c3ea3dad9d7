#!/usr/bin/env bash
# Load benchmark of Reelbase (issue 8), one command on a fresh machine:
#
#   scripts/bench/run.sh
#
# Builds the release binary, times `serve` readiness on a fresh SQLite file, starts a throwaway PostgreSQL
# (durable: fsync and synchronous_commit stay on; shared_buffers=256MB), loads the `seed-bench` data set,
# starts the release server on it, logs in as bench users, drives twelve scenarios with wrk (2 threads,
# 32 connections; three of them search, with queries made of words drawn from the data), runs the likes and follows
# check-batch SQL and the per-request session check alone through pgbench as the database's own ceiling, captures
# PostgreSQL's EXPLAIN (ANALYZE) of the searches the server sends (auto_explain), and prints one table. Everything
# listens on 127.0.0.1 and stops by itself;
# the cluster, the SQLite files and the logs live in a temporary directory removed at exit (BENCH_KEEP=1 keeps it).
#
# Settings (environment): BENCH_DURATION (seconds per scenario, 20), BENCH_PG_PORT (54379), BENCH_PORT
# (18501; readiness uses the next port), BENCH_USERS (100000), BENCH_VIDEOS (200000), BENCH_LIKES (1000000),
# BENCH_FOLLOWS (1000000), BENCH_SEED (42), BENCH_SCRATCH (SwiftPM scratch path, .build).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

duration=${BENCH_DURATION:-20}
pg_port=${BENCH_PG_PORT:-54379}
port=${BENCH_PORT:-18501}
ready_port=$((port + 1))
scratch=${BENCH_SCRATCH:-.build}
users=${BENCH_USERS:-100000}
videos=${BENCH_VIDEOS:-200000}
likes=${BENCH_LIKES:-1000000}
follows=${BENCH_FOLLOWS:-1000000}
seed=${BENCH_SEED:-42}
connections=32
# One access token per connection for the scenarios that spread over users (balance, purchase).
logged_in=$connections
jwt_secret="reelbase-bench-fixed-jwt-secret-0123456789"
password="reelbase-bench"

say() { printf '\n== %s\n' "$*" >&2; }

work=$(mktemp -d /tmp/reelbase-bench.XXXXXX)
chmod 755 "$work"
server_pid=""
sampler_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
cleanup() {
  status=$?
  if [ -n "$sampler_pid" ]; then kill "$sampler_pid" 2>/dev/null || true; fi
  stop_server
  scripts/pg.sh stop "$work/cluster" || true
  if [ "$status" != 0 ] && [ -f "$work/server.log" ]; then
    echo "run.sh: failed; last lines of the server's log:" >&2
    tail -n 20 "$work/server.log" >&2
  fi
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "run.sh: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

say "tools"
missing=""
command -v wrk >/dev/null || missing="$missing wrk"
command -v curl >/dev/null || missing="$missing curl"
command -v python3 >/dev/null || missing="$missing python3"
if [ -n "$missing" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq $missing >/dev/null
fi
scripts/pg.sh install
pg_bin=$(scripts/pg.sh bin)

say "release build"
swift build -c release --scratch-path "$scratch" >&2
bin="$(swift build -c release --scratch-path "$scratch" --show-bin-path)/reelbase"

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# Starts the release server in the background on $1 (database URL) and $2 (port).
start_server() {
  HOST=127.0.0.1 PORT="$2" DATABASE_URL="$1" LOG_LEVEL=warning JWT_SECRET="$jwt_secret" ACCESS_TOKEN_TTL=3600 \
    PAYMENT_GATEWAY=mock RATE_LIMITS=off "$bin" serve >>"$work/server.log" 2>&1 &
  server_pid=$!
}

# Waits until /readyz on port $1 answers 200 (at most 30 s).
wait_ready() {
  local deadline=$(($(now_ms) + 30000))
  until curl -fs -o /dev/null "http://127.0.0.1:$1/readyz"; do
    kill -0 "$server_pid" 2>/dev/null || { echo "run.sh: the server exited during start-up" >&2; return 1; }
    [ "$(now_ms)" -lt "$deadline" ] || { echo "run.sh: the server was not ready within 30 s" >&2; return 1; }
    sleep 0.005
  done
}

say "serve readiness on SQLite (fresh file each time)"
ready_times=()
for attempt in 1 2 3; do
  rm -f "$work/ready.sqlite"*
  started=$(now_ms)
  start_server "sqlite://$work/ready.sqlite" "$ready_port"
  wait_ready "$ready_port"
  ready_times+=($(($(now_ms) - started)))
  stop_server
done
echo "ready after ${ready_times[*]} ms" >&2

say "PostgreSQL on 127.0.0.1:$pg_port (fsync on, synchronous_commit on, shared_buffers=256MB)"
scripts/pg.sh start "$work/cluster" "$pg_port" -c shared_buffers=256MB
psql=("$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U postgres)
"${psql[@]}" -c "CREATE DATABASE reelbase_bench"
db_url="postgres://postgres@127.0.0.1:$pg_port/reelbase_bench"
query() { "${psql[@]}" -At -d reelbase_bench -c "$1"; }

say "loading $users users, $videos videos, $likes likes, $follows follows (seed $seed)"
started=$(now_ms)
# --notified-users: the logged-in users get a notification for each like of their videos and each follow of them,
# written by the loader through the server's own notification code (the notifications scenarios read them).
"$bin" seed-bench --database-url "$db_url" --users "$users" --videos "$videos" --likes "$likes" \
  --follows "$follows" --seed "$seed" --notified-users "$logged_in" --log-level info
load_seconds=$((($(now_ms) - started) / 1000))

say "server on 127.0.0.1:$port (PostgreSQL, LOG_LEVEL=warning)"
start_server "$db_url" "$port"
wait_ready "$port"
base="http://127.0.0.1:$port"

tokens=()
for ((i = 0; i < logged_in; i++)); do
  answer=$(curl -fsS -X POST "$base/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"email\":\"bench$i@example.com\",\"password\":\"$password\"}")
  tokens+=("$(printf '%s' "$answer" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')")
done
bench_token=${tokens[0]}
bench_user=$(query "SELECT id FROM users WHERE email = 'bench0@example.com'")
bench_session=$(query "SELECT id FROM sessions WHERE user_id = '$bench_user' ORDER BY created_at DESC LIMIT 1")

# 100 ids for each check: everything bench0 likes (or follows), the rest the newest videos (users) it does not,
# in a scrambled order.
liked=$(query "SELECT count(*) FROM likes WHERE user_id = '$bench_user'")
like_ids=$(query "
  WITH mine AS (SELECT video_id AS id FROM likes WHERE user_id = '$bench_user' LIMIT 100),
       other AS (SELECT id FROM videos WHERE id NOT IN (SELECT id FROM mine)
                 ORDER BY created_at DESC LIMIT 100 - (SELECT count(*) FROM mine))
  SELECT string_agg(id::text, ',' ORDER BY md5(id::text)) FROM (SELECT id FROM mine UNION ALL SELECT id FROM other) ids")
followed=$(query "SELECT count(*) FROM follows WHERE follower_id = '$bench_user'")
follow_ids=$(query "
  WITH mine AS (SELECT following_id AS id FROM follows WHERE follower_id = '$bench_user' LIMIT 100),
       other AS (SELECT id FROM users WHERE id <> '$bench_user' AND id NOT IN (SELECT id FROM mine)
                 ORDER BY created_at DESC LIMIT 100 - (SELECT count(*) FROM mine))
  SELECT string_agg(id::text, ',' ORDER BY md5(id::text)) FROM (SELECT id FROM mine UNION ALL SELECT id FROM other) ids")
json_list() { printf '["%s"]' "${1//,/\",\"}"; }
like_body="{\"video_ids\":$(json_list "$like_ids")}"
follow_body="{\"user_ids\":$(json_list "$follow_ids")}"

# The answers must hold as many `true`s as bench0 has likes and follows: the load measures the real work.
check_trues() {
  local got
  got=$(curl -fsS -X POST "$base$1" -H "Authorization: Bearer $bench_token" -H 'Content-Type: application/json' -d "$2" |
    grep -o ':true' | wc -l)
  [ "$got" -eq "$3" ] || { echo "run.sh: $1 answered $got true, expected $3" >&2; return 1; }
}
# seed-bench writes no bookmarks: bench0 bookmarks the videos it likes, so the bookmarks check answers as many trues.
query "INSERT INTO bookmarks (user_id, video_id, created_at) SELECT user_id, video_id, created_at FROM likes WHERE user_id = '$bench_user'"
check_trues /v1/likes/check-batch "$like_body" "$liked"
check_trues /v1/follows/check-batch "$follow_body" "$followed"
check_trues /v1/bookmarks/check-batch "$like_body" "$liked"
# read-batch: each logged-in user's own notifications and, to make 100 ids, other users' (answered false), shuffled;
# one body per user, in the order of the tokens.
read_bodies=""
for ((i = 0; i < logged_in; i++)); do
  reader=$(query "SELECT id FROM users WHERE email = 'bench$i@example.com'")
  read_ids=$(query "
    WITH mine AS (SELECT id FROM notifications WHERE recipient_id = '$reader' ORDER BY created_at DESC, id DESC LIMIT 100),
         other AS (SELECT id FROM notifications WHERE recipient_id <> '$reader' ORDER BY id LIMIT 100 - (SELECT count(*) FROM mine))
    SELECT string_agg(id::text, ',' ORDER BY md5(id::text)) FROM (SELECT id FROM mine UNION ALL SELECT id FROM other) ids")
  read_bodies+="{\"notification_ids\":$(json_list "$read_ids")}"$'\n'
done
notified=$(query "SELECT count(*) FROM notifications WHERE recipient_id = '$bench_user'")
notifications_each=$(query "SELECT round(avg(n)) FROM (SELECT count(*) AS n FROM notifications GROUP BY recipient_id) c")
[ "$notified" -gt 0 ] || { echo "run.sh: seed-bench wrote no notifications for bench0" >&2; exit 1; }
check_trues /v1/notifications/read-batch "${read_bodies%%$'\n'*}" "$notified"

# Runs one wrk scenario: $1 name, $2 path, $3 Lua script, $4 tokens, $5 body (may be empty).
# Appends "name|req/s|p50|p95|p99|errors|max RSS" to the results, sampling the server's RSS every 0.2 s meanwhile.
results=()
max_rss_all=0
run_wrk() {
  local name=$1 path=$2 script=$3 run_tokens=$4 body=${5:-}
  : >"$work/rss"
  (while kill -0 "$server_pid" 2>/dev/null; do ps -o rss= -p "$server_pid" >>"$work/rss" || true; sleep 0.2; done) &
  sampler_pid=$!
  BENCH_LUA_DIR="$root/scripts/bench" BENCH_TOKENS="$run_tokens" BENCH_BODY="$body" BENCH_RUN_ID="$(date +%s%N)" \
    wrk -t2 -c"$connections" -d"${duration}s" -s "$root/scripts/bench/$script" "$base$path" >"$work/wrk.out" 2>&1
  kill "$sampler_pid" 2>/dev/null || true
  wait "$sampler_pid" 2>/dev/null || true
  sampler_pid=""
  local line rss
  line=$(grep '^BENCH_RESULT' "$work/wrk.out") || { cat "$work/wrk.out" >&2; return 1; }
  rss=$(sort -n "$work/rss" | tail -n 1)
  rss=$((${rss:-0} / 1024))
  [ "$rss" -gt "$max_rss_all" ] && max_rss_all=$rss
  read -r _ rps p50 p99 errors requests p95 <<<"$line"
  results+=("$name|$rps|$p50 ms|$p95 ms|$p99 ms|$errors|$rss MB")
  echo "$name: $rps req/s, p50 $p50 ms, p95 $p95 ms, p99 $p99 ms, $errors errors of $requests, RSS max $rss MB" >&2
}

say "warm-up (5 s, not reported)"
BENCH_LUA_DIR="$root/scripts/bench" BENCH_TOKENS="$bench_token" BENCH_BODY="$like_body" \
  wrk -t2 -c"$connections" -d5s -s "$root/scripts/bench/check-batch.lua" "$base/v1/likes/check-batch" >/dev/null

say "wrk scenarios, ${duration} s each, -t2 -c$connections"
run_wrk "POST /v1/likes/check-batch (100 ids, $liked liked)" /v1/likes/check-batch check-batch.lua "$bench_token" "$like_body"
likes_rps=${results[-1]#*|}
likes_rps=${likes_rps%%|*}
run_wrk "POST /v1/follows/check-batch (100 ids, $followed followed)" /v1/follows/check-batch check-batch.lua "$bench_token" "$follow_body"
run_wrk "POST /v1/bookmarks/check-batch (100 ids, $liked bookmarked)" /v1/bookmarks/check-batch check-batch.lua "$bench_token" "$like_body"
run_wrk "GET /v1/videos/?limit=20 (viewer state)" "/v1/videos/?limit=20" get.lua "$bench_token"
run_wrk "GET /v1/notifications?limit=20 ($logged_in users)" "/v1/notifications?limit=20" get.lua "${tokens[*]}"
# Marking read again rewrites the rows (read_at keeps its time): what a client re-sending a batch costs.
BENCH_BODIES="$read_bodies" run_wrk "POST /v1/notifications/read-batch ($logged_in users, ~$notifications_each own)" \
  /v1/notifications/read-batch paired-post.lua "${tokens[*]}"
run_wrk "GET /v1/credits/balance ($logged_in users)" /v1/credits/balance get.lua "${tokens[*]}"
run_wrk "POST /v1/credits/purchase (mock, $logged_in users)" /v1/credits/purchase keyed-post.lua "${tokens[*]}" \
  '{"package_id":"basic_500","payment_method":"card","payment_token":"pm_card_visa"}'
# Effect jobs spend credits: bench0 becomes an admin and grants each logged-in user 1,000,000 (jobs cost 10), so no
# request is refused for want of credits whatever the purchase scenario bought. No worker runs: jobs stay queued.
"$bin" users set-role --database-url "$db_url" --email bench0@example.com --role admin >&2
for ((i = 0; i < logged_in; i++)); do
  grantee=$(query "SELECT id FROM users WHERE email = 'bench$i@example.com'")
  curl -fsS -o /dev/null -X POST "$base/v1/admin/credits/grants" -H "Authorization: Bearer $bench_token" \
    -H 'Content-Type: application/json' -d "{\"user_id\":\"$grantee\",\"credits\":1000000,\"reason\":\"bench\"}"
done
effect_video=$(query "SELECT id FROM videos ORDER BY created_at DESC, id DESC LIMIT 1")
run_wrk "POST /v1/effects/glitch_animate/jobs ($logged_in users)" /v1/effects/glitch_animate/jobs keyed-post.lua \
  "${tokens[*]}" "{\"video_id\":\"$effect_video\"}"

# Search queries made of words of the data (seed-bench's titles and descriptions, English and Korean): the first two
# words of sampled titles, single Korean words, and three-letter prefixes of English words; the sample is the first
# videos by id, so the same seed gives the same queries.
sample="SELECT search_title, search_text FROM videos ORDER BY id LIMIT 400"
two_words=$(query "SELECT split_part(search_title, ' ', 1) || ' ' || split_part(search_title, ' ', 2)
  FROM ($sample) s WHERE search_title LIKE '% %' LIMIT 100")
korean_words=$(query "SELECT DISTINCT w FROM ($sample) s, unnest(string_to_array(search_text, ' ')) w
  WHERE w ~ '[가-힣]' ORDER BY w LIMIT 50")
latin_prefixes=$(query "SELECT DISTINCT left(w, 3) FROM ($sample) s, unnest(string_to_array(search_text, ' ')) w
  WHERE w ~ '^[a-z]{5,}$' ORDER BY 1 LIMIT 50")
mixed_queries=$(printf '%s\n' "$two_words" "$korean_words" "$latin_prefixes" | awk 'NF' | awk 'NR % 3 == 1' | head -n 100)
# Users: exact usernames, username prefixes (bench_12 → 1,111 users, 20 shown) and display-name words ("user 4242").
user_queries=$(for i in 7 42 123 4242 31337 99; do printf 'bench_%s\nbench_%s\nuser %s\n' "$i" "${i:0:2}" "$i"; done)

run_search() {
  BENCH_PATH="$2" BENCH_QUERIES="$3" run_wrk "$1" "${2%%\?*}" search.lua "${tokens[*]}"
}
run_search "GET /v1/search/videos two words (viewer state)" "/v1/search/videos?limit=20&q=" "$two_words"
run_search "GET /v1/search/videos mixed: 2 words, Korean, prefix" "/v1/search/videos?limit=20&q=" "$mixed_queries"
run_search "GET /v1/search/users (username, prefix, name)" "/v1/search/users?limit=20&q=" "$user_queries"

# What the searches find on this data, and how PostgreSQL runs them: auto_explain logs the plan of each statement the
# server sends for a Korean word, a Latin prefix and a two-word query (new sessions load it; the server is restarted).
korean=$(printf '%s\n' "$korean_words" | head -n 1)
prefix=$(printf '%s\n' "$latin_prefixes" | head -n 1)
pair=$(printf '%s\n' "$two_words" | head -n 1)
stop_server
"${psql[@]}" -d reelbase_bench -c "ALTER DATABASE reelbase_bench SET session_preload_libraries = 'auto_explain'" \
  -c "ALTER DATABASE reelbase_bench SET auto_explain.log_min_duration = 0" \
  -c "ALTER DATABASE reelbase_bench SET auto_explain.log_analyze = on" \
  -c "ALTER DATABASE reelbase_bench SET auto_explain.log_buffers = on"
start_server "$db_url" "$port"
wait_ready "$port"
pg_log="$work/cluster/server.log"
search_report="$work/search-report.txt"
: >"$search_report"
for q in "$korean" "$prefix" "$pair" "bench_42" "user 4242"; do
  kind=videos
  case "$q" in bench_* | user\ *) kind=users ;; esac
  encoded=$(printf '%s' "$q" | od -An -tx1 | tr -d ' \n' | sed 's/../%&/g')
  lines_before=$(wc -l <"$pg_log")
  {
    echo "### GET /v1/search/$kind?q=$q (top 5 of the first page, as bench0 sees them)"
    curl -fsS "$base/v1/search/$kind?limit=5&q=$encoded" -H "Authorization: Bearer $bench_token" |
      python3 -c 'import json, sys
page = json.load(sys.stdin)
for item in page.get("videos", page.get("users", [])):
    print("  -", item.get("title", item.get("username")), "|", item.get("description", item.get("display_name")))'
    sleep 0.5
    echo
    echo "EXPLAIN (ANALYZE, BUFFERS) of its statement (auto_explain):"
    # A log entry starts with its timestamp; print the plan entries whose query is a search's (it names ranked_id).
    tail -n +"$((lines_before + 1))" "$pg_log" | awk '
      /^[0-9][0-9][0-9][0-9]-/ { if (hit) printf "%s", block; block = ""; hit = 0; plan = /plan:/ }
      plan { block = block $0 "\n"; if (/ranked_id/) hit = 1 }
      END { if (hit) printf "%s", block }'
    echo
  } >>"$search_report"
done
stop_server
"${psql[@]}" -d reelbase_bench -c "ALTER DATABASE reelbase_bench RESET ALL"
cat "$search_report" >&2

# Runs one statement through pgbench exactly as the server sends it ($2: the SQL, with :user, :ids and :session
# where the server binds its values), prepared, with the same 32 clients. Appends its row like run_wrk.
run_pgbench() {
  local name=$1 sql=$2 ids=$3
  printf '%s;\n' "$sql" >"$work/statement.sql"
  rm -f "$work"/pgbench_log.*
  "$pg_bin/pgbench" -n -M prepared -c "$connections" -j 2 -T "$duration" -f "$work/statement.sql" \
    -D "user=$bench_user" -D "ids={$ids}" -D "session=$bench_session" -l --sampling-rate 0.1 --log-prefix "$work/pgbench_log" \
    -h 127.0.0.1 -p "$pg_port" -U postgres reelbase_bench >"$work/pgbench.out" 2>&1 ||
    { cat "$work/pgbench.out" >&2; return 1; }
  local tps failed p50 p95 p99
  tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$work/pgbench.out" | tail -n 1)
  tps=$(printf "%.1f" "$tps")
  failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$work/pgbench.out")
  read -r p50 p95 p99 < <(cat "$work"/pgbench_log.* | awk '{print $3}' | sort -n |
    awk '{v[NR] = $1} END {printf "%.2f %.2f %.2f\n", v[int(NR * 0.5) + 1] / 1000, v[int(NR * 0.95) + 1] / 1000, v[int(NR * 0.99) + 1] / 1000}')
  results+=("$name|$tps|$p50 ms|$p95 ms|$p99 ms|${failed:-0}|–")
  echo "$name: $tps tps, p50 $p50 ms, p99 $p99 ms" >&2
  pgbench_tps=$tps
}

say "pgbench: the check-batch statements and the per-request session check alone, -M prepared -c $connections -j 2, ${duration} s each"
run_pgbench "pgbench: likes check-batch SQL (100 ids)" "SELECT marks.video_id FROM likes AS marks
JOIN videos ON videos.id = marks.video_id JOIN users ON users.id = videos.user_id
WHERE marks.user_id = :user AND marks.video_id = ANY(:ids)
  AND videos.deleted_at IS NULL AND videos.removed_at IS NULL AND users.suspended_at IS NULL
  AND users.id NOT IN (SELECT blocks.blocked_id FROM blocks WHERE blocks.blocker_id = :user)
  AND users.id NOT IN (SELECT blocks.blocker_id FROM blocks WHERE blocks.blocked_id = :user)" "$like_ids"
likes_tps=$pgbench_tps
run_pgbench "pgbench: follows check-batch SQL (100 ids)" "SELECT follows.following_id FROM follows
JOIN users ON users.id = follows.following_id
WHERE follows.follower_id = :user AND follows.following_id = ANY(:ids) AND users.suspended_at IS NULL
ORDER BY follows.following_id" "$follow_ids"
run_pgbench "pgbench: session check SQL (every authenticated request)" "SELECT u.role, u.suspended_at, s.revoked_at
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.id = :session AND s.user_id = :user" ""

say "results"
{
  echo "scenario|req/s|p50|p95|p99|errors|server RSS (max)"
  echo "---|---|---|---|---|---|---"
  printf '%s\n' "${results[@]}"
} | awk -F'|' '{printf "| %-58s | %9s | %9s | %9s | %9s | %6s | %16s |\n", $1, $2, $3, $4, $5, $6, $7}'
awk -v s="$likes_rps" -v p="$likes_tps" 'BEGIN {printf "\nlikes check-batch: server %.0f req/s / pgbench %.0f tps = %.0f %%\n", s, p, 100 * s / p}'
echo "server RSS max over all scenarios: $max_rss_all MB"
echo "serve ready on SQLite (fresh file, release): ${ready_times[*]} ms"
echo "data set: $users users, $videos videos, $likes likes, $follows follows (seed $seed), loaded in ${load_seconds} s"
echo "search plans and top results: above, and in $search_report while BENCH_KEEP=1"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo); server, PostgreSQL and wrk share it"
