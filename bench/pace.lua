-- bench/pace.lua -- a fixed request rate for Debian's wrk, which lacks wrk2's -R option.
--
--   wrk -t10 -c10 -d30s --latency -s bench/pace.lua http://127.0.0.1:PORT/page.html -- 10000 10
--                                                          total rate (req/s) ^     ^ wrk threads
--
-- Each wrk thread has its own Lua state and serves (connections / threads) connections, so each
-- thread aims at RATE / THREADS requests per second. wrk calls delay() before every request and
-- waits that many milliseconds (an integer: wrk truncates). Instead of returning a fixed pause,
-- delay() hands out slots of an absolute schedule: slot k of a thread is due at start + k *
-- interval. Truncation or a late timer makes one request early or late, and the next delay
-- absorbs it, so the average rate converges on RATE as long as the server keeps up. When it does
-- not, the delays are 0 and the requests go out as fast as the connections allow (wrk2 also
-- catches up that way).
--
-- The difference from wrk2 that remains: wrk times a request from the moment it is written, not
-- from the moment the schedule wanted it written, so a stalled server's queueing delay is not
-- charged to later requests (no coordinated-omission correction). wrk2 reports higher tail
-- latencies for a server that falls behind.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local now_buffer = ffi.new("bench_timespec")

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, now_buffer)
  return tonumber(now_buffer.tv_sec) * 1000 + tonumber(now_buffer.tv_nsec) / 1e6
end

local interval_ms = 1  -- between two requests of this thread
local phase_ms = 0     -- this thread's offset within the interval
local next_due_ms = nil  -- when this thread's next request is due

-- setup() runs in wrk's main Lua state, once per thread: number the threads so each can start
-- at its own phase of the interval instead of all firing together.
local threads_set_up = 0
function setup(thread)
  thread:set("thread_index", threads_set_up)
  threads_set_up = threads_set_up + 1
end

function init(args)
  local rate = tonumber(args[1]) or 10000
  local threads = tonumber(args[2]) or 1
  interval_ms = 1000 * threads / rate
  phase_ms = ((thread_index or 0) % threads) / threads * interval_ms
end

function delay()
  local now = now_ms()
  if next_due_ms == nil then
    next_due_ms = now + phase_ms  -- the schedule starts with the first request
  else
    next_due_ms = next_due_ms + interval_ms
  end
  local wait = next_due_ms - now
  if wait < 0 then return 0 end
  return wait
end

-- The done() hook that prints the machine-readable result line.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "stats.lua")
