# ci/ci.mk: the CI gates (docs/ci.md). Every gate is one make target that a
# developer runs locally exactly as the workflow does:
#
#   make coverage    VARIANT=cov build, every suite, lcov HTML + lcov.info +
#                    Cobertura XML, fails under 95% lines / 85% branches (library)
#   make check       VARIANT=san build, every suite under ASan+UBSan, valgrind
#                    on the C test binaries, a short fuzz run
#   make ci-gates    coverage then check; prints which gate failed
#   make fuzz        libFuzzer targets for FUZZ_SECONDS each (build/fuzz)
#   make bench       every `name value unit` figure against fixtures/bench-baseline.txt
#   make ci-selftest proves that each kind of failure makes the gates fail
#
# The suites are TEST_TARGETS; a gate skips the ones it cannot instrument
# (CI_COV_SKIP, CI_SAN_SKIP) and says so.

CI_DIR := build/ci
# test-install and test-deb link an example with plain `cc` through pkg-config: they check
# packaging, not behaviour, and cannot link instrumented objects. test-reference-adapter and
# test-racy-adapter run Python adapters only (no C code of the project runs); test-broken-adapter
# and test-race-cases judge the pytest suite against adapters broken on purpose (what they prove
# does not depend on the build, the C code they run is test-pytest's, and their arranged races
# need the plain build's timing); check-layers reads the objects' symbol tables (the layering is
# the same in every build): an instrumented build would run them again for nothing
# (docs/design.md, Speed).
CI_GATE_SKIP := test-install test-deb test-storm test-docs test-timeline test-multihost test-throwaway \
	test-reference-adapter test-racy-adapter test-broken-adapter test-race-cases check-layers
CI_COV_SKIP ?= $(CI_GATE_SKIP)
CI_SAN_SKIP ?= $(CI_GATE_SKIP)
CI_COV_SUITES = $(filter-out $(CI_COV_SKIP),$(TEST_TARGETS))
CI_SAN_SUITES = $(filter-out $(CI_SAN_SKIP),$(TEST_TARGETS))

COVERAGE_LINE_MIN ?= 95
COVERAGE_BRANCH_MIN ?= 85
FUZZ_SECONDS ?= 60
CHECK_FUZZ_SECONDS ?= 15

export COVERAGE_LINE_MIN COVERAGE_BRANCH_MIN CHECK_FUZZ_SECONDS

.PHONY: valgrind coverage check ci-gates fuzz fuzz-build fuzz-regression bench ci-selftest test-tap

coverage: ## coverage build, every suite, the library gate
	@bash ci/coverage.sh $(CI_COV_SUITES)

check: ## ASan+UBSan over every suite, valgrind, a short fuzz run
	@bash ci/check.sh $(CI_SAN_SUITES)

ci-gates: ## coverage then check (what CI runs after make test)
	@bash ci/gates.sh

# Every suite with cmocka's TAP output on the terminal (no JUnit XML).
test-tap:
	@CMOCKA_MESSAGE_OUTPUT=tap bash ci/run-suites.sh $(TEST_TARGETS)

ci-selftest: ## prove that each gate fails on a broken input
	@bash ci/selftest.sh

bench: ## every figure against fixtures/bench-baseline.txt
	@bash ci/bench.sh

# The C test binaries that run without helpers or arguments (plain build):
# the library's suites, the CLI parser's, the simulator's world (each when
# its part defines it).
CI_VALGRIND_BINARIES ?= $(LIB_TEST_BINARIES) $(CLI_ARGS_TEST) \
	$(if $(SIM_LIBRARY_OBJECTS),$(O)/tests/test_sim_world)
valgrind: $(CI_VALGRIND_BINARIES)
	@bash ci/valgrind.sh $(CI_VALGRIND_BINARIES)

# ---- the simulation campaign, sharded as the workflow's matrix runs it ----
# make ci-sim-shard CI_SIM_SHARD=K/N   one shard -> build/sim-campaign/shard-K-of-N.json
# make ci-sim-merge                    merges every shard summary there (exit 1 on a violation)
# make ci-sim-campaign CI_SIM_SHARDS=N all N shards here, two at a time, then the merge
CI_SIM_SEEDS ?= 1..1000000
CI_SIM_ARGS ?= --impl lease
CI_SIM_SHARD ?= 1/1
CI_SIM_SHARDS ?= 4
CI_SIM_DIR := build/sim-campaign

.PHONY: ci-sim-shard ci-sim-merge ci-sim-campaign
ci-sim-shard: $(BIN)/leasesim
	@mkdir -p $(CI_SIM_DIR)
	$(BIN)/leasesim $(CI_SIM_ARGS) --seeds $(CI_SIM_SEEDS) --shard $(CI_SIM_SHARD) --quiet \
		--summary $(CI_SIM_DIR)/shard-$(subst /,-of-,$(CI_SIM_SHARD)).json

ci-sim-merge: $(BIN)/leasesim
	$(BIN)/leasesim --merge $(sort $(wildcard $(CI_SIM_DIR)/shard-*.json))

