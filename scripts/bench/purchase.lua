-- POST /v1/credits/purchase with the mock gateway: users in turn, each request with its own Idempotency-Key,
-- so every request is a real purchase (a payment row, a ledger row, a balance update), never a replay.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local body = '{"package_id":"basic_500","payment_method":"card","payment_token":"pm_card_visa"}'
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
