#!/usr/bin/env python3
"""make bench: measures every concurrency model beside production servers (nginx, lighttpd, h2o,
Apache httpd prefork/worker/event) in the same run and rewrites benchmark.md + chart.

    python3 bench/bench.py [--quick] [--models single,thread,...,nginx,h2o] [--runs N]
                           [--duration S] [--other-duration S] [--tables 1,2,...]
                           [--output PATH] [--bin DIR] [--workers N]

For each model it starts bin/<model>_server on a free port serving www/, puts load on it, stops
it with SIGINT and checks it exits 0 (a failure is reported loudly and makes the exit status 1).
The reference servers (servers.REFERENCES) get the same treatment: each is started from its
bench/*.conf.template, filled in into a temporary directory, in a session of its own, stopped
with its graceful-stop signal and checked alike; a reference that is not installed is skipped
with a note. They run in tables 1-4, 6 and 7 (not 5: they have no --delay); table 8 runs
async_server and the event-loop references with 2 workers each.
The tables (see bench/report.py for what each one teaches):
  1  the lab's configuration: wrk -t10 -c10 -d30s -R10000 .../page.html, best of N runs
  2  maximum throughput, closed loop: keep-alive, and Connection: close
  3  scale: 1,000 concurrent connections (10,000 for the event loops: async, nginx, lighttpd, h2o;
     they, within a few per cent of each other, get N interleaved rounds and their medians)
  4  memory per idle keep-alive connection
  5  20 concurrent requests with --delay=1: wall time
  6  slow clients: one request's wait while 64 clients hold half-sent requests
  7  system calls per request: 2,000 keep-alive requests on 4 connections, wrk -t2 -c10 for 2 s,
     and 1,000 Connection: close requests, counted on the server's process tree with perf stat
     (syscall tracepoints) or, failing that, strace -c -f (bench/syscalls.py)
  8  several cores: async_server --workers 2 beside nginx, lighttpd and h2o with 2 workers,
     keep-alive at 10 and at 1,000 connections (wrk -t2), medians of N interleaved rounds
Runs of tables 1, 2, 3 (the event loops) and 8 interleave (every model once, then again) so drift hits all alike.
Standard library only; needs wrk (or wrk2) and gnuplot, for the references nginx, lighttpd,
h2o and apache2, and for table 7 perf (or strace): scripts/install-deps.sh bench.

  bench.py              this file: options, the plan of steps, progress, one function per step
  servers.py            the models; start a server on a free port, its process tree from /proc,
                        stop it; CPU used by the rest of the machine (shared with soak.py)
  probes.py             wrk runs and their output; socket probes (idle, delay, slow clients)
  syscalls.py           table 7: counting a server's system calls (perf or strace), its clients
  report.py             benchmark.md (tables, sentences from the numbers) and benchmark.svg
  pace.lua, stats.lua   wrk scripts: the lab's fixed rate without wrk2; machine-readable results
  *.conf.template       the reference servers' configurations: nginx, lighttpd, h2o, apache
  soak.py, soak.lua     make soak: every model for minutes under wrk (the Reliability section)
  attack.py             make attack: every model against slowhttptest (Reliability under attack)
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

sys.dont_write_bytecode = True  # no __pycache__ in bench/
import probes  # noqa: E402 -- after the line above
import report  # noqa: E402
import syscalls  # noqa: E402
from probes import WrkSpec  # noqa: E402
from servers import (MODEL_BY_NAME, MODELS, CpuWindow, Model, ServerError,  # noqa: E402
                     TreeSampler, context_switches, cpu_model, memory_gib, missing,
                     process_tree, reference_version, start_server)

REPO = Path(__file__).resolve().parent.parent
WWW = REPO / "www"
ALL_TABLES = (1, 2, 3, 4, 5, 6, 7, 8)


@dataclass
class Settings:
    quick: bool
    runs: int
    lab: WrkSpec  # table 1
    closed_loop: WrkSpec  # table 2 (close=False; the Connection: close run copies it)
    scale: WrkSpec  # table 3, 1,000 connections
    scale_big: int  # table 3, connections for the event loops (ours and the references)
    idle_connections: int  # table 4
    idle_wait_s: float
    delay_requests: int  # table 5
    delay_s: float
    slow_clients: int  # table 6
    slow_limit_s: float
    workers: dict  # model name -> --workers N; models not in it use their default
    stall_ms: int = 1000  # a connection whose request waits this long unread is "stalled"
    syscall_requests: int = 2000  # table 7: keep-alive requests counted
    syscall_connections: int = 4  # ... over this many connections (and client threads)
    syscall_close_requests: int = 1000  # ... Connection: close requests counted
    syscall_wrk: WrkSpec = dataclasses.field(  # ... keep-alive at full speed
        default_factory=lambda: WrkSpec(threads=2, connections=10, duration=2))
    multicore: WrkSpec = dataclasses.field(  # table 8, and its second run at multicore_big
        default_factory=lambda: WrkSpec(threads=2, connections=10, duration=6))
    multicore_big: int = 1000  # table 8: the second run's connections (table 3's count)
    multicore_workers: int = 2

    @staticmethod
    def make(quick: bool) -> Settings:
        if quick:
            return Settings(
                quick=True, runs=1,
                lab=WrkSpec(threads=10, connections=10, duration=2, rate=10000),
                closed_loop=WrkSpec(threads=2, connections=10, duration=1),
                scale=WrkSpec(threads=2, connections=100, duration=2),
                scale_big=1000, idle_connections=100, idle_wait_s=5.0,
                delay_requests=4, delay_s=0.5, slow_clients=8, slow_limit_s=2.0, workers={},
                stall_ms=500, syscall_requests=400, syscall_close_requests=200,
                syscall_wrk=WrkSpec(threads=2, connections=10, duration=1),
                multicore=WrkSpec(threads=2, connections=10, duration=1), multicore_big=100)
        return Settings(
            quick=False, runs=3,
            lab=WrkSpec(threads=10, connections=10, duration=30, rate=10000),
            closed_loop=WrkSpec(threads=2, connections=10, duration=8),
            scale=WrkSpec(threads=2, connections=1000, duration=10),
            scale_big=10000, idle_connections=1000, idle_wait_s=10.0,
            delay_requests=20, delay_s=1.0, slow_clients=64, slow_limit_s=15.0, workers={})


# ----------------------------------------------------------------------------------------------
# Progress on the terminal


def fmt_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}:{seconds % 60:02d}"


class Progress:
    """One status line: which step, which model and run, estimated time left. On a terminal it
    is redrawn in place every second; otherwise each step prints one line."""

    def __init__(self, estimates: list[float]):
        self.estimates = estimates
        self.index = -1
        self.step_started = time.monotonic()
        self.started = time.monotonic()
        self.done_estimate = 0.0  # sum of the estimates of finished steps
        self.label = ""
        self.detail = ""
        self.tty = sys.stderr.isatty()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        if self.tty:
            threading.Thread(target=self._redraw, daemon=True).start()

    def begin(self, index: int, label: str) -> None:
        with self._lock:
            if self.index >= 0:
                self.done_estimate += self.estimates[self.index]
            self.index, self.label, self.detail = index, label, ""
            self.step_started = time.monotonic()
            self._draw()

    def left(self) -> float:
        """Estimated seconds left, scaled by how the finished steps compared to their estimate."""
        elapsed = time.monotonic() - self.started
        in_step = time.monotonic() - self.step_started
        pace = 1.0
        if self.done_estimate > 30:
            pace = min(2.0, max(0.5, (elapsed - in_step) / self.done_estimate))
        current = max(0.0, self.estimates[self.index] * pace - in_step)
        return current + pace * sum(self.estimates[self.index + 1 :])

    def tick(self, detail: str) -> None:
        with self._lock:
            self.detail = detail
            if self.tty:
                self._draw()

    def say(self, text: str) -> None:
        """A line of its own (a result, a warning), above the status line."""
        with self._lock:
            if self.tty:
                sys.stderr.write("\r\033[K")
            sys.stderr.write(text + "\n")
            if self.tty:
                self._draw()
            sys.stderr.flush()

    def finish(self) -> None:
        self._stop.set()
        with self._lock:
            if self.tty:
                sys.stderr.write("\r\033[K")
                sys.stderr.flush()

    def _redraw(self) -> None:
        while not self._stop.wait(1.0):
            with self._lock:
                if self.index >= 0 and not self._stop.is_set():
                    self._draw()

    def _draw(self) -> None:
        n = len(self.estimates)
        text = f"{self.label} · {self.detail}" if self.detail else self.label
        elapsed = fmt_duration(time.monotonic() - self.started)
        line = (f"[{self.index + 1:>{len(str(n))}}/{n}] {text} · elapsed {elapsed} · "
                f"left ~{fmt_duration(self.left())}")
        if self.tty:
            width = shutil.get_terminal_size((120, 20)).columns
            sys.stderr.write("\r\033[K" + line[: width - 1])
        elif not self.detail:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()


def loud(text: str) -> str:
    return f"\033[1;31m{text}\033[0m" if sys.stderr.isatty() else text


# ----------------------------------------------------------------------------------------------
# The run


class Bench:
    def __init__(self, args: argparse.Namespace, settings: Settings, models: list[Model]):
        self.args, self.settings, self.models = args, settings, models
        self.bin_dir = Path(args.bin).resolve()
        self.nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        self.progress: Progress | None = None
        self.results: dict = {
            "lab": {}, "keepalive": {}, "close": {}, "scale": [], "idle": {}, "delay": {},
            "slow": {}, "problems": [], "notes": [], "server_commands": {},
            "stops": {},  # model -> the exit status of each session: "0", "1", "signal 9", "hung"
            "syscalls": {},  # table 7: model -> {"keepalive"|"full_speed"|"close": a Count}
            "multicore": {},  # table 8: model -> {"10"|"1000": [runs]}
        }
        self.syscall_tool: str | None = None  # table 7's counter, chosen by plan()
        self.keeper: syscalls.TracepointKeeper | None = None  # while table 7 runs with perf

    # -- helpers

    def say(self, text: str) -> None:
        if self.progress:
            self.progress.say(text)
        else:
            print(text, file=sys.stderr)

    def problem(self, text: str) -> None:
        self.results["problems"].append(text)
        self.say(loud("!!! " + text))

    @contextmanager
    def serving(self, model: Model, what: str, delay: float | None = None,
                workers: int | None = None):
        """Starts the model's server, checks it serves www/page.html, stops it afterwards and
        records a problem when the stop is not clean. Yields None when it could not start.
        `workers`: this many workers instead of the model's usual (table 8)."""
        try:
            server = start_server(model, self.bin_dir, WWW, delay=delay,
                                  workers=workers or self.settings.workers.get(model.name),
                                  nofile=self.nofile)
        except (ServerError, OSError) as e:
            self.problem(f"{model.name} ({what}): could not start: {e}")
            yield None
            return
        try:
            server.check_page(WWW, delay or 0.0)
        except Exception as e:  # noqa: BLE001 -- any failure here means: do not measure
            hint = f" ({model.reference.hint})" if model.reference and model.reference.hint else ""
            self.problem(f"{model.name} ({what}): GET /page.html failed: {e}{hint}")
            self._stop(server, what)
            yield None
            return
        if delay is None and workers is None:
            self.results["server_commands"].setdefault(model.name, server.shown_command(REPO))
        try:
            yield server
        finally:
            self._stop(server, what)

    def _stop(self, server, what: str) -> None:
        trouble = server.stop()
        self.results["stops"].setdefault(server.model.name, []).append(
            server.exit_status if not trouble else f"{server.exit_status} ({trouble})")
        if trouble:
            tail = " | ".join(list(server.stderr_tail)[-3:])
            self.problem(f"{server.model.binary} ({what}) {trouble}"
                         + (f"; its last words: {tail}" if tail else ""))

    def wrk(self, server, spec: WrkSpec, label: str) -> probes.LoadResult:
        """One wrk run, with the server's CPU time, the machine's context switches, and peaks of
        the server's threads, processes, RSS and stalled connections sampled during the run."""
        before = server.sample()
        ctxt0 = context_switches()
        cpu = CpuWindow()

        def tick(left: float) -> None:
            if self.progress:
                self.progress.tick(f"{label}: {left:.0f} s left in this run")

        with TreeSampler(server.pid, interval=self.settings.stall_ms / 1000, port=server.port,
                         stall_ms=self.settings.stall_ms) as sampler:
            result = probes.run_wrk(spec, server.url(), tick)
        after = server.sample()
        result.ctxt = max(0, context_switches() - ctxt0)
        # wrk (and the ss calls) are the children reaped in this window; the driver is itself.
        result.wrk_cores = cpu.ours_s() / cpu.wall_s()
        peak = sampler.peak
        result.processes, result.threads, result.rss = peak.processes, peak.threads, peak.rss
        result.stalled = sampler.stalled
        if after.processes:  # the server is still there
            result.server_cpu_s = max(0.0, after.cpu_s - before.cpu_s)
            result.background_cores = cpu.others_cores(also_ours_s=result.server_cpu_s)
            if result.background_cores > 0.2:
                self.say(loud(f"    warning: other programs used {result.background_cores:.2f} "
                              f"cores during this run ({server.model.name}, {label})"))
        if not server.alive():
            result.ok = False
            result.note = (result.note + "; " if result.note else "") + "server died during the run"
            self.problem(f"{server.model.name}: server exited during '{label}' "
                         f"(status {server.proc.returncode})")
        if not result.ok:
            self.problem(f"{server.model.name}: {label}: {result.note}")
        return result

    # -- the steps

    def step_round(self, model: Model, run: int, tables: set[int]) -> None:
        """One server session: the lab run, then the closed-loop runs (tables 1 and 2)."""
        s = self.settings
        with self.serving(model, f"run {run}") as server:
            if server is None:
                return
            if 1 in tables:
                r = self.wrk(server, s.lab, f"lab config, run {run}/{s.runs}")
                self.results["lab"].setdefault(model.name, []).append(self.record(r))
                self.say(f"    {model.name:<13} lab run {run}: {r.rps:9,.0f} req/s  "
                         f"p99 {report.fmt_ms(r.p99_ms)}  errors {r.error_count}"
                         + (f"  stalled connections {r.stalled}" if r.stalled else ""))
            if 2 in tables:
                r = self.wrk(server, s.closed_loop, f"keep-alive, run {run}/{s.runs}")
                self.results["keepalive"].setdefault(model.name, []).append(self.record(r))
                close = dataclasses.replace(s.closed_loop, close=True)
                r2 = self.wrk(server, close, f"Connection: close, run {run}/{s.runs}")
                self.results["close"].setdefault(model.name, []).append(self.record(r2))
                self.say(f"    {model.name:<13} closed loop run {run}: keep-alive "
                         f"{r.rps:9,.0f} req/s, Connection: close {r2.rps:9,.0f} req/s")

    def step_scale(self, model: Model, connections: int, run: int = 1) -> None:
        spec = dataclasses.replace(self.settings.scale, connections=connections)
        with self.serving(model, f"{connections} connections, run {run}") as server:
            if server is None:
                return
            rest = server.sample()
            r = self.wrk(server, spec, f"{connections:,} connections")
            row = self.record(r)
            row.update(model=model.name, connections=connections, rest_rss=rest.rss, run=run)
            self.results["scale"].append(row)
            self.say(f"    {model.name:<13} {connections:>6,} connections: {r.rps:9,.0f} req/s  "
                     f"p99 {report.fmt_ms(r.p99_ms)}  errors {r.error_count}  "
                     f"peak {r.threads} threads / {r.processes} processes"
                     + (f"  stalled connections {r.stalled}" if r.stalled else ""))

    def step_idle(self, model: Model) -> None:
        s = self.settings
        with self.serving(model, "idle connections") as server:
            if server is None:
                return
            time.sleep(0.3)
            rest = server.sample(with_pss=True)
            if self.progress:
                self.progress.tick(f"opening {s.idle_connections:,} keep-alive connections")
            result = probes.idle_connections(server.port, s.idle_connections,
                                             lambda: server.sample(with_pss=True), s.idle_wait_s)
            busy = result.measurement
            self.results["idle"][model.name] = {
                "opened": result.opened, "answered": result.answered, "held": result.held_open,
                "seconds": result.seconds, "rest_rss": rest.rss, "rest_pss": rest.pss,
                "rss": busy.rss, "pss": busy.pss, "processes": busy.processes,
                "threads": busy.threads, "rest_processes": rest.processes,
                "rest_threads": rest.threads,
            }
            per, _ = report.memory_per_connection(self.results["idle"][model.name])
            self.say(f"    {model.name:<13} {result.held_open:,} of {result.opened:,} connections "
                     f"held open; RSS {rest.rss / 2**20:.1f} -> {busy.rss / 2**20:.1f} MiB"
                     + (f" ({report.fmt_kib(per)} each)" if per is not None else ""))

    def step_delay(self, model: Model) -> None:
        s = self.settings
        with self.serving(model, f"--delay={s.delay_s:g}", delay=s.delay_s) as server:
            if server is None:
                return
            if self.progress:
                self.progress.tick(f"{s.delay_requests} requests at once")
            limit = s.delay_requests * s.delay_s + 10
            r = probes.concurrent_requests(server.port, s.delay_requests, limit)
            self.results["delay"][model.name] = dataclasses.asdict(r)
            self.say(f"    {model.name:<13} {r.answered}/{r.requests} answered in "
                     f"{r.wall_s:.2f} s")

    def step_slow(self, model: Model) -> None:
        s = self.settings
        with self.serving(model, "slow clients") as server:
            if server is None:
                return
            if self.progress:
                self.progress.tick(f"{s.slow_clients} half-sent requests, then one normal one")
            r = probes.slow_clients(server.port, s.slow_clients, s.slow_limit_s)
            self.results["slow"][model.name] = dataclasses.asdict(r)
            answer = (f"answered in {r.answer_s * 1000:.1f} ms (status {r.status})"
                      if r.answer_s is not None else f"starved (> {r.limit_s:g} s)")
            self.say(f"    {model.name:<13} with {r.slow_clients} slow clients: {answer}")

    def step_syscalls(self, model: Model, last: bool = False) -> None:
        """Table 7: one session; after a warm-up, three counts -- keep-alive requests from the
        Python client, keep-alive at full speed from wrk, Connection: close requests."""
        try:
            self._syscalls(model)
        finally:
            if last and self.keeper is not None:
                # Seconds of unregistering, during which every call on the machine is still
                # traced: wait for them, so that no later measurement runs traced.
                if self.progress:
                    self.progress.tick("perf releasing the syscall tracepoints")
                self.keeper.join()
                self.keeper = None

    def _syscalls(self, model: Model) -> None:
        s = self.settings
        if self.syscall_tool == "perf" and self.keeper is None:
            self.keeper = syscalls.TracepointKeeper()
        with self.serving(model, "system calls") as server:
            if server is None:
                return
            if self.progress:
                self.progress.tick("warming up")
            warm = syscalls.KeepAliveClient(server.port, s.syscall_connections)
            try:
                warm.open()
                warm.run(max(100, s.syscall_requests // 10))
            finally:
                warm.close()
            syscalls.close_requests(server.port, max(20, s.syscall_close_requests // 20),
                                    s.syscall_connections)
            time.sleep(0.2)
            row = self.results["syscalls"].setdefault(model.name, {})
            client = syscalls.KeepAliveClient(server.port, s.syscall_connections)
            try:
                client.open()
                row["keepalive"] = self.count_syscalls(
                    server, f"{s.syscall_requests:,} keep-alive requests",
                    lambda: client.run(s.syscall_requests))
            finally:
                client.close()
            row["full_speed"] = self.count_syscalls(
                server, f"wrk -c{s.syscall_wrk.connections} for {s.syscall_wrk.duration} s",
                lambda: self.wrk_run(server, s.syscall_wrk))
            row["close"] = self.count_syscalls(
                server, f"{s.syscall_close_requests:,} Connection: close requests",
                lambda: syscalls.close_requests(server.port, s.syscall_close_requests,
                                                s.syscall_connections))
            parts = []
            for key, label in (("keepalive", "keep-alive"), ("full_speed", "wrk"),
                               ("close", "close")):
                c = row[key]
                per = c["total"] / c["requests"] if c["ok"] and c["requests"] else None
                parts.append(f"{label} {per:.1f}" if per is not None else f"{label} –")
            self.say(f"    {model.name:<13} system calls per request: " + ", ".join(parts))

    def wrk_run(self, server, spec: WrkSpec) -> syscalls.ClientRun:
        r = probes.run_wrk(spec, server.url())
        return syscalls.ClientRun(requests=r.requests, errors=r.error_count,
                                  connections=spec.connections, seconds=r.duration_s)

    def count_syscalls(self, server, what: str,
                       load: Callable[[], syscalls.ClientRun]) -> dict:
        """Counts the server's system calls (its whole process tree) while `load` runs."""
        if self.progress:
            self.progress.tick(what)
        count = syscalls.Count()
        pids = [p.pid for p in process_tree(server.pid) if p.state != "Z"]
        assert self.syscall_tool is not None
        try:
            counter = syscalls.make_counter(self.syscall_tool, pids)
        except OSError as e:
            count.ok, count.note = False, f"could not start {self.syscall_tool}: {e}"
            return dataclasses.asdict(count)
        try:
            counter.enable()
            run = load()
            time.sleep(0.2)  # the server's side of the last answer (a close, a child's exit)
            counter.disable()
            count.requests, count.errors = run.requests, run.errors
            count.connections, count.seconds = run.connections, run.seconds
        except (RuntimeError, OSError) as e:
            count.ok, count.note = False, str(e)
        finally:
            counter.finish(count)
        if not count.ok:
            self.results["notes"].append(f"Table 7: {server.model.name}, {what}: {count.note}")
            self.say(loud(f"    {server.model.name}: system calls not counted ({what}): "
                          f"{count.note}"))
        if count.errors:
            self.problem(f"{server.model.name}: {what}: {count.errors} requests not answered")
        if not server.alive():
            self.problem(f"{server.model.name}: server exited while its system calls were "
                         f"counted ({what})")
        return dataclasses.asdict(count)

    def step_multicore(self, model: Model, run: int) -> None:
        """Table 8: one session with N workers; keep-alive at 10 connections, then at 1,000."""
        s = self.settings
        n = s.multicore_workers
        with self.serving(model, f"{n} workers, run {run}", workers=n) as server:
            if server is None:
                return
            rates = []
            for conns in (s.multicore.connections, s.multicore_big):
                spec = dataclasses.replace(s.multicore, connections=conns)
                r = self.wrk(server, spec, f"{n} workers, {conns:,} connections, "
                                           f"run {run}/{s.runs}")
                row = self.record(r)
                row["connections"] = conns
                self.results["multicore"].setdefault(model.name, {}).setdefault(
                    str(conns), []).append(row)
                rates.append(f"{conns:,} connections {r.rps:9,.0f} req/s")
            self.say(f"    {model.name:<13} {n} workers, run {run}: " + ", ".join(rates))

    @staticmethod
    def record(r: probes.LoadResult) -> dict:
        d = dataclasses.asdict(r)
        d.update(error_count=r.error_count, cpu_us_per_request=r.cpu_us_per_request,
                 ctxt_per_request=r.ctxt_per_request)
        return d

    # -- the plan

    def plan(self, tables: set[int]) -> list[tuple[str, float, Callable[[], None]]]:
        s = self.settings
        # Seconds, measured in a full run on the 2-core machine (estimate 20:00, took 19:56).
        session = 0.4  # start, check, stop
        per_wrk = 0.1  # wrk's start-up beyond -d

        def start_stop(m: Model) -> float:  # Apache's graceful stop takes a second more
            return session + (m.reference.stop_s if m.reference else 0.0)

        steps: list[tuple[str, float, Callable[[], None]]] = []
        if tables & {1, 2}:
            per_round = 0.0
            if 1 in tables:
                per_round += s.lab.duration + per_wrk
            if 2 in tables:
                per_round += 2 * (s.closed_loop.duration + per_wrk)
            for run in range(1, s.runs + 1):
                for m in self.models:
                    what = " + ".join(x for x, t in (("lab config", 1), ("closed loop", 2))
                                      if t in tables)
                    steps.append((f"{what} · {m.name} · run {run}/{s.runs}",
                                  start_stop(m) + per_round,
                                  lambda m=m, run=run: self.step_round(m, run, tables)))
        if 3 in tables:
            # The event loops (ours and the references) are within a few per cent of each other
            # here, so they get s.runs interleaved rounds, reported as medians like table 2;
            # the others differ by far more than the noise and run once.
            sizes_of: dict[str, list[int]] = {}
            for m in self.models:
                sizes = [s.scale.connections]
                if m.event_loop and s.scale_big > s.scale.connections:
                    ref = m.reference
                    cap = ref.max_connections(self.nofile) if ref and ref.max_connections else None
                    if self.nofile < s.scale_big + 200:
                        self.results["notes"].append(
                            f"Table 3: {s.scale_big:,} connections skipped for {m.name}: needs "
                            f"ulimit -n >= {s.scale_big + 200} (the hard limit is {self.nofile})")
                    elif cap is not None and cap < s.scale_big:
                        self.results["notes"].append(
                            f"Table 3: {s.scale_big:,} connections skipped for {m.name}: with "
                            f"ulimit -n {self.nofile} its configuration allows {cap:,} "
                            f"connections (bench/{ref.template})")
                    else:
                        sizes.append(s.scale_big)
                sizes_of[m.name] = sizes
            for run in range(1, s.runs + 1):
                for m in self.models:
                    if run > 1 and not m.event_loop:
                        continue
                    rounds = s.runs if m.event_loop else 1
                    for n in sizes_of[m.name]:
                        steps.append((f"scale · {m.name} · {n:,} connections · run {run}/{rounds}",
                                      start_stop(m) + s.scale.duration + per_wrk + n / 10000,
                                      lambda m=m, n=n, run=run: self.step_scale(m, n, run)))
        if 4 in tables:
            for m in self.models:
                # A pool cannot answer them all, so it takes the whole wait.
                wait = s.idle_wait_s if m.one_at_a_time and m.name != "single" else (
                    0.5 + s.idle_connections / 500)
                steps.append((f"idle connections · {m.name}", start_stop(m) + wait,
                              lambda m=m: self.step_idle(m)))
        if 5 in tables:
            for m in self.models:
                if m.reference:
                    continue  # the references have no --delay
                guess = s.delay_requests * s.delay_s if m.name == "single" else (
                    s.delay_requests * s.delay_s / 4 if m.one_at_a_time else s.delay_s)
                steps.append((f"--delay={s.delay_s:g} · {m.name}", session + guess,
                              lambda m=m: self.step_delay(m)))
        if 6 in tables:
            for m in self.models:
                guess = 0.5 + (s.slow_limit_s if m.one_at_a_time else 0.1)
                steps.append((f"slow clients · {m.name}", start_stop(m) + guess,
                              lambda m=m: self.step_slow(m)))
        if 7 in tables:
            self.syscall_tool, why = syscalls.choose_tool(self.args.syscall_tool)
            self.results["syscall_tool"] = self.syscall_tool
            if self.syscall_tool is None:
                self.results["notes"].append(f"Table 7 skipped: {why}")
            else:
                if why:
                    self.results["notes"].append(
                        f"Table 7 counted with strace, which slows every call ({why}).")
                for i, m in enumerate(self.models):
                    # the counts' clients, perf's start (a second for Apache's threads), wrk
                    guess = (0.5 + (m.reference is not None and m.one_at_a_time)
                             + s.syscall_requests / 5000 + s.syscall_close_requests / 1500
                             + s.syscall_wrk.duration + per_wrk)
                    last = i == len(self.models) - 1
                    if last and self.syscall_tool == "perf":
                        guess += 3.5  # the tracepoints' release (TracepointKeeper)
                    steps.append((f"system calls · {m.name}", start_stop(m) + guess,
                                  lambda m=m, last=last: self.step_syscalls(m, last)))
        if 8 in tables:
            several = [m for m in self.models
                       if (m.takes_workers and m.event_loop)
                       or (m.reference and m.reference.workers_fill)]
            per_round = (2 * (s.multicore.duration + per_wrk) + s.multicore_big / 10000)
            for run in range(1, s.runs + 1):
                for m in several:
                    label = f"{s.multicore_workers} workers · {m.name} · run {run}/{s.runs}"
                    steps.append((label, start_stop(m) + per_round,
                                  lambda m=m, run=run: self.step_multicore(m, run)))
        return steps

    def run(self, tables: set[int]) -> None:
        steps = self.plan(tables)
        estimate = sum(e for _, e, _ in steps)
        self.results["estimate_s"] = estimate
        print(f"bench: {len(steps)} step{'s' if len(steps) != 1 else ''}, estimated "
              f"{fmt_duration(estimate)} (m:ss)",
              file=sys.stderr)
        self.progress = Progress([e for _, e, _ in steps])
        started = time.monotonic()
        try:
            for i, (label, _, step) in enumerate(steps):
                self.progress.begin(i, label)
                step()
        finally:
            self.progress.finish()
            if self.keeper is not None:
                self.keeper.join()
        self.results["elapsed_s"] = time.monotonic() - started
        print(f"bench: done in {fmt_duration(self.results['elapsed_s'])} "
              f"(estimated {fmt_duration(estimate)})", file=sys.stderr)


# ----------------------------------------------------------------------------------------------
# The machine


def first_line(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if text else "unknown"


def describe_machine(compiler: str, models: list[Model]) -> dict:
    cxx = compiler.split()[0] if compiler else "g++"
    wrk2 = probes.wrk2_binary()
    return {
        "cores": os.cpu_count(),
        "cpu": cpu_model(),
        "memory_gib": memory_gib(),
        "kernel": f"{platform.system()} {platform.release()}",
        "compiler": first_line([cxx, "--version"]),
        "flags": " ".join(compiler.split()[1:]) if compiler else "-O2 -g (Makefile default)",
        "wrk": first_line([wrk2, "--version"]) if wrk2 else first_line(["wrk", "-v"]),
        "wrk2": bool(wrk2),
        "references": {m.name: reference_version(m) for m in models if m.reference},
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "loadavg": os.getloadavg()[0],
        "nofile": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        "revision": first_line(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"]),
    }


def raise_nofile() -> None:
    """Children inherit the limit: wrk and the servers need one descriptor per connection."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 1 << 20
    want = min(want, 1 << 20)
    if soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        except (ValueError, OSError):
            pass


# ----------------------------------------------------------------------------------------------


def parse_workers(text: str) -> dict:
    """"4" -> every model that takes --workers gets 4; "process-pool=10,async=2" -> those."""
    takes = [m.name for m in MODELS if m.takes_workers]
    if not text.strip():
        return {}
    if text.strip().isdigit():
        return {m: int(text) for m in takes}
    workers = {}
    for item in text.split(","):
        model, _, n = item.partition("=")
        if model.strip() not in takes or not n.strip().isdigit() or int(n) < 1:
            raise ValueError(f"'{item}': expected N or MODEL=N, MODEL one of {', '.join(takes)}")
        workers[model.strip()] = int(n)
    return workers


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Benchmark every concurrency model beside production servers (nginx, "
        "lighttpd, h2o, Apache httpd); writes benchmark.md.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Models: " + ", ".join(m.name for m in MODELS) + ". Tables: 1 lab config, "
        "2 closed loop, 3 scale, 4 idle memory, 5 delay, 6 slow clients, 7 system calls per "
        "request, 8 several cores (2 workers).")
    p.add_argument("--quick", action="store_true",
                   default=os.environ.get("BENCH_QUICK", "") not in ("", "0"),
                   help="a few seconds per run, 1 run (also BENCH_QUICK=1)")
    p.add_argument("--models", default=",".join(m.name for m in MODELS),
                   help="comma-separated models to run (default: all that are built, and every "
                   "reference server that is installed)")
    p.add_argument("--tables", default=",".join(map(str, ALL_TABLES)),
                   help="comma-separated tables to measure (default: all)")
    p.add_argument("--runs", type=int,
                   help="runs of tables 1, 2 and 8 per model (default 3; quick 1)")
    p.add_argument("--duration", type=float, help="seconds per lab-config run (default 30)")
    p.add_argument("--other-duration", type=float,
                   help="seconds per run of tables 2, 3 and 8 (default 8, 10 and 6)")
    p.add_argument("--workers", default="",
                   help="--workers for the pool and async models: N for all three, or "
                   "MODEL=N,... (e.g. process-pool=10); default: each model's own default")
    p.add_argument("--syscall-tool", choices=("auto", "perf", "strace"), default="auto",
                   help="table 7's counter: perf stat when it works here (default), or strace "
                   "-c -f, which stops the server at every call")
    p.add_argument("--output", help="markdown file to write (default: benchmark.md; with --quick "
                   "build/bench-quick/benchmark.md); the chart goes beside it as .svg")
    p.add_argument("--bin", default=os.environ.get("BIN", "bin"),
                   help="directory of the server binaries (default: $BIN or bin)")
    p.add_argument("--compiler", default="", help="compiler and flags used, for the report")
    p.add_argument("--save-json", help="also write the raw results as JSON here")
    p.add_argument("--from-json", help="do not measure: rewrite the report from saved results")
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    settings = Settings.make(args.quick)
    if args.runs is not None:
        settings.runs = max(1, args.runs)
    if args.duration is not None:
        settings.lab = dataclasses.replace(settings.lab, duration=max(1, math.ceil(args.duration)))
    if args.other_duration is not None:
        other = max(1, math.ceil(args.other_duration))
        settings.closed_loop = dataclasses.replace(settings.closed_loop, duration=other)
        settings.scale = dataclasses.replace(settings.scale, duration=other)
        settings.multicore = dataclasses.replace(settings.multicore, duration=other)
    try:
        settings.workers = parse_workers(args.workers)
    except ValueError as e:
        print(f"bench: --workers: {e}", file=sys.stderr)
        return 2
    default_output = REPO / "build" / "bench-quick" if settings.quick else REPO
    output = Path(args.output) if args.output else default_output / "benchmark.md"
    output = output.resolve()

    if args.from_json:
        data = json.loads(Path(args.from_json).read_text())
        report.write(data, output)
        print(f"bench: wrote {output}", file=sys.stderr)
        return 0

    tables = {int(t) for t in args.tables.split(",") if t.strip()}
    unknown = [n for n in args.models.split(",") if n.strip() and n.strip() not in MODEL_BY_NAME]
    if unknown or not tables <= set(ALL_TABLES):
        print(f"bench: unknown model(s) {unknown} or table(s) {sorted(tables - set(ALL_TABLES))}",
              file=sys.stderr)
        return 2
    raise_nofile()
    bin_dir = Path(args.bin).resolve()
    models, skipped = [], {}
    for m in MODELS:  # keep the canonical order whatever order --models gives
        if m.name not in {n.strip() for n in args.models.split(",")}:
            continue
        why = missing(m, bin_dir)
        if why:
            skipped[m.name] = why
            continue
        models.append(m)
    if shutil.which("wrk") is None:  # wrk2, when present, only runs the lab's fixed rate
        print("bench: wrk is not installed: run scripts/install-deps.sh bench", file=sys.stderr)
        return 2
    if not models:
        print("bench: nothing to measure: " + "; ".join(skipped.values()), file=sys.stderr)
        return 2

    machine = describe_machine(args.compiler, models)
    print(f"bench: {', '.join(m.name for m in models)}"
          + (f" (skipped: {'; '.join(f'{k}: {v}' for k, v in skipped.items())})" if skipped else "")
          + f" -> {output}", file=sys.stderr)
    print(f"bench: {machine['cores']} cores, {machine['kernel']}, {machine['compiler']}; "
          f"load average {machine['loadavg']:.2f}", file=sys.stderr)
    if machine["loadavg"] > 0.5:
        print(loud(f"bench: warning: the machine is busy (load average {machine['loadavg']:.2f}); "
                   "numbers will be lower and noisier"), file=sys.stderr)
    if not machine["wrk2"]:
        print("bench: wrk2 not found: the lab's -R10000 is paced by bench/pace.lua in wrk",
              file=sys.stderr)

    bench = Bench(args, settings, models)
    try:
        bench.run(tables)
    except KeyboardInterrupt:
        print("\nbench: interrupted; the report was not written", file=sys.stderr)
        return 130
    url = "http://127.0.0.1:PORT/page.html"
    data = {
        "machine": machine,
        "settings": dataclasses.asdict(settings),
        "commands": {
            key: " ".join(spec.command(url, shown=True)) for key, spec in (
                ("lab", settings.lab), ("keepalive", settings.closed_loop),
                ("close", dataclasses.replace(settings.closed_loop, close=True)),
                ("scale", settings.scale), ("syscall_wrk", settings.syscall_wrk),
                ("multicore", settings.multicore))
        },
        "models": [m.name for m in models],
        "skipped": skipped,
        "tables": sorted(tables),
        **bench.results,
    }
    if args.save_json:
        Path(args.save_json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.save_json).write_text(json.dumps(data, indent=1))
    report.write(data, output)
    print(f"bench: wrote {output} and {output.with_suffix('.svg').name}", file=sys.stderr)
    if data["problems"]:
        print(loud(f"bench: {len(data['problems'])} problem(s):"), file=sys.stderr)
        for p in data["problems"]:
            print(loud("  - " + p), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