ci-sim-campaign: $(BIN)/leasesim
	@rm -f $(CI_SIM_DIR)/shard-*.json
	@seq 1 $(CI_SIM_SHARDS) | xargs -P 2 -I K $(MAKE) --no-print-directory ci-sim-shard CI_SIM_SHARD=K/$(CI_SIM_SHARDS)
	@$(MAKE) --no-print-directory ci-sim-merge

# ---- fuzzing: clang builds the library into its own folder ----------------
FUZZ_O := build/fuzz
FUZZ_CC ?= clang
FUZZ_SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := $(REQUIRED_CPPFLAGS) -Isrc/cli -g -O1 -fno-omit-frame-pointer $(FUZZ_SANITIZE) \
	-fsanitize=fuzzer-no-link $(REQUIRED_CFLAGS)
FUZZ_SOURCES := $(wildcard ci/fuzz/fuzz_*.c)
FUZZ_BINARIES := $(FUZZ_SOURCES:ci/fuzz/%.c=$(FUZZ_O)/bin/%)
# The library plus the pure parts of the CLI (everything but its main).
FUZZ_LINKED_SOURCES := $(LIB_SOURCES) $(filter-out src/cli/lease_main.c,$(wildcard src/cli/*.c))
FUZZ_LINKED_OBJECTS := $(FUZZ_LINKED_SOURCES:%.c=$(FUZZ_O)/obj/%.o)

$(FUZZ_O)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_O)/bin/%: $(FUZZ_O)/obj/ci/fuzz/%.o $(FUZZ_LINKED_OBJECTS)
	@mkdir -p $(@D)
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SANITIZE) -o $@ $^ $(LIBS)

# The whole-cycle target runs on the library suites' fake environment.
$(FUZZ_O)/obj/ci/fuzz/fuzz_cycle.o: FUZZ_CFLAGS += -Iconformance/lib
$(FUZZ_O)/bin/fuzz_cycle: $(FUZZ_O)/obj/ci/fuzz/fuzz_cycle.o $(FUZZ_O)/obj/conformance/lib/fake_env.o \
		$(FUZZ_LINKED_OBJECTS)
	@mkdir -p $(@D)
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SANITIZE) -o $@ $^ $(LIBS)

# Objects of a chained pattern rule are intermediate; keep them between runs.
.SECONDARY: $(FUZZ_LINKED_OBJECTS) $(FUZZ_SOURCES:ci/fuzz/%.c=$(FUZZ_O)/obj/ci/fuzz/%.o) \
	$(FUZZ_O)/obj/conformance/lib/fake_env.o

fuzz-build: $(FUZZ_BINARIES)

fuzz: fuzz-build ## the libFuzzer targets for FUZZ_SECONDS each
	@bash ci/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_BINARIES)

# Every seed once, no mutation: a quick regression check.
fuzz-regression: fuzz-build
	@bash ci/fuzz.sh 0 $(FUZZ_BINARIES)

-include $(call find_files,$(FUZZ_O)/obj,%.d)

# The self-test's injected failures come in through this fragment (unset
# normally).
ifneq ($(CI_EXTRA_MK),)
include $(CI_EXTRA_MK)
endif

# Instruction counts per simulated step under callgrind (repeatable on a noisy
# machine, unlike wall time): part of make bench.
.PHONY: bench-instructions
bench-instructions: $(LEASESIM) ## instructions per simulated step (callgrind)
	@bash ci/bench-instructions.sh $(LEASESIM) $(O)/bench/instructions

# What make test costs: each suite alone (CPU and wall seconds), then all of
# them as make test runs them (wall). Minutes: not part of make bench unless
# CI_BENCH_TARGETS names it.
.PHONY: bench-suites
bench-suites: all ## CPU seconds of every suite of make test, and make test's wall time
	@LEASESIM=$(LEASESIM) bash ci/bench-suites.sh $(O)/bench/suites $(TEST_TARGETS)

# The Debian package (ci/deb.sh) and its install/smoke/remove test.
.PHONY: deb test-deb
deb: all ## build a Debian binary package into build/deb/
	@bash ci/deb.sh $(O)/deb
test-deb: all ## install the .deb with dpkg -i, smoke-test it, remove it (root)
	@bash ci/deb-test.sh $(O)/deb
TEST_TARGETS += test-deb

# The man pages, the bash completion and make help (ci/doc-test.sh).
.PHONY: test-docs
test-docs: ## man pages render without warnings, completion works, make help lists every suite
	@bash ci/doc-test.sh
TEST_TARGETS += test-docs

# A new implementation is one file plus one registry row (ci/throwaway-impl.sh).
.PHONY: test-throwaway
test-throwaway: all $(LIB_TEST_DIR)/test_lease_lib $(PROGRAMS_TEST_BINARY) ## a throwaway implementation, one file + one registry row, through every suite and the simulator
	@bash ci/throwaway-impl.sh
TEST_TARGETS += test-throwaway
