-- GET of a search endpoint, rotating through queries: BENCH_PATH is the path up to `q=`
-- (e.g. /v1/search/videos?limit=20&q=), BENCH_QUERIES the queries, one a line, sent percent-encoded (UTF-8 bytes).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local path = os.getenv("BENCH_PATH") or error("BENCH_PATH is empty")
local queries = {}
for line in string.gmatch(os.getenv("BENCH_QUERIES") or "", "[^\n]+") do
  queries[#queries + 1] = path .. string.gsub(line, "[^%w]", function(c) return string.format("%%%02X", string.byte(c)) end)
end
if #queries == 0 then
  error("BENCH_QUERIES is empty")
end

local query_turn = 0

-- Threads start at different queries, as they start at different tokens.
local common_init = init
function init(args)
  common_init(args)
  query_turn = first_turn or 0
end

function request()
  query_turn = query_turn + 1
  local headers = { ["Authorization"] = "Bearer " .. next_token() }
  return wrk.format("GET", queries[(query_turn % #queries) + 1], headers)
end
