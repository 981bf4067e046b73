#!/usr/bin/env python3
"""Who served what, and when: the shape of each concurrency model, recorded and drawn.

`make timeline` runs this: every model is started with --delay=1 (each answer waits 1 s: slow
work) and --served-by (each answer names its process and thread: "X-Served-By: pid=P tid=T n=N
began=S"), the pools at a fixed size of 4 (thread pool --workers 4; process pool --workers 4
--max-workers 4: it never forks more than 4, and never retires below --workers). Then 12
clients connect, wait for each other (a threading.Barrier) and send their requests at once, one
connection each. For every request it records when it was sent, when the server began to answer
it (from the header), when its first and last byte arrived, and which process and thread served
it; writes the lot as JSON, and draws timeline.svg: one panel per model, one lane per process or
thread that served something, one bar per request from send to last byte (light while it waits
for a worker, dark from when the server began it).

The client is the course's own tool: one threading.Thread per request, started together.

--check asserts the shapes (tests/timeline_test.sh runs it small and fast):
  iterative (single)          serial: no two requests are served at once; the last ends at n x delay
  per connection (thread,     parallel: all end within about one delay, each in its own lane
  process)
  pool (thread-pool,          waves: exactly W lanes, at most W requests at once, and the ends
  process-pool)               cluster at delay, 2 x delay, ... ceil(n/W) x delay, W per wave
  event loop (async)          parallel, and one lane: a single process and thread served them all

  python3 bench/timeline.py --bin bin [--delay 1] [--requests 12] [--workers 4] [--check]
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import json
import math
import re
import select
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import Model, RunningServer, ServerError  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SERVED_BY = re.compile(rb"\r\nX-Served-By: pid=(\d+) tid=(\d+) n=(\d+) began=(\d+\.\d+)\r\n", re.I)


@dataclass
class Request:
    """One request as the client saw it; times in seconds from the first send of its model."""
    i: int
    sent: float = 0.0
    began: float | None = None  # the server began to answer (X-Served-By), before its delay
    first_byte: float | None = None
    last_byte: float | None = None
    status: int | None = None
    pid: int | None = None
    tid: int | None = None
    n: int | None = None  # the n-th answer of that process
    error: str = ""

    @property
    def lane(self) -> tuple[int, int] | None:
        return (self.pid, self.tid) if self.pid is not None else None


@dataclass
class Run:
    name: str  # the -c value
    binary: str
    kind: str  # iterative, per-connection, pool, event-loop (http_server --list-models)
    forks: bool
    what: str
    command: str  # as run, paths relative to the repository
    requests: list[Request] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def list_models(bin_dir: Path) -> list[dict[str, str]]:
    """The registry (common/models.h), as `http_server --list-models` prints it."""
    try:
        listing = subprocess.run([str(bin_dir / "http_server"), "--list-models"], check=True,
                                 capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError) as e:
        raise SystemExit(f"timeline: cannot list the models with {bin_dir}/http_server ({e}): "
                         "build first (make)")
    return list(csv.DictReader(io.StringIO(listing), delimiter="\t"))


def model_args(row: dict[str, str], workers: int) -> list[str]:
    """A fixed size for the pools; a single event loop for async."""
    if row["kind"] == "pool":
        if row["binary"] == "process_pool_server":
            return ["--workers", str(workers), "--max-workers", str(workers)]
        return ["--workers", str(workers)]
    if row["kind"] == "event-loop" and row["workers"] == "yes":
        return ["--workers", "1"]
    return []


def start(row: dict[str, str], bin_dir: Path, www: Path, delay: float,
          workers: int) -> RunningServer:
    command = [str(bin_dir / row["binary"]), "-p", "0", "-f", str(www), f"--delay={delay:g}",
               "--served-by", *model_args(row, workers)]
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    assert proc.stderr is not None
    ready, _, _ = select.select([proc.stderr], [], [], 10.0)
    first = proc.stderr.readline() if ready else b""  # "listening on port N, ..." (or an error)
    match = re.search(rb"listening on port (\d+)", first)
    if not match:
        proc.kill()
        proc.wait()
        raise ServerError(f"{row['binary']} did not start: {first.decode(errors='replace')}")
    server = RunningServer(Model(row["name"], row["binary"], row["what"]), proc,
                           int(match.group(1)), command)
    server.drain_stderr()
    return server


def fetch(port: int, request: Request, barrier: threading.Barrier, timeout: float) -> None:
    """Connects, waits for the others, sends one GET and reads the answer to its last byte.
    Times are absolute (time.time(), the clock the server's `began` uses) until `record`."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            barrier.wait(timeout=timeout)
            request.sent = time.time()
            s.sendall(f"GET /page.html?timeline={request.i} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      "Connection: close\r\n\r\n".encode())
            answer = b""
            while chunk := s.recv(65536):
                if not answer:
                    request.first_byte = time.time()
                answer += chunk
            request.last_byte = time.time()
    except (OSError, threading.BrokenBarrierError) as e:
        request.error = f"{type(e).__name__}: {e}"
        return
    status = re.match(rb"HTTP/1\.\d (\d{3}) ", answer)
    request.status = int(status.group(1)) if status else None
    served = SERVED_BY.search(answer.partition(b"\r\n\r\n")[0] + b"\r\n")
    if served is None:
        request.error = "no X-Served-By header in the answer (is --served-by implemented?)"
        return
    request.pid, request.tid, request.n = (int(g) for g in served.groups()[:3])
    request.began = float(served.group(4))


def record(row: dict[str, str], bin_dir: Path, www: Path, delay: float, count: int,
           workers: int) -> Run:
    server = start(row, bin_dir, www, delay, workers)
    run = Run(row["name"], row["binary"], row["kind"], row["forks"] == "yes", row["what"],
              server.shown_command(REPO))
    try:
        time.sleep(0.3)  # let a pool fork or start all its workers first
        run.requests = [Request(i) for i in range(count)]
        barrier = threading.Barrier(count)
        timeout = count * delay + 15
        threads = [threading.Thread(target=fetch, args=(server.port, r, barrier, timeout))
                   for r in run.requests]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        problem = server.stop()
    if problem:
        run.problems.append(f"stopping it: {problem}")
    t0 = min(r.sent for r in run.requests if r.sent) if any(r.sent for r in run.requests) else 0
    for r in run.requests:
        for name in ("sent", "began", "first_byte", "last_byte"):
            value = getattr(r, name)
            if value is not None:
                setattr(r, name, round(value - t0, 6))
        if r.error:
            run.problems.append(f"request {r.i}: {r.error}")
        elif r.status != 200:
            run.problems.append(f"request {r.i}: status {r.status}, expected 200")
    return run


def lanes(run: Run) -> dict[tuple[int, int], list[Request]]:
    """Requests by the process and thread that served them, lanes in order of first service."""
    by_lane: dict[tuple[int, int], list[Request]] = {}
    for r in sorted((r for r in run.requests if r.lane), key=lambda r: (r.began, r.i)):
        by_lane.setdefault(r.lane, []).append(r)
    return by_lane


def max_at_once(requests: list[Request], delay: float) -> int:
    """The most requests in their delay at one moment. From the server's clock only (`began`, and
    a worker is held at least 0.9 x delay after it), so a client thread that a busy machine
    schedules late cannot make two answers in a row look like two at once."""
    events = sorted([(r.began, 1) for r in requests]
                    + [(r.began + 0.9 * delay, -1) for r in requests])
    most = now = 0
    for _, step in events:
        now += step
        most = max(most, now)
    return most


def lanes_text(count: int) -> str:
    return f"{count} lane{'s' if count != 1 else ''}"


def check(run: Run, delay: float, workers: int) -> list[str]:
    """What the model's kind promises, tested on the recording; returns what does not hold."""
    if run.problems:
        return run.problems
    done = run.requests
    n = len(done)
    ends = sorted(r.last_byte for r in done)
    by_lane = lanes(run)
    slack = max(0.15, 0.4 * delay)  # a loaded machine: scheduling, fork, a busy core
    problems = []
    if any(r.last_byte < delay for r in done):
        problems.append(f"a request ended before the delay of {delay} s: {ends[0]:.3f} s")
    if run.kind == "iterative":
        if max_at_once(done, delay) != 1:
            problems.append(f"serial expected, but {max_at_once(done, delay)} requests "
                            "were served at once")
        if abs(ends[-1] - n * delay) > slack + 0.05 * n * delay:
            problems.append(f"the last request should end at about {n} x {delay} s, "
                            f"not {ends[-1]:.3f} s")
        if len(by_lane) != 1:
            problems.append(f"one lane expected (one thread), not {len(by_lane)}")
    elif run.kind in ("per-connection", "event-loop"):
        if ends[-1] > delay + slack:
            problems.append(f"parallel expected: all {n} should end by {delay + slack:.2f} s, "
                            f"the last ended at {ends[-1]:.3f} s")
        expected = n if run.kind == "per-connection" else 1
        what = ("a thread or process per connection" if expected == n
                else "one event loop: one process, one thread")
        if len(by_lane) != expected:
            problems.append(f"{lanes_text(expected)} expected ({what}), not {len(by_lane)}")
    elif run.kind == "pool":
        size = min(workers, n)
        if len(by_lane) != size:
            problems.append(f"{lanes_text(size)} expected (a fixed pool of {workers}), "
                            f"not {len(by_lane)}")
        at_once = max_at_once(done, delay)
        if at_once > size:
            problems.append(f"at most {size} requests at once expected, not {at_once}")
        waves = math.ceil(n / size)
        for k in range(1, waves + 1):
            expected = size if k < waves else n - size * (waves - 1)
            got = [e for e in ends if abs(e - k * delay) <= 0.35 * delay + 0.02 * k]
            if len(got) != expected:
                problems.append(f"wave {k}: {expected} requests should end at about "
                                f"{k * delay:.2f} s, {len(got)} did (ends: "
                                f"{', '.join(f'{e:.2f}' for e in ends)})")
    else:
        problems.append(f"unknown kind {run.kind!r}: nothing to check")
    return problems


# ------------------------------------------------------------------------------------------------
# The chart: plain SVG, written here (no plotting library), one panel per model.

WIDTH = 960
LEFT = 190  # lane labels
RIGHT = 20
ROW = 9  # one request's bar
ROW_GAP = 2
LANE_GAP = 5
PANEL_HEAD = 34
PANEL_GAP = 14
WAIT_COLOUR = "#c6dbef"
SERVE_COLOUR = "#2171b5"


def lane_label(run: Run, lane: tuple[int, int]) -> str:
    pid, tid = lane
    return f"pid {pid} · tid {tid}" if pid != tid else f"pid {pid} (main thread)"


def summary(run: Run, delay: float) -> str:
    by_lane = lanes(run)
    ends = [r.last_byte for r in run.requests if r.last_byte is not None]
    noun = "process" if run.forks else "thread"
    count = len(by_lane)
    plural = "es" if run.forks and count != 1 else ("s" if count != 1 else "")
    last = f"last byte at {max(ends):.1f} s" if ends else "no answers"
    flags = run.command.partition("--served-by")[2].strip()
    return (f"{len(run.requests)} requests, {count} {noun}{plural} served them; {last}"
            + (f"   ({flags})" if flags else ""))


def draw(runs: list[Run], delay: float, path: Path, title: str) -> None:
    ends = [r.last_byte for run in runs for r in run.requests if r.last_byte is not None]
    span = max(ends + [delay])
    step = 1 if span <= 20 * 1 else 2
    if span < 4:
        step = 0.5 if span >= 1.5 else 0.25
    axis_end = math.ceil(span / step) * step
    scale = (WIDTH - LEFT - RIGHT) / axis_end

    def x(t: float) -> float:
        return LEFT + max(0.0, t) * scale

    parts: list[str] = []
    y = 64
    for run in runs:
        by_lane = lanes(run)
        rows = sum(len(v) for v in by_lane.values())
        height = PANEL_HEAD + rows * (ROW + ROW_GAP) + len(by_lane) * LANE_GAP
        parts.append(f'<g class="panel" data-model="{run.name}">')
        parts.append(f'<rect x="4" y="{y}" width="{WIDTH - 8}" height="{height}" fill="#f7f7f7" '
                     'stroke="#ddd"/>')
        parts.append(f'<text x="12" y="{y + 16}" class="model">{html.escape(run.binary)}'
                     f'<tspan class="what"> — {html.escape(run.what)}</tspan></text>')
        parts.append(f'<text x="12" y="{y + 29}" class="what">{html.escape(summary(run, delay))}'
                     '</text>')
        # the second marks, in this panel
        t = 0.0
        while t <= axis_end + 1e-9:
            parts.append(f'<line x1="{x(t):.1f}" y1="{y + PANEL_HEAD - 4}" x2="{x(t):.1f}" '
                         f'y2="{y + height - 2}" stroke="#ccc" stroke-width="0.5"/>')
            t += step
        ly = y + PANEL_HEAD
        for lane, served in by_lane.items():
            lane_height = len(served) * (ROW + ROW_GAP)
            parts.append(f'<text x="{LEFT - 8}" y="{ly + min(lane_height, ROW + ROW_GAP) - 2}" '
                         f'class="lane">{html.escape(lane_label(run, lane))}</text>')
            if lane_height > ROW + ROW_GAP:
                parts.append(f'<line x1="{LEFT - 4}" y1="{ly}" x2="{LEFT - 4}" '
                             f'y2="{ly + lane_height - ROW_GAP}" stroke="#999"/>')
            for r in served:
                began = max(r.began, r.sent)
                tip = (f"request {r.i}: sent {r.sent:.3f} s, began {r.began:.3f} s, first byte "
                       f"{r.first_byte:.3f} s, last byte {r.last_byte:.3f} s; pid {r.pid} tid "
                       f"{r.tid}, answer {r.n} of that process")
                parts.append(f'<g><title>{html.escape(tip)}</title>'
                             f'<rect x="{x(r.sent):.1f}" y="{ly}" '
                             f'width="{(began - r.sent) * scale:.1f}" height="{ROW}" '
                             f'fill="{WAIT_COLOUR}"/><rect x="{x(began):.1f}" y="{ly}" '
                             f'width="{max(1.0, (r.last_byte - began) * scale):.1f}" '
                             f'height="{ROW}" fill="{SERVE_COLOUR}"/></g>')
                ly += ROW + ROW_GAP
            ly += LANE_GAP
        parts.append("</g>")
        y += height + PANEL_GAP
    # the time axis
    axis = [f'<line x1="{LEFT}" y1="{y}" x2="{x(axis_end):.1f}" y2="{y}" stroke="#333"/>']
    t = 0.0
    while t <= axis_end + 1e-9:
        axis.append(f'<line x1="{x(t):.1f}" y1="{y}" x2="{x(t):.1f}" y2="{y + 4}" stroke="#333"/>'
                    f'<text x="{x(t):.1f}" y="{y + 16}" class="tick">{t:g} s</text>')
        t += step
    legend = (f'<rect x="12" y="27" width="18" height="9" fill="{WAIT_COLOUR}"/>'
              '<text x="34" y="36" class="what">sent, waiting for a worker</text>'
              f'<rect x="200" y="27" width="18" height="9" fill="{SERVE_COLOUR}"/>'
              '<text x="222" y="36" class="what">being served: from when the server began it '
              '(then the -d delay) to the last byte</text>'
              '<text x="12" y="52" class="what">One lane per process or thread that served '
              'something (pid · tid, from the X-Served-By header of --served-by); one bar per '
              'request, from send to last byte.</text>')
    total_height = y + 28
    svg = "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{total_height}" '
        f'viewBox="0 0 {WIDTH} {total_height}" font-family="sans-serif">',
        "<style>.title{font-size:15px;font-weight:bold}.model{font-size:13px;font-weight:bold}"
        ".what{font-size:11px;font-weight:normal;fill:#444}"
        ".lane{font-size:10px;font-family:monospace;text-anchor:end;fill:#333}"
        ".tick{font-size:10px;text-anchor:middle}</style>",
        f'<rect width="{WIDTH}" height="{total_height}" fill="white"/>',
        f'<text x="12" y="18" class="title">{html.escape(title)}</text>',
        legend, *parts, *axis, "</svg>", ""])
    path.write_text(svg)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", type=Path, default=REPO / "bin")
    parser.add_argument("--www", type=Path, default=REPO / "www")
    parser.add_argument("--delay", type=float, default=1.0, help="--delay=SECONDS for each model")
    parser.add_argument("--requests", type=int, default=12, help="clients at once, one each")
    parser.add_argument("--workers", type=int, default=4, help="the pools' fixed size")
    parser.add_argument("--models", help="comma-separated -c names (default: every model)")
    parser.add_argument("--json", type=Path, default=REPO / "build" / "timeline.json")
    parser.add_argument("--svg", type=Path, default=REPO / "timeline.svg")
    parser.add_argument("--check", action="store_true", help="assert each model's shape; exit 1 "
                        "when one does not hold")
    args = parser.parse_args()
    if args.requests < 2 or args.workers < 1 or args.delay <= 0:
        parser.error("--requests >= 2, --workers >= 1 and --delay > 0")
    rows = list_models(args.bin)
    # The chart's order: the slowest first, then as the course meets them.
    order = ["single", "thread", "process", "thread-pool", "process-pool", "async"]
    rows.sort(key=lambda row: order.index(row["name"]) if row["name"] in order else len(order))
    if args.models:
        wanted = args.models.split(",")
        unknown = set(wanted) - {row["name"] for row in rows}
        if unknown:
            parser.error(f"unknown model(s) {', '.join(sorted(unknown))}")
        rows = [row for row in rows if row["name"] in wanted]
    runs: list[Run] = []
    failed = False
    for row in rows:
        if not (args.bin / row["binary"]).exists():
            print(f"timeline: {row['binary']} is not built; skipped")
            continue
        try:
            run = record(row, args.bin, args.www, args.delay, args.requests, args.workers)
        except ServerError as e:
            print(f"timeline: {row['name']}: FAILED: {e}")
            failed = True
            continue
        runs.append(run)
        ends = [r.last_byte for r in run.requests if r.last_byte is not None]
        print(f"timeline: {run.name:12} {lanes_text(len(lanes(run))) + ',':9} last byte at "
              f"{max(ends) if ends else float('nan'):.2f} s  ({run.command})")
        problems = check(run, args.delay, args.workers) if args.check else run.problems
        for p in problems:
            print(f"timeline: {run.name}: FAILED: {p}")
        failed = failed or bool(problems)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({
        "delay": args.delay, "requests": args.requests, "pool_workers": args.workers,
        "runs": [{**{k: v for k, v in asdict(run).items() if k != "requests"},
                  "requests": [asdict(r) for r in run.requests]} for run in runs]}, indent=1))
    title = (f"{args.requests} requests at once, each answered after --delay={args.delay:g}: "
             f"who served which, and when (pools of {args.workers})")
    draw(runs, args.delay, args.svg, title)
    print(f"timeline: wrote {args.json} and {args.svg}")
    if args.check:
        print(f"timeline: {'FAILED' if failed else 'ok'}: {len(runs)} models checked")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
