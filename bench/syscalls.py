"""Table 7 of make bench: system calls per request. A fixed number of requests from a small
client, counted on the server's whole process tree (every thread, and children it forks or
threads it starts while counted), divided by the requests answered.

Two counters; by default the first that works here:
  perf   `perf stat` on the kernel's syscall tracepoints (syscalls:sys_enter_NAME, one counter
         per name in SYSCALLS, raw_syscalls:sys_enter for the total, and sys_exit with ret < 0
         for failures), attached with -p and inherited by new threads and children; started
         disabled and switched on and off through --control, so the count covers the requests
         and not perf's own start. It does not stop the server at each call, as strace does,
         so the timing -- and with it how often an event loop finds a socket empty (EAGAIN) or
         several ready at once -- stays closer to the server's own; it still adds a cost to
         every call and context switch (wrk's rate while counted, in the report, shows how
         much it slowed a server).
  strace `strace -c -f -p PID ...` (when perf or the tracepoints are not available, or
         bench.py --syscall-tool strace): every call stops the server for strace, which slows
         it several-fold, so requests pile up and an event loop's epoll_wait and EAGAIN reads
         come out lower than untraced.

The clients (threads with blocking sockets, standard library only):
  KeepAliveClient  N requests over C keep-alive connections opened before counting starts;
                   each connection sends its next request when the answer has arrived (no
                   pipelining). A server that closes after each answer (single_server) is
                   reconnected to, inside the count: its number includes a new connection.
  close_requests   N requests, each on a connection of its own with `Connection: close`.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from probes import REQUEST, ResponseReader

CLOSE_REQUEST = b"GET /page.html HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"

# Calls a static-file server makes, by the names of their tracepoints (sendfile64 is sendfile):
# those the models and the references were seen to make (strace -c -f over keep-alive and
# Connection: close requests), and a few near relatives. perf counts each name here; whatever
# else the server calls is in `other` (total - these). Every name is a counter in every thread,
# switched with the thread at each context switch: a longer list slows the servers more.
SYSCALLS = """
read readv recvfrom recvmsg write writev sendto sendmsg sendfile64 pread64 openat openat2 close
newfstatat statx fcntl ioctl lseek epoll_wait epoll_pwait epoll_ctl epoll_create1 poll ppoll
pselect6 accept accept4 shutdown setsockopt futex clone clone3 wait4 exit exit_group getpid
getppid prctl set_robust_list rseq rt_sigprocmask rt_sigaction rt_sigreturn mmap munmap mprotect
madvise eventfd2
""".split()
# Calls whose failures are counted by name too: reads and accepts that an event loop may find
# empty (EAGAIN), and opens of files that are not there.
READS = ("read", "recvfrom")
FAILING = READS + ("accept4", "openat")
SHOWN_NAMES = {"sendfile64": "sendfile"}
TRACEFS = (Path("/sys/kernel/tracing/events/syscalls"),
           Path("/sys/kernel/debug/tracing/events/syscalls"))


@dataclass
class Count:
    """System calls of a server's process tree while a client made `requests` requests."""
    requests: int = 0  # answered
    connections: int = 0  # opened by the client inside the count
    seconds: float = 0.0  # the client's time, first request to last answer
    total: int = 0
    failed: int | None = None  # calls that returned an error (None: not counted)
    calls: dict = field(default_factory=dict)  # name -> calls
    failed_calls: dict = field(default_factory=dict)  # name -> failed calls (FAILING only)
    other: int = 0  # calls under no name in `calls` (perf: not in SYSCALLS)
    errors: int = 0  # requests the client could not complete
    ok: bool = True
    note: str = ""

    def per_request(self, n: int | None) -> float | None:
        return None if n is None or not self.requests else n / self.requests


# ----------------------------------------------------------------------------------------------
# Counters


def _tracepoints() -> Path | None:
    for path in TRACEFS:
        try:
            if (path / "sys_enter_read").is_dir():
                return path
        except OSError:
            pass
    return None


