"""The servers under test, for make bench and make soak: the list of models; start one on a free
port, read its process tree from /proc, stop it; the CPU the rest of the machine used meanwhile.

Every server binary is started as `bin/<model>_server -p 0 -f www` in a session of its own (so a
Ctrl-C at the terminal reaches the driver, not the server), and prints `listening on port N`.
The reference servers (REFERENCES: nginx, lighttpd, h2o, Apache httpd prefork/worker/event) are
started the same way, in a session of their own, from their bench/*.conf.template filled in
into a temporary directory, on a free port the driver picked.
Stopping sends SIGINT (a reference: its own graceful-stop signal) and checks what the lab asks of
a well-behaved server: it exits by itself, with status 0, and leaves no process behind.
"""

from __future__ import annotations

import collections
import csv
import http.client
import io
import os
import re
import resource
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
from typing import Callable

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
STOP_TIMEOUT_S = 20.0  # a graceful stop longer than this is a failure


@dataclass(frozen=True)
class Reference:
    """A production server run beside our models: how to configure, start, stop and name it."""
    product: str  # "Apache httpd"
    settings: str  # its configuration in a few words, for benchmark.md (markdown)
    program: str  # the executable, found in PATH: "apache2"
    package: str  # the Debian package that brings it (scripts/install-deps.sh bench)
    template: str  # its configuration template in bench/: "apache.conf.template"
    command: tuple[str, ...]  # how to start it in the foreground; @CONF@ and @TMP@ filled in
    stop_signal: signal.Signals  # its graceful stop
    version: tuple[str, ...]  # prints its version on the first line (stdout or stderr)
    fill: tuple[tuple[str, str], ...] = ()  # template fields of its own: (("MPM", "prefork"),)
    # @CONNECTIONS@ from the descriptor limit (`ulimit -n`); None: not in its template
    max_connections: Callable[[int], int] | None = None
    needs: tuple[str, ...] = ()  # files it needs besides the program (an Apache MPM module)
    counterpart_of: tuple[str, ...] = ()  # our models it is the production counterpart of
    stop_s: float = 0.0  # how long its graceful stop takes, for the time estimate
    hint: str = ""  # added when it does not answer GET /page.html
    # Several workers (table 8): the template fields for N worker processes or threads, and the
    # setting as benchmark.md shows it ("`worker_processes {n}`"). None: runs as configured only.
    # Without a count (every other table) the fields are filled in for 1.
    workers_fill: Callable[[int], dict[str, str]] | None = None
    workers_setting: str = ""


@dataclass(frozen=True)
class Model:
    name: str  # the -c value: "thread-pool"; a reference's own name: "nginx", "apache-event"
    binary: str  # "thread_pool_server"; a reference's name again
    what: str  # how it serves, in a few words (benchmark.md's summary table)
    takes_workers: bool = False  # accepts --workers N
    one_at_a_time: bool = False  # serves a fixed number of connections at once (pools, single)
    event_loop: bool = False  # holds connections as state in a loop: table 3 also at 10,000
    reference: Reference | None = None  # None: one of ours (the registry, common/models.h)

    @property
    def stop_signal(self) -> signal.Signals:
        return self.reference.stop_signal if self.reference else signal.SIGINT


REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / "bench"


def registered_models(bin_dir: Path = REPO / "bin") -> list[Model]:
    """Our models, as `http_server --list-models` prints the one registry (common/models.h)."""
    wrapper = bin_dir / "http_server"
    try:
        listing = subprocess.run([str(wrapper), "--list-models"], capture_output=True, text=True,
                                 check=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError) as e:
        raise SystemExit(f"cannot list the models with {wrapper} ({e}): build first (make)")
    return [Model(row["name"], row["binary"], row["what"], takes_workers=row["workers"] == "yes",
                  one_at_a_time=row["slow_clients_hold_workers"] == "yes",
                  event_loop=row["kind"] == "event-loop")
            for row in csv.DictReader(io.StringIO(listing), delimiter="\t")]


