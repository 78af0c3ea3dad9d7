#!/usr/bin/env bash
# Fuzzes a running Reelbase against its own OpenAPI document with schemathesis (from PyPI): any 5xx, or any
# response whose status, headers, content type or body the document does not allow, fails the run.
#
#   scripts/schemathesis.sh DATABASE_URL      (expects the debug build: swift build)
#
# User operations run with a signed-in admin's token (registered, then appointed with `reelbase users set-role`
# as an operator would); the workers' operations with the service key.
# Not run: `GET /v1/events`, an endless event stream by design (it ends only on logout, suspension, a sixth stream or
# shutdown), which schemathesis would wait on until its timeout for every example; the stream has tests of its own
# (Tests/ReelbaseTests/Events). `POST /v1/events/tickets` is fuzzed as usual.
# Not checked: `positive_data_acceptance` (whether every body the schemas allow is accepted): the schemas
# describe types and ranges but not every rule (email shape, cursors issued by this server), so those 422s
# are the API working as documented in prose.
set -euo pipefail
cd "$(dirname "$0")/.."

database_url=${1:?usage: scripts/schemathesis.sh DATABASE_URL}
seed=${SCHEMATHESIS_SEED:-20261125}
examples=${SCHEMATHESIS_EXAMPLES:-25}
bin=.build/debug/reelbase
[ -x "$bin" ] || { echo "schemathesis.sh: $bin is missing; run swift build first" >&2; exit 1; }
command -v schemathesis >/dev/null || python3 -m pip install -q 'schemathesis>=4,<5'

port=$((18100 + RANDOM % 800))
log=$(mktemp /tmp/reelbase-schemathesis.XXXXXX.log)
DATABASE_URL="$database_url" PORT=$port SERVICE_KEY=schemathesis-service-key RATE_LIMITS=off \
  JWT_SECRET=schemathesis-secret-long-enough-for-hs256 BCRYPT_COST=4 LOG_LEVEL=warning "$bin" serve >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$log" >&2; echo "schemathesis.sh: server did not start" >&2; exit 1; }

token=$(curl -sf -X POST "http://127.0.0.1:$port/v1/auth/register" -H 'Content-Type: application/json' \
  -d '{"email":"admin@example.com","password":"schemathesis","username":"admin"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
# Against the same database while the server runs; roles are read per request, so the token is an admin's from now on.
DATABASE_URL="$database_url" LOG_LEVEL=warning "$bin" users set-role --email admin@example.com --role admin

common=(--checks all --exclude-checks positive_data_acceptance --max-examples "$examples" --seed "$seed" --workers 2)
echo "schemathesis on $database_url (seed $seed)"
schemathesis run "http://127.0.0.1:$port/openapi.json" "${common[@]}" \
  -H "Authorization: Bearer $token" --exclude-path-regex '^/v1/internal/|^/v1/events$'
schemathesis run "http://127.0.0.1:$port/openapi.json" "${common[@]}" \
  -H "Authorization: Bearer schemathesis-service-key" --include-path-regex '^/v1/internal/'
if grep -q '"level":"error"' "$log"; then
  echo "schemathesis.sh: the server logged errors:" >&2
  grep '"level":"error"' "$log" | head -n 20 >&2
  exit 1
fi
