# Concurrent HTTP server: one executable per concurrency model, sharing common/.
#
#   make run     install missing packages, build, serve www/ on http://localhost:8085
#   make test    install missing packages, build, run the whole test suite
#   make single_server | thread_server | process_server | thread_pool_server |
#        process_pool_server | pool_server | async_server | http_server   one model (+ common)
#   make asan | tsan | fuzz | bench | bench-quick | soak | attack | timeline | format | clean
#
# BUILD and BIN may be overridden (the sanitizer builds use build/asan, bin/asan, ...).

CXX      ?= g++
BUILD    ?= build
BIN      ?= bin
OPTFLAGS ?= -O2 -g
SANITIZE ?=
PORT     ?= 8085
MODEL    ?= thread
SHARDS   ?= 4

ABSL_LIBS := absl_status absl_statusor absl_strings absl_str_format absl_time absl_synchronization absl_flat_hash_map
PKG_CFLAGS := $(shell pkg-config --cflags $(ABSL_LIBS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(ABSL_LIBS) 2>/dev/null)
GTEST_LIBS := $(shell pkg-config --libs gmock gtest 2>/dev/null)

CXXFLAGS := -std=c++20 $(OPTFLAGS) $(SANITIZE) -Wall -Wextra -Werror -Wno-missing-field-initializers -I. $(PKG_CFLAGS) -MMD -MP
LDFLAGS  := $(SANITIZE) -pthread
LIBS     := $(PKG_LIBS)

COMMON_SRCS := $(wildcard common/*.cc)
COMMON_LIB  := $(BUILD)/libcommon.a
# The server binaries are found from their sources, so a new model needs no line here: every
# FOLDER/main.cc is the binary FOLDER (built from all of FOLDER/*.cc: thread_server, async_server,
# http_server, ...), and every pool_server/NAME_main.cc is the binary NAME_server, built with
# pool_server's other sources (the two pools share that folder).
DIR_SERVERS  := $(patsubst %/main.cc,%,$(wildcard *_server/main.cc))
POOL_SERVERS := $(patsubst pool_server/%_main.cc,%_server,$(wildcard pool_server/*_main.cc))
# A model's parts other than its main(): its binary links them, and so do the unit tests.
POOL_SRCS    := $(filter-out %_main.cc,$(wildcard pool_server/*.cc))
MODEL_SRCS   := $(filter-out %/main.cc,$(wildcard $(addsuffix /*.cc,$(DIR_SERVERS))))
UNIT_SRCS    := $(wildcard tests/unit/*.cc)
INTEG_SRCS   := $(wildcard tests/integration/*.cc)

objs = $(patsubst %.cc,$(BUILD)/%.o,$(1))

$(foreach s,$(DIR_SERVERS),$(eval SRCS_$(s) := $(s)/main.cc $(filter $(s)/%,$(MODEL_SRCS))))
$(foreach s,$(POOL_SERVERS),$(eval SRCS_$(s) := pool_server/$(s:_server=)_main.cc $(POOL_SRCS)))
ALL_SERVERS := $(DIR_SERVERS) $(POOL_SERVERS)

.PHONY: all deps test-deps run test unit integration scripts-test clean format \
        pool_server $(ALL_SERVERS) asan tsan sanitized-suite fuzz fuzz-deps bench bench-quick soak \
        attack timeline
.DEFAULT_GOAL := all

all: $(addprefix $(BIN)/,$(ALL_SERVERS))

$(foreach s,$(ALL_SERVERS),$(eval $(s): $(BIN)/$(s)))
pool_server: thread_pool_server process_pool_server

$(BUILD)/%.o: %.cc
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c $< -o $@

$(COMMON_LIB): $(call objs,$(COMMON_SRCS))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

define server_rule
$(BIN)/$(1): $(call objs,$(SRCS_$(1))) $(COMMON_LIB)
	@mkdir -p $(BIN)
	$(CXX) $(LDFLAGS) -o $$@ $$^ $(LIBS)
endef
$(foreach s,$(ALL_SERVERS),$(eval $(call server_rule,$(s))))

# Tests find the server binaries through HS_BIN_DIR (compiled in, overridable at run time).
$(BUILD)/tests/%.o: CXXFLAGS += -DHS_BIN_DIR='"$(abspath $(BIN))"' -DHS_SOURCE_DIR='"$(CURDIR)"'

$(BIN)/unit_tests: $(call objs,$(UNIT_SRCS) $(POOL_SRCS) $(MODEL_SRCS)) $(COMMON_LIB)
	@mkdir -p $(BIN)
	$(CXX) $(LDFLAGS) -o $@ $^ -lgtest_main $(GTEST_LIBS) $(LIBS)

$(BIN)/integration_tests: $(call objs,$(INTEG_SRCS)) $(COMMON_LIB)
	@mkdir -p $(BIN)
	$(CXX) $(LDFLAGS) -o $@ $^ -lgtest_main $(GTEST_LIBS) $(LIBS)

deps:
	@scripts/install-deps.sh build

test-deps:
	@scripts/install-deps.sh build test

run: deps
	@$(MAKE) --no-print-directory all
	$(BIN)/http_server -c $(MODEL) -p $(PORT) -f www

unit: $(BIN)/unit_tests
	$(BIN)/unit_tests

integration: all $(BIN)/integration_tests
	tests/run_sharded.sh $(BIN)/integration_tests $(SHARDS)

# Shell-level tests (README commands, benchmark smoke test, slowhttptest's short run, ...):
# every tests/*_test.sh.
scripts-test: all
	@set -e; for t in $(sort $(wildcard tests/*_test.sh)); do echo "== $$t"; BIN=$(BIN) bash $$t; done

test: test-deps
	@$(MAKE) --no-print-directory all $(BIN)/unit_tests $(BIN)/integration_tests
	$(BIN)/unit_tests --gtest_brief=1
	tests/run_sharded.sh $(BIN)/integration_tests $(SHARDS)
	@$(MAKE) --no-print-directory scripts-test

# ---------------------------------------------------------------------------------------------
# Sanitizers: every binary and the test binaries rebuilt with instrumentation in their own dirs
# (build/asan + bin/asan, build/tsan + bin/tsan), then the unit and integration tests run against
# them (the integration tests start the servers from HS_BIN_DIR, i.e. bin/asan or bin/tsan), and
# so does the browser test (a real browser's parallel connections are good for TSan).
# Every process (test runner, server, forked worker) halts on its first finding and writes the
# report to a file in build/<san>/reports (log_path), not to its stderr, which the tests capture.
# The target fails on a failing test OR any report file, so a report from a server that a test
# then killed still fails the run. GCC's libubsan cannot log to a file beside libasan (it writes
# to stderr and resets the shared report path: hence the same log_path twice), so a UBSan finding
# aborts (abort_on_error) and ASan files that SIGABRT (handle_abort) with a stack naming the
# __ubsan_handle_* check and the offending line.
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
TSAN_FLAGS := -fsanitize=thread -fno-omit-frame-pointer
# -g1: line tables (inlined frames included) are all a report's stack needs, and compile twice
# as fast as -g. GCC's -Wmaybe-uninitialized gives false positives in libstdc++'s <regex> (used
# by cxxopts) once the sanitizer instrumentation is inlined; the normal build keeps the warning.
SAN_OPTFLAGS := -O1 -g1 -Wno-maybe-uninitialized
SAN_REPORTS = $(CURDIR)/build/$(1)/reports
SAN_LOG = log_exe_name=1:log_path=$(call SAN_REPORTS,$(1))/$(1)
SAN_ENV_asan = \
  ASAN_OPTIONS=halt_on_error=1:handle_abort=1:detect_leaks=1:detect_stack_use_after_return=1:$(call SAN_LOG,asan) \
  UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1:$(call SAN_LOG,asan)
SAN_ENV_tsan = \
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$(CURDIR)/tests/tsan.supp:$(call SAN_LOG,tsan)

asan: test-deps
	@$(MAKE) --no-print-directory BUILD=build/asan BIN=bin/asan SANITIZE="$(ASAN_FLAGS)" \
	  OPTFLAGS="$(SAN_OPTFLAGS)" SAN=asan sanitized-suite
tsan: test-deps
	@$(MAKE) --no-print-directory BUILD=build/tsan BIN=bin/tsan SANITIZE="$(TSAN_FLAGS)" \
	  OPTFLAGS="$(SAN_OPTFLAGS)" SAN=tsan sanitized-suite

# Called by asan/tsan with BUILD, BIN, SANITIZE and SAN set.
sanitized-suite: all $(BIN)/unit_tests $(BIN)/integration_tests
	@rm -rf $(call SAN_REPORTS,$(SAN)) && mkdir -p $(call SAN_REPORTS,$(SAN))
	@status=0; export $(SAN_ENV_$(SAN)); \
	$(BIN)/unit_tests --gtest_brief=1 || status=1; \
	tests/run_sharded.sh $(BIN)/integration_tests $(SHARDS) || status=1; \
	BIN=$(BIN) bash tests/browser_test.sh || status=1; \
	reports=$$(find $(call SAN_REPORTS,$(SAN)) -type f | sort); n=0; \
	for r in $$reports; do \
	  n=$$((n + 1)); status=1; \
	  if [ $$n -le 3 ]; then echo "---- $(SAN) report $$r:"; cat "$$r"; \
	  else echo "---- also $$r"; fi; \
	done; \
	echo "$(SAN): $$n sanitizer reports (build/$(SAN)/reports)"; \
	exit $$status

# ---------------------------------------------------------------------------------------------
# Fuzzing: libFuzzer targets built with clang (plus ASan and UBSan) straight from the sources.
# Each runs FUZZ_SECONDS on its seed corpus (tests/fuzz/corpus/<target>, read-only); inputs it
# discovers go to build/fuzz/corpus/<target>, a crashing input to build/fuzz/artifacts/ and the
# target fails.
FUZZ_CXX     ?= clang++
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := http_request_fuzz resolve_target_fuzz byte_range_fuzz
FUZZ_BUILD   := build/fuzz
FUZZ_BIN     := bin/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CXXFLAGS := -std=c++20 -O1 -gline-tables-only $(FUZZ_SAN) -fsanitize=fuzzer-no-link \
                 -Wall -Wextra -Werror -Wno-missing-field-initializers -I. $(PKG_CFLAGS) -MMD -MP

fuzz-deps:
	@scripts/install-deps.sh build fuzz

$(FUZZ_BUILD)/%.o: %.cc
	@mkdir -p $(dir $@)
	$(FUZZ_CXX) $(FUZZ_CXXFLAGS) -c $< -o $@

# The objects are intermediate files of a pattern chain; keep them for incremental rebuilds.
.PRECIOUS: $(FUZZ_BUILD)/%.o

$(FUZZ_BUILD)/libcommon.a: $(patsubst %.cc,$(FUZZ_BUILD)/%.o,$(COMMON_SRCS))
	rm -f $@ && ar rcs $@ $^

$(FUZZ_BIN)/%: $(FUZZ_BUILD)/tests/fuzz/%.o $(FUZZ_BUILD)/libcommon.a
	@mkdir -p $(FUZZ_BIN)
	$(FUZZ_CXX) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(LIBS)

# The targets run side by side (one core each); each must exit 0.
fuzz: fuzz-deps
	@$(MAKE) --no-print-directory $(addprefix $(FUZZ_BIN)/,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/artifacts; \
	  dict=tests/fuzz/$$t.dict; [ -f $$dict ] && dict=-dict=$$dict || dict=; \
	  echo "== fuzzing $$t for $(FUZZ_SECONDS) s (log: $(FUZZ_BUILD)/$$t.log)"; \
	  ( UBSAN_OPTIONS=print_stacktrace=1 $(FUZZ_BIN)/$$t -max_total_time=$(FUZZ_SECONDS) \
	      -timeout=10 -print_final_stats=1 $$dict -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$t- \
	      $(FUZZ_BUILD)/corpus/$$t tests/fuzz/corpus/$$t 2>$(FUZZ_BUILD)/$$t.log; \
	    echo $$? >$(FUZZ_BUILD)/$$t.status ) & \
	done; wait; \
	status=0; for t in $(FUZZ_TARGETS); do \
	  if [ "$$(cat $(FUZZ_BUILD)/$$t.status)" = 0 ]; then \
	    echo "fuzz: $$t ok: $$(grep -E '^Done' $(FUZZ_BUILD)/$$t.log)"; \
	  else \
	    tail -n 60 $(FUZZ_BUILD)/$$t.log; status=1; \
	    echo "fuzz: $$t FAILED (log: $(FUZZ_BUILD)/$$t.log, input: $(FUZZ_BUILD)/artifacts/)"; \
	  fi; \
	done; exit $$status

format:
	clang-format -i $(shell git ls-files '*.cc' '*.h')

clean:
	rm -rf build bin

# Benchmarks (bench/bench.py; see benchmark.md). `make bench` measures every built model beside the
# reference servers (nginx, lighttpd, h2o, Apache prefork/worker/event: bench/*.conf.template) and
# rewrites benchmark.md + benchmark.svg (~38 min: it prints its estimate). `make bench-quick`
# (or BENCH_QUICK=1) is a smoke run of a few seconds per measurement into build/bench-quick/.
# Driver options through BENCH_ARGS, e.g. BENCH_ARGS="--models single,thread,nginx --runs 5".
bench:
	@scripts/install-deps.sh build bench
	@$(MAKE) --no-print-directory all
	python3 bench/bench.py --bin $(BIN) --compiler "$(CXX) $(OPTFLAGS) $(SANITIZE)" \
	  $(if $(filter-out 0,$(BENCH_QUICK)),--quick) $(BENCH_ARGS)

bench-quick:
	@$(MAKE) --no-print-directory bench BENCH_QUICK=1

# Reliability soak (bench/soak.py): each model SOAK_SECONDS (default 120; 10 for a quick check)
# under wrk; fails on socket errors, unexpected statuses, RSS growth >= 10%, descriptors or
# children not back to idle, zombies, or an unclean SIGINT exit. Rewrites only the Reliability
# section of benchmark.md. Driver options through SOAK_ARGS, e.g. SOAK_ARGS="--models async".
soak:
	@scripts/install-deps.sh build bench
	@$(MAKE) --no-print-directory all
	python3 bench/soak.py --bin $(BIN) --seconds $(or $(SOAK_SECONDS),120) $(SOAK_ARGS)

# Real attack tool (bench/attack.py): slowhttptest's slow headers, slow body and slow read against
# every model, ATTACK_SECONDS each (default 30) with 240 connections, one at a time (~12 min).
# Fails when a model that serves clients concurrently leaves a fresh client unanswered during an
# attack, or any model is not answering after it or does not exit 0 on SIGINT with no process
# left. Rewrites only the "Reliability under attack" section of benchmark.md (raw results:
# build/attack/attack.json); make test runs a short version (tests/attack_test.sh). Driver options
# through ATTACK_ARGS, e.g. ATTACK_ARGS="--models async --modes read".
attack:
	@scripts/install-deps.sh build attack
	@$(MAKE) --no-print-directory all
	python3 bench/attack.py --bin $(BIN) --seconds $(or $(ATTACK_SECONDS),30) $(ATTACK_ARGS)

# Who served what, and when (bench/timeline.py): each model with --delay=1 and --served-by, the
# pools fixed at 4 workers, 12 clients at once; checks each model's shape, writes the data to
# build/timeline.json and redraws timeline.svg (README: "Try it yourself"). ~30 s.
timeline: deps
	@$(MAKE) --no-print-directory all
	python3 bench/timeline.py --bin $(BIN) --check --delay 1 --requests 12 --workers 4 \
	  --json $(BUILD)/timeline.json --svg timeline.svg

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
