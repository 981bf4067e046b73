"""benchmark.md and benchmark.svg from the measured results (plain dicts, as saved by
bench.py --save-json, so `bench.py --from-json` can rewrite the report without measuring).

The sentences under each table are computed from the numbers (who is fastest, by how much);
the explanations beside them are fixed text about the mechanism each model pays for.

"Ours" are the registered models (servers.MODELS minus the references); the reference servers
(servers.REFERENCES: nginx, lighttpd, h2o, Apache prefork/worker/event) are listed after them,
and every table that divides by nginx also divides by the best reference measured in it."""

from __future__ import annotations

import math
import re
import shutil
import statistics
import subprocess
from pathlib import Path

from servers import MODEL_BY_NAME, REFERENCES, is_ours, is_reference


# ----------------------------------------------------------------------------------------------
# Formatting


def fmt_ms(ms: float | None) -> str:
    if ms is None:
        return "–"
    if ms < 1:
        return f"{ms:.2f} ms"
    if ms < 10:
        return f"{ms:.1f} ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{ms / 1000:.2f} s"


def fmt_rps(rps: float | None) -> str:
    return "–" if rps is None else f"{rps:,.0f}"


def fmt_ratio(x: float | None) -> str:
    if x is None:
        return "–"
    if 0 < x < 0.01:
        return f"{x:.1g}×"
    return f"{x:.2f}×" if x < 10 else f"{x:.0f}×"


def fmt_mib(b: float | None) -> str:
    if b is None:
        return "–"
    return f"{b / 2**20:.1f} MiB" if b < 2**30 else f"{b / 2**30:.2f} GiB"


def fmt_kib(b: float | None) -> str:
    if b is None:
        return "–"
    return f"{b / 1024:.1f} KiB" if abs(b) < 2**20 else f"{b / 2**20:.2f} MiB"


def fmt_num(x: float | None, digits: int = 0) -> str:
    return "–" if x is None else f"{x:,.{digits}f}"


def fmt_s(s: float) -> str:
    return f"{s:.2f} s" if s < 10 else f"{s:.1f} s"


