#!/usr/bin/env python3
"""make attack: every model against a real attack tool, slowhttptest (Debian's package), in its
three slow modes; does a fresh client still get an answer, and does the server stop cleanly?

    python3 bench/attack.py [--quick] [--bin bin] [--models single,thread,...]
                            [--modes headers,body,read] [--connections N] [--seconds S]
                            [--jobs N] [--json PATH] [--output benchmark.md] [--no-write]

For each model and mode: start bin/<model>_server -p 0 (default options, as make bench starts it:
bench/servers.py) on a copy of www/ that also holds one large file, check GET /page.html, then
run slowhttptest against it for --seconds with --connections connections:
  headers  -H  slowloris: each connection sends a request head a few bytes at a time, never ending
  body     -B  R-U-Dead-Yet: a POST head with Content-Length 8192, then the body a few bytes at a
               time (our server answers POST with 405, but only once the whole request is in)
  read     -X  slow read: GET the large file (8 MiB: more than any socket buffer holds, or the
               kernel would take the whole answer and the server would never wait) through a
               tiny receive window, reading a few bytes a second
While the attack's connections are held, a fresh client (a new connection each time, Python's
http.client, 2 s timeout) asks for /page.html every PROBE_EVERY_S; it must get 200 and the exact
bytes. After slowhttptest exits, probes go on until one is answered (the recovery time) and then
a few more. Last, SIGINT: the server must exit by itself with status 0 and leave no process of
its process group behind (servers.RunningServer.stop).

Pass, per model and mode:
  - every model: answered after the attack, exit 0 on SIGINT, nothing left running;
  - every model that serves clients concurrently (all but single_server, whose property is one
    client at a time): every probe during the attack answered. The process pool only while the
    attack's connections are fewer than its --max-workers (256 by default): a prefork cannot hold
    more connections than it has workers.
KNOWN_DEFECTS lists the model-and-mode pairs that fail the availability check today, with why;
they are reported as such and do not fail the run, but one that passes is reported (and fails the
run) so that the list is kept honest.

--quick (make test, tests/attack_test.sh) runs a few seconds per model and mode, several at once
(--jobs); the full run (make attack) runs them one at a time for ATTACK_SECONDS each and writes the
"Reliability under attack" section of benchmark.md, between <!-- attack:begin --> and
<!-- attack:end --> (make bench and make soak keep it), plus the raw results as JSON.
Standard library only; needs slowhttptest and ss (scripts/install-deps.sh attack).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import dataclasses
import datetime
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

sys.dont_write_bytecode = True  # no __pycache__ in bench/
import report  # noqa: E402 -- after the line above
from soak import machine  # noqa: E402
from servers import (OURS, CpuWindow, Model, RunningServer, ServerError,  # noqa: E402
                     start_server)

REPO = Path(__file__).resolve().parent.parent

PROBE_PATH = "/page.html"
PROBE_TIMEOUT_S = 2.0  # a fresh client that waits longer than this counts as not answered
PROBE_EVERY_S = 0.5  # between the end of one probe and the start of the next
RECOVERY_LIMIT_S = 15.0  # after the attack, the first answer must come within this
MIN_ROUND_S = 3  # a new run of slowhttptest only with this much of the duration left
AFTER_PROBES = 3  # probes after the first answer following the attack; all must be answered
LARGE_FILE = "attack-large.bin"  # the slow read's target, in the temporary document root
LARGE_BYTES = 8 << 20



@dataclass(frozen=True)
class KnownDefect:
    why: str
    applies: Callable[[int], bool]  # given the attack's connections: expected to fail?


CORES = os.cpu_count() or 1
# (model, mode) -> why it is expected to fail the availability check (see the module docstring).
KNOWN_DEFECTS: dict[tuple[str, str], KnownDefect] = {
    # Empty. ("thread-pool", "read") was here until the thread pool's workers stopped sending with
    # blocking calls: a worker now gives a half-sent answer back to the poller (PartialSend in
    # common/send_response.h), which waits for room in the send buffer.
}


@dataclass(frozen=True)
class Mode:
    name: str  # "headers"
    flag: str  # slowhttptest's: "-H"
    title: str  # for the report
    path: str  # what the attack asks for

    def args(self, connections: int, seconds: int, quick: bool) -> list[str]:
        rate = 200 if quick else 60  # connections opened per second
        common = ["-c", str(connections), "-r", str(rate), "-l", str(seconds), "-p", "2"]
        # The follow-up interval: 1 s in the short run, so that something happens in it; 5 s in
        # the long one (slowloris' classic 10 s would meet our 10 s request timeout exactly).
        interval = "1" if quick else "5"
        if self.name == "headers":
            return [self.flag, *common, "-i", interval, "-x", "24", "-t", "GET"]
        if self.name == "body":
            return [self.flag, *common, "-i", interval, "-x", "10", "-s", "8192", "-t", "POST"]
        # Slow read: a receive window of 512-1024 bytes, 32 bytes read every second; one request
        # per connection (-k 1: the 8 MiB answer is slow enough).
        return [self.flag, *common, "-w", "512", "-y", "1024", "-n", "1", "-z", "32", "-k", "1"]


MODES = [
    Mode("headers", "-H", "Slow headers (slowloris, `slowhttptest -H`)", PROBE_PATH),
    Mode("body", "-B", "Slow body (R-U-Dead-Yet, `slowhttptest -B`)", PROBE_PATH),
    Mode("read", "-X", "Slow read (`slowhttptest -X`)", "/" + LARGE_FILE),
]
MODE_BY_NAME = {m.name: m for m in MODES}


@dataclass
class Probe:
    at_s: float  # since the attack started
    ok: bool
    latency_ms: float
    error: str = ""


@dataclass
class Result:
    model: str
    mode: str
    connections: int
    seconds: int
    expect_available: bool
    known_defect: str = ""
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    command: str = ""
    during: list[Probe] = field(default_factory=list)
    after: list[Probe] = field(default_factory=list)
    recovery_s: float | None = None  # from slowhttptest's exit to the first answer
    held_peak: int = 0  # the server's established connections on its port, at most
    # Each run of slowhttptest: its own final counts and per-second verdicts, its exit reason,
    # how long it ran.
    rounds: list[dict] = field(default_factory=list)
    exit_status: str = "?"
    stop_s: float | None = None  # from SIGINT to the server's exit
    available_failed: bool = False  # a probe during the attack went unanswered
    background_cores: float = 0.0

    def fail(self, problem: str) -> None:
        self.ok = False
        self.problems.append(problem)

    @property
    def during_answered(self) -> int:
        return sum(p.ok for p in self.during)

    @property
    def after_answered(self) -> int:
        return sum(p.ok for p in self.after)

    @property
    def worst_during_ms(self) -> float | None:
        answered = [p.latency_ms for p in self.during if p.ok]
        return max(answered) if answered else None


# ----------------------------------------------------------------------------------------------
# Probes and counts


def probe(port: int, expected: bytes, started: float) -> Probe:
    """One fresh connection: GET /page.html, 200 and the exact bytes within PROBE_TIMEOUT_S."""
    t0 = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=PROBE_TIMEOUT_S)
    try:
        conn.request("GET", PROBE_PATH)
        response = conn.getresponse()
        body = response.read()
        error = "" if response.status == 200 and body == expected else \
            f"status {response.status}, {len(body)} bytes"
    except (OSError, http.client.HTTPException) as e:
        error = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
    finally:
        conn.close()
    elapsed = time.monotonic() - t0
    if not error and elapsed > PROBE_TIMEOUT_S:  # slow in several steps, each within the timeout
        error = f"answered after {elapsed:.1f} s"
    return Probe(round(t0 - started, 2), not error, round(elapsed * 1000, 1), error)


def established(port: int) -> int | None:
    """The server's established connections on `port` (ss), None without ss."""
    try:
        out = subprocess.run(["ss", "-tnH", "state", "established", f"( sport = :{port} )"],
                             capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    return sum(1 for line in out.splitlines() if line.strip())


ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def attack_counts(output: str) -> dict:
    """slowhttptest's last status block (connected, closed, error, pending), how many of its
    per-second checks said "service available: YES", and its exit reason."""
    text = ANSI.sub("", output)
    counts: dict = {}
    for key in ("pending", "connected", "error", "closed"):
        found = re.findall(rf"^\s*{key}:\s+(\d+)", text, re.M)
        if found:
            counts[key] = int(found[-1])
    verdicts = re.findall(r"service available:\s+(YES|NO)", text)
    counts["available_yes"] = verdicts.count("YES")
    counts["available_checks"] = len(verdicts)
    reason = re.search(r"Exit status:\s*(.+)", text)
    counts["exit"] = reason.group(1).strip() if reason else "?"
    return counts


# ----------------------------------------------------------------------------------------------
# One model, one mode


def max_workers_default(bin_dir: Path, model: Model) -> int | None:
    """The process pool's --max-workers default, from its --help; None for other models."""
    help_text = subprocess.run([str(bin_dir / model.binary), "--help"], capture_output=True,
                               text=True).stdout
    match = re.search(r"--max-workers N.*?default: (\d+)", help_text, re.S)
    return int(match.group(1)) if match else None


def expect_available(model: Model, connections: int, bin_dir: Path) -> bool:
    if model.one_at_a_time:  # single_server: one client at a time is that model's property
        return False
    cap = max_workers_default(bin_dir, model)
    return cap is None or connections < cap


def attack_model(model: Model, mode: Mode, bin_dir: Path, root: Path, expected: bytes,
                 connections: int, seconds: int, quick: bool) -> Result:
    defect = KNOWN_DEFECTS.get((model.name, mode.name))
    result = Result(model.name, mode.name, connections, seconds,
                    expect_available(model, connections, bin_dir),
                    defect.why if defect and defect.applies(connections) else "")
    cpu = CpuWindow()
    try:
        server = start_server(model, bin_dir, root)
    except (ServerError, OSError) as e:
        result.fail(f"did not start: {e}")
        return result
    attack: subprocess.Popen | None = None
    workdir = tempfile.TemporaryDirectory(prefix="attack-")
    try:
        first = probe(server.port, expected, time.monotonic())
        if not first.ok:
            result.fail(f"not answered before the attack: {first.error}")
        url = f"http://127.0.0.1:{server.port}{mode.path}"
        started = time.monotonic()
        deadline = started + seconds
        # slowhttptest opens its connections once and ends when the server has closed them all
        # (a 408 for a request that has not arrived whole 10 s after its first byte, a reader
        # that acknowledged nothing for 10 s): then a new run of it goes on with the time left,
        # as an attacker that reconnects would, so that the attack lasts the whole duration.
        while deadline - time.monotonic() >= MIN_ROUND_S:
            left = round(deadline - time.monotonic())
            command = ["slowhttptest", *mode.args(connections, left, quick), "-u", url]
            if not result.command:
                result.command = " ".join(command).replace(str(server.port), "PORT")
            log = open(Path(workdir.name) / f"slowhttptest-{len(result.rounds)}.log", "w+")
            round_started = time.monotonic()
            attack = subprocess.Popen(command, cwd=workdir.name, stdin=subprocess.DEVNULL,
                                      stdout=log, stderr=subprocess.STDOUT,
                                      start_new_session=True)
            rate = int(command[command.index("-r") + 1])
            ramp_s = connections / rate + 0.5  # until every connection is open
            # Probe while the attack holds its connections: from the end of the ramp to
            # shortly before slowhttptest closes them (or the server has closed them all).
            end = round_started + left - 0.3
            while time.monotonic() < round_started + ramp_s and attack.poll() is None:
                result.held_peak = max(result.held_peak, established(server.port) or 0)
                time.sleep(0.2)
            while time.monotonic() < end and attack.poll() is None:
                result.held_peak = max(result.held_peak, established(server.port) or 0)
                p = probe(server.port, expected, started)
                # An answer that came once the attack was over says nothing about "during".
                if attack.poll() is None and time.monotonic() < round_started + left:
                    result.during.append(p)
                time.sleep(PROBE_EVERY_S)
            try:
                attack.wait(timeout=max(0.0, end - time.monotonic()) + 20)
            except subprocess.TimeoutExpired:
                result.fail("slowhttptest did not end within 20 s of its duration; killed")
                os.killpg(attack.pid, signal.SIGKILL)
                attack.wait()
            log.seek(0)
            output = log.read()
            log.close()
            counts = attack_counts(output)
            counts["seconds"] = round(time.monotonic() - round_started, 1)
            result.rounds.append(counts)
            if counts.get("connected", 0) + counts.get("closed", 0) == 0:
                result.fail(f"slowhttptest held no connection ({counts.get('exit')}): "
                            + ANSI.sub("", output).strip()[-300:])
                break
        attack_ended = time.monotonic()

        # After the attack: the first answer within RECOVERY_LIMIT_S, then AFTER_PROBES more.
        while time.monotonic() < attack_ended + RECOVERY_LIMIT_S:
            p = probe(server.port, expected, started)
            result.after.append(p)
            if p.ok:
                result.recovery_s = round(time.monotonic() - attack_ended, 2)
                break
            time.sleep(PROBE_EVERY_S)
        if result.recovery_s is None:
            result.fail(f"no answer within {RECOVERY_LIMIT_S:.0f} s after the attack "
                        f"({result.after[-1].error if result.after else 'no probe'})")
        else:
            for _ in range(AFTER_PROBES):
                time.sleep(0.1)
                result.after.append(probe(server.port, expected, started))
            missed = [p for p in result.after[-AFTER_PROBES:] if not p.ok]
            if missed:
                result.fail(f"{len(missed)} of {AFTER_PROBES} probes after recovery unanswered "
                            f"({missed[0].error})")

        missed = [p for p in result.during if not p.ok]
        result.available_failed = bool(missed) or not result.during
        if result.expect_available and result.available_failed:
            what = (f"{len(missed)} of {len(result.during)} probes during the attack unanswered "
                    f"(first at {missed[0].at_s:.1f} s: {missed[0].error})" if missed
                    else "no probe during the attack")
            if result.known_defect:
                result.problems.append(what)
            else:
                result.fail(what)
        elif result.known_defect and not result.available_failed:
            result.fail("listed in KNOWN_DEFECTS but answered every probe: update the list")
    except Exception as e:  # noqa: BLE001 -- report it as this run's failure and go on
        result.fail(f"{type(e).__name__}: {e}")
    finally:
        if attack is not None and attack.poll() is None:
            os.killpg(attack.pid, signal.SIGKILL)
            attack.wait()
        t0 = time.monotonic()
        problem = server.stop()  # SIGINT; exit status 0 and no process left, or a problem
        result.stop_s = round(time.monotonic() - t0, 2)
        result.exit_status = server.exit_status
        if problem:
            result.fail(problem + _stderr_tail(server))
        workdir.cleanup()
        result.background_cores = cpu.others_cores()
    return result


def _stderr_tail(server: RunningServer) -> str:
    tail = [line for line in server.stderr_tail if line.strip()][-3:]
    return f" (stderr: {' | '.join(tail)})" if tail else ""


def make_root(www: Path, into: Path) -> Path:
    """www/ plus the slow read's large file, in a temporary directory."""
    root = into / "www"
    shutil.copytree(www, root)
    with open(root / LARGE_FILE, "wb") as f:
        f.write(os.urandom(1 << 20) * (LARGE_BYTES >> 20))
    os.chmod(into, 0o755)
    return root


# ----------------------------------------------------------------------------------------------
# Report


def verdict(r: Result) -> str:
    if not r.ok:
        return "FAIL"
    return "known defect" if r.known_defect and r.available_failed else "pass"


def fmt_probes(answered: int, total: int) -> str:
    return f"{answered}/{total}" if total else "–"


def row(r: Result) -> list[str]:
    runs = len(r.rounds)
    early = sum(1 for a in r.rounds if a.get("exit") == "No open connections left")
    attack = f"{runs}" + (f" ({early} ended by the server)" if early else "")
    checks = sum(a.get("available_checks", 0) for a in r.rounds)
    tool = f"{sum(a.get('available_yes', 0) for a in r.rounds)}/{checks}" if checks else "–"
    during = fmt_probes(r.during_answered, len(r.during))
    if not r.expect_available:
        during += " (not expected)"
    recovery = "–" if r.recovery_s is None else f"{report.fmt_s(r.recovery_s)}"
    stop = r.exit_status + ("" if r.stop_s is None else f" in {report.fmt_s(r.stop_s)}")
    return [r.model, str(r.connections), f"{r.seconds} s", attack, str(r.held_peak), during,
            report.fmt_ms(r.worst_during_ms), tool,
            f"{recovery}, {fmt_probes(r.after_answered, len(r.after))}", stop, verdict(r)]


HEADER = ["model", "attack connections", "duration", "slowhttptest runs", "established at peak",
          "fresh clients answered during", "worst answer during", "slowhttptest: available",
          "after: first answer in, answered", "SIGINT: exit, in", "result"]


def tables(results: list[Result]) -> str:
    parts = []
    for mode in MODES:
        rows = [row(r) for r in results if r.mode == mode.name]
        if not rows:
            continue
        command = next(r.command for r in results if r.mode == mode.name)
        parts += [f"### {mode.title}", "", f"`{command}`", "",
                  report.table(HEADER, rows, "l" + "r" * 9 + "l"), ""]
    return "\n".join(parts).rstrip("\n")


def section(results: list[Result], started: datetime.datetime, elapsed_s: float) -> str:
    cores = os.cpu_count() or 1
    busiest = max((r.background_cores for r in results), default=0.0)
    seconds = results[0].seconds if results else 0
    lines = [
        "## Reliability under attack (slowhttptest)",
        "",
        f"Generated by `make attack` ([`bench/attack.py`](bench/attack.py)) on "
        f"{started:%Y-%m-%d %H:%M} UTC with Debian's {slowhttptest_version()}, "
        f"{machine()}; {elapsed_s / 60:.0f} min in all. Each model (default options) was "
        f"attacked for {seconds} s in each of slowhttptest's three slow modes, one model and "
        f"mode at a time (the command is under each heading; `make test` runs the same for 5 s "
        f"with 200 connections, six attacks at once but one slow read at a time).",
        "",
        f"- **Fresh clients answered during**: while the attack held its connections, a new "
        f"connection asked for `{PROBE_PATH}` every {PROBE_EVERY_S:g} s; answered = status 200 "
        f"and the exact bytes within {PROBE_TIMEOUT_S:g} s. Every model but `single_server` "
        f"must answer them all (`single_server` serves one client at a time: it is expected to "
        f"answer only after the attack).",
        f"- **After**: once slowhttptest has exited, how long until a fresh client was answered "
        f"(at most {RECOVERY_LIMIT_S:.0f} s allowed), and how many of the probes then were "
        f"answered (that one and {AFTER_PROBES} more: all must be).",
        f"- **SIGINT**: then the server must exit by itself with status 0, leaving no process "
        f"behind.",
        f"- **slowhttptest runs**: slowhttptest opens its connections once and ends when the "
        f"server has closed them all — a 408 to a request that has not arrived whole 10 s "
        f"after its first byte, a reader that has acknowledged nothing for 10 s dropped — and "
        f"then the driver starts it again with the time left, as an attacker who reconnects "
        f"would. *Ended by the server* counts those runs.",
        f"- **Established at peak**: the most connections to the server's port at once (`ss`; "
        f"the kernel's accept queue counts too). **slowhttptest: available** is the tool's own "
        f"probe, as it reports it with each status line: answered / asked.",
        f"- The slow read asks for an 8 MiB file (more than the socket buffers hold, or the "
        f"kernel would take the whole answer and the server never wait) added to a copy of "
        f"`www/`; slow headers and slow body ask for `{PROBE_PATH}` (the slow body is a POST, "
        f"which our server refuses with 405 — but only once the whole body has arrived).",
        "",
        tables(results),
        "",
    ]
    failed = [r for r in results if not r.ok]
    known = [r for r in results if r.ok and r.known_defect and r.available_failed]
    if failed:
        lines += ["**Failed checks:**", ""]
        lines += [f"- {r.model}, {r.mode}: {'; '.join(r.problems)}" for r in failed] + [""]
    if known:
        lines += ["**Known defects** (expected failures, listed in `bench/attack.py`):", ""]
        lines += [f"- {r.model}, {r.mode}: {r.known_defect} — {'; '.join(r.problems)}"
                  for r in known] + [""]
    if not failed and not known:
        lines += ["Every model passed every check.", ""]
    if busiest > 0.2:
        lines += [f"*Shared machine:* other programs used up to {busiest:.2f} of its {cores} "
                  f"cores while a model was attacked, which can only lengthen the latencies.", ""]
    return "\n".join(lines).rstrip("\n")


def slowhttptest_version() -> str:
    out = subprocess.run(["slowhttptest", "-h"], capture_output=True, text=True)
    match = re.search(r"version (\S+)", ANSI.sub("", out.stdout + out.stderr))
    return f"slowhttptest {match.group(1)}" if match else "slowhttptest"


def summary_line(r: Result) -> str:
    worst = report.fmt_ms(r.worst_during_ms)
    text = (f"{r.model:13} {r.mode:8} held {r.held_peak:4}  during {r.during_answered}/"
            f"{len(r.during)} (worst {worst})  after {r.after_answered}/{len(r.after)}  "
            f"exit {r.exit_status} in {r.stop_s}s  {verdict(r)}")
    if r.problems:
        text += ": " + "; ".join(r.problems)
    return text


# ----------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="make test's short run: 5 s, 200 connections, 6 at once (1 slow "
                             "read), no write")
    parser.add_argument("--bin", default="bin", help="directory of the server binaries")
    parser.add_argument("--models", default=",".join(m.name for m in OURS),
                        help="comma-separated -c names")
    parser.add_argument("--modes", default=",".join(MODE_BY_NAME), help="headers,body,read")
    parser.add_argument("--connections", type=int, help="per attack (200 quick, 240 full)")
    parser.add_argument("--seconds", type=int,
                        help="per attack (5 quick, else $ATTACK_SECONDS or 30)")
    parser.add_argument("--jobs", type=int, help="attacks at once (6 quick, 1 full)")
    parser.add_argument("--www", default=str(REPO / "www"))
    parser.add_argument("--json", help="raw results (default: build/attack/attack.json)")
    parser.add_argument("--output", default=str(REPO / "benchmark.md"))
    parser.add_argument("--no-write", action="store_true", help="do not touch benchmark.md")
    args = parser.parse_args()
    connections = args.connections or (200 if args.quick else 240)
    seconds = args.seconds or (5 if args.quick else int(os.environ.get("ATTACK_SECONDS") or 30))
    jobs = args.jobs or (6 if args.quick else 1)
    if seconds < 3:
        parser.error("--seconds must be at least 3")
    by_name = {m.name: m for m in OURS}
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in names if m not in by_name] + [m for m in modes if m not in MODE_BY_NAME]
    if unknown:
        parser.error(f"unknown model(s) or mode(s) {unknown}; models: {list(by_name)}, "
                     f"modes: {list(MODE_BY_NAME)}")
    bin_dir = Path(args.bin) if Path(args.bin).is_absolute() else REPO / args.bin
    missing = [by_name[m].binary for m in names if not (bin_dir / by_name[m].binary).exists()]
    if missing:
        parser.error(f"not built in {bin_dir}: {missing} (make all)")
    for tool in ("slowhttptest", "ss"):
        if shutil.which(tool) is None:
            parser.error(f"{tool} is not installed (scripts/install-deps.sh attack)")
    # A server started from a shell script run in the background inherits an ignored SIGINT,
    # and an ignored signal stays ignored across exec; a handler of ours is reset to the default.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    # One slow read at a time, the modes mixed so the others run meanwhile. A slow read's server
    # sockets queue what the client will not take, up to the kernel's 4 MB send buffer each: one
    # attack of 200 connections held 192k pages (750 MB) of TCP memory (/proc/net/sockstat), two
    # reach this machine's tcp_mem pressure mark (384k pages), six held 501k -- and in TCP memory
    # pressure probes to every server timed out: the machine's limit, not any model's. Every
    # model still meets every mode once.
    plan = [(by_name[n], MODE_BY_NAME[modes[(i + k) % len(modes)]])
            for k in range(len(modes)) for i, n in enumerate(names)]
    slow_reads = threading.Semaphore(1)
    per_run = seconds + connections / (200 if args.quick else 60) + 4
    waves = -(-len(plan) // jobs)
    started = datetime.datetime.now(datetime.timezone.utc)
    print(f"attack: {len(names)} models x {len(modes)} modes, {connections} connections for "
          f"{seconds} s each, {jobs} at once (about {waves * per_run / 60:.1f} min); load "
          f"average now {os.getloadavg()[0]:.1f}", flush=True)
    www = Path(args.www)
    expected = (www / PROBE_PATH.lstrip("/")).read_bytes()
    results: list[Result] = []
    lock = threading.Lock()
    with tempfile.TemporaryDirectory(prefix="attack-root-") as tmp:
        root = make_root(www, Path(tmp))

        def run(item: tuple[Model, Mode]) -> Result:
            with slow_reads if item[1].name == "read" else contextlib.nullcontext():
                r = attack_model(item[0], item[1], bin_dir, root, expected, connections, seconds,
                                 args.quick)
            with lock:
                print("  " + summary_line(r), flush=True)
            return r

        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(run, plan))
    elapsed = (datetime.datetime.now(datetime.timezone.utc) - started).total_seconds()

    json_path = Path(args.json) if args.json else REPO / "build" / "attack" / "attack.json"
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps({
        "started": started.isoformat(), "elapsed_s": round(elapsed, 1), "quick": args.quick,
        "connections": connections, "seconds": seconds, "jobs": jobs,
        "results": [dataclasses.asdict(r) for r in results]}, indent=1) + "\n")
    if not args.quick:
        print()
        print(tables(results))
    if not args.no_write and not args.quick:
        report.write_marked_section(Path(args.output), report.ATTACK_MARKERS,
                                    section(results, started, elapsed))
        print(f"\nwrote the attack section of {args.output}")
    failed = [f"{r.model}/{r.mode}" for r in results if not r.ok]
    known = [f"{r.model}/{r.mode}" for r in results if r.ok and verdict(r) == "known defect"]
    print(f"attack: {len(results) - len(failed)} of {len(results)} passed"
          + (f", {len(known)} as known defects ({', '.join(known)})" if known else "")
          + (f"; FAILED: {', '.join(failed)}" if failed else "")
          + f" ({elapsed:.0f} s; raw results: {json_path})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