def _apache(mpm: str, what: str, counterpart_of: tuple[str, ...]) -> Model:
    modules = "/usr/lib/apache2/modules"
    return Model(
        f"apache-{mpm}", f"apache-{mpm}", what, one_at_a_time=True,
        reference=Reference(
            product="Apache httpd",
            settings=f"`mod_mpm_{mpm}` with its compiled-in sizes (no `MaxRequestWorkers` or "
            "`StartServers` of ours: what a user gets), `KeepAlive On`, `MaxKeepAliveRequests 0` "
            "(no cap), `KeepAliveTimeout 5`, `EnableSendfile On`, no access log; the children "
            "run as www-data",
            program="apache2", package="apache2", template="apache.conf.template",
            command=("apache2", "-f", "@CONF@", "-DFOREGROUND"),
            # graceful-stop: finish the requests in progress (the parent looks once a second)
            stop_signal=signal.SIGWINCH, stop_s=1.0,
            version=("apache2", "-v"), fill=(("MPM", mpm),),
            needs=(f"{modules}/mod_mpm_{mpm}.so", f"{modules}/mod_mime.so"),
            counterpart_of=counterpart_of,
            hint="Apache's children run as www-data: is www/ readable by that user?"))


# The production servers `make bench` measures beside ours, in this order after ours: the event
# loops first (async_server's counterparts), then Apache's three MPMs (the pools').
REFERENCES = [
    Model("nginx", "nginx", "reference: nginx, event loop, 1 worker process", event_loop=True,
          reference=Reference(
              product="nginx",
              settings="1 worker process, `access_log off`, `sendfile on`, `worker_connections` "
              "from `ulimit -n`, 5 s keep-alive timeout, no cap on requests per connection",
              program="nginx", package="nginx-light", template="nginx.conf.template",
              command=("nginx", "-p", "@TMP@/", "-c", "@CONF@", "-e", "@TMP@/error.log"),
              stop_signal=signal.SIGQUIT, version=("nginx", "-v"),
              max_connections=lambda nofile: max(1024, nofile - 64),
              counterpart_of=("async",),
              workers_fill=lambda n: {"WORKERS": str(n)},
              workers_setting="`worker_processes {n}`")),
    Model("lighttpd", "lighttpd", "reference: lighttpd, event loop, 1 process", event_loop=True,
          reference=Reference(
              product="lighttpd",
              settings="1 process, `server.max-keep-alive-requests` raised from its 1,000 (no "
              "practical cap), 5 s keep-alive idle, `server.max-fds` = `ulimit -n` and "
              "`server.max-connections` half that (lighttpd's ceiling), no access log",
              program="lighttpd", package="lighttpd", template="lighttpd.conf.template",
              command=("lighttpd", "-D", "-f", "@CONF@"),
              stop_signal=signal.SIGINT, version=("lighttpd", "-v"),
              max_connections=lambda nofile: nofile // 2,  # lighttpd's own ceiling: max-fds / 2
              counterpart_of=("async",),
              # 0: no forked worker, the one process serves; N > 0: N forked workers (and the
              # first process only watches them), so 1 worker is written as 0
              workers_fill=lambda n: {"MAX_WORKER": "0" if n <= 1 else str(n)},
              workers_setting="`server.max-worker = {n}`")),
    Model("h2o", "h2o", "reference: h2o, event loop, 1 thread", event_loop=True,
          reference=Reference(
              product="h2o",
              settings="`num-threads: 1` (one event loop), `max-connections` from `ulimit -n`, "
              "5 s `http1-request-timeout` (its keep-alive idle timeout), no cap on requests per "
              "connection, no access log",
              program="h2o", package="h2o", template="h2o.conf.template",
              command=("h2o", "-c", "@CONF@"),
              stop_signal=signal.SIGTERM, version=("h2o", "-v"),
              max_connections=lambda nofile: max(1024, nofile - 64),
              counterpart_of=("async",),
              hint="h2o started as root runs as nobody: is www/ readable by that user?",
              workers_fill=lambda n: {"WORKERS": str(n)},
              workers_setting="`num-threads: {n}`")),
    _apache("prefork", "reference: Apache prefork, a process pool (default sizes)",
            ("process-pool",)),
    _apache("worker", "reference: Apache worker, threads in processes (default sizes)",
            ("thread-pool",)),
    _apache("event", "reference: Apache event, worker + a keep-alive listener (default sizes)",
            ("thread-pool",)),
]

