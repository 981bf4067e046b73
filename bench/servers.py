"""The servers under test: start one on a free port, read its process tree from /proc, stop it.

Every server binary is started as `bin/<model>_server -p 0 -f www` in a session of its own (so a
Ctrl-C at the terminal reaches the driver, not the server), and prints `listening on port N`.
Stopping sends SIGINT (nginx: SIGQUIT, its graceful stop) and checks what the lab asks of a
well-behaved server: it exits by itself, with status 0, and leaves no process behind.
"""

from __future__ import annotations

import collections
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
from dataclasses import dataclass
from pathlib import Path

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
STOP_TIMEOUT_S = 20.0  # a graceful stop longer than this is a failure


@dataclass(frozen=True)
class Model:
    name: str  # the -c value: "thread-pool"; "nginx" for the reference
    binary: str  # "thread_pool_server"
    takes_workers: bool = False  # accepts --workers N
    one_at_a_time: bool = False  # serves a fixed number of connections at once (pools, single)


MODELS = [
    Model("single", "single_server", one_at_a_time=True),
    Model("thread", "thread_server"),
    Model("process", "process_server"),
    Model("thread-pool", "thread_pool_server", takes_workers=True, one_at_a_time=True),
    Model("process-pool", "process_pool_server", takes_workers=True, one_at_a_time=True),
    Model("async", "async_server", takes_workers=True),
    Model("nginx", "nginx"),
]
MODEL_BY_NAME = {m.name: m for m in MODELS}


class ServerError(Exception):
    """The server did not start, or stopped badly."""


# ----------------------------------------------------------------------------------------------
# /proc


@dataclass
class ProcStat:
    pid: int
    ppid: int
    state: str
    cpu_ticks: int  # utime + stime + cutime + cstime: this process and its reaped children
    threads: int
    rss_pages: int


def read_proc_stat(pid: int) -> ProcStat | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode("ascii", "replace")
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    fields = data[data.rindex(")") + 2 :].split()
    return ProcStat(
        pid=pid,
        ppid=int(fields[1]),
        state=fields[0],
        cpu_ticks=sum(int(x) for x in fields[11:15]),
        threads=int(fields[17]),
        rss_pages=int(fields[21]),
    )


def all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def process_tree(root: int) -> list[ProcStat]:
    """The root and all its living descendants (zombies excluded)."""
    stats = [s for s in (read_proc_stat(pid) for pid in all_pids()) if s is not None]
    children = collections.defaultdict(list)
    for s in stats:
        children[s.ppid].append(s)
    by_pid = {s.pid: s for s in stats}
    if root not in by_pid:
        return []
    tree, todo = [], [by_pid[root]]
    while todo:
        s = todo.pop()
        if s.state != "Z":
            tree.append(s)
        todo.extend(children.get(s.pid, []))
    return tree


