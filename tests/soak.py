#!/usr/bin/env python3
"""make soak: every model under sustained load, checked for what only time reveals.

    python3 tests/soak.py [--bin bin] [--seconds 120] [--models single,thread,...]
                          [--output benchmark.md] [--no-write]

For each model: start bin/<model>_server -p 0 -f www (default options), answer one request, note
its descriptors; then wrk runs for SOAK_SECONDS in two parallel streams:
  mix   wrk -t2 -c50 over /page.html, /, /images/models.png (every answer must be 2xx)
  404   wrk -t1 -c2 on a missing page (every answer must be exactly 404)
and the whole process tree's RSS is sampled twice a second. Then it checks:
  - no socket errors (connect, read, write); timeouts are tolerated and reported
  - no non-2xx answer in the mix, nothing but 404 on the missing page
  - RSS (server + children) at the end within 10% of RSS after the warm-up (medians of a few
    samples, since a per-connection process model's tree changes size from moment to moment)
  - descriptors (server + children) back to the idle count soon after the load stops
  - no zombie child, the idle number of children, and after SIGINT: exit 0, no process left
It prints a table and writes the "Reliability" section of benchmark.md, between the markers
<!-- soak:begin --> and <!-- soak:end --> (the rest of the file belongs to make bench). Exit status
1 if any model failed a check. Standard library only; needs wrk (scripts/install-deps.sh bench).
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import platform
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.dont_write_bytecode = True  # no __pycache__ in bench/
sys.path.insert(0, str(REPO / "bench"))
from servers import machine_busy_s  # noqa: E402 -- the benchmark's measure of CPU in use

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
BEGIN, END = "<!-- soak:begin -->", "<!-- soak:end -->"

MODELS = [  # (-c name, binary)
    ("single", "single_server"),
    ("thread", "thread_server"),
    ("process", "process_server"),
    ("thread-pool", "thread_pool_server"),
    ("process-pool", "process_pool_server"),
    ("async", "async_server"),
]

MIX_PATHS = ["/page.html", "/page.html", "/", "/page.html", "/images/models.png"]
MISSING_PATH = "/soak-no-such-page.html"
RSS_GROWTH_LIMIT = 0.10
FD_SETTLE_S = 10.0  # descriptors must be back to the idle count this soon after the load
STOP_TIMEOUT_S = 20.0
NOISY_CORES = 0.2  # CPU used by other programs above this makes the speed columns unreliable

# A wrk script: cycles through `paths`, counts answers by status in every thread, and prints one
# JSON line at the end (wrk's own summary merges all non-2xx/3xx into one number).
WRK_LUA = """
local paths = {%(paths)s}
local requests = {}
local next_request = 0
c2xx, c404, cother = 0, 0, 0
local threads = {}

function setup(thread) table.insert(threads, thread) end

function init(args)
  for i, path in ipairs(paths) do requests[i] = wrk.format("GET", path) end
end

function request()
  next_request = next_request %% #requests + 1
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
    'SOAK_RESULT {"requests": %%d, "duration_us": %%d, "connect": %%d, "read": %%d, ' ..
    '"write": %%d, "timeout": %%d, "non2xx": %%d, "c2xx": %%d, "c404": %%d, "cother": %%d, ' ..
    '"p99_us": %%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,
    a, b, c, latency:percentile(99)))
