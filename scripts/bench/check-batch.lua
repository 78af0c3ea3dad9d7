-- POST of a batch endpoint (the path is wrk's URL: likes, follows or bookmarks check-batch, notifications read-batch)
-- with the JSON body in BENCH_BODY: 100 ids, a mix of ones that answer true for the bench user and ones that do not.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local body = os.getenv("BENCH_BODY") or error("BENCH_BODY is empty")

function request()
  return authorised("POST", body)
end