def choose_tool(wanted: str = "auto") -> tuple[str | None, str]:
    """("perf", "") when perf can count syscall tracepoints here, else ("strace", why not perf),
    else (None, why neither). `wanted`: "perf" or "strace" to use only that one."""
    why = "perf is not installed (package linux-perf)"
    if wanted == "strace":
        why = "--syscall-tool strace"
    elif shutil.which("perf"):
        why = "the kernel's syscall tracepoints are not readable (tracefs)"
        if _tracepoints() is not None:
            try:
                done = subprocess.run(["perf", "stat", "-x,", "-e", "raw_syscalls:sys_enter",
                                       "true"], capture_output=True, text=True, timeout=20)
                match = re.search(r"^(\d+),", done.stderr, re.M)
                if done.returncode == 0 and match and int(match.group(1)) > 0:
                    return "perf", ""
                why = "`perf stat -e raw_syscalls:sys_enter` does not count here: " + (
                    done.stderr.strip().splitlines() or ["no output"])[-1][:160]
            except (OSError, subprocess.TimeoutExpired) as e:
                why = f"perf failed: {e}"
    if wanted == "perf":
        return None, why
    if shutil.which("strace"):
        return "strace", why
    return None, why + "; strace is not installed either"


def threads_of(pids: list[int]) -> int:
    n = 0
    for pid in pids:
        try:
            n += len(os.listdir(f"/proc/{pid}/task"))
        except OSError:
            pass
    return n


def _perf_events() -> list[str]:
    """perf's -e and --filter arguments: the total, the failed calls, each name in SYSCALLS that
    this kernel has, and the failures of those in FAILING."""
    root = _tracepoints()
    available = {p.name.removeprefix("sys_enter_") for p in root.iterdir()
                 if p.name.startswith("sys_enter_")} if root else set()
    names = [n for n in SYSCALLS if n in available]
    failing = [n for n in FAILING if n in available]
    events = ["-e", "raw_syscalls:sys_enter", "-e", "raw_syscalls:sys_exit", "--filter", "ret < 0",
              "-e", ",".join(f"syscalls:sys_enter_{n}" for n in names)]
    if failing:
        events += ["-e", ",".join(f"syscalls:sys_exit_{n}" for n in failing),
                   "--filter", "ret < 0"]
    return events


