"""The measurements: wrk runs (and parsing their output), and three small socket probes written
with the standard library -- idle keep-alive connections, concurrent delayed requests, slow
clients."""

from __future__ import annotations

import json
import re
import selectors
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

BENCH_DIR = Path(__file__).resolve().parent
REQUEST = b"GET /page.html HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
# Half a request: the request line and one header, but not the blank line that ends the head.
HALF_REQUEST = b"GET /page.html HTTP/1.1\r\nHost: 127.0.0.1\r\n"


# ----------------------------------------------------------------------------------------------
# wrk


def wrk2_binary() -> str | None:
    return shutil.which("wrk2")


@dataclass
class WrkSpec:
    threads: int
    connections: int
    duration: int  # seconds (wrk takes whole seconds)
    rate: int | None = None  # fixed request rate (the lab's -R); None = as fast as possible
    close: bool = False  # send "Connection: close": one connection per request
    timeout: float | None = None  # wrk --timeout (default 2 s)

    def command(self, url: str, shown: bool = False) -> list[str]:
        """The wrk command line; `shown` gives the portable form printed in benchmark.md."""
        script_dir = "bench" if shown else str(BENCH_DIR)
        wrk2 = wrk2_binary()
        base = ["wrk2" if wrk2 and self.rate else "wrk"]
        if not shown:
            base[0] = wrk2 if wrk2 and self.rate else "wrk"
        args = [f"-t{self.threads}", f"-c{self.connections}", f"-d{self.duration}s"]
        if self.rate and wrk2:
            args.append(f"-R{self.rate}")
        if self.timeout is not None:
            args.append(f"--timeout={self.timeout:g}s")
        if self.close:
            args += ["-H", "'Connection: close'" if shown else "Connection: close"]
        args.append("--latency")
        if self.rate and not wrk2:
            args += ["-s", f"{script_dir}/pace.lua", url, "--", str(self.rate), str(self.threads)]
        else:
            args += ["-s", f"{script_dir}/stats.lua", url]
        return base + args


@dataclass
class LoadResult:
    requests: int = 0
    duration_s: float = 0.0
    rps: float = 0.0
    p50_ms: float | None = None
    p90_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    errors: dict = field(default_factory=dict)  # connect, read, write, timeout, status
    server_cpu_s: float | None = None
    ctxt: int | None = None  # context switches on the machine during the run
    processes: int | None = None  # peak, when sampled
    threads: int | None = None
    rss: int | None = None  # bytes, peak
    stalled: int | None = None  # peak connections with a request unread > 1 s (see servers)
    wrk_cores: float | None = None  # CPU used by wrk (and the driver), in cores
    background_cores: float | None = None  # CPU used by everything else on the machine
    ok: bool = True
    note: str = ""

    @property
    def error_count(self) -> int:
        return sum(self.errors.get(k, 0) for k in ("connect", "read", "write", "timeout", "status"))

    @property
    def cpu_us_per_request(self) -> float | None:
        if self.server_cpu_s is None or not self.requests:
            return None
        return self.server_cpu_s * 1e6 / self.requests

    @property
    def ctxt_per_request(self) -> float | None:
        if self.ctxt is None or not self.requests:
            return None
        return self.ctxt / self.requests


_TIME_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_COUNT_UNITS = {"": 1, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9}


def parse_time_ms(text: str) -> float | None:
    """'415.94us' -> 0.41594; '1.49ms'; '2.00s'; '1.00m'. None for what is not a time."""
    match = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", text.strip())
    if not match:
        return None
    return float(match.group(1)) * _TIME_UNITS[match.group(2)]


def parse_count(text: str) -> float | None:
    """'10.09k' -> 10090; '1.2M'; '123'."""
    match = re.fullmatch(r"([0-9.]+)([kKMG]?)", text.strip())
    if not match:
        return None
    return float(match.group(1)) * _COUNT_UNITS[match.group(2)]