def fmt_minutes(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def name(model: str) -> str:
    return f"`{MODEL_BY_NAME[model].binary if model in MODEL_BY_NAME else model}`"


def table(header: list[str], rows: list[list[str]], align: str = "") -> str:
    align = align or "l" + "r" * (len(header) - 1)
    marks = {"l": ":--", "r": "--:", "c": ":-:"}
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join(marks[a] for a in align) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def join_names(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def ordered(models: list[str]) -> list[str]:
    """Ours first, then the references, each in the order given."""
    return ([m for m in models if not is_reference(m)]
            + [m for m in models if is_reference(m)])


def number_word(n: int) -> str:
    words = "zero one two three four five six seven eight nine ten".split()
    return words[n] if 0 <= n < len(words) else str(n)


# ----------------------------------------------------------------------------------------------
# Choosing the run to report


def usable(runs: list[dict]) -> list[dict]:
    return [r for r in runs if r.get("ok", True) and r.get("requests", 0) > 0]


def best(runs: list[dict]) -> dict | None:
    """The run with the most requests per second; runs within 1 % of it count as a tie, and
    the tie goes to the lowest p99 (at a fixed rate every good run shows the same req/s)."""
    runs = usable(runs)
    if not runs:
        return None
    top = max(r["rps"] for r in runs)
    close = [r for r in runs if r["rps"] >= 0.99 * top]
    return min(close, key=lambda r: (r["p99_ms"] if r["p99_ms"] is not None else math.inf))


def median_run(runs: list[dict]) -> dict:
    """The run with the median requests per second (the lower middle of an even count), so a
    row's columns all come from one run; a list with no usable run gives its first."""
    ok = sorted(usable(runs), key=lambda r: r["rps"])
    return ok[(len(ok) - 1) // 2] if ok else runs[0]


def scale_rounds(d: dict) -> list[tuple[dict, list[dict]]]:
    """Table 3's rows: per model and connection count, the median round and all its rounds."""
    groups: dict[tuple[str, int], list[dict]] = {}
    for r in d.get("scale", []):
        groups.setdefault((r["model"], r["connections"]), []).append(r)
    return [(median_run(rs), rs) for rs in groups.values()]


def median_of(runs: list[dict], key: str) -> float | None:
    values = [r[key] for r in usable(runs) if r.get(key) is not None]
    return statistics.median(values) if values else None


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def best_reference(facts: dict, rate: float | None = None) -> str | None:
    """The best reference among `facts` (model -> its best run, or a table 3 row): the most
    requests per second, within 1 % a tie won by the lower p99 -- the same rule as best().
    At a fixed `rate` (table 1): the lowest p99 of those that kept up (97 % of the rate) and
    left no connection unanswered."""
    refs = {m: r for m, r in facts.items()
            if is_reference(m) and r and r.get("requests", 1) and r.get("rps")}
    if not refs:
        return None
    if rate:
        kept = [m for m, r in refs.items() if r["rps"] >= 0.97 * rate
                and r.get("p99_ms") is not None and not r.get("stalled")]
        if kept:
            return min(kept, key=lambda m: refs[m]["p99_ms"])
    top = max(r["rps"] for r in refs.values())
    close = [m for m, r in refs.items() if r["rps"] >= 0.99 * top]
    return min(close, key=lambda m: (refs[m]["p99_ms"] if refs[m].get("p99_ms") is not None
                                     else math.inf))


def divided(facts: dict, m: str, by: str | None, key: str = "rps") -> str:
    """facts[m][key] ÷ facts[by][key] as a cell; "–" for `by` itself or when either is missing."""
    if by is None or m == by or by not in facts or m not in facts:
        return "–"
    return fmt_ratio(ratio(facts[m].get(key), facts[by].get(key)))


def best_header(what: str, ref: str | None) -> str:
    return f"{what} ÷ best reference" + (f" ({name(ref)})" if ref else "")


def counterparts_sentence(facts: dict, key: str = "rps") -> str:
    """Each of our models against its production counterparts (servers.Reference.counterpart_of):
    the pools against Apache's MPMs, async_server against the event-loop servers."""
    parts = []
    for m in facts:
        if not is_ours(m) or facts[m].get(key) is None:
            continue
        refs = [r for r in facts if is_reference(r) and facts[r].get(key) is not None
                and m in MODEL_BY_NAME[r].reference.counterpart_of]
        if refs:
            parts.append(f"{name(m)} " + join_names(
                [f"{fmt_ratio(ratio(facts[m][key], facts[r][key]))} {name(r)}'s" for r in refs]))
    if not parts:
        return ""
    what = ("p99 ÷ the production counterparts' p99 (less is better)" if key == "p99_ms"
            else "Requests per second ÷ the production counterparts'")
    return f"{what}: " + "; ".join(parts) + "."


def references_sentence(facts: dict, key: str = "rps") -> str:
    """The references measured in this table, best first."""
    refs = [m for m in facts if is_reference(m) and facts[m].get(key) is not None]
    if not refs:
        return ""
    if key == "p99_ms":
        refs.sort(key=lambda m: facts[m][key])
        return "References' p99, lowest first: " + ", ".join(
            f"{name(m)} {fmt_ms(facts[m][key])}" for m in refs) + "."
    refs.sort(key=lambda m: -facts[m][key])
    return "References, fastest first: " + ", ".join(
        f"{name(m)} {facts[m][key]:,.0f}" for m in refs) + " req/s."


def memory_per_connection(idle: dict) -> tuple[float | None, float | None]:
    """RSS and PSS bytes per idle connection held open: (with - at rest) / held. None when too
    few were held (a pool's handful) to see through the noise of the heap, or PSS not read."""
    held = idle["held"]
    if held < max(10, idle["opened"] // 10):
        return None, None
    rss = (idle["rss"] - idle["rest_rss"]) / held
    pss = (idle["pss"] - idle["rest_pss"]) / held if idle.get("pss") else None
    return rss, pss


# ----------------------------------------------------------------------------------------------
# Sections


def machine_tag(d: dict) -> str:
    """One line for under each table: where and when it was measured."""
    m = d["machine"]
    compiler = m["compiler"]
    match = re.match(r"(\S+) \(.*\) (\S+)$", compiler)  # "g++ (Debian 12.2.0-14) 12.2.0"
    if match:
        compiler = f"{match.group(1)} {match.group(2)}"
    flags = m["flags"].replace(" (Makefile default)", "")
    return (f"*Machine: {m['cores']} cores ({m['cpu']}) shared with wrk, {m['kernel']}, "
            f"{compiler} `{flags}`, {m['date']}.*")


def reference_versions(d: dict) -> str:
    """"nginx/1.22.1 (`nginx`), ... Apache/2.4.62 (Debian) (`apache-prefork`, ...)"."""
    versions = d["machine"].get("references")
    if versions is None:  # saved before there were several references
        versions = {"nginx": d["machine"]["nginx"]} if "nginx" in d["models"] else {}
    grouped: dict[str, list[str]] = {}
    for model, version in versions.items():
        grouped.setdefault(version, []).append(name(model))
    return "; ".join(f"{v} ({', '.join(ms)})" for v, ms in grouped.items())


def section_references(d: dict) -> str:
    """The summary's list of the reference servers: what each mirrors, where its config is."""
    measured = [m for m in d["models"] if is_reference(m)]
    if not measured:
        return ""
    lines = ["**Reference servers** — production software measured in the same run, interleaved "
             "with ours, each from a configuration of ours (`÷ nginx` and `÷ best reference` "
             "columns):", ""]
    for m in measured:
        ref = MODEL_BY_NAME[m].reference
        mirrors = [name(o) for o in ref.counterpart_of if o in d["models"]]
        lines.append(f"- {name(m)}: {MODEL_BY_NAME[m].what.removeprefix('reference: ')}"
                     + (f" — counterpart of {join_names(mirrors)}" if mirrors else "")
                     + f"; [`bench/{ref.template}`](bench/{ref.template}).")
    return "\n".join(lines)


def section_machine(d: dict) -> str:
    m = d["machine"]
    mem = f", {m['memory_gib']:.0f} GiB RAM" if m.get("memory_gib") else ""
    lines = [
        f"- **Machine:** {m['cores']} cores ({m['cpu']}){mem}, {m['kernel']}. "
        f"wrk runs on the same {m['cores']} cores as the server, so every model shares the CPU "
        "with the load generator (a real deployment would not).",
        f"- **Build:** {m['compiler']}, `{m['flags']}` (`make all`); revision {m['revision']}.",
        f"- **Load:** {m['wrk']}."
        + (f" **References:** {reference_versions(d)}." if reference_versions(d) else ""),
        f"- **Date:** {m['date']}; load average at the start {m['loadavg']:.2f}; "
        f"`ulimit -n` {m['nofile']:,} for wrk and the servers.",
    ]
    return "\n".join(lines)


def cpu_sharing(d: dict) -> str:
    """What wrk and the rest of the machine used during the wrk runs."""
    runs = [r for k in ("lab", "keepalive", "close") for rs in d[k].values() for r in rs]
    runs += d["scale"]
    wrk = [r["wrk_cores"] for r in runs if r.get("wrk_cores") is not None]
    other = [r["background_cores"] for r in runs if r.get("background_cores") is not None]
    if not wrk or not other:
        return ""
    busy = sum(1 for x in other if x > 0.2)
    text = (f"- **Sharing the CPU:** during the wrk runs wrk (with the driver's sampling) used a "
            f"median "
            f"{statistics.median(wrk):.2f} cores of {d['machine']['cores']} (at most "
            f"{max(wrk):.2f}). Other programs on the machine used a median "
            f"{statistics.median(other):.2f} cores (at most {max(other):.2f})")
    if busy:
        text += (f"; in {busy} of {len(other)} runs they used over 0.2 cores, which lowers and "
                 "scatters those runs — compare best and median, and rerun on a quiet machine")
    return text + "."


def section_method(d: dict) -> str:
    s = d["settings"]
    stall = fmt_ms(s.get("stall_ms", 1000)).replace("1.00 s", "1 s")
    m = d["machine"]
    pacing = (
        "wrk2 was found, so the lab's command ran as written." if m.get("wrk2") else
        "**wrk2 is not packaged by Debian, so the lab's `-R10000` is reproduced with Debian's wrk "
        "and [`bench/pace.lua`](bench/pace.lua)**: a `delay()` hook hands each wrk thread the "
        "slots of a fixed schedule (10,000 req/s ÷ 10 threads = one request per millisecond per "
        "thread). The rate matches wrk2's; the latencies do not include wrk2's correction for "
        "coordinated omission (wrk times a request from when it is sent, not from when the "
        "schedule wanted it sent), so a server that stalls looks better here than under wrk2.")
    runs = s["runs"]
    commands = d.get("server_commands", {})
    started = "; ".join(f"`{c}`" for m, c in commands.items() if not is_reference(m))
    lines = [
        f"- {pacing}",
        (f"- Servers ran as {started}" + (" — the pools and `async_server` with their default "
         "`--workers`" if "--workers" not in started and commands.keys() & {
             "thread-pool", "process-pool", "async"} else "") + ".")
        if started else "",
        section_reference_commands(d),
        f"- Every server is started fresh on a free port (ours with `-p 0`) serving `www/`, "
        "checked with one `GET /page.html`, measured, stopped with its graceful stop — "
        f"{stop_signals(d)} — and checked to exit with status 0 and leave no process of its "
        "group behind.",
        stops_line(d),
        (f"- Tables 1 and 2 run {runs} times per model, interleaved (every model once, then "
         "again), so drift of the machine hits all models alike. " if runs > 1 else
         "- Tables 1 and 2 ran once per model. ") +
        "**best** = the run with the most requests per second (within 1 % counts as a tie, won "
        "by the lower p99), as the lab asks; **median** beside it shows how repeatable it is. "
        "Latency columns belong to the best run.",
        "- **server CPU / request** = CPU time charged to the server's processes during the run "
        "(user + system, `/proc/PID/stat`, reaped children included) ÷ requests answered. "
        "**ctx switches / request** counts the whole machine (`/proc/stat`), wrk included.",
        "- **errors** = wrk's socket errors (connect, read, write, timeout) + non-2xx answers. "
        "wrk's `--timeout` is 2 s: an answer slower than that counts as a timeout and is left "
        "out of the latency percentiles. A request that is *never* answered is not counted "
        "anywhere by wrk, so the driver looks from the server's side: **stalled connections** "
        f"is the peak number (sampled every {stall} with `ss -ti`) of the server's connections "
        f"holding request bytes that arrived over {stall} ago and are still unread.",
        "- **RSS** sums resident memory over the server's process tree (`/proc/PID/statm`); "
        "shared pages (the binary, libc) count once *per process*. **PSS** shares them out "
        "fairly (`/proc/PID/smaps_rollup`). Kernel memory (socket buffers, thread stacks' "
        "kernel side, page tables) is in neither.",
    ]
    return "\n".join(line for line in lines if line)


def section_reference_commands(d: dict) -> str:
    """How each reference was configured, started and stopped."""
    measured = [m for m in d["models"] if is_reference(m)]
    if not measured:
        return ""
    commands = d.get("server_commands", {})
    lines = ["- The reference servers ran from their templates in `bench/`, filled in (port, "
             "`www/`, descriptor limit) into a temporary directory, TMP, that also holds their pid "
             "file and error log (nothing read from `/etc` or written to `/var`), each in the "
             "foreground in a session of its own (a stopping Apache signals its whole process "
             "group), serving the same `www/`:"]
    for m in measured:
        ref = MODEL_BY_NAME[m].reference
        shown = commands.get(m)
        lines.append(f"  - {name(m)}: " + (f"`{shown}` from " if shown else "")
                     + f"[`bench/{ref.template}`](bench/{ref.template})"
                     + "".join(f" with {k.lower()} `{v}`" for k, v in ref.fill)
                     + f": {ref.settings}.")
    return "\n".join(lines)


def stop_signals(d: dict) -> str:
    """"SIGINT for ours; SIGQUIT for `nginx`, ... SIGWINCH (graceful-stop) for Apache"."""
    by_signal: dict[str, list[str]] = {}
    for m in d["models"]:
        if is_reference(m):
            by_signal.setdefault(MODEL_BY_NAME[m].stop_signal.name, []).append(name(m))
    return "; ".join(["SIGINT for ours"] + [f"{sig} for {join_names(ms)}"
                                            for sig, ms in by_signal.items()])


def stops_line(d: dict) -> str:
    """What every stop of this run ended with."""
    stops = d.get("stops")
    if not stops:
        return ""
    total = sum(len(v) for v in stops.values())
    bad = {m: [s for s in v if s != "0"] for m, v in stops.items()}
    bad = {m: v for m, v in bad.items() if v}
    counts = ", ".join(f"{name(m)} {len(v)}" for m, v in stops.items())
    if not bad:
        return (f"- **Stops in this run:** all {total} server sessions exited with status 0 and "
                f"left no process behind ({counts}).")
    return (f"- **Stops in this run:** {total} server sessions ({counts}); not clean: "
            + "; ".join(f"{name(m)}: {', '.join(v)}" for m, v in bad.items()) + ".")


def section_lab(d: dict) -> str:
    s, lab = d["settings"], d["lab"]
    rate = s["lab"]["rate"]
    models = ordered([m for m in d["models"] if lab.get(m)])
    facts = {m: b for m in models if (b := best(lab[m])) is not None}
    top_ref = best_reference(facts, rate)
    rows = []
    for m in models:
        b = facts.get(m)
        if b is None:
            rows.append([name(m), "failed"] + ["–"] * 11)
            continue
        rows.append([
            name(m), fmt_rps(b["rps"]), fmt_rps(median_of(lab[m], "rps")), fmt_ms(b["p50_ms"]),
            fmt_ms(b["p99_ms"]), fmt_ms(b["max_ms"]), fmt_num(b["error_count"]),
            fmt_num(b.get("stalled")), fmt_num(b["cpu_us_per_request"], 1),
            divided(facts, m, "nginx"), divided(facts, m, top_ref),
            divided(facts, m, "nginx", "p99_ms"), divided(facts, m, top_ref, "p99_ms"),
        ])
    out = [
        "## 1. The lab's configuration",
        "",
        f"`{d['commands']['lab']}`  ",
        f"(the lab's `wrk -t10 -c10 -d30s -R10000 http://127.0.0.1:8084/page.html`; "
        f"{s['lab']['duration']:g} s per run, {s['runs']} run{'s' if s['runs'] != 1 else ''}, "
        "1,460-byte `page.html`)  ",
        machine_tag(d),
        "",
        table(["model", "req/s best", "req/s median", "p50", "p99", "max", "errors",
               "stalled connections", "server CPU µs / request", "req/s ÷ nginx",
               best_header("req/s", top_ref), "p99 ÷ nginx", best_header("p99", top_ref)],
              rows),
        "",
    ]
    said = []
    kept = [m for m, b in facts.items() if b["rps"] >= 0.97 * rate]
    behind = [m for m, b in facts.items() if b["rps"] < 0.97 * rate]
    ours = [m for m in facts if is_ours(m)]
    if kept and not behind:
        said.append(f"Every server kept up with the fixed {rate:,} req/s, so at this load the "
                    "table is about latency and cost, not speed.")
    elif kept:
        said.append(f"{join_names([name(m) for m in kept])} kept up with {rate:,} req/s; "
                    + "; ".join(f"{name(m)} reached {facts[m]['rps']:,.0f} "
                                f"({100 * facts[m]['rps'] / rate:.0f} %)" for m in behind) + ".")
    else:
        said.append(f"No server reached {rate:,} req/s on this machine.")
    # A model that left connections unanswered has a p99 of the lucky ones only: leave it out.
    with_p99 = [m for m in ours if facts[m]["p99_ms"] is not None and not facts[m].get("stalled")]
    if len(with_p99) >= 2:
        lo = min(with_p99, key=lambda m: facts[m]["p99_ms"])
        hi = max(with_p99, key=lambda m: facts[m]["p99_ms"])
        said.append(f"Lowest p99 of our models that served every connection: {name(lo)} at "
                    f"{fmt_ms(facts[lo]['p99_ms'])}; highest: {name(hi)} at "
                    f"{fmt_ms(facts[hi]['p99_ms'])} "
                    f"({facts[hi]['p99_ms'] / facts[lo]['p99_ms']:.1f}× more).")
    said.append(references_sentence(facts, "p99_ms"))
    if top_ref:
        said.append(f"Best reference here (the ÷ best reference columns): {name(top_ref)}, "
                    "the lowest p99 of those that kept up.")
    said.append(counterparts_sentence(facts, "p99_ms"))
    with_cpu = [m for m in facts if facts[m].get("cpu_us_per_request") is not None]
    if len(with_cpu) >= 2:
        lo = min(with_cpu, key=lambda m: facts[m]["cpu_us_per_request"])
        hi = max(with_cpu, key=lambda m: facts[m]["cpu_us_per_request"])
        said.append(f"CPU per request ranged from {facts[lo]['cpu_us_per_request']:.1f} µs "
                    f"({name(lo)}) to {facts[hi]['cpu_us_per_request']:.1f} µs ({name(hi)}).")
    erred = [m for m in facts if facts[m]["error_count"]]
    if erred:
        said.append("Errors in the best run: " + ", ".join(
            f"{name(m)} {facts[m]['error_count']:,}" for m in erred) + ".")
    said += stalled_sentences(facts, s["lab"]["connections"])
    out.append(" ".join(x for x in said if x))
    out += ["", (
        "*Why:* 10 connections at a fixed rate is a light load for a server that serves all of "
        "them, so the fixed rate hides how fast it could go (table 2 shows that) and exposes what "
        "each request costs. `single_server` answers one request per connection and closes it, "
        "so every request it serves also pays a TCP handshake and a new accept. The blocking "
        "models hand each request from the thread that accepted it to another thread or process "
        "(a wake-up and a context switch); the event loops (ours, nginx, lighttpd, h2o) serve it "
        "in the thread that saw it arrive. Apache's worker and event MPMs hand each connection "
        "from a listener thread to a worker thread, as the thread pool does; prefork's processes "
        "each accept and serve their own, as a process pool's do.")]
    return "\n".join(out)


def stalled_sentences(facts: dict, connections: int) -> list[str]:
    stalled = [m for m in facts if facts[m].get("stalled")]
    if not stalled:
        return []
    return [join_names([f"{name(m)} left {facts[m]['stalled']:,} of its {connections:,} "
                        "connections" for m in stalled])
            + " waiting with no answer (wrk leaves requests that are never "
            "answered out of every number it prints, so its req/s and latencies describe only "
            "the connections that were served)."]


def closed_loop_rows(d: dict, key: str, own_keepalive: bool) -> tuple[list[str], list[list[str]],
                                                                     dict]:
    """Table 2a or 2b: its header, its rows (ours, then the references) and model -> best run."""
    runs = d[key]
    models = ordered([m for m in d["models"] if runs.get(m)])
    facts = {m: b for m in models if (b := best(runs[m])) is not None}
    top_ref = best_reference(facts)
    header = ["model", "req/s best", "req/s median", "p50", "p99", "errors",
              "stalled connections", "server CPU µs / request", "ctx switches / request",
              "req/s ÷ nginx", best_header("req/s", top_ref)]
    if own_keepalive:
        header.append("÷ own keep-alive")
    rows = []
    for m in models:
        b = facts.get(m)
        if b is None:
            rows.append([name(m), "failed"] + ["–"] * (len(header) - 2))
            continue
        row = [name(m), fmt_rps(b["rps"]), fmt_rps(median_of(runs[m], "rps")), fmt_ms(b["p50_ms"]),
               fmt_ms(b["p99_ms"]), fmt_num(b["error_count"]), fmt_num(b.get("stalled")),
               fmt_num(b["cpu_us_per_request"], 1),
               fmt_num(b["ctxt_per_request"], 1),
               divided(facts, m, "nginx"), divided(facts, m, top_ref)]
        if own_keepalive:
            ka = best(d["keepalive"].get(m, []))
            row.append(fmt_ratio(ratio(b["rps"], ka["rps"] if ka else None)))
        rows.append(row)
    return header, rows, facts


def against_references(top: str, facts: dict) -> str:
    """", 1.17× nginx's 66,400 and 0.80× the best reference's (`h2o`, 97,000)" for ours[top]."""
    parts = []
    if "nginx" in facts:
        parts.append(f"{fmt_ratio(ratio(facts[top]['rps'], facts['nginx']['rps']))} nginx's "
                     f"{facts['nginx']['rps']:,.0f}")
    ref = best_reference(facts)
    if ref and ref != "nginx":
        parts.append(f"{fmt_ratio(ratio(facts[top]['rps'], facts[ref]['rps']))} the best "
                     f"reference's ({name(ref)}, {facts[ref]['rps']:,.0f})")
    return ", " + join_names(parts) if parts else ""


def section_closed_loop(d: dict) -> str:
    s = d["settings"]
    ka_header, ka_rows, ka = closed_loop_rows(d, "keepalive", False)
    cl_header, cl_rows, cl = closed_loop_rows(d, "close", True)
    out = [
        "## 2. Maximum throughput (closed loop)",
        "",
        "Each connection sends its next request as soon as the answer arrives: the server's "
        f"top speed with {s['closed_loop']['connections']} connections. "
        f"{s['closed_loop']['duration']:g} s per run, {s['runs']} run"
        f"{'s' if s['runs'] != 1 else ''}, interleaved with table 1.  ",
        machine_tag(d),
        "",
        f"**2a. Keep-alive** — `{d['commands']['keepalive']}`",
        "",
        table(ka_header, ka_rows),
        "",
    ]
    said = []
    ours = {m: b for m, b in ka.items() if is_ours(m)}
    if ours:
        top = max(ours, key=lambda m: ours[m]["rps"])
        said.append(f"{'Fastest of ours' if len(ours) > 1 else name(top)} with keep-alive: "
                    f"{name(top) + ', ' if len(ours) > 1 else ''}{ours[top]['rps']:,.0f} req/s"
                    + against_references(top, ka) + ".")
        if len(ours) >= 2:
            low = min(ours, key=lambda m: ours[m]["rps"])
            said.append(f"Slowest: {name(low)}, {ours[low]['rps']:,.0f} req/s.")
    if "single" in ka:
        said.append("`single_server` closes every connection after one answer, so its keep-alive "
                    "run is really a new-connection run.")
    said.append(references_sentence(ka))
    said.append(counterparts_sentence(ka))
    said += stalled_sentences(ka, s["closed_loop"]["connections"])
    out += [" ".join(x for x in said if x), ""]
    out += [
        f"**2b. `Connection: close`** — `{d['commands']['close']}`  ",
        "(a new TCP connection for every request: this is where creating a thread or a process "
        "per connection is paid in full)",
        "",
        table(cl_header, cl_rows),
        "",
    ]
    said = []
    ours = {m: b for m, b in cl.items() if is_ours(m)}
    if len(ours) > 1:
        top = max(ours, key=lambda m: ours[m]["rps"])
        said.append(f"Fastest of ours with a connection per request: {name(top)}, "
                    f"{ours[top]['rps']:,.0f} req/s" + against_references(top, cl) + ".")
    said.append(references_sentence(cl))
    said.append(counterparts_sentence(cl))
    drops = []
    for m, b in cl.items():
        k = best(d["keepalive"].get(m, []))
        if k and k["rps"] and m != "single":
            drops.append((b["rps"] / k["rps"], m))
    if drops:
        drops.sort()
        said.append("A new connection per request leaves " + ", ".join(
            f"{name(m)} {100 * r:.0f} %" for r, m in drops) + " of its keep-alive rate.")
    if "thread" in cl and "process" in cl:
        t, p = cl["thread"], cl["process"]
        said.append(f"`process_server` vs `thread_server`: {p['rps']:,.0f} vs "
                    f"{t['rps']:,.0f} req/s")
        if t.get("cpu_us_per_request") and p.get("cpu_us_per_request"):
            said[-1] += (f", {p['cpu_us_per_request']:.0f} vs {t['cpu_us_per_request']:.0f} µs of "
                         "server CPU per request")
        said[-1] += "."
    said += stalled_sentences(cl, s["closed_loop"]["connections"])
    out.append(" ".join(x for x in said if x))
    out += ["", (
        "*Why:* with keep-alive the per-connection cost is paid once and the loop is "
        "recv → parse → sendfile, the same code in every model; what differs is how many threads "
        "wake up per request and how the two cores are shared with wrk. With `Connection: close` "
        "every request also pays the TCP handshake and teardown, plus the model's own price per "
        "connection: `clone()` of a thread for `thread_server`, `fork()` (copying the page "
        "tables, then tearing the process down and reaping it) for `process_server`, nothing for "
        "the pools, the event loops and the reference servers, whose workers already exist.")]
    return "\n".join(out)


def section_scale(d: dict) -> str:
    s = d["settings"]
    grouped = scale_rounds(d)
    rounds = {id(r): rs for r, rs in grouped}
    rows_data = [r for r, _ in grouped]
    if not rows_data:
        return ""
    order = {m: i for i, m in enumerate(ordered(d["models"]))}
    rows_data.sort(key=lambda r: (r["connections"], order.get(r["model"], 99)))
    at = {}  # connections -> model -> row
    for r in rows_data:
        if r["requests"]:
            at.setdefault(r["connections"], {})[r["model"]] = r
    top_ref = {n: best_reference(rs) for n, rs in at.items()}
    rows = []
    for r in rows_data:
        n = r["connections"]
        runs = [x["rps"] for x in usable(rounds[id(r)])]
        spread = (f"{len(rounds[id(r)])} ({fmt_rps(min(runs))}–{fmt_rps(max(runs))})"
                  if len(rounds[id(r)]) > 1 and runs else f"{len(rounds[id(r)])}")
        rows.append([
            name(r["model"]), f"{r['connections']:,}", spread,
            fmt_rps(r["rps"] if r["requests"] else None),
            fmt_ms(r["p99_ms"]), fmt_num(r["error_count"]), fmt_num(r["errors"].get("timeout")),
            fmt_num(r.get("stalled")),
            fmt_mib(r.get("rest_rss")), fmt_mib(r.get("rss")), fmt_num(r.get("threads")),
            fmt_num(r.get("processes")),
            divided(at.get(n, {}), r["model"], "nginx"),
            divided(at.get(n, {}), r["model"], top_ref.get(n)),
        ])
    base = s["scale"]["connections"]
    bigger = [name(r["model"]) for r in rows_data if r["connections"] != base]  # those that scale
    also = f" (and `-c{s['scale_big']}` for {join_names(bigger)})" if bigger else ""
    cmd = d["commands"]["scale"]
    most = max((len(rs) for _, rs in grouped), default=1)
    runs_text = (f"the event loops (`async_server` and the references nginx, lighttpd, h2o) "
                 f"{most} interleaved rounds, each row their median round (every column from "
                 "that round; *runs* gives the lowest and highest req/s), the other models 1 run"
                 if most > 1 else "1 run")
    out = [
        "## 3. Scale: many concurrent connections",
        "",
        f"`{cmd}`{also}; {s['scale']['duration']:g} s; {runs_text}. Keep-alive connections all "
        "busy at once. Peak RSS and peak thread / process counts are sampled from `/proc` during "
        "the run.  ",
        machine_tag(d),
        "",
        table(["model", "connections", "runs (req/s lowest–highest)", "req/s", "p99", "errors",
               "of which timeouts",
               "stalled connections",
               "RSS at rest", "peak RSS", "peak threads", "peak processes", "req/s ÷ nginx",
               "req/s ÷ best reference"], rows),
        "",
    ]
    said = []
    at_base = {r["model"]: r for r in rows_data if r["connections"] == base and r["requests"]}
    ours = {m: r for m, r in at_base.items() if is_ours(m)}
    if len(ours) > 1:
        top = max(ours, key=lambda m: ours[m]["rps"])
        said.append(f"At {base:,} connections {name(top)} served the most: "
                    f"{ours[top]['rps']:,.0f} req/s.")
    for m in ("thread", "process"):
        r = at_base.get(m)
        if r and r.get("threads"):
            unit = "threads" if m == "thread" else "processes"
            count = r["threads"] if m == "thread" else r["processes"]
            said.append(f"{name(m)} peaked at {count:,} {unit} and {fmt_mib(r['rss'])} RSS.")
    tops = {n: ref for n, ref in sorted(top_ref.items()) if ref}
    if len(set(tops.values())) == 1:
        said.append(f"Best reference (the ÷ best reference column): "
                    f"{name(next(iter(tops.values())))} at every size.")
    elif tops:
        said.append("Best reference (the ÷ best reference column): " + join_names(
            [f"at {n:,} connections {name(ref)}" for n, ref in tops.items()]) + ".")
    said.append(counterparts_sentence(at_base))
    peaks = []
    for m in ["async"] + [m for m in d["models"] if is_reference(m)]:
        r = at_base.get(m)
        if r and r.get("threads"):
            peaks.append(f"{name(m)} {r['threads']:,} thread{'s' if r['threads'] != 1 else ''} "
                         f"in {r['processes']:,} process{'es' if r['processes'] != 1 else ''}, "
                         f"{fmt_mib(r['rss'])}")
    if peaks:
        said.append(f"Peak size at {base:,} connections: " + "; ".join(peaks) + " RSS.")
    timeouts = [m for m, r in at_base.items() if r["errors"].get("timeout")]
    if timeouts:
        said.append(f"Timeouts (answers that took over 2 s) at {base:,}: " + ", ".join(
            f"{name(m)} {at_base[m]['errors']['timeout']:,}" for m in timeouts) + ".")
    others = {m: {k: v for k, v in r["errors"].items() if v and k != "timeout"}
              for m, r in at_base.items()}
    others = {m: e for m, e in others.items() if e}
    if others:
        said.append(f"Other errors at {base:,}: " + "; ".join(
            f"{name(m)} " + ", ".join(f"{v:,} {k}" for k, v in e.items())
            for m, e in others.items()) + "."
            + (" A read error is a connection closed or reset while wrk waited for its answer."
               if any("read" in e for e in others.values()) else ""))
    stalled = [m for m, r in at_base.items() if r.get("stalled")]
    if stalled:
        said.append(f"Connections left waiting with no answer at {base:,}: "
                    + ", ".join(f"{name(m)} {at_base[m]['stalled']:,}" for m in stalled)
                    + " — wrk's req/s and p99 only describe the connections that were served.")
    big = [r for r in rows_data if r["connections"] != base]
    for r in big:
        if r["requests"]:
            said.append(f"{name(r['model'])} at {r['connections']:,} connections: "
                        f"{r['rps']:,.0f} req/s, p99 {fmt_ms(r['p99_ms'])}, "
                        f"{r['error_count']:,} errors.")
    out.append(" ".join(x for x in said if x))
    out += ["", (
        "*Why:* a thread or a process per connection means 1,000 schedulable tasks, each with "
        "its own stack and kernel bookkeeping, that the scheduler switches between on 2 cores. "
        "A pool serves only as many connections at once as it has workers; while others wait, "
        "each answer closes its connection so the workers rotate through the clients, which "
        "then pay a new connection per request (a stall would show in the *stalled* column). "
        "Apache's MPMs run with their compiled-in sizes, what a user gets without tuning: prefork "
        "at most 256 processes, worker and event 16 processes of 25 threads (400 at once), so "
        "past that its connections wait like a pool's; and they start small (prefork 5 "
        "processes, worker and event 3 of 25 threads) and fork more at most once a second, "
        "doubling each time up to 32, so a short run catches them growing. "
        "An event loop holds each connection as a small state object in one thread, which is how "
        "`async_server`, nginx, lighttpd and h2o can go to 10,000.")]
    return "\n".join(out)


def section_idle(d: dict) -> str:
    s = d["settings"]
    idle = d["idle"]
    models = [m for m in d["models"] if m in idle]
    if not models:
        return ""
    rows, per = [], {}
    for m in models:
        r = idle[m]
        rss_each, pss_each = per[m] = memory_per_connection(r)
        rows.append([name(m), f"{r['held']:,} of {r['opened']:,}", fmt_mib(r["rest_rss"]),
                     fmt_mib(r["rss"]), fmt_kib(rss_each), fmt_kib(pss_each),
                     f"{r['rest_processes']} → {r['processes']}",
                     f"{r['rest_threads']} → {r['threads']}"])
    n = s["idle_connections"]
    out = [
        "## 4. Memory per idle connection",
        "",
        f"{n:,} keep-alive connections opened from Python sockets; each sends one "
        "`GET /page.html`, reads the answer and stays open (a request every 2 s keeps it inside "
        "the servers' 5-second idle timeout). Memory is read from `/proc` while they are all "
        f"open (at most {s['idle_wait_s']:g} s after the first connect), and compared with the "
        "server at rest. Per connection = (with − at rest) ÷ connections actually held open.  ",
        machine_tag(d),
        "",
        table(["model", "connections held open", "RSS at rest", "RSS with connections",
               "RSS per connection", "PSS per connection", "processes", "threads"], rows),
        "",
    ]
    said = []
    ranked = sorted((v[0], m) for m, v in per.items() if v[0] is not None)
    if ranked:
        said.append("Per connection, by RSS: " + ", ".join(
            f"{name(m)} {fmt_kib(b)}" for b, m in ranked) + ".")
    if "process" in per and per["process"][1] is not None and per["process"][0] is not None:
        said.append(f"For `process_server` the RSS sum counts the shared binary and libraries "
                    f"once per process; its fair share (PSS) is {fmt_kib(per['process'][1])} per "
                    "connection.")
    partial = [m for m in models if 0 < idle[m]["held"] < idle[m]["opened"]]
    if partial:
        said.append(join_names([f"{name(m)} held {idle[m]['held']:,}" for m in partial])
                    + f" of the {n:,}: a pool holds one keep-alive connection per worker, the "
                    "others wait in the queue (too few to divide the memory by, where blank).")
    none = [m for m in models if idle[m]["held"] == 0]
    if none:
        said.append(join_names([name(m) for m in none]) + " held no connection open "
                    "(one answer per connection, then close), so there is nothing to divide.")
    out.append(" ".join(said))
    out += ["", (
        "*Why:* a blocked thread costs its stack pages that were actually touched (the 8 MiB "
        "stack is only reserved address space) plus kernel structures not counted here; a "
        "process costs a copy of every page it writes after `fork()` plus page tables; an event "
        "loop costs a buffer and a coroutine frame per connection. In all models the kernel's "
        "socket buffers come on top and are not in RSS.")]
    return "\n".join(out)


def section_delay(d: dict) -> str:
    s = d["settings"]
    delay = d["delay"]
    models = [m for m in d["models"] if m in delay]
    if not models:
        return ""
    n, sec = s["delay_requests"], s["delay_s"]
    rows, facts = [], {}
    for m in models:
        r = delay[m]
        at_once = (n * sec / r["wall_s"]) if not r["timed_out"] and r["wall_s"] else None
        facts[m] = (r, at_once)
        wall = fmt_s(r["wall_s"]) if not r["timed_out"] else f"> {fmt_s(r['wall_s'])}"
        rows.append([name(m), wall, f"{r['answered']} of {r['requests']}",
                     fmt_s(r["first_s"]) if r["first_s"] is not None else "–",
                     fmt_num(at_once, 1)])
    out = [
        "## 5. Concurrency in one number: requests that wait",
        "",
        f"Each server started with `--delay={sec:g}` (every answer waits {sec:g} s before it is "
        f"sent, like a slow disk or database); {n} clients each send one request at the same "
        "moment and close the connection when answered; wall time until the last answer. nginx "
        "has no such option.  ",
        machine_tag(d),
        "",
        table(["model", "wall time", "answered", "first answer",
               f"served at once, on average (≈ {n} × {sec:g} s ÷ wall)"], rows),
        "",
    ]
    said = []
    for m, (r, at_once) in facts.items():
        if at_once is None:
            said.append(f"{name(m)} did not answer all {n} in time.")
    if "single" in facts and facts["single"][1]:
        said.append(f"`single_server` took {fmt_s(facts['single'][0]['wall_s'])}: the requests "
                    "were served one after another.")
    parallel = [m for m, (r, a) in facts.items() if a is not None and a >= 0.8 * n]
    if parallel:
        said.append(f"{join_names([name(m) for m in parallel])} overlapped all {n} delays.")
    limited = [m for m, (r, a) in facts.items() if a is not None and 1.5 <= a < 0.8 * n]
    for m in limited:
        rounds = max(1, round(facts[m][0]["wall_s"] / sec))
        low = math.ceil(n / rounds)
        high = math.ceil(n / (rounds - 1)) - 1 if rounds > 1 else n
        at_once = f"{low}" if low >= high else f"{low} to {high}"
        said.append(f"{name(m)} took {rounds} rounds of {sec:g} s: it serves {at_once} requests "
                    "at a time — the size of its pool.")
    out.append(" ".join(said))
    out += ["", (
        "*Why:* the delay blocks whatever is serving the request. In `single_server` that is "
        "the only thread; in the pools it is one worker of a fixed number; a thread or process "
        "per connection makes as many as there are requests; the event loop suspends the "
        "coroutine on a timer and keeps serving the others in its one thread.")]
    return "\n".join(out)


def section_slow(d: dict) -> str:
    s = d["settings"]
    slow = d["slow"]
    models = [m for m in d["models"] if m in slow]
    if not models:
        return ""
    rows, starved, fine = [], [], []
    for m in models:
        r = slow[m]
        if r["answer_s"] is None:
            starved.append(m)
            rows.append([name(m), f"**starved** (> {r['limit_s']:g} s)", "–"])
        else:
            fine.append(m)
            rows.append([name(m), fmt_ms(r["answer_s"] * 1000), str(r["status"])])
    n = s["slow_clients"]
    out = [
        "## 6. Slow clients",
        "",
        f"{n} clients connect and send half a request head (no blank line), then wait; after "
        "0.5 s one normal client asks for `/page.html`. Time until it gets its answer, limited "
        f"to {s['slow_limit_s']:g} s. (The servers answer a half-sent request with 408 after "
        "10 s, so the slow clients do not hold a worker forever — but long enough.)  ",
        machine_tag(d),
        "",
        table(["model", f"normal request answered in (with {n} slow clients)", "status"], rows),
        "",
    ]
    said = []
    if fine:
        said.append(f"{join_names([name(m) for m in fine])} answered the normal client while "
                    f"{n} others were stalled.")
    if starved:
        said.append(f"{join_names([name(m) for m in starved])} did not answer within "
                    f"{s['slow_limit_s']:g} s: all of {'its' if len(starved) == 1 else 'their'} "
                    "workers (one thread, for `single_server`) were blocked reading requests that "
                    "were not coming.")
    out.append(" ".join(said))
    out += ["", (
        "*Why:* this is the cost of a fixed number of blocking workers — a handful of clients "
        "that trickle (or a deliberate slowloris attack) occupy them all. One thread or process "
        "per connection shrugs it off until memory runs out; an event loop only wakes up for "
        "sockets that have data.")]
    return "\n".join(out)


def section_glance(d: dict) -> str:
    rows = []
    rate = d["settings"]["lab"]["rate"]
    for m in ordered(d["models"]):
        lab = best(d["lab"].get(m, []))
        ka = best(d["keepalive"].get(m, []))
        cl = best(d["close"].get(m, []))
        mem, pss = memory_per_connection(d["idle"][m]) if m in d["idle"] else (None, None)
        mem_text = "–" if mem is None else fmt_kib(mem)
        if mem is not None and pss is not None and pss < mem / 2:  # shared pages, once per process
            mem_text += f" (PSS {fmt_kib(pss)})"
        delay = d["delay"].get(m)
        slow = d["slow"].get(m)
        rows.append([
            name(m), MODEL_BY_NAME[m].what if m in MODEL_BY_NAME else "",
            fmt_ms(lab["p99_ms"]) if lab else "–",
            fmt_rps(ka["rps"]) if ka else "–",
            fmt_rps(cl["rps"]) if cl else "–",
            mem_text,
            ("> " if delay["timed_out"] else "") + fmt_s(delay["wall_s"]) if delay else "–",
            ("starved" if slow["answer_s"] is None else fmt_ms(slow["answer_s"] * 1000))
            if slow else "–",
        ])
    s = d["settings"]
    return "\n".join([
        "## At a glance",
        "",
        table(["model", "how", f"p99 at {rate:,} req/s (1)", "keep-alive req/s (2a)",
               "new connection req/s (2b)", "RSS / idle connection (4)",
               f"{s['delay_requests']} × {s['delay_s']:g} s delay (5)",
               f"with {s['slow_clients']} slow clients (6)"], rows, "ll" + "r" * 6),
    ])


# ----------------------------------------------------------------------------------------------
# Table 7: system calls per request


def per_request(c: dict | None, n: int | None) -> float | None:
    if not c or not c.get("ok") or not c.get("requests") or n is None:
        return None
    return n / c["requests"]


def fmt_per(x: float | None) -> str:
    if x is None:
        return "–"
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def syscall_calls(c: dict | None, top: int) -> str:
    """"recvfrom 1.96 (0.96 failed), sendmsg 1.00, epoll_wait 0.66": the most frequent calls per
    request (those at 0.05 or more), then what no name covers."""
    if not c or not c.get("ok") or not c.get("requests"):
        return (c or {}).get("note", "") or "–"
    n = c["requests"]
    ranked = sorted(c["calls"].items(), key=lambda kv: (-kv[1], kv[0]))
    parts = []
    for call, calls in ranked:
        if calls / n < 0.05 or len(parts) == top:
            break
        text = f"{call} {calls / n:.2f}"
        failed = c.get("failed_calls", {}).get(call, 0)
        if failed / n >= 0.05:
            text += f" ({failed / n:.2f} failed)"
        parts.append(text)
    if c.get("other", 0) / n >= 0.05:
        parts.append(f"other {c['other'] / n:.2f}")
    return ", ".join(parts)


def calls_of(c: dict | None, *names: str) -> float | None:
    """Calls per request of any of `names` (openat or openat2), None when not counted."""
    if not c or not c.get("ok") or not c.get("requests"):
        return None
    return sum(c["calls"].get(x, 0) for x in names) / c["requests"]


def section_syscalls(d: dict) -> str:
    s = d["settings"]
    data = d.get("syscalls", {})
    models = ordered([m for m in d["models"] if m in data])
    if not models:
        return ""
    tool = d.get("syscall_tool") or "perf"
    wrk = s.get("syscall_wrk", {"connections": 10, "duration": 2, "threads": 2})
    conns = s.get("syscall_connections", 4)
    rows = []
    for m in models:
        ka, fs, cl = (data[m].get(k) for k in ("keepalive", "full_speed", "close"))
        rows.append([
            name(m),
            fmt_per(per_request(ka, ka and ka.get("total"))) + (" (¹)" if m == "single" else ""),
            fmt_per(per_request(ka, ka and ka.get("failed"))),
            syscall_calls(ka, 5),
            fmt_per(per_request(fs, fs and fs.get("total"))),
            syscall_calls(fs, 4),
            fmt_rps(fs["requests"] / fs["seconds"])
            if fs and fs.get("ok") and fs.get("seconds") else "–",
            fmt_per(per_request(cl, cl and cl.get("total"))),
            syscall_calls(cl, 7),
        ])
    how = (
        "`perf stat` on the kernel's syscall tracepoints (`syscalls:sys_enter_*`, and "
        "`raw_syscalls:sys_enter` for the total), attached to every thread of the server's "
        "processes and inherited by the threads and children they start, switched on just "
        "before the requests and off just after. Unlike strace it does not stop the server at "
        "each call, so the timing — how often a loop finds a socket empty, or several ready at "
        "once — stays closer to the server's own; it still adds a cost to every call and "
        "context switch: *wrk's req/s while counted*, beside table 2a's, shows how much it "
        "slowed each server"
        if tool == "perf" else
        "`strace -c -f` attached to every process of the server (and following the threads and "
        "children they start), from just before the requests to just after. strace stops the "
        "server at every call, which slows it several-fold: requests pile up, so an event "
        "loop's `epoll_wait` and failed reads come out lower than they are untraced")
    out = [
        "## 7. System calls per request",
        "",
        f"Each server is warmed up, then its system calls are counted on its whole process tree "
        f"while a client makes a fixed number of requests for `page.html`; calls ÷ requests "
        f"answered. **Keep-alive:** {s.get('syscall_requests', 2000):,} requests over {conns} "
        f"keep-alive connections opened beforehand, from {conns} Python threads, each sending "
        "its next request when the answer has arrived (no pipelining) — the client is slower "
        "than the servers, so requests mostly arrive one at a time. **wrk:** keep-alive at full "
        f"speed, `wrk -t{wrk['threads']} -c{wrk['connections']} -d{wrk['duration']}s` (as table "
        "2a), divided by the requests wrk counted. **Connection: close:** "
        f"{s.get('syscall_close_requests', 1000):,} requests, each on a new connection, "
        f"{conns} at a time. Counted with {how}. A name's number is its calls per request; "
        "*failed* are calls that returned an error (for reads: EAGAIN, nothing there yet). "
        "Calls made through the vDSO (`clock_gettime`) never enter the kernel and are not "
        "counted.  ",
        machine_tag(d),
        "",
        table(["model", "keep-alive: calls / request", "of which failed",
               "keep-alive: the calls, per request",
               f"wrk -c{wrk['connections']}: calls / request",
               f"wrk -c{wrk['connections']}: the calls", "wrk's req/s while counted",
               "Connection: close: calls / request", "Connection: close: the calls"],
              rows, "lrrlrlrrl"),
        "",
    ]
    said = []
    if "single" in data:
        said.append("(¹) `single_server` closes every connection after one answer, so each of "
                    "its \"keep-alive\" requests also pays a new connection (`accept4`, "
                    "`shutdown`, `close`): its keep-alive columns are a new connection per "
                    "request too.")
    ka = {m: data[m]["keepalive"] for m in models
          if per_request(data[m].get("keepalive"), 1) is not None}
    totals = {m: c["total"] / c["requests"] for m, c in ka.items()}
    if len(totals) >= 2:
        kept = [m for m in totals if m != "single"]
        if len(kept) >= 2:
            lo, hi = min(kept, key=totals.get), max(kept, key=totals.get)
            said.append(f"Per keep-alive request (leaving out `single_server`): from "
                        f"{fmt_per(totals[lo])} calls ({name(lo)}) to {fmt_per(totals[hi])} "
                        f"({name(hi)}).")
        parts = []
        for m in totals:
            if not is_ours(m):
                continue
            refs = [r for r in totals if is_reference(r)
                    and m in MODEL_BY_NAME[r].reference.counterpart_of]
            if refs:
                parts.append(f"{name(m)} {fmt_per(totals[m])} beside " + join_names(
                    [f"{name(r)} {fmt_per(totals[r])}" for r in refs]))
        if parts:
            said.append("Against the production counterparts: " + "; ".join(parts) + ".")
    failing = {}
    for m, c in ka.items():
        reads = sum(v for k, v in c.get("failed_calls", {}).items()
                    if k in ("read", "readv", "recvfrom", "recvmsg")) / c["requests"]
        if reads >= 0.05:
            failing[m] = reads
    if failing:
        said.append("Failed reads (EAGAIN) per keep-alive request: " + ", ".join(
            f"{name(m)} {v:.2f}" for m, v in sorted(failing.items(), key=lambda kv: -kv[1]))
            + ".")
    sharing = []
    for m in models:
        light = calls_of(data[m].get("keepalive"), "epoll_wait", "epoll_pwait")
        busy = calls_of(data[m].get("full_speed"), "epoll_wait", "epoll_pwait")
        if light is not None and busy is not None and light >= 0.05:
            sharing.append(f"{name(m)} {light:.2f} → {busy:.2f}")
    if sharing:
        said.append(f"`epoll_wait` per request, {conns} connections one request at a time → "
                    f"wrk's {wrk['connections']} at full speed: " + ", ".join(sharing) + ".")
    opens = [m for m in ka if (calls_of(ka[m], "openat", "openat2", "open") or 0) >= 0.9]
    if opens:
        said.append(f"{join_names([name(m) for m in opens])} open"
                    f"{'s' if len(opens) == 1 else ''} the file for every request (and stat and "
                    "close it).")
    missed = {}
    for m in opens:
        c = ka[m]
        n = sum(c.get("failed_calls", {}).get(x, 0) for x in ("openat", "openat2", "open"))
        if n / c["requests"] >= 0.5:
            missed[m] = n / c["requests"]
    if missed:
        said.append(join_names([f"{name(m)} {v:.1f}" for m, v in missed.items()])
                    + " of those `openat` per request fail" + (
                        ": Apache looks for an `.htaccess` file in every directory from `/` down "
                        "to the file's, which an `AllowOverride None` (not in its configuration "
                        "here) would turn off" if all(m.startswith("apache-") for m in missed)
                        else "") + ".")
    how_sent = {"sendmsg": [], "sendfile": [], "writev": []}
    for m, c in ka.items():
        for call in how_sent:
            if (calls_of(c, call) or 0) >= 0.9:
                how_sent[call].append(name(m))
    sent = []
    if how_sent["sendmsg"]:
        sent.append("head and body in one `sendmsg` from memory: "
                    + join_names(how_sent["sendmsg"]))
    if how_sent["sendfile"]:
        sent.append("the head with `writev`, then the body with `sendfile`: "
                    + join_names(how_sent["sendfile"]))
    only_writev = [x for x in how_sent["writev"] if x not in how_sent["sendfile"]]
    if only_writev:
        preads = [m for m, c in ka.items() if name(m) in only_writev
                  and (calls_of(c, "pread64") or 0) >= 0.9]
        sent.append(f"head and body in one `writev`: {join_names(only_writev)}"
                    + (" (the body read with `pread64` first)"
                       if len(preads) == len(only_writev) else ""))
    if sent:
        said.append("How each answer went out: " + "; ".join(sent) + ".")
    cl = {m: data[m]["close"] for m in models
          if per_request(data[m].get("close"), 1) is not None}
    cl_totals = {m: c["total"] / c["requests"] for m, c in cl.items()}
    if len(cl_totals) >= 2:
        lo, hi = min(cl_totals, key=cl_totals.get), max(cl_totals, key=cl_totals.get)
        said.append(f"With a new connection per request: from {fmt_per(cl_totals[lo])} calls "
                    f"({name(lo)}) to {fmt_per(cl_totals[hi])} ({name(hi)}).")
    forks = [m for m, c in cl.items() if (calls_of(c, "clone", "clone3") or 0) >= 0.9]
    if forks:
        said.append(f"{join_names([name(m) for m in forks])} start a thread or a process per "
                    "connection (`clone`/`clone3`), and its calls are counted too.")
    out.append(" ".join(said))
    out += ["", (
        "*Why:* a keep-alive request needs at least two calls, one to read the request and one "
        "to send the answer. Our servers keep a small file (up to 16 KiB) in memory, revalidated "
        "at most once a second, and send head and body in one `sendmsg`; a larger file would "
        "go as the head, then `sendfile`. The blocking models (threads, processes, the pools' "
        "workers) wait for the next request in `poll` (which carries the keep-alive timeout), "
        "then read it. An event loop asks `epoll_wait` which connections are ready; one call can "
        "return several, so its share per request falls as the load rises, and a loop that "
        "reads a connection again after answering — in case the next request is already there "
        "— pays a failed read (EAGAIN) when it is not. A new connection per request adds the "
        "`accept4` (plus a failed one when the queue is empty), socket options, the "
        "`epoll_ctl` or thread hand-off that registers it, the `shutdown`/`close`, and what the "
        "model pays per connection: a `clone` of a thread, or a `fork` (`clone`) of a process "
        "that reopens the file, exits and is reaped with `wait4`. The count is the whole "
        "server's over the run, so timers and housekeeping (Apache's once-a-second "
        "maintenance, for one) are spread over the requests.")]
    return "\n".join(out)


# ----------------------------------------------------------------------------------------------
# Table 8: several cores


def multicore_setting(d: dict, m: str) -> str:
    n = d["settings"].get("multicore_workers", 2)
    ref = MODEL_BY_NAME[m].reference if m in MODEL_BY_NAME else None
    if ref is not None:
        return ref.workers_setting.format(n=n)
    return f"`--workers {n}`"


def section_multicore(d: dict) -> str:
    s = d["settings"]
    data = d.get("multicore", {})
    models = ordered([m for m in d["models"] if m in data])
    if not models:
        return ""
    n = s.get("multicore_workers", 2)
    small = s["multicore"]["connections"]
    big = s["multicore_big"]
    sizes = [small, big]
    cores = d["machine"]["cores"]

    def med(m: str, conns: int, key: str) -> float | None:
        return median_of(data[m].get(str(conns), []), key)

    def cores_used(m: str, conns: int, key: str) -> float | None:
        runs = [r for r in usable(data[m].get(str(conns), []))
                if r.get(key) is not None and r.get("duration_s")]
        if key == "server_cpu_s":
            values = [r[key] / r["duration_s"] for r in runs]
        else:
            values = [r[key] for r in runs]
        return statistics.median(values) if values else None

    # One worker, as tables 2a and 3 measured it in this run (same wrk -t2, same connections).
    one = {}
    for m in models:
        if d.get("keepalive", {}).get(m) and d["settings"]["closed_loop"]["connections"] == small:
            one[(m, small)] = median_of(d["keepalive"][m], "rps")
        for r, _ in scale_rounds(d):
            if r["model"] == m and r["connections"] == big and r.get("requests"):
                one[(m, big)] = r["rps"]
    facts = {c: {m: {"rps": med(m, c, "rps")} for m in models if med(m, c, "rps") is not None}
             for c in sizes}
    rows = []
    for m in models:
        row = [name(m), multicore_setting(d, m)]
        for c in sizes:
            runs = data[m].get(str(c), [])
            errors = [r["error_count"] for r in usable(runs)]
            row += [fmt_rps(med(m, c, "rps")), fmt_ms(med(m, c, "p99_ms")),
                    fmt_num(max(errors)) if errors else "–"]
        row.append(" / ".join(fmt_num(cores_used(m, c, "server_cpu_s"), 2) for c in sizes))
        row.append(" / ".join(fmt_num(cores_used(m, c, "wrk_cores"), 2) for c in sizes))
        row.append(" / ".join(fmt_ratio(ratio(med(m, c, "rps"), one.get((m, c))))
                              for c in sizes))
        row.append(" / ".join(divided(facts[c], m, "nginx") for c in sizes))
        rows.append(row)
    runs = s["runs"]
    out = [
        f"## 8. Several cores: {n} workers each",
        "",
        f"{join_names([f'{name(m)} with {multicore_setting(d, m)}' for m in models])} "
        "(the references otherwise configured as in the other tables): keep-alive "
        f"closed loop, `wrk -t{s['multicore']['threads']} -c{small} "
        f"-d{s['multicore']['duration']}s` and the same at {big:,} connections, {s['multicore']['duration']:g} s each, "
        + (f"**median of {runs} interleaved rounds** (every server once, then again). "
           if runs > 1 else "**1 round**. ")
        + f"**This machine has {cores} cores and wrk runs on them too**, so "
        f"{n} workers compete with wrk and with each other: the gain over one worker is "
        "bounded by what wrk leaves free. *÷ 1 worker* divides by the same server's median in "
        f"table 2a ({small} connections) and its table 3 median ({big:,} connections) of this "
        "run, when measured.  ",
        machine_tag(d),
        "",
        table(["model", "workers", f"req/s at {small}", f"p99 at {small}", f"errors at {small}",
               f"req/s at {big:,}", f"p99 at {big:,}", f"errors at {big:,}",
               f"server CPU, cores ({small} / {big:,})", f"wrk CPU, cores ({small} / {big:,})",
               f"÷ 1 worker ({small} / {big:,})", f"req/s ÷ nginx ({small} / {big:,})"],
              rows, "ll" + "r" * 10),
        "",
    ]
    said = []
    for c in sizes:
        if len(facts[c]) >= 2:
            top = max(facts[c], key=lambda m: facts[c][m]["rps"])
            said.append(f"At {c:,} connections the most: {name(top)}, "
                        f"{facts[c][top]['rps']:,.0f} req/s.")
    gains = []
    for m in models:
        parts = [f"{fmt_ratio(ratio(med(m, c, 'rps'), one[(m, c)]))} at {c:,}"
                 for c in sizes if one.get((m, c)) and med(m, c, "rps")]
        if parts:
            gains.append(f"{name(m)} " + " and ".join(parts))
    if gains:
        said.append(f"{n} workers ÷ 1 (tables 2a and 3): " + "; ".join(gains) + ".")
    elif not any(one.values()):
        said.append("(Tables 2 and 3 were not measured in this run, so there is no "
                    "one-worker figure to divide by.)")
    server = [cores_used(m, c, "server_cpu_s") for m in models for c in sizes]
    wrk = [cores_used(m, c, "wrk_cores") for m in models for c in sizes]
    server = [x for x in server if x is not None]
    wrk = [x for x in wrk if x is not None]
    if server and wrk:
        said.append(f"The servers used {min(server):.2f}–{max(server):.2f} cores of {cores}, "
                    f"wrk {min(wrk):.2f}–{max(wrk):.2f}.")
    if "async" in facts[small] and "nginx" in facts[small]:
        said.append(f"`async_server --workers {n}` ÷ nginx with {n} workers: " + " and ".join(
            f"{fmt_ratio(ratio(facts[c]['async']['rps'], facts[c]['nginx']['rps']))} at {c:,}"
            for c in sizes if "async" in facts[c] and "nginx" in facts[c]) + ".")
    out.append(" ".join(said))
    out += ["", (
        f"*Why:* each of these servers runs {n} independent event loops (threads for "
        "`async_server` and h2o, processes for nginx and lighttpd) that take new connections "
        "from the one listening socket; a connection stays with the loop that accepted it, so "
        f"at {small} connections the split between loops may be uneven. A second loop helps "
        "only when the first is short of CPU and a core is free: on this machine wrk takes a "
        "large share of the cores to generate the load (the wrk column), so a second worker "
        "mostly trades CPU with wrk, and what one server gains may be what wrk lost. With the "
        "load generated on another machine, the second worker would have a core of its own.")]
    return "\n".join(out)


# ----------------------------------------------------------------------------------------------
# Chart


def chart(d: dict, svg: Path) -> str | None:
    """Draws benchmark.svg with gnuplot. Returns a reason when it could not."""
    if shutil.which("gnuplot") is None:
        return "gnuplot is not installed (scripts/install-deps.sh bench)"
    models = ordered(d["models"])
    lines, starred = [], False
    for m in models:
        lab, ka, cl = (best(d[k].get(m, [])) for k in ("lab", "keepalive", "close"))
        value = lambda r, k: f"{r[k]:.6g}" if r and r.get(k) is not None else "-"  # noqa: E731
        # A model that left connections unanswered gets a star: its bars cover the served ones.
        star = "*" if any(r and r.get("stalled") for r in (lab, ka, cl)) else ""
        starred = starred or bool(star)
        lines.append(f'"{m}{star}" {value(lab, "rps")} {value(ka, "rps")} {value(cl, "rps")} '
                     f'{value(lab, "p99_ms")} {value(ka, "p99_ms")}')
    if all(line.split()[1:] == ["-"] * 5 for line in lines):
        return "no throughput numbers to draw"
    rate = d["settings"]["lab"]["rate"]
    m = d["machine"]
    n = len(models)
    more = ", \\\n     "  # gnuplot: continue the plot command on the next line
    # The references are bars like ours, right of a dotted line; nginx's keep-alive rate and
    # p99 are dashed levels across, and the best reference's (when not nginx) dotted ones.
    ka = {x: r for x in models if (r := best(d["keepalive"].get(x, [])))}
    lab = {x: r for x in models if (r := best(d["lab"].get(x, [])))}
    rps_lines, p99_lines = "", ""
    for ref, dash in (("nginx", 2), (best_reference(ka), 3)):
        if ref and ref in ka and (dash == 2 or ref != "nginx"):
            label = "nginx" if ref == "nginx" else f"best reference ({ref})"
            rps_lines += (f'{more}{ka[ref]["rps"]:.6g} with lines dt {dash} lw 1.5 lc rgb '
                          f'"black" title "{label} keep-alive level"')
    for ref, dash in (("nginx", 2), (best_reference(lab, rate), 3)):
        if ref and ref in lab and lab[ref].get("p99_ms") and (dash == 2 or ref != "nginx"):
            label = "nginx" if ref == "nginx" else f"best reference ({ref})"
            p99_lines += (f'{more}{lab[ref]["p99_ms"]:.6g} with lines dt {dash} lw 1.5 lc rgb '
                          f'"black" title "{label} p99 at -R{rate}"')
    ours_n = sum(1 for x in models if not is_reference(x))
    divider = ""
    if 0 < ours_n < n:
        divider = (f'set arrow 1 from {ours_n - 0.5}, graph 0 to {ours_n - 0.5}, graph 1 nohead '
                   'dt 3 lc rgb "#888888"\n'
                   f'set label 1 "references" at {ours_n - 0.4}, graph 0.97 left font ",10" '
                   'tc rgb "#666666"')
    width = max(1000, 90 * n + 160)
    data = "\n".join(lines)
    title = f"Static page, {m['cores']} cores shared with wrk — {m['date']}"
    if starred:
        title += "\\n* left some connections unanswered: its bars describe the served ones only"
    script = f"""
set terminal svg size {width},520 dynamic enhanced font "Helvetica,12" background rgb "white"
set output "{svg}"
set datafile missing "-"
$data << EOD
{data}
EOD
set multiplot layout 1,2 title "{title}"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics lc rgb "#dddddd"
set xtics rotate by -30 nomirror noenhanced
set ytics nomirror
set xrange [-0.6:{n - 0.4}]
set yrange [0:*]
set format y "%.0s%c"
set key below font ",10" samplen 1.5 maxrows 3
{divider}
set title "Requests per second (more is better)"
plot $data using 2:xtic(1) title "lab: -R{rate} (1)" lc rgb "#9ecae1", \\
     '' using 3 title "closed loop, keep-alive (2a)" lc rgb "#3182bd", \\
     '' using 4 title "closed loop, Connection: close (2b)" lc rgb "#fd8d3c"{rps_lines}
set title "p99 latency, ms (less is better; log scale)"
set logscale y
set yrange [*:*]
set format y "%g"
plot $data using 5:xtic(1) title "lab: -R{rate} (1)" lc rgb "#9ecae1", \\
     '' using 6 title "closed loop, keep-alive (2a)" lc rgb "#3182bd"{p99_lines}
unset multiplot
"""
    done = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    if done.returncode != 0:
        return "gnuplot failed: " + done.stderr.strip()[-300:]
    return None


# ----------------------------------------------------------------------------------------------


def write(d: dict, output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    svg = output.with_suffix(".svg")
    tables = set(d.get("tables", [1, 2, 3, 4, 5, 6]))
    m = d["machine"]
    s = d["settings"]
    ours = [x for x in d["models"] if not is_reference(x)]
    products = []
    for ref in REFERENCES:
        if ref.name in d["models"] and ref.reference.product not in products:
            products.append(ref.reference.product)
    title = (f"# Benchmark: {number_word(len(ours))} concurrency "
             f"model{'s' if len(ours) != 1 else ''}") if ours else "# Benchmark"
    if products:
        title += f"{' beside' if ours else ':'} {join_names(products)}"
    parts = [
        title,
        "",
        f"Generated by `make bench{' BENCH_QUICK=1' if s['quick'] else ''}` "
        f"([`bench/bench.py`](bench/bench.py)) on {m['date']}; rerun it to replace this file "
        f"and its chart. The whole run took {fmt_minutes(d.get('elapsed_s', 0))}.",
        "",
    ]
    if s["quick"]:
        parts += ["> **Quick mode:** runs of a few seconds, fewer connections — a smoke test, "
                  "not numbers to quote.", ""]
    references = section_references(d)
    if references:
        parts += [references, ""]
    parts += [section_machine(d), ""]
    if d["skipped"]:
        parts += ["**Not measured:** " + "; ".join(f"{name(k)} — {v}"
                                                  for k, v in d["skipped"].items()) + ".", ""]
    if d["problems"]:
        parts += ["**Problems during this run** (a server that does not stop cleanly on its "
                  "stop signal fails the lab's graceful-shutdown requirement):", ""]
        parts += [f"- ⚠ {p}" for p in d["problems"]] + [""]
    reason = chart(d, svg) if tables & {1, 2} else "tables 1-2 were not measured"
    if reason is None:
        parts += [f"![Requests per second and p99 latency per model]({svg.name})", ""]
    else:
        parts += [f"*(No chart: {reason}.)*", ""]
    parts += [section_glance(d), ""]
    sections = [(1, section_lab), (2, section_closed_loop), (3, section_scale),
                (4, section_idle), (5, section_delay), (6, section_slow),
                (7, section_syscalls), (8, section_multicore)]
    for number, make in sections:
        if number in tables:
            text = make(d)
            if text:
                parts += [text, ""]
    parts += ["## How these numbers were taken", "", section_method(d)]
    sharing = cpu_sharing(d)
    parts += [sharing, ""] if sharing else [""]
    if d.get("notes"):
        parts += [f"- {n}" for n in d["notes"]] + [""]
    text = "\n".join(parts).rstrip() + "\n"
    output.write_text(text + kept_sections(output))


# Sections other drivers own, between markers; make bench keeps them (in this order, after its own
# text): make soak's (bench/soak.py) and make attack's (bench/attack.py).
SOAK_MARKERS = ("<!-- soak:begin -->", "<!-- soak:end -->")
ATTACK_MARKERS = ("<!-- attack:begin -->", "<!-- attack:end -->")
KEPT_MARKERS = (SOAK_MARKERS, ATTACK_MARKERS)


def _marked_region(text: str, markers: tuple[str, str]) -> tuple[int, int] | None:
    """Where a marked section (markers included) starts and ends in `text`, if it is there."""
    begin, end = markers
    if begin not in text or end not in text:
        return None
    return text.index(begin), text.index(end) + len(end)


def kept_sections(output: Path) -> str:
    """The marked sections of the file being replaced ("" if none), to append after the new
    text."""
    old = output.read_text() if output.exists() else ""
    kept = ""
    for markers in KEPT_MARKERS:
        region = _marked_region(old, markers)
        if region is not None:
            kept += "\n" + old[region[0]:region[1]] + "\n"
    return kept


def write_marked_section(output: Path, markers: tuple[str, str], section: str) -> None:
    """A driver's side: puts `section` between its markers, in place of its old section or
    after the rest of the file (creating it if need be)."""
    text = f"{markers[0]}\n{section}\n\n{markers[1]}"
    old = output.read_text() if output.exists() else ""
    region = _marked_region(old, markers)
    if region is not None:
        new = old[:region[0]] + text + old[region[1]:]
    elif old.strip():
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    else:
        new = text + "\n"
    output.write_text(new)


def write_soak_section(output: Path, section: str) -> None:
    write_marked_section(output, SOAK_MARKERS, section)