class TracepointKeeper:
    """Holds every tracepoint PerfCounter uses open, on this process, for as long as it lives.
    The kernel unregisters a tracepoint when its last perf user closes it, and waits for that
    (tens of milliseconds each: seconds for the ~90 here); while another user holds it, a
    counter opens and closes its own in no time. stop() does not wait for that last close;
    join() does. While it holds them every system call on the machine takes the traced path."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            ["perf", "stat", "-x,", "-o", os.devnull, "-p", str(os.getpid())] + _perf_events(),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._waiter: threading.Thread | None = None

    def stop(self) -> None:
        if self._waiter is None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGINT)
            self._waiter = threading.Thread(target=self.proc.wait, daemon=True)
            self._waiter.start()

    def join(self) -> None:
        self.stop()
        assert self._waiter is not None
        self._waiter.join(timeout=60)


class PerfCounter:
    """`perf stat` attached to `pids`, counting only between enable() and disable()."""

    def __init__(self, pids: list[int]):
        self.pids = pids
        self._tmp = tempfile.TemporaryDirectory(prefix="bench-perf-")
        self.output = Path(self._tmp.name) / "perf.csv"
        ctl_r, self._ctl = os.pipe()
        self._ack, ack_w = os.pipe()
        command = ["perf", "stat", "-x,", "-D", "-1", "--control", f"fd:{ctl_r},{ack_w}",
                   "-o", str(self.output), "-p", ",".join(map(str, pids))] + _perf_events()
        self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, pass_fds=(ctl_r, ack_w))
        os.close(ctl_r)
        os.close(ack_w)

    def _command(self, word: str, timeout: float = 30.0) -> None:
        """Sends enable/disable and waits for perf's ack (it answers once its counters are open,
        which for a few thousand threads takes a moment)."""
        os.write(self._ctl, word.encode() + b"\n")
        deadline = time.monotonic() + timeout
        got = b""
        while b"ack" not in got:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                raise RuntimeError(f"perf did not acknowledge '{word}'"
                                   + self._stderr_tail())
            ready, _, _ = select.select([self._ack], [], [], min(left, 0.5))
            if ready:
                chunk = os.read(self._ack, 64)
                if not chunk:
                    raise RuntimeError("perf closed its control pipe" + self._stderr_tail())
                got += chunk

    def _stderr_tail(self) -> str:
        if self.proc.poll() is None or self.proc.stderr is None:
            return ""
        text = self.proc.stderr.read().decode(errors="replace").strip()
        return (": " + text.splitlines()[-1][:200]) if text else ""

    def enable(self) -> None:
        self._command("enable")

    def disable(self) -> None:
        self._command("disable")

    def finish(self, count: Count) -> None:
        """Stops perf and fills in `count` from its output."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._ctl, self._ack):
            os.close(fd)
        try:
            text = self.output.read_text()
        finally:
            if self.proc.stderr is not None:
                self.proc.stderr.close()
            self._tmp.cleanup()
        named, failed, total, failed_total, missing = {}, {}, None, None, []
        for line in text.splitlines():
            fields = line.split(",")
            if len(fields) < 3 or not fields[2]:
                continue
            event, value = fields[2], fields[0]
            if not value.isdigit():  # "<not counted>", "<not supported>"
                missing.append(event)
                continue
            if event == "raw_syscalls:sys_enter":
                total = int(value)
            elif event == "raw_syscalls:sys_exit":
                failed_total = int(value)
            elif event.startswith("syscalls:sys_enter_"):
                named[event.removeprefix("syscalls:sys_enter_")] = int(value)
            elif event.startswith("syscalls:sys_exit_"):
                failed[event.removeprefix("syscalls:sys_exit_")] = int(value)
        if total is None or missing:
            count.ok = False
            count.note = "perf counted nothing" + (f" for {', '.join(missing[:3])}"
                                                   if missing else "")
            return
        count.total, count.failed = total, failed_total
        count.calls = {SHOWN_NAMES.get(k, k): v for k, v in named.items() if v}
        count.failed_calls = {SHOWN_NAMES.get(k, k): v for k, v in failed.items() if v}
        count.other = max(0, total - sum(named.values()))