OURS = registered_models()
MODELS = OURS + REFERENCES
MODEL_BY_NAME = {m.name: m for m in MODELS}
REFERENCE_NAMES = [m.name for m in REFERENCES]


def is_reference(name: str) -> bool:
    return name in REFERENCE_NAMES


def is_ours(name: str) -> bool:
    """One of the registered models (servers.MODELS minus the references)."""
    return name in MODEL_BY_NAME and not is_reference(name)


def missing(model: Model, bin_dir: Path) -> str | None:
    """Why the model cannot run here (not built, not installed), or None."""
    ref = model.reference
    if ref is None:
        if not os.access(bin_dir / model.binary, os.X_OK):
            return f"{bin_dir.name}/{model.binary} is not built"
        return None
    if shutil.which(ref.program) is None:
        return f"{ref.program} is not installed (package {ref.package}: " \
               "scripts/install-deps.sh bench)"
    absent = [path for path in ref.needs if not os.path.exists(path)]
    if absent:
        return f"{', '.join(absent)} not found (package {ref.package})"
    return None


def reference_version(model: Model) -> str:
    """"nginx/1.22.1", "lighttpd/1.4.69", "h2o 2.2.5", "Apache/2.4.62 (Debian)"."""
    assert model.reference is not None
    try:
        out = subprocess.run(list(model.reference.version), capture_output=True, text=True,
                             timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    text = (out.stdout or out.stderr).strip()
    line = text.splitlines()[0] if text else "unknown"
    line = re.sub(r"^(Server version|nginx version): ", "", line)
    line = re.sub(r" version ", " ", line)
    return re.sub(r" - a light and fast webserver$", "", line)


class ServerError(Exception):
    """The server did not start, or stopped badly."""


# ----------------------------------------------------------------------------------------------
# /proc


@dataclass
class ProcStat:
    pid: int
    ppid: int
    pgrp: int
    state: str  # "Z": a zombie, exited and not yet reaped
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
        pgrp=int(fields[2]),
        state=fields[0],
        cpu_ticks=sum(int(x) for x in fields[11:15]),
        threads=int(fields[17]),
        rss_pages=int(fields[21]),
    )


def all_stats() -> list[ProcStat]:
    """Every process on the machine."""
    pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    return [s for s in (read_proc_stat(pid) for pid in pids) if s is not None]


def process_tree(root: int) -> list[ProcStat]:
    """The root and all its descendants, zombies included."""
    stats = all_stats()
    children = collections.defaultdict(list)
    for s in stats:
        children[s.ppid].append(s)
    by_pid = {s.pid: s for s in stats}
    if root not in by_pid:
        return []
    tree, todo = [], [by_pid[root]]
    while todo:
        s = todo.pop()
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


def count_fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


@dataclass
class TreeSample:
    processes: int  # living ones; the sums below are over them
    threads: int
    rss: int  # bytes, summed over the processes (shared pages counted once per process)
    cpu_s: float  # CPU seconds used so far by the tree, reaped children included
    pss: int = 0  # bytes, summed; only when asked for (reading smaps costs more)
    fds: int = 0  # open descriptors, summed; only when asked for
    zombies: int = 0  # children that have exited and are not reaped yet


