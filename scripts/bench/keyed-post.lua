-- POST BENCH_BODY with a fresh Idempotency-Key on every request, users in turn, so that each request does the real
-- work (a purchase: payment row, ledger row, balance; an effect job: usage row, job row), never a replay.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local body = os.getenv("BENCH_BODY")
if body == nil or body == "" then
  error("BENCH_BODY is empty")
end
local run = os.getenv("BENCH_RUN_ID") or tostring(os.time())
local sent = 0

local base_setup = setup
local threads = 0
function setup(thread)
  base_setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

function request()
  sent = sent + 1
  return authorised("POST", body, { ["Idempotency-Key"] = string.format("bench-%s-%d-%d", run, thread_id or 0, sent) })
end