def parse_wrk_output(text: str) -> LoadResult:
    """Reads wrk's (or wrk2's) report. Prefers the BENCH_RESULT line printed by bench/stats.lua;
    falls back on the human-readable summary for anything missing."""
    r = LoadResult()
    r.errors = {"connect": 0, "read": 0, "write": 0, "timeout": 0, "status": 0}
    found_summary = False
    match = re.search(r"(\d+) requests in ([0-9.]+(?:us|ms|s|m|h))", text)
    if match:
        r.requests = int(match.group(1))
        r.duration_s = (parse_time_ms(match.group(2)) or 0.0) / 1e3
        found_summary = True
    match = re.search(r"Requests/sec:\s+([0-9.]+[kMG]?)", text)
    if match:
        r.rps = parse_count(match.group(1)) or 0.0
    match = re.search(r"^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)", text, re.M)
    if match:
        r.max_ms = parse_time_ms(match.group(3))
    # wrk: "     99%    1.49ms"; wrk2: " 99.000%    2.10ms"
    for pct, value in re.findall(r"^\s*([0-9.]+)%\s+([0-9.]+(?:us|ms|s|m|h))\s*$", text, re.M):
        p = float(pct)
        if p == 50:
            r.p50_ms = parse_time_ms(value)
        elif p == 90:
            r.p90_ms = parse_time_ms(value)
        elif p == 99:
            r.p99_ms = parse_time_ms(value)
    match = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if match:
        for key, value in zip(("connect", "read", "write", "timeout"), match.groups()):
            r.errors[key] = int(value)
    match = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if match:
        r.errors["status"] = int(match.group(1))

    match = re.search(r"^BENCH_RESULT (\{.*\})\s*$", text, re.M)
    if match:
        data = json.loads(match.group(1))
        r.requests = data["requests"]
        r.duration_s = data["duration_us"] / 1e6
        r.rps = r.requests / r.duration_s if r.duration_s else 0.0
        for key in ("connect", "read", "write", "timeout", "status"):
            r.errors[key] = data[key]
        if r.requests:
            r.p50_ms, r.p90_ms = data["p50_us"] / 1e3, data["p90_us"] / 1e3
            r.p99_ms, r.max_ms = data["p99_us"] / 1e3, data["max_us"] / 1e3
        found_summary = True
    if not found_summary:
        r.ok = False
        r.note = "no result in wrk's output: " + " ".join(text.split())[-200:]
    elif r.requests == 0:
        r.p50_ms = r.p90_ms = r.p99_ms = r.max_ms = None
    return r