class StraceCounter:
    """`strace -c -f` attached to `pids`: counts from attach (enable) to detach (disable)."""

    def __init__(self, pids: list[int]):
        self.pids = pids
        self._tmp = tempfile.TemporaryDirectory(prefix="bench-strace-")
        self.output = Path(self._tmp.name) / "strace.txt"
        self.proc: subprocess.Popen | None = None
        self._attached = 0
        self._lines: list[str] = []

    def enable(self) -> None:
        command = ["strace", "-c", "-f", "-o", str(self.output)]
        for pid in self.pids:
            command += ["-p", str(pid)]
        tasks = max(1, threads_of(self.pids))
        self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        attached = threading.Event()

        def read() -> None:  # "strace: Process N attached" [" with M threads"], per process
            assert self.proc is not None and self.proc.stderr is not None
            for line in self.proc.stderr:
                self._lines.append(line.rstrip())
                match = re.search(r" attached(?: with (\d+) threads)?", line)
                if match:
                    self._attached += int(match.group(1) or 1)
                    if self._attached >= tasks:
                        attached.set()
            attached.set()

        threading.Thread(target=read, daemon=True).start()
        attached.wait(timeout=10 + tasks / 100)
        if self.proc.poll() is not None:
            raise RuntimeError("strace did not attach: " + " | ".join(self._lines[-2:]))
        time.sleep(0.1)

    def disable(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def finish(self, count: Count) -> None:
        self.disable()
        try:
            text = self.output.read_text() if self.output.exists() else ""
        finally:
            self._tmp.cleanup()
        # "% time  seconds  usecs/call  calls  errors syscall": errors may be blank.
        total = None
        for line in text.splitlines():
            match = re.match(r"\s*[\d.]+\s+[\d.]+\s+(?:\d+\s+)?(\d+)\s+(?:(\d+)\s+)?(\S+)\s*$",
                             line)
            if not match:
                continue
            calls, errors, name = int(match.group(1)), int(match.group(2) or 0), match.group(3)
            if name == "total":
                total, count.failed = calls, errors
                continue
            count.calls[name] = calls
            if errors and name in FAILING:
                count.failed_calls[name] = errors
        if total is None:
            count.ok = False
            count.note = "strace printed no summary"
            return
        count.total = total
        count.other = 0


def make_counter(tool: str, pids: list[int]):
    return PerfCounter(pids) if tool == "perf" else StraceCounter(pids)


# ----------------------------------------------------------------------------------------------
# Clients


class _Conn:
    """A blocking keep-alive client connection that reconnects when the server has closed."""

    def __init__(self, port: int, timeout: float):
        self.port, self.timeout = port, timeout
        self.sock: socket.socket | None = None
        self.reader = ResponseReader()
        self.opened = 0

    def _connect(self) -> None:
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
        self.reader = ResponseReader()
        self.opened += 1

    def request(self, data: bytes = REQUEST) -> bool:
        """One request and its whole answer; False when the server did not answer it. A kept
        connection that the server closed while idle is replaced once."""
        reused = self.sock is not None
        if self._request(data):
            return True
        return reused and self.sock is None and self._request(data)

    def _request(self, data: bytes) -> bool:
        try:
            if self.sock is None:
                self._connect()
            assert self.sock is not None
            self.sock.sendall(data)
            while not self.reader.responses:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("closed before the answer")
                self.reader.feed(chunk)
        except OSError:
            self.close()
            return False
        ok = self.reader.statuses[-1] == 200
        if self.reader.server_closes or data is CLOSE_REQUEST:
            self._drain_and_close()
        else:
            self.reader.responses = 0
        return ok

    def _drain_and_close(self) -> None:
        """Waits for the server's close (EOF), so the count includes its side of it."""
        assert self.sock is not None
        try:
            while self.sock.recv(65536):
                pass
        except OSError:
            pass
        self.close()

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


@dataclass
class ClientRun:
    requests: int = 0  # answered with 200
    errors: int = 0
    connections: int = 0
    seconds: float = 0.0


def _in_threads(work: Callable[[int], tuple[int, int, int]], threads: int) -> ClientRun:
    results: list[tuple[int, int, int]] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        r = work(i)
        with lock:
            results.append(r)

    started = time.monotonic()
    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return ClientRun(sum(r[0] for r in results), sum(r[1] for r in results),
                     sum(r[2] for r in results), time.monotonic() - started)


class KeepAliveClient:
    """`connections` keep-alive connections, opened (and answered once) by open() before the
    count starts; run(n) makes n requests over them, one at a time on each."""

    def __init__(self, port: int, connections: int, timeout: float = 10.0):
        self.conns = [_Conn(port, timeout) for _ in range(connections)]

    def open(self) -> None:
        for c in self.conns:
            c.request()
            c.opened = 0  # opened before the count

    def run(self, requests: int) -> ClientRun:
        n = len(self.conns)
        share = [requests // n + (1 if i < requests % n else 0) for i in range(n)]

        def work(i: int) -> tuple[int, int, int]:
            ok = errors = 0
            for _ in range(share[i]):
                if self.conns[i].request():
                    ok += 1
                else:
                    errors += 1
            return ok, errors, self.conns[i].opened

        return _in_threads(work, n)

    def close(self) -> None:
        for c in self.conns:
            c.close()


def close_requests(port: int, requests: int, threads: int, timeout: float = 10.0) -> ClientRun:
    """`requests` requests with `Connection: close`, each on a new connection, from `threads`
    threads; each waits for the server to close before the next."""
    share = [requests // threads + (1 if i < requests % threads else 0) for i in range(threads)]

    def work(i: int) -> tuple[int, int, int]:
        ok = errors = opened = 0
        for _ in range(share[i]):
            c = _Conn(port, timeout)
            try:
                good = c.request(CLOSE_REQUEST)
            except OSError:
                good = False
            opened += c.opened
            c.close()
            ok, errors = ok + good, errors + (not good)
        return ok, errors, opened

    return _in_threads(work, threads)