end
"""


# ----------------------------------------------------------------------------------------------
# /proc


def stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name: state, ppid, pgrp, ..."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text(errors="replace")
    except OSError:
        return None
    return data[data.rindex(")") + 2:].split()


def all_stats() -> dict[int, list[str]]:
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = stat_fields(int(entry))
            if fields:
                stats[int(entry)] = fields
    return stats


def tree(root: int) -> dict[int, list[str]]:
    """The server and its descendants, pid -> stat fields (zombies included)."""
    stats = all_stats()
    children: dict[int, list[int]] = {}
    for pid, f in stats.items():
        children.setdefault(int(f[1]), []).append(pid)
    found, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            found[pid] = stats[pid]
            todo += children.get(pid, [])
    return found


def count_fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


@dataclass
class TreeSample:
    t: float
    rss_kb: int
    fds: int
    processes: int  # living
    zombies: int


def sample_tree(root: int) -> TreeSample:
    members = tree(root)
    living = {pid: f for pid, f in members.items() if f[0] != "Z"}
    return TreeSample(
        t=time.monotonic(),
        rss_kb=sum(int(f[21]) for f in living.values()) * PAGE_SIZE // 1024,
        fds=sum(count_fds(pid) for pid in living),
        processes=len(living),
        zombies=len(members) - len(living),
    )


def process_group(pgid: int) -> list[int]:
    return [pid for pid, f in all_stats().items() if int(f[2]) == pgid]


def own_cpu_s() -> float:
    """CPU seconds of this script and every child it has reaped: the server (with the children
    it reaped in turn) and the wrk runs."""
    return sum(getattr(resource.getrusage(who), f)
               for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
               for f in ("ru_utime", "ru_stime"))


# ----------------------------------------------------------------------------------------------
# One model


@dataclass
class Result:
    model: str
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    mix: dict = field(default_factory=dict)
    missing: dict = field(default_factory=dict)
    rss_warm_kb: int = 0
    rss_end_kb: int = 0
    fds_idle: int = 0
    fds_after: int = 0
    fds_settle_s: float = 0.0
    zombies: int = 0
    exit_status: str = "?"
    # Cores' worth of CPU that other programs used while this model ran (the machine's busy time
    # minus ours). The load average cannot tell: it counts our own server and wrk.
    background_cores: float = 0.0

    def fail(self, problem: str) -> None:
        self.ok = False
        self.problems.append(problem)

    @property
    def rss_growth(self) -> float:
        return (self.rss_end_kb - self.rss_warm_kb) / self.rss_warm_kb if self.rss_warm_kb else 0.0


def start_server(binary: Path, www: Path) -> tuple[subprocess.Popen, int]:
    # A session of its own: a Ctrl-C at the terminal reaches us, not the server, and the
    # process group tells afterwards whether anything of it is left.
    proc = subprocess.Popen([str(binary), "-p", "0", "-f", str(www)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    line = proc.stderr.readline()
    match = re.search(r"listening on port (\d+)", line)
    if not match:
        proc.kill()
        raise RuntimeError(f"{binary.name} did not start: {line.strip()!r}")
    # Keep draining stderr, so a chatty server never blocks on a full pipe.
    threading.Thread(target=proc.stderr.read, daemon=True).start()
    return proc, int(match.group(1))


def fetch(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def wait_for(condition, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)


def settled_sample(pid: int) -> TreeSample:
    """A sample once the descriptor count has stayed the same for half a second."""
    last = sample_tree(pid)
    stable_since = time.monotonic()
    deadline = stable_since + 5
    while time.monotonic() - stable_since < 0.5 and time.monotonic() < deadline:
        time.sleep(0.1)
        now = sample_tree(pid)
        if now.fds != last.fds or now.processes != last.processes:
            stable_since = time.monotonic()
        last = now
    return last


def run_wrk(args: list[str], script: Path, url: str, out: dict, key: str) -> None:
    cmd = ["wrk", *args, "-s", str(script), url]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    match = re.search(r"SOAK_RESULT (\{.*\})", proc.stdout)
    out[key] = json.loads(match.group(1)) if match else {
        "error": f"wrk exited {proc.returncode}: {(proc.stderr or proc.stdout).strip()[-200:]}"}


def soak_model(name: str, binary: Path, www: Path, seconds: int, scripts: dict) -> Result:
    result = Result(model=name)
    busy0, ours0, clock0 = machine_busy_s(), own_cpu_s(), time.monotonic()
    proc, port = start_server(binary, www)
    try:
        if fetch(port, "/page.html") != 200:
            result.fail("the first request was not answered 200")
        idle = settled_sample(proc.pid)
        result.fds_idle = idle.fds

        samples: list[TreeSample] = []
        stop_sampling = threading.Event()

        def sampler() -> None:
            while not stop_sampling.wait(0.5):
                samples.append(sample_tree(proc.pid))

        wrk_out: dict = {}
        base = f"http://127.0.0.1:{port}"
        load = [
            threading.Thread(target=run_wrk, args=(
                ["-t2", "-c50", f"-d{seconds}s"], scripts["mix"], base + "/page.html", wrk_out,
                "mix")),
            threading.Thread(target=run_wrk, args=(
                ["-t1", "-c2", f"-d{seconds}s"], scripts["missing"], base + MISSING_PATH,
                wrk_out, "missing")),
        ]
        started = time.monotonic()
        sampling = threading.Thread(target=sampler, daemon=True)
        sampling.start()
        for t in load:
            t.start()
        for t in load:
            t.join()
        stop_sampling.set()
        sampling.join()
        result.mix, result.missing = wrk_out.get("mix", {}), wrk_out.get("missing", {})

        # Errors. Timeouts are tolerated (a loaded, shared machine); everything else is not.
        for label, run in (("mix", result.mix), ("404", result.missing)):
            if "error" in run:
                result.fail(f"{label}: {run['error']}")
                continue
            socket_errors = {k: run[k] for k in ("connect", "read", "write") if run[k]}
            if socket_errors:
                result.fail(f"{label}: socket errors {socket_errors}")
            if run["requests"] == 0:
                result.fail(f"{label}: no request answered")
        if result.mix.get("non2xx"):
            result.fail(f"mix: {result.mix['non2xx']} non-2xx answers")
        if result.missing and "error" not in result.missing:
            if result.missing["c2xx"] or result.missing["cother"]:
                result.fail(f"404: {result.missing['c2xx']} 2xx and {result.missing['cother']} "
                            "other answers besides the 404s")

        # Memory: medians of the samples just after the warm-up and at the end.
        warm_from = started + max(2.0, 0.1 * seconds)
        warm = [s.rss_kb for s in samples if warm_from <= s.t < warm_from + max(2.0, 0.1 * seconds)]
        end = [s.rss_kb for s in samples[-max(3, len(samples) // 10):]]
        if warm and end:
            result.rss_warm_kb = int(statistics.median(warm))
            result.rss_end_kb = int(statistics.median(end))
            if result.rss_growth >= RSS_GROWTH_LIMIT:
                result.fail(f"RSS grew {result.rss_growth:+.1%} "
                            f"({result.rss_warm_kb} -> {result.rss_end_kb} KiB)")
        else:
            result.fail("too few RSS samples")

        # Descriptors, children and zombies back to where they were when idle.
        load_stopped = time.monotonic()
        back = wait_for(lambda: (lambda s: s.fds == idle.fds and s.zombies == 0
                                 and s.processes == idle.processes)(sample_tree(proc.pid)),
                        FD_SETTLE_S)
        after = sample_tree(proc.pid)
        result.fds_after, result.zombies = after.fds, after.zombies
        result.fds_settle_s = time.monotonic() - load_stopped
        if not back:
            result.fail(f"{FD_SETTLE_S:.0f} s after the load: {after.fds} descriptors (idle: "
                        f"{idle.fds}), {after.processes} processes (idle: {idle.processes}), "
                        f"{after.zombies} zombies")
        if fetch(port, "/page.html") != 200:
            result.fail("not answering 200 after the load")
    except Exception as e:  # noqa: BLE001 -- report it as this model's failure and go on
        result.fail(f"{type(e).__name__}: {e}")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            status = proc.wait(timeout=STOP_TIMEOUT_S)
            result.exit_status = str(status) if status >= 0 else f"signal {-status}"
            if status != 0:
                result.fail(f"exit status {result.exit_status} after SIGINT")
        except subprocess.TimeoutExpired:
            result.exit_status = "hung"
            result.fail(f"still running {STOP_TIMEOUT_S:.0f} s after SIGINT")
        if not wait_for(lambda: not process_group(proc.pid), 2.0):
            left = process_group(proc.pid)
            result.fail(f"{len(left)} process(es) left behind: {left}")
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        others = machine_busy_s() - busy0 - (own_cpu_s() - ours0)
        result.background_cores = max(0.0, others) / (time.monotonic() - clock0)
    return result


# ----------------------------------------------------------------------------------------------
# Report


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    return (f"{cpu}, {os.cpu_count()} cores, {mem_kb / 1024 / 1024:.0f} GiB RAM, "
            f"Linux {platform.release()}")


def rate(run: dict) -> str:
    if not run or "error" in run or not run.get("duration_us"):
        return "-"
    return f"{run['requests'] / (run['duration_us'] / 1e6):,.0f}"


def errors(run: dict) -> str:
    if not run or "error" in run:
        return "wrk failed"
    return f"{run['connect']}/{run['read']}/{run['write']}"


def table(results: list[Result]) -> list[str]:
    rows = [
        "| model | requests (mix + 404) | req/s (mix) | socket errors c/r/w | timeouts | "
        "non-2xx in mix | 404s (all 404?) | RSS after warm-up → end | descriptors idle → after "
        "(settled in) | zombies | exit | result |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for r in results:
        mix, missing = r.mix or {}, r.missing or {}
        requests = mix.get("requests", 0) + missing.get("requests", 0)
        timeouts = mix.get("timeout", 0) + missing.get("timeout", 0)
        all_404 = "yes" if missing and not missing.get("c2xx") and not missing.get(
            "cother") and "error" not in missing else "no"
        rows.append(
            f"| {r.model} | {requests:,} | {rate(mix)} | {errors(mix)} + {errors(missing)} | "
            f"{timeouts} | {mix.get('non2xx', '-')} | {missing.get('c404', '-'):,} ({all_404}) | "
            f"{r.rss_warm_kb / 1024:.1f} → {r.rss_end_kb / 1024:.1f} MiB ({r.rss_growth:+.1%}) | "
            f"{r.fds_idle} → {r.fds_after} ({r.fds_settle_s:.1f} s) | {r.zombies} | "
            f"{r.exit_status} | {'pass' if r.ok else 'FAIL'} |")
    return rows


def section(results: list[Result], seconds: int, started: datetime.datetime,
            elapsed_s: float) -> str:
    cores = os.cpu_count() or 1
    busiest = max((r.background_cores for r in results), default=0.0)
    lines = [
        BEGIN,
        "## Reliability (soak)",
        "",
        f"Generated by `make soak SOAK_SECONDS={seconds}` ([`tests/soak.py`](tests/soak.py)) on "
        f"{started:%Y-%m-%d %H:%M} UTC, {machine()}; {elapsed_s / 60:.0f} min in all. Each model "
        f"(default options, serving `www/`) ran {seconds} s under two wrk streams at once: "
        f"`wrk -t2 -c50` over a mix of `/page.html`, `/` and `/images/models.png`, and "
        f"`wrk -t1 -c2` on a missing page. Checks: no connect/read/write errors (timeouts are "
        f"reported, not failed), no non-2xx answer in the mix and only 404s on the missing page, "
        f"RSS of the whole process tree within {RSS_GROWTH_LIMIT:.0%} of its value after the "
        f"warm-up, descriptors and child processes back to their idle count within "
        f"{FD_SETTLE_S:.0f} s of the load stopping, no zombie, and exit status 0 on SIGINT with "
        f"no process left behind.",
        "",
        *table(results),
        "",
    ]
    failed = [r for r in results if not r.ok]
    if failed:
        lines += ["**Failed checks:**", ""]
        lines += [f"- {r.model}: {'; '.join(r.problems)}" for r in failed] + [""]
    else:
        lines += ["Every model passed every check.", ""]
    if busiest > NOISY_CORES:
        lines += [f"*Noisy numbers:* the machine was shared during this run (other programs used "
                  f"up to {busiest:.2f} of its {cores} cores while a model ran), so req/s and "
                  f"timeouts here say little about speed — `make bench` measures that. The "
                  f"pass/fail checks do not depend on speed.", ""]
    else:
        lines += [f"The machine was otherwise idle (other programs used at most {busiest:.2f} "
                  f"of its {cores} cores while a model ran).", ""]
    lines.append(END)
    return "\n".join(lines)


def write_section(path: Path, text: str) -> None:
    """Replaces the region between the markers, or appends it; creates the file if need be."""
    old = path.read_text() if path.exists() else ""
    if BEGIN in old and END in old:
        head, rest = old.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        new = head + text + tail
    elif old.strip():
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    else:
        new = text + "\n"
    path.write_text(new)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", default="bin", help="directory of the server binaries")
    parser.add_argument("--seconds", type=int,
                        default=int(os.environ.get("SOAK_SECONDS") or 120),
                        help="load per model (default: $SOAK_SECONDS or 120)")
    parser.add_argument("--models", default=",".join(n for n, _ in MODELS),
                        help="comma-separated -c names")
    parser.add_argument("--www", default=str(REPO / "www"))
    parser.add_argument("--output", default=str(REPO / "benchmark.md"))
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    if args.seconds < 5:
        parser.error("--seconds must be at least 5")
    binaries = dict(MODELS)
    chosen = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in chosen if m not in binaries]
    if unknown:
        parser.error(f"unknown model(s) {unknown}; choose from {list(binaries)}")
    bin_dir = Path(args.bin) if Path(args.bin).is_absolute() else REPO / args.bin
    missing = [binaries[m] for m in chosen if not (bin_dir / binaries[m]).exists()]
    if missing:
        parser.error(f"not built in {bin_dir}: {missing} (make all)")

    started = datetime.datetime.now(datetime.timezone.utc)
    per_model = args.seconds + 8
    print(f"soak: {len(chosen)} models x {args.seconds} s (about "
          f"{len(chosen) * per_model / 60:.0f} min); load average now {os.getloadavg()[0]:.1f}",
          flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        scripts = {}
        for key, paths in (("mix", MIX_PATHS), ("missing", [MISSING_PATH])):
            scripts[key] = Path(tmp) / f"{key}.lua"
            scripts[key].write_text(WRK_LUA % {"paths": ", ".join(f'"{p}"' for p in paths)})
        for name in chosen:
            print(f"== {name}: {args.seconds} s under load ...", flush=True)
            result = soak_model(name, bin_dir / binaries[name], Path(args.www), args.seconds,
                                scripts)
            print(f"   {'pass' if result.ok else 'FAIL: ' + '; '.join(result.problems)} "
                  f"(other programs used {result.background_cores:.2f} cores meanwhile)",
                  flush=True)
            results.append(result)
    elapsed = (datetime.datetime.now(datetime.timezone.utc) - started).total_seconds()
    text = section(results, args.seconds, started, elapsed)
    print()
    print("\n".join(table(results)))
    if not args.no_write:
        write_section(Path(args.output), text)
        print(f"\nwrote the Reliability section of {args.output}")
    failed = [r.model for r in results if not r.ok]
    print(f"soak: {len(results) - len(failed)} passed, {len(failed)} failed"
          + (f" ({', '.join(failed)})" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
