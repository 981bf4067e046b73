#!/usr/bin/env python3
"""make soak: every model under sustained load, checked for what only time reveals.

    python3 bench/soak.py [--bin bin] [--seconds 120] [--models single,thread,...]
                          [--output benchmark.md] [--no-write]

For each model: start bin/<model>_server -p 0 -f www (default options, as make bench starts it:
bench/servers.py), answer one request, note its descriptors; then wrk runs for SOAK_SECONDS in two
parallel streams (bench/soak.lua counts the answers by status):
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
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in bench/
import report  # noqa: E402 -- after the line above
from servers import (OURS, CpuWindow, Model, RunningServer, ServerError,  # noqa: E402
                     TreeSample, TreeSampler, cpu_model, memory_gib, start_server, wait_for)

REPO = Path(__file__).resolve().parent.parent
SOAKED = OURS  # our models; the reference servers are make bench's
WRK_SCRIPT = Path(__file__).resolve().parent / "soak.lua"

MIX_PATHS = ["/page.html", "/page.html", "/", "/page.html", "/images/models.png"]
MISSING_PATH = "/soak-no-such-page.html"
RSS_GROWTH_LIMIT = 0.10
FD_SETTLE_S = 10.0  # descriptors must be back to the idle count this soon after the load
NOISY_CORES = 0.2  # CPU used by other programs above this makes the speed columns unreliable


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
    background_cores: float = 0.0  # CPU other programs used while it ran (servers.CpuWindow)

    def fail(self, problem: str) -> None:
        self.ok = False
        self.problems.append(problem)

    @property
    def rss_growth(self) -> float:
        return (self.rss_end_kb - self.rss_warm_kb) / self.rss_warm_kb if self.rss_warm_kb else 0.0


def check_page(result: Result, server: RunningServer, www: Path, when: str) -> None:
    try:
        server.check_page(www)
    except (ServerError, OSError) as e:
        result.fail(f"GET /page.html {when}: {e}")


def settled_sample(server: RunningServer) -> TreeSample:
    """A sample once the descriptor count has stayed the same for half a second."""
    last = server.sample(with_fds=True)
    stable_since = time.monotonic()
    deadline = stable_since + 5
    while time.monotonic() - stable_since < 0.5 and time.monotonic() < deadline:
        time.sleep(0.1)
        now = server.sample(with_fds=True)
        if now.fds != last.fds or now.processes != last.processes:
            stable_since = time.monotonic()
        last = now
    return last


def run_wrk(args: list[str], url: str, paths: list[str], out: dict, key: str) -> None:
    cmd = ["wrk", *args, "-s", str(WRK_SCRIPT), url, "--", *paths]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    match = re.search(r"SOAK_RESULT (\{.*\})", proc.stdout)
    out[key] = json.loads(match.group(1)) if match else {
        "error": f"wrk exited {proc.returncode}: {(proc.stderr or proc.stdout).strip()[-200:]}"}


def soak_model(model: Model, bin_dir: Path, www: Path, seconds: int) -> Result:
    result = Result(model=model.name)
    cpu = CpuWindow()
    try:
        server = start_server(model, bin_dir, www)
    except (ServerError, OSError) as e:
        result.fail(f"did not start: {e}")
        return result
    try:
        check_page(result, server, www, "before the load")
        idle = settled_sample(server)
        result.fds_idle = idle.fds

        wrk_out: dict = {}
        load = [
            threading.Thread(target=run_wrk, args=(
                ["-t2", "-c50", f"-d{seconds}s"], server.url(), MIX_PATHS, wrk_out, "mix")),
            threading.Thread(target=run_wrk, args=(
                ["-t1", "-c2", f"-d{seconds}s"], server.url(MISSING_PATH), [MISSING_PATH],
                wrk_out, "missing")),
        ]
        started = time.monotonic()
        with TreeSampler(server.pid, interval=0.5) as sampler:
            for t in load:
                t.start()
            for t in load:
                t.join()
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
        samples = sampler.samples
        warm_from = started + max(2.0, 0.1 * seconds)
        warm_until = warm_from + max(2.0, 0.1 * seconds)
        warm = [s.rss // 1024 for t, s in samples if warm_from <= t < warm_until]
        end = [s.rss // 1024 for _, s in samples[-max(3, len(samples) // 10):]]
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
                                 and s.processes == idle.processes)(server.sample(with_fds=True)),
                        FD_SETTLE_S)
        after = server.sample(with_fds=True)
        result.fds_after, result.zombies = after.fds, after.zombies
        result.fds_settle_s = time.monotonic() - load_stopped
        if not back:
            result.fail(f"{FD_SETTLE_S:.0f} s after the load: {after.fds} descriptors (idle: "
                        f"{idle.fds}), {after.processes} processes (idle: {idle.processes}), "
                        f"{after.zombies} zombies")
        check_page(result, server, www, "after the load")
    except Exception as e:  # noqa: BLE001 -- report it as this model's failure and go on
        result.fail(f"{type(e).__name__}: {e}")
    finally:
        problem = server.stop()  # SIGINT; exit status 0 and no process left, or a problem
        result.exit_status = server.exit_status
        if problem:
            result.fail(problem)
        result.background_cores = cpu.others_cores()  # the server is reaped: its CPU is ours
    return result


# ----------------------------------------------------------------------------------------------
# Report


def machine() -> str:
    mem = memory_gib()
    return (f"{cpu_model()}, {os.cpu_count()} cores"
            + (f", {mem:.0f} GiB RAM" if mem is not None else "") + f", Linux {platform.release()}")


def rate(run: dict) -> str:
    if not run or "error" in run or not run.get("duration_us"):
        return report.fmt_rps(None)
    return report.fmt_rps(run["requests"] / (run["duration_us"] / 1e6))


def errors(run: dict) -> str:
    if not run or "error" in run:
        return "wrk failed"
    return f"{run['connect']}/{run['read']}/{run['write']}"


def table(results: list[Result]) -> str:
    rows = []
    for r in results:
        mix, missing = r.mix or {}, r.missing or {}
        requests = mix.get("requests", 0) + missing.get("requests", 0)
        timeouts = mix.get("timeout", 0) + missing.get("timeout", 0)
        all_404 = "yes" if missing and not missing.get("c2xx") and not missing.get(
            "cother") and "error" not in missing else "no"
        rows.append([
            r.model, f"{requests:,}", rate(mix), f"{errors(mix)} + {errors(missing)}",
            str(timeouts), str(mix.get("non2xx", "-")), f"{missing.get('c404', '-'):,} ({all_404})",
            f"{r.rss_warm_kb / 1024:.1f} → {r.rss_end_kb / 1024:.1f} MiB ({r.rss_growth:+.1%})",
            f"{r.fds_idle} → {r.fds_after} ({r.fds_settle_s:.1f} s)", str(r.zombies),
            r.exit_status, "pass" if r.ok else "FAIL"])
    return report.table(
        ["model", "requests (mix + 404)", "req/s (mix)", "socket errors c/r/w", "timeouts",
         "non-2xx in mix", "404s (all 404?)", "RSS after warm-up → end",
         "descriptors idle → after (settled in)", "zombies", "exit", "result"],
        rows, "l" + "r" * 10 + "l")


def section(results: list[Result], seconds: int, started: datetime.datetime,
            elapsed_s: float) -> str:
    cores = os.cpu_count() or 1
    busiest = max((r.background_cores for r in results), default=0.0)
    lines = [
        "## Reliability (soak)",
        "",
        f"Generated by `make soak SOAK_SECONDS={seconds}` ([`bench/soak.py`](bench/soak.py)) on "
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
        table(results),
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
    return "\n".join(lines).rstrip("\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", default="bin", help="directory of the server binaries")
    parser.add_argument("--seconds", type=int,
                        default=int(os.environ.get("SOAK_SECONDS") or 120),
                        help="load per model (default: $SOAK_SECONDS or 120)")
    parser.add_argument("--models", default=",".join(m.name for m in SOAKED),
                        help="comma-separated -c names")
    parser.add_argument("--www", default=str(REPO / "www"))
    parser.add_argument("--output", default=str(REPO / "benchmark.md"))
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    if args.seconds < 5:
        parser.error("--seconds must be at least 5")
    by_name = {m.name: m for m in SOAKED}
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in names if m not in by_name]
    if unknown:
        parser.error(f"unknown model(s) {unknown}; choose from {list(by_name)}")
    chosen = [by_name[m] for m in names]
    bin_dir = Path(args.bin) if Path(args.bin).is_absolute() else REPO / args.bin
    missing = [m.binary for m in chosen if not (bin_dir / m.binary).exists()]
    if missing:
        parser.error(f"not built in {bin_dir}: {missing} (make all)")

    started = datetime.datetime.now(datetime.timezone.utc)
    per_model = args.seconds + 8
    print(f"soak: {len(chosen)} models x {args.seconds} s (about "
          f"{len(chosen) * per_model / 60:.0f} min); load average now {os.getloadavg()[0]:.1f}",
          flush=True)
    results = []
    for model in chosen:
        print(f"== {model.name}: {args.seconds} s under load ...", flush=True)
        result = soak_model(model, bin_dir, Path(args.www), args.seconds)
        print(f"   {'pass' if result.ok else 'FAIL: ' + '; '.join(result.problems)} "
              f"(other programs used {result.background_cores:.2f} cores meanwhile)", flush=True)
        results.append(result)
    elapsed = (datetime.datetime.now(datetime.timezone.utc) - started).total_seconds()
    text = section(results, args.seconds, started, elapsed)
    print()
    print(table(results))
    if not args.no_write:
        report.write_soak_section(Path(args.output), text)
        print(f"\nwrote the Reliability section of {args.output}")
    failed = [r.model for r in results if not r.ok]
    print(f"soak: {len(results) - len(failed)} passed, {len(failed)} failed"
          + (f" ({', '.join(failed)})" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
