-- POST /v1/likes/check-batch or /v1/follows/check-batch (the path is wrk's URL) with the JSON body in
-- BENCH_BODY: 100 ids, a mix of ones the bench user likes or follows and ones it does not.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local body = os.getenv("BENCH_BODY") or error("BENCH_BODY is empty")

function request()
  return authorised("POST", body)
end
