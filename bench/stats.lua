-- bench/stats.lua -- wrk's done() hook: prints one machine-readable line that bench/bench.py
-- reads, so the driver does not depend on wrk's human-oriented summary (it parses that too, as a
-- fallback). Latencies are microseconds. Used for every wrk run; bench/pace.lua includes it.
--
--   wrk -t2 -c10 -d8s --latency -s bench/stats.lua http://127.0.0.1:PORT/page.html

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