def sample_tree(root: int, with_pss: bool = False, with_fds: bool = False) -> TreeSample:
    tree = process_tree(root)
    living = [s for s in tree if s.state != "Z"]
    return TreeSample(
        processes=len(living),
        threads=sum(s.threads for s in living),
        rss=sum(s.rss_pages for s in living) * PAGE_SIZE,
        cpu_s=sum(s.cpu_ticks for s in living) / CLOCK_TICKS,
        pss=sum(pss_bytes(s.pid) for s in living) if with_pss else 0,
        fds=sum(count_fds(s.pid) for s in living) if with_fds else 0,
        zombies=len(tree) - len(living),
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


class TreeSampler:
    """Samples a process tree every `interval` seconds in a thread: keeps every sample with its
    time (time.monotonic()) and the peaks; given a port, also the peak of its stalled
    connections."""

    def __init__(self, root: int, interval: float = 1.0, port: int | None = None,
                 stall_ms: int = 1000):
        self.root, self.port, self.interval, self.stall_ms = root, port, interval, stall_ms
        self.samples: list[tuple[float, TreeSample]] = []
        self.peak = TreeSample(0, 0, 0, 0.0)
        self.stalled: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            s = sample_tree(self.root)
            self.samples.append((time.monotonic(), s))
            self.peak.processes = max(self.peak.processes, s.processes)
            self.peak.threads = max(self.peak.threads, s.threads)
            self.peak.rss = max(self.peak.rss, s.rss)
            stalled = stalled_connections(self.port, self.stall_ms) if self.port else None
            if stalled is not None:
                self.stalled = max(self.stalled or 0, stalled)


# ----------------------------------------------------------------------------------------------
# The machine


def machine_busy_s() -> float:
    """CPU seconds the whole machine spent running tasks since boot (/proc/stat: user, nice,
    system, steal -- not irq/softirq, which the kernel charges to no task)."""
    with open("/proc/stat") as f:
        fields = f.readline().split()  # "cpu user nice system idle iowait irq softirq steal ..."
    user, nice, system, steal = (int(fields[i]) for i in (1, 2, 3, 8))
    return (user + nice + system + steal) / CLOCK_TICKS


def own_cpu_s() -> float:
    """CPU seconds of this driver and of every child it has reaped: the wrk runs, and a server
    once it is stopped (with the children it reaped in turn)."""
    return sum(getattr(resource.getrusage(who), f)
               for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
               for f in ("ru_utime", "ru_stime"))


class CpuWindow:
    """From its creation on: the wall time, the CPU this driver and its reaped children used, and
    what other programs used -- the machine's busy time minus ours. (The load average cannot
    tell a shared machine: it counts our own server and wrk.)"""

    def __init__(self) -> None:
        self.machine0, self.ours0, self.clock0 = machine_busy_s(), own_cpu_s(), time.monotonic()

    def wall_s(self) -> float:
        return time.monotonic() - self.clock0

    def ours_s(self) -> float:
        return own_cpu_s() - self.ours0

    def others_cores(self, also_ours_s: float = 0.0) -> float:
        """Cores' worth of CPU that other programs used; `also_ours_s`: CPU of ours that
        getrusage does not show yet (a server still running)."""
        others = machine_busy_s() - self.machine0 - self.ours_s() - also_ours_s
        return max(0.0, others) / self.wall_s()


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return None


# ----------------------------------------------------------------------------------------------
# Starting and stopping


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    """Polls `condition` until it holds (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


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
        self.exit_status = ""  # after stop(): "0", "1", "signal 9", or "hung" (killed)
        self._tmpdir = tmpdir
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=30)
        self._drain: threading.Thread | None = None

    def shown_command(self, repo: Path) -> str:
        """The command line as the report prints it: paths relative to the repository, the
        port as chosen (-p 0), a reference's temporary directory as TMP."""
        if self.model.reference is not None and self._tmpdir is not None:
            return " ".join(w.replace(self._tmpdir.name, "TMP") for w in self.command)
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

    def sample(self, with_pss: bool = False, with_fds: bool = False) -> TreeSample:
        return sample_tree(self.pid, with_pss, with_fds)

    def check_page(self, www: Path, delay: float = 0.0) -> None:
        """One GET /page.html: status 200 and the file's exact bytes, or a ServerError."""
        expected = (www / "page.html").read_bytes()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5 + delay)
        try:
            conn.request("GET", "/page.html")
            response = conn.getresponse()
            body = response.read()
        finally:
            conn.close()
        if response.status != 200 or body != expected:
            raise ServerError(f"status {response.status}, {len(body)} bytes "
                              f"(expected 200 and {len(expected)} bytes)")

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
        return [s.pid for s in all_stats() if s.pgrp == self.pid and s.state != "Z"]

    def stop(self) -> str | None:
        """Graceful stop. Returns None when all went well, else what went wrong."""
        problem, hung = None, False
        sig = self.model.stop_signal
        if self.proc.poll() is not None:
            problem = f"had already exited (status {self.proc.returncode}) before the stop signal"
        else:
            os.kill(self.pid, sig)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                problem = f"did not exit within {STOP_TIMEOUT_S:.0f} s of {sig.name}; killed"
                hung = True
                try:
                    os.killpg(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
            if problem is None and self.proc.returncode != 0:
                rc = self.proc.returncode
                how = f"was killed by signal {-rc}" if rc < 0 else f"exited with status {rc}"
                problem = f"{how} after {sig.name} (expected status 0)"
        rc = self.proc.returncode
        self.exit_status = "hung" if hung else str(rc) if rc >= 0 else f"signal {-rc}"
        # Processes of the model (forked children) must be gone too. Give them a moment.
        wait_for(lambda: not self._group_leftovers(), 2.0)
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
            if problem:  # a reference logs to its error.log, not to stderr
                self.stderr_tail.extend(error_log_tail(Path(self._tmpdir.name)))
            self._tmpdir.cleanup()
        return problem


def error_log_tail(tmp: Path, lines: int = 5) -> list[str]:
    try:
        return (tmp / "error.log").read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return []


def start_server(model: Model, bin_dir: Path, www: Path, *, delay: float | None = None,
                 workers: int | None = None, nofile: int = 1024) -> RunningServer:
    if model.reference is not None:
        return _start_reference(model, www, nofile, workers)
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


def _start_reference(model: Model, www: Path, nofile: int,
                     workers: int | None = None) -> RunningServer:
    """A reference server from its bench/*.conf.template, filled in (@PORT@, @ROOT@, @TMP@,
    @NOFILE@, @CONNECTIONS@, its worker count -- `workers`, default 1 -- and its own fields)
    into a temporary directory that holds its
    config, pid file and error.log, started in the foreground in a session of its own (a
    stopping Apache signals its whole process group), ready when its port accepts."""
    ref = model.reference
    assert ref is not None
    tmpdir = tempfile.TemporaryDirectory(prefix=f"bench-{model.name}-")
    tmp = Path(tmpdir.name)
    os.chmod(tmp, 0o755)  # workers that run as another user (www-data, nobody) when root starts it
    port = free_port()
    fields = {"PORT": str(port), "ROOT": str(www), "TMP": str(tmp), "NOFILE": str(nofile),
              **dict(ref.fill)}
    if ref.max_connections is not None:
        fields["CONNECTIONS"] = str(ref.max_connections(nofile))
    if ref.workers_fill is not None:
        fields.update(ref.workers_fill(workers or 1))
    elif workers not in (None, 1):
        tmpdir.cleanup()
        raise ServerError(f"bench/{ref.template} has no worker count to set")
    conf_text = (BENCH_DIR / ref.template).read_text()
    for key, value in fields.items():
        conf_text = conf_text.replace(f"@{key}@", value)
    left = re.findall(r"@[A-Z]+@", conf_text)
    if left:
        tmpdir.cleanup()
        raise ServerError(f"bench/{ref.template}: {', '.join(sorted(set(left)))} not filled in")
    conf = tmp / ref.template.replace(".template", "")
    conf.write_text(conf_text)
    command = [w.replace("@CONF@", str(conf)).replace("@TMP@", str(tmp)) for w in ref.command]
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    if not wait_for_port(port, proc, 10.0):
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        logged = "\n".join(error_log_tail(tmp))
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        tmpdir.cleanup()
        raise ServerError(f"{ref.program} did not start (status {proc.returncode}): "
                          f"{err}{logged}"[-400:])
    server = RunningServer(model, proc, port, command, tmpdir)
    server.drain_stderr()
    return server