def pss_bytes(pid: int) -> int:
    """Proportional set size: the process's private pages plus its share of shared ones."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@dataclass
class TreeSample:
    processes: int
    threads: int
    rss: int  # bytes, summed over the processes (shared pages counted once per process)
    cpu_s: float  # CPU seconds used so far by the tree, reaped children included
    pss: int = 0  # bytes, summed; only when asked for (reading smaps costs more)


def sample_tree(root: int, with_pss: bool = False) -> TreeSample:
    tree = process_tree(root)
    return TreeSample(
        processes=len(tree),
        threads=sum(s.threads for s in tree),
        rss=sum(s.rss_pages for s in tree) * PAGE_SIZE,
        cpu_s=sum(s.cpu_ticks for s in tree) / CLOCK_TICKS,
        pss=sum(pss_bytes(s.pid) for s in tree) if with_pss else 0,
    )


def context_switches() -> int:
    """Context switches on the whole machine since boot (/proc/stat ctxt)."""
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("ctxt "):
                return int(line.split()[1])
    return 0


def stalled_connections(port: int, min_wait_ms: int = 1000) -> int | None:
    """Server-side connections whose unread request bytes (Recv-Q > 0) arrived `min_wait_ms` or
    more ago: clients that wait and are not being served -- a pool's queued keep-alive
    connections, say. wrk cannot show them: a request that never gets an answer is neither in
    its request count nor in its latencies nor in its timeouts.
    None when `ss` (iproute2) is not available."""
    ss = shutil.which("ss")
    if ss is None:
        return None
    try:
        out = subprocess.run([ss, "-tinH", "state", "established", f"( sport = :{port} )"],
                             capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    stalled, recv_q = 0, 0
    for line in out.splitlines():
        if line and not line[0].isspace():  # "Recv-Q Send-Q local peer"
            fields = line.split()
            recv_q = int(fields[0]) if fields and fields[0].isdigit() else 0
        else:  # the socket's tcp_info; ss leaves out a "lastrcv:MS" that is 0
            match = re.search(r"\blastrcv:(\d+)", line)
            if recv_q > 0 and match and int(match.group(1)) >= min_wait_ms:
                stalled += 1
            recv_q = 0
    return stalled


def machine_busy_s() -> float:
    """CPU seconds the whole machine spent running tasks since boot (/proc/stat: user, nice,
    system, steal -- not irq/softirq, which the kernel charges to no task)."""
    with open("/proc/stat") as f:
        fields = f.readline().split()  # "cpu user nice system idle iowait irq softirq steal ..."
    user, nice, system, steal = (int(fields[i]) for i in (1, 2, 3, 8))
    return (user + nice + system + steal) / CLOCK_TICKS


class PeakSampler:
    """Samples a process tree (and its port's stalled connections) every `interval` seconds in
    a thread; keeps the peaks."""

    def __init__(self, root: int, port: int, interval: float = 1.0, stall_ms: int = 1000):
        self.root, self.port, self.interval, self.stall_ms = root, port, interval, stall_ms
        self.peak = TreeSample(0, 0, 0, 0.0)
        self.stalled: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            s = sample_tree(self.root)
            self.peak.processes = max(self.peak.processes, s.processes)
            self.peak.threads = max(self.peak.threads, s.threads)
            self.peak.rss = max(self.peak.rss, s.rss)
            stalled = stalled_connections(self.port, self.stall_ms)
            if stalled is not None:
                self.stalled = max(self.stalled or 0, stalled)


# ----------------------------------------------------------------------------------------------
# Starting and stopping


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class RunningServer:
    def __init__(self, model: Model, proc: subprocess.Popen, port: int, command: list[str],
                 tmpdir: tempfile.TemporaryDirectory | None = None):
        self.model, self.proc, self.port, self.command = model, proc, port, command
        self.pid = proc.pid
        self._tmpdir = tmpdir
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=30)
        self._drain: threading.Thread | None = None

    def shown_command(self, repo: Path) -> str:
        """The command line as the report prints it: paths relative to the repository, the
        port as chosen (-p 0) and nginx's temporary directory as TMP."""
        if self.model.name == "nginx":
            return "nginx -c bench/nginx.conf.template (filled in: port, www/, a temp dir)"
        words = []
        for word in self.command:
            path = Path(word)
            if path.is_absolute() and path.is_relative_to(repo):
                word = str(path.relative_to(repo))
            elif path.is_absolute():
                word = f"{path.parent.name}/{path.name}"
            words.append(word)
        return " ".join(words)

    def url(self, path: str = "/page.html") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def sample(self, with_pss: bool = False) -> TreeSample:
        return sample_tree(self.pid, with_pss)

    def drain_stderr(self, already: bytes = b"") -> None:
        """Keeps reading the server's stderr so it never blocks on a full pipe."""
        for line in already.decode("utf-8", "replace").splitlines():
            self.stderr_tail.append(line)

        def run() -> None:
            assert self.proc.stderr is not None
            for raw in self.proc.stderr:
                self.stderr_tail.append(raw.decode("utf-8", "replace").rstrip())

        if self.proc.stderr is not None:
            self._drain = threading.Thread(target=run, daemon=True)
            self._drain.start()

    def _group_leftovers(self) -> list[int]:
        """Living processes still in the server's process group (its session leader is gone)."""
        left = []
        for pid in all_pids():
            try:
                with open(f"/proc/{pid}/stat", "rb") as f:
                    data = f.read().decode("ascii", "replace")
            except OSError:
                continue
            fields = data[data.rindex(")") + 2 :].split()
            if int(fields[2]) == self.pid and fields[0] != "Z":
                left.append(pid)
        return left

    def stop(self) -> str | None:
        """Graceful stop. Returns None when all went well, else what went wrong."""
        problem = None
        sig = signal.SIGQUIT if self.model.name == "nginx" else signal.SIGINT
        if self.proc.poll() is not None:
            problem = f"had already exited (status {self.proc.returncode}) before the stop signal"
        else:
            os.kill(self.pid, sig)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                problem = f"did not exit within {STOP_TIMEOUT_S:.0f} s of {sig.name}; killed"
                try:
                    os.killpg(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
            if problem is None and self.proc.returncode != 0:
                rc = self.proc.returncode
                how = f"was killed by signal {-rc}" if rc < 0 else f"exited with status {rc}"
                problem = f"{how} after {sig.name} (expected status 0)"
        # Processes of the model (forked children) must be gone too. Give them a moment.
        deadline = time.monotonic() + 2.0
        left = self._group_leftovers()
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            left = self._group_leftovers()
        if left:
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            extra = f"left {len(left)} process(es) running after exit; killed them"
            problem = f"{problem}; {extra}" if problem else extra
        if self._drain is not None:
            self._drain.join(timeout=2.0)
        if self.proc.stderr is not None:
            self.proc.stderr.close()
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
        return problem


def start_server(model: Model, bin_dir: Path, www: Path, *, delay: float | None = None,
                 workers: int | None = None, nofile: int = 1024,
                 template: Path | None = None) -> RunningServer:
    if model.name == "nginx":
        return _start_nginx(model, www, nofile, template)
    command = [str(bin_dir / model.binary), "-p", "0", "-f", str(www)]
    if delay is not None:
        command.append(f"--delay={delay:g}")
    if workers is not None and model.takes_workers:
        command += ["--workers", str(workers)]
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    assert proc.stderr is not None
    fd = proc.stderr.fileno()
    seen = b""
    deadline = time.monotonic() + 10.0
    while True:
        match = re.search(rb"listening on port (\d+)", seen)
        if match:
            break
        left = deadline - time.monotonic()
        if left <= 0 or proc.poll() is not None:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise ServerError(f"{model.binary} did not print 'listening on port N' "
                              f"(status {proc.returncode}): {seen.decode(errors='replace')[-300:]}")
        ready, _, _ = select.select([fd], [], [], min(left, 0.2))
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                continue
            seen += chunk
    server = RunningServer(model, proc, int(match.group(1)), command)
    server.drain_stderr(seen[match.end():])
    return server


def _start_nginx(model: Model, www: Path, nofile: int, template: Path | None) -> RunningServer:
    assert template is not None
    tmpdir = tempfile.TemporaryDirectory(prefix="bench-nginx-")
    tmp = Path(tmpdir.name)
    os.chmod(tmp, 0o755)  # nginx workers may run as another user when started as root
    port = free_port()
    connections = max(1024, nofile - 64)
    conf = (template.read_text().replace("@PORT@", str(port)).replace("@ROOT@", str(www))
            .replace("@TMP@", str(tmp)).replace("@NOFILE@", str(nofile))
            .replace("@CONNECTIONS@", str(connections)))
    (tmp / "nginx.conf").write_text(conf)
    log = tmp / "error.log"
    command = ["nginx", "-p", f"{tmp}/", "-c", str(tmp / "nginx.conf"), "-e", str(log)]
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    if not wait_for_port(port, proc, 10.0):
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        logged = log.read_text(errors="replace") if log.exists() else ""
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        tmpdir.cleanup()
        raise ServerError(f"nginx did not start (status {proc.returncode}): {err}{logged}"[-400:])
    server = RunningServer(model, proc, port, command, tmpdir)
    server.drain_stderr()
    return server
