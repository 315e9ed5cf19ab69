-- wrk script: the request each BODY_KIND sends (a JSON body POSTed, but for `get`):
--   floor  a small JSON document
--   single one recipient, a template message (TEMPLATE_ID), SMS
--   batch  BATCH recipients (default 100), the same template
--   get    no body: a GET of the URL as given (the peer's /send carries its message in the query)
-- Recipients are random US numbers that avoid the simulator's magic suffixes (0001-0005).
local key = os.getenv("API_KEY") or ""
local template = os.getenv("TEMPLATE_ID") or ""
local kind = os.getenv("BODY_KIND") or "single"
local batch = tonumber(os.getenv("BATCH") or "100")

math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))

local function number()
  return string.format("+1415%03d%04d", math.random(200, 999), math.random(100, 9999))
end

local function message(count)
  local to = {}
  for i = 1, count do to[i] = '"' .. number() .. '"' end
  return '{"to":[' .. table.concat(to, ",") .. '],"channel":["sms"],"template":{"id":"'
    .. template .. '","parameters":{"name":"Ada","order_id":"A-100"}}}'
end

request = function()
  local body
  if kind == "get" then return wrk.format("GET") end
  if kind == "floor" then body = '{"to":["' .. number() .. '"],"text":"floor"}'
  elseif kind == "batch" then body = message(batch)
  else body = message(1) end
  return wrk.format("POST", nil, {["content-type"] = "application/json", ["x-api-key"] = key}, body)
end

-- Non-2xx answers count in errors.status; "ok" are the requests answered 2xx or 3xx.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"ok":%d,"duration_us":%d,"status_errors":%d,"socket_errors":%d,'
      .. '"p50_ms":%.2f,"p95_ms":%.2f,"p99_ms":%.2f}\n',
    summary.requests, summary.requests - e.status, summary.duration, e.status,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
