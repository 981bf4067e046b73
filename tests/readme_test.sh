#!/usr/bin/env bash
# Runs the README's commands so the guide cannot rot:
#  - `make run` serves www/ (checked with curl, then stopped with SIGINT);
#  - every ```sh block preceded by a `<!-- readme-test: ... -->` marker runs as written, except
#    that port 8085 becomes a free port (so a server you left running does not break the test).
#    Marker fields: min=S / max=S bound the seconds `time` reports; expect='TEXT' must appear in
#    the output, reject='TEXT' must not; replace='FROM=>TO' edits the code first (a 30 s run
#    becomes 2 s). Port 8084 (the lab's benchmark port) is swapped like 8085. Every block must
#    exit 0;
#  - every ``` block preceded by `<!-- readme-test-output: COMMAND -->` must be exactly what
#    COMMAND prints (the help text shown in the README is the real one);
#  - every file that "How to read the code" and the concept map name exists, and every function
#    or class they name (`ServeConnection`, `WorkQueue::Push`) is defined in the files its row
#    names (or anywhere in the sources when the row names none): renames cannot leave the map
#    pointing at nothing. The concept map's Python column (the one whose heading names Python)
#    is not searched for C++ names; instead every dotted Python name in it (`threading.Thread`,
#    `asyncio.create_task`, `os.waitpid`) must exist in this machine's Python standard library.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
passed=0
failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# 1. make run
port=$(free_port)
log=$(mktemp)
setsid make --no-print-directory run PORT="$port" BIN="$BIN" >"$log" 2>&1 &
run_pid=$!
for _ in $(seq 300); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done  # 30 s: a busy machine
# Read the page whole first: `curl | grep -q` under pipefail fails when grep quits before curl
# has written everything (curl then exits 23, a write error).
page=$(curl -s "http://127.0.0.1:$port/")
if grep -q "<title>" <<<"$page"; then
  passed=$((passed + 1))
else
  fail "make run did not serve www/index.html on port $port"; cat "$log"
fi
kill -INT -- "-$run_pid" 2>/dev/null
# A make started in the background of a non-interactive shell ignores SIGINT (only the server
# resets it); if the server had not started yet, nothing would ever stop make: give it 10 s.
for _ in $(seq 100); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
kill -KILL -- "-$run_pid" 2>/dev/null || true
wait "$run_pid" 2>/dev/null
rm -f "$log"

# 2. the marked blocks
blocks=$(mktemp -d)
trap 'rm -rf "$blocks"' EXIT
python3 - "$blocks" <<'PY'
import pathlib, re, shlex, sys
out = pathlib.Path(sys.argv[1])
text = pathlib.Path("README.md").read_text()
pattern = re.compile(r"<!-- readme-test:(.*?)-->\s*```sh\n(.*?)```", re.S)
for i, (marker, code) in enumerate(pattern.findall(text)):
    (out / f"{i:02d}.sh").write_text(code)
    (out / f"{i:02d}.marker").write_text("\n".join(shlex.split(marker)))
