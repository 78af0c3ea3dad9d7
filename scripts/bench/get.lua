-- An authenticated GET of wrk's URL: the feed with viewer state, the notifications list, or the credit balance.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

function request()
  return authorised("GET")
end
