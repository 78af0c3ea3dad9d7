-- Shared by every scenario: tokens and body from the environment, and one machine-readable result line.
-- BENCH_TOKENS: access tokens separated by spaces; requests take them in turn.
local tokens = {}
for token in string.gmatch(os.getenv("BENCH_TOKENS") or "", "%S+") do
  tokens[#tokens + 1] = token
end
if #tokens == 0 then
  error("BENCH_TOKENS is empty")
end

local turn = 0

-- The next token in turn; each wrk thread starts at a different one so threads do not move in step.
function next_token()
  turn = turn + 1
  return tokens[(turn % #tokens) + 1]
end

-- The position in BENCH_TOKENS of the token the next next_token() returns (scenarios pairing data with tokens).
function next_token_index()
  return ((turn + 1) % #tokens) + 1
end

function authorised(method, body, extra_headers)
  local headers = { ["Authorization"] = "Bearer " .. next_token() }
  if body then
    headers["Content-Type"] = "application/json"
  end
  for name, value in pairs(extra_headers or {}) do
    headers[name] = value
  end
  return wrk.format(method, nil, headers, body)
end

function setup(thread)
  thread:set("first_turn", math.random(1, 1000))
end

function init(args)
  turn = first_turn or 0
end

-- Errors: non-2xx answers (wrk counts status >= 400; the API sends no 3xx here) plus socket errors.
function done(summary, latency, requests)
  local e = summary.errors
  local errors = e.status + e.connect + e.read + e.write + e.timeout
  io.write(string.format("BENCH_RESULT %.1f %.2f %.2f %d %d %.2f\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    errors, summary.requests, latency:percentile(95) / 1000))
end