PY
for script in "$blocks"/*.sh; do
  marker="${script%.sh}.marker"
  port=$(free_port)
  code=$(sed "s/808[45]/$port/g; s#bin/#$BIN/#g" "$script")
  while IFS= read -r field; do
    [[ $field == replace=* ]] || continue
    field=${field#replace=}
    code=${code//"${field%%=>*}"/"${field#*=>}"}
  done <"$marker"
  output=$(cd "$PWD" && TIMEFORMAT=%R timeout 60 bash -c "$code" 2>&1)
  status=$?
  name=$(head -1 "$script" | cut -c1-60)
  if [[ $status -ne 0 ]]; then fail "[$name] exit status $status"; echo "$output"; continue; fi
  seconds=$(echo "$output" | grep -E '^[0-9]+\.[0-9]+$' | tail -1)
  ok=1
  while IFS= read -r field; do
    [[ -z "$field" ]] && continue
    key=${field%%=*}
    value=${field#*=}
    case $key in
      min) python3 -c "import sys; sys.exit(0 if float('${seconds:-0}') >= $value else 1)" ||
             { ok=0; fail "[$name] took ${seconds:-?} s, expected >= $value"; } ;;
      max) python3 -c "import sys; sys.exit(0 if float('${seconds:-999}') <= $value else 1)" ||
             { ok=0; fail "[$name] took ${seconds:-?} s, expected <= $value"; } ;;
      expect) grep -qF -- "$value" <<<"$output" || { ok=0; fail "[$name] output lacks '$value'"; } ;;
      reject) grep -qF -- "$value" <<<"$output" && { ok=0; fail "[$name] output has '$value'"; } ;;
    esac
  done <"$marker"
  if [[ $ok -eq 1 ]]; then passed=$((passed + 1)); else echo "$output"; fi
done
# 3. the blocks that show a command's output
python3 - "$blocks" <<'PY'
import pathlib, re, sys
out = pathlib.Path(sys.argv[1])
text = pathlib.Path("README.md").read_text()
pattern = re.compile(r"<!-- readme-test-output:(.*?)-->\s*```\n(.*?)```", re.S)
for i, (command, shown) in enumerate(pattern.findall(text)):
    (out / f"out{i:02d}.cmd").write_text(command.strip())
    (out / f"out{i:02d}.shown").write_text(shown)
PY
for cmd in "$blocks"/out*.cmd; do
  [[ -e $cmd ]] || continue
  command=$(sed "s#^bin/#$BIN/#" "$cmd")
  if diff -u "${cmd%.cmd}.shown" <(bash -c "$command" 2>&1) >"$blocks/diff"; then
    passed=$((passed + 1))
  else
    fail "the README's output of '$(cat "$cmd")' differs from what it prints:"; cat "$blocks/diff"
  fi
done

# 4. the reading order and the concept map name real files and real functions
if map_problems=$(python3 - <<'PY'
import importlib, pathlib, re, sys
text = pathlib.Path("README.md").read_text()
def section(title):
    start = text.index(title)
    end = text.find("\n## ", start + 1)
    return text[start:end if end >= 0 else len(text)]
sources = [p for p in pathlib.Path(".").rglob("*") if p.suffix in (".cc", ".h")
           and not str(p).startswith(("build", "bin", "tests/fuzz/corpus"))]
def defined(name, files):
    words = name.split("::")
    for f in files or sources:
        body = pathlib.Path(f).read_text(errors="replace")
        if all(re.search(r"\b%s\b" % re.escape(w), body) for w in words):
            return True
    return False
def python_name_exists(dotted):
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for part in parts[i:]:
                obj = getattr(obj, part)
        except AttributeError:
            return False
        return True
    return False
problems = []
python_names = 0
for title in ("## How to read the code", "## Concept map"):
    python_column = None
    for line in section(title).splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if python_column is None:  # the table's heading row
                python_column = next((i for i, c in enumerate(cells) if "Python" in c), -1)
            elif 0 <= python_column < len(cells):
                for token in re.findall(r"`([^`]+)`", cells[python_column]):
                    for dotted in re.findall(r"\b[a-z_]\w*(?:\.\w+)+", token):
                        python_names += 1
                        if not python_name_exists(dotted):
                            problems.append(f"{title}: Python has no {dotted}")
                del cells[python_column]
                line = " | ".join(cells)
        tokens = re.findall(r"`([^`]+)`", line)
        files = [t for t in tokens if re.fullmatch(r"[\w./-]+\.(cc|h|sh|py)", t)]
        for f in files:
            if not pathlib.Path(f).exists():
                problems.append(f"{title}: no file {f}")
        files = [f for f in files if pathlib.Path(f).exists() and f.endswith((".cc", ".h"))]
        for t in tokens:
            for name in re.findall(r"\b[A-Z][a-z]\w*(?:::[A-Z]\w*)*", t):
                if not defined(name, files):
                    problems.append(f"{title}: `{name}` is not in {files or 'the sources'}")
if python_names < 20:
    problems.append(f"## Concept map: {python_names} Python names in its Python column; "
                    "expected the course's names (threading.Thread, ...)")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY
); then
  passed=$((passed + 1))
else
  fail "the README names what does not exist:"; echo "$map_problems"
fi

echo "readme: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