def run_wrk(spec: WrkSpec, url: str, tick: Callable[[float], None] | None = None) -> LoadResult:
    """Runs wrk; calls tick(seconds_left) about once a second while it runs."""
    proc = subprocess.Popen(spec.command(url), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    start = time.monotonic()
    deadline = start + spec.duration + max(30.0, spec.duration)
    while True:
        try:
            out, _ = proc.communicate(timeout=1.0)
            break
        except subprocess.TimeoutExpired:
            if time.monotonic() > deadline:
                proc.kill()
                out, _ = proc.communicate()
                result = LoadResult(ok=False, note="wrk did not finish; killed")
                return result
            if tick:
                tick(max(0.0, spec.duration - (time.monotonic() - start)))
    text = out.decode("utf-8", "replace")
    result = parse_wrk_output(text)
    if proc.returncode != 0 and result.ok:
        result.note = f"wrk exited with status {proc.returncode}"
    return result


# ----------------------------------------------------------------------------------------------
# Socket probes


class ResponseReader:
    """Incremental HTTP/1.1 response reader: headers, then Content-Length bytes of body."""

    def __init__(self) -> None:
        self.buffer = b""
        self.responses = 0
        self.statuses: list[int] = []
        self.server_closes = False  # the last response said Connection: close

    def feed(self, data: bytes) -> int:
        """Adds bytes; returns how many responses they completed."""
        self.buffer += data
        done = 0
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return done
            head = self.buffer[:end].decode("latin-1")
            length = 0
            match = re.search(r"(?im)^content-length:\s*(\d+)", head)
            if match:
                length = int(match.group(1))
            if len(self.buffer) < end + 4 + length:
                return done
            self.buffer = self.buffer[end + 4 + length :]
            status = re.match(r"HTTP/1\.[01] (\d{3})", head)
            self.statuses.append(int(status.group(1)) if status else 0)
            self.server_closes = re.search(r"(?im)^connection:\s*close", head) is not None
            self.responses += 1
            done += 1


class Client:
    """One non-blocking client socket and what it has received."""

    def __init__(self, port: int, close_when_answered: bool = False):
        self.close_when_answered = close_when_answered  # like a one-off curl
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setblocking(False)
        self.sock.connect_ex(("127.0.0.1", port))
        self.reader = ResponseReader()
        self.pending = b""  # bytes still to send
        self.awaiting = 0  # requests sent and not yet answered
        self.closed = False  # the server closed (or reset) the connection
        self.last_answer = 0.0
        self.answered_at: float | None = None  # first answer

    def send(self, data: bytes, counts_as_request: bool = True) -> None:
        self.pending += data
        if counts_as_request:
            self.awaiting += 1
        self.flush()

    def flush(self) -> None:
        try:
            while self.pending:
                n = self.sock.send(self.pending)
                self.pending = self.pending[n:]
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            self.closed = True

    def on_readable(self, now: float) -> None:
        try:
            data = self.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.closed = True
            return
        answered = self.reader.feed(data)
        if answered:
            self.awaiting = max(0, self.awaiting - answered)
            self.last_answer = now
            if self.answered_at is None:
                self.answered_at = now
            if self.close_when_answered and not self.awaiting:
                self.closed = True  # _pump closes the socket

    def close(self) -> None:
        self.sock.close()


def _pump(clients: list[Client], until: Callable[[], bool], deadline: float,
          every: Callable[[float], None] | None = None) -> None:
    """Runs the clients' I/O until `until()` is true or the deadline passes."""
    sel = selectors.DefaultSelector()
    registered = {}
    for c in clients:
        if not c.closed:
            sel.register(c.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
            registered[c] = True
    try:
        while time.monotonic() < deadline and not until():
            for key, mask in sel.select(timeout=0.05):
                c: Client = key.data
                now = time.monotonic()
                if mask & selectors.EVENT_WRITE:
                    c.flush()
                if mask & selectors.EVENT_READ:
                    c.on_readable(now)
                if c.closed:
                    sel.unregister(c.sock)
                    registered.pop(c, None)
                    if c.close_when_answered:
                        c.close()
                elif not c.pending:
                    sel.modify(c.sock, selectors.EVENT_READ, c)
            if every:
                every(time.monotonic())
                for c in list(registered):
                    if c.pending and not c.closed:
                        sel.modify(c.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
    finally:
        sel.close()


@dataclass
class IdleResult:
    opened: int
    answered: int  # got their first response
    held_open: int  # answered and still open when memory was measured
    measurement: object  # whatever measure() returned
    seconds: float  # from the first connect to the measurement


def idle_connections(port: int, count: int, measure: Callable[[], object],
                     wait_s: float, keepalive_every_s: float = 2.0) -> IdleResult:
    """Opens `count` keep-alive connections, sends one request on each and reads the answer, then
    calls measure() while they are all open. The servers close a keep-alive connection after 5 s
    of idleness, so a connection that has been idle for `keepalive_every_s` is sent another
    request. Waits at most `wait_s` for every connection to be answered."""
    start = time.monotonic()
    clients = []
    try:
        for _ in range(count):
            c = Client(port)
            c.send(REQUEST)
            clients.append(c)

        def keep_alive(now: float) -> None:
            for c in clients:
                if not c.closed and not c.awaiting and now - c.last_answer > keepalive_every_s:
                    c.send(REQUEST)

        def everyone_answered() -> bool:
            return all(c.closed or c.answered_at is not None for c in clients)

        _pump(clients, everyone_answered, start + wait_s, keep_alive)
        # Let connections that the server closes right after answering (single_server) show it.
        _pump(clients, lambda: False, time.monotonic() + 0.3, keep_alive)
        measurement = measure()
        seconds = time.monotonic() - start
        answered = sum(1 for c in clients if c.answered_at is not None)
        held = sum(1 for c in clients if c.answered_at is not None and not c.closed
                   and not c.reader.server_closes)
        return IdleResult(count, answered, held, measurement, seconds)
    finally:
        for c in clients:
            c.close()


@dataclass
class DelayResult:
    requests: int
    answered: int
    wall_s: float  # first connect to last answer (or to the time limit)
    first_s: float | None  # when the first answer arrived
    timed_out: bool


def concurrent_requests(port: int, count: int, limit_s: float) -> DelayResult:
    """`count` clients send one request each at the same moment; how long until all answered?
    Each client closes its connection once answered, so a keep-alive worker is free at once."""
    start = time.monotonic()
    clients = []
    try:
        for _ in range(count):
            c = Client(port, close_when_answered=True)
            c.send(REQUEST)
            clients.append(c)
        _pump(clients, lambda: all(c.answered_at is not None or c.closed for c in clients),
              start + limit_s)
        answered = [c.answered_at for c in clients if c.answered_at is not None]
        end = max(answered) if len(answered) == count else time.monotonic()
        return DelayResult(count, len(answered), end - start,
                           (min(answered) - start) if answered else None,
                           timed_out=len(answered) < count)
    finally:
        for c in clients:
            c.close()


@dataclass
class SlowResult:
    slow_clients: int
    answer_s: float | None  # None: starved (no answer within the limit)
    status: int | None
    limit_s: float


def slow_clients(port: int, count: int, limit_s: float, settle_s: float = 0.5) -> SlowResult:
    """`count` clients send half a request and stop; then one normal client asks for the page.
    How long does the normal client wait?"""
    slow = []
    try:
        for _ in range(count):
            c = Client(port)
            c.send(HALF_REQUEST, counts_as_request=False)
            slow.append(c)
        _pump(slow, lambda: all(not c.pending for c in slow), time.monotonic() + settle_s)
        time.sleep(max(0.0, settle_s))  # let the server accept them and start reading
        normal = Client(port)
        start = time.monotonic()
        normal.send(REQUEST)
        try:
            _pump([normal], lambda: normal.answered_at is not None or normal.closed,
                  start + limit_s)
        finally:
            normal.close()
        if normal.answered_at is None:
            return SlowResult(count, None, None, limit_s)
        status = normal.reader.statuses[0] if normal.reader.statuses else None
        return SlowResult(count, normal.answered_at - start, status, limit_s)
    finally:
        for c in slow:
            c.close()
