# Concurrent HTTP server: one executable per concurrency model, sharing common/.
#
#   make run     install missing packages, build, serve www/ on http://localhost:8085
#   make test    install missing packages, build, run the whole test suite
#   make single_server | thread_server | process_server | thread_pool_server |
#        process_pool_server | pool_server | async_server | http_server   one model (+ common)
#   make asan | tsan | fuzz | bench | bench-quick | soak | format | clean
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

ABSL_LIBS := absl_status absl_statusor absl_strings absl_str_format absl_time absl_synchronization
PKG_CFLAGS := $(shell pkg-config --cflags $(ABSL_LIBS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(ABSL_LIBS) 2>/dev/null)
GTEST_LIBS := $(shell pkg-config --libs gmock gtest 2>/dev/null)

CXXFLAGS := -std=c++20 $(OPTFLAGS) $(SANITIZE) -Wall -Wextra -Werror -Wno-missing-field-initializers -I. $(PKG_CFLAGS) -MMD -MP
LDFLAGS  := $(SANITIZE) -pthread
LIBS     := $(PKG_LIBS)

COMMON_SRCS := $(wildcard common/*.cc)
COMMON_LIB  := $(BUILD)/libcommon.a
POOL_SRCS   := $(filter-out %_main.cc,$(wildcard pool_server/*.cc))
ASYNC_SRCS  := $(wildcard async_server/*.cc)
UNIT_SRCS   := $(wildcard tests/unit/*.cc)
INTEG_SRCS  := $(wildcard tests/integration/*.cc)

objs = $(patsubst %.cc,$(BUILD)/%.o,$(1))

# Each server binary and its sources; a model whose sources do not exist yet is skipped.
SRCS_single_server       := single_server/main.cc
SRCS_thread_server       := thread_server/main.cc
SRCS_process_server      := process_server/main.cc
SRCS_thread_pool_server  := pool_server/thread_pool_main.cc $(POOL_SRCS)
SRCS_process_pool_server := pool_server/process_pool_main.cc $(POOL_SRCS)
SRCS_async_server        := $(ASYNC_SRCS)
SRCS_http_server         := http_server/main.cc
ALL_SERVERS := single_server thread_server process_server thread_pool_server \
               process_pool_server async_server http_server
SERVERS := $(foreach s,$(ALL_SERVERS),$(if $(wildcard $(firstword $(SRCS_$(s)))),$(s)))

.PHONY: all deps test-deps run test unit integration scripts-test clean format \
        pool_server $(ALL_SERVERS) asan tsan fuzz bench bench-quick soak
.DEFAULT_GOAL := all

all: $(addprefix $(BIN)/,$(SERVERS))

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

$(BIN)/unit_tests: $(call objs,$(UNIT_SRCS) $(POOL_SRCS)) $(COMMON_LIB)
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

# Shell-level tests (README commands, benchmark smoke test, ...): every tests/*_test.sh.
scripts-test: all
	@set -e; for t in $(sort $(wildcard tests/*_test.sh)); do echo "== $$t"; BIN=$(BIN) bash $$t; done

test: test-deps
	@$(MAKE) --no-print-directory all $(BIN)/unit_tests $(BIN)/integration_tests
	$(BIN)/unit_tests --gtest_brief=1
	tests/run_sharded.sh $(BIN)/integration_tests $(SHARDS)
	@$(MAKE) --no-print-directory scripts-test

format:
	clang-format -i $(shell git ls-files '*.cc' '*.h')

clean:
	rm -rf build bin

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
