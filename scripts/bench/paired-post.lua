-- POST with each user's own body: BENCH_BODIES holds one JSON body a line, in the order of BENCH_TOKENS (for
-- read-batch, each user's own notification ids among others'), so that requests spread over users as clients do and
-- each does its user's real work.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local bodies = {}
for line in string.gmatch(os.getenv("BENCH_BODIES") or "", "[^\n]+") do
  bodies[#bodies + 1] = line
end
if #bodies == 0 then
  error("BENCH_BODIES is empty")
end

function request()
  return authorised("POST", bodies[next_token_index()])
end
