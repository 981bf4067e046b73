-- bench/soak.lua -- make soak's wrk script: cycles through the paths given after `--`, counts the
-- answers by status in every thread, and prints one machine-readable line that bench/soak.py
-- reads (wrk's own summary lumps every status that is not 2xx or 3xx into one number).
--
--   wrk -t2 -c50 -d120s -s bench/soak.lua http://127.0.0.1:PORT/ -- /page.html / /images/models.png

local requests = {}
local next_request = 0
c2xx, c404, cother = 0, 0, 0
local threads = {}

function setup(thread) table.insert(threads, thread) end

function init(args)
  for i, path in ipairs(args) do requests[i] = wrk.format("GET", path) end
end

function request()
  next_request = next_request % #requests + 1
  return requests[next_request]
end

function response(status, headers, body)
  if status >= 200 and status < 300 then c2xx = c2xx + 1
  elseif status == 404 then c404 = c404 + 1
  else cother = cother + 1 end
end

function done(summary, latency, requests)
  local a, b, c = 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("c2xx"); b = b + t:get("c404"); c = c + t:get("cother")
  end
  local e = summary.errors
  io.write(string.format(
    'SOAK_RESULT {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "timeout": %d, "non2xx": %d, "c2xx": %d, "c404": %d, "cother": %d, ' ..
    '"p99_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,
    a, b, c, latency:percentile(99)))
end
