# src/cli/cli.mk: tests and benchmark of the `lease` wrapper. The top Makefile
# already builds $(BIN)/lease from src/cli/*.c and adds it to PROGRAMS.

CLI_TEST_DIR := conformance/cli
CLI_REPORT_DIR := $(O)/reports

.PHONY: test-cli bench-cli

# Sanitizer findings exit with codes no test expects (the suite asserts
# every exit code), so a finding can never pass for a normal status.
# Keep the caller's sanitizer options (make check collects report files through them).
CLI_SANITIZER_ENV := ASAN_OPTIONS="$${ASAN_OPTIONS:-exitcode=86:detect_leaks=1}" UBSAN_OPTIONS="$${UBSAN_OPTIONS:-exitcode=87:print_stacktrace=1}"

# Unit tests of the pure argument parser (cmocka).
CLI_ARGS_TEST := $(O)/tests/test_cli_args
$(CLI_ARGS_TEST): $(OBJ)/conformance/cli/test_cli_args.o $(OBJ)/src/cli/cli_args.o $(LIB_STATIC)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) -lcmocka

# The parser's units, then the integration tests: real processes,
# synchronised on readiness lines.
test-cli: $(BIN)/lease $(CLI_ARGS_TEST) ## the lease wrapper: parser units and real-process pytest cases
	@mkdir -p $(CLI_REPORT_DIR)
	$(CLI_SANITIZER_ENV) $(CLI_ARGS_TEST)
	$(CLI_SANITIZER_ENV) LEASE_BIN=$(abspath $(BIN)/lease) $(PYTHON) -m pytest -q -p no:cacheprovider \
		--junitxml=$(CLI_REPORT_DIR)/pytest-cli.xml $(CLI_TEST_DIR)

# `lease run --owner x -- true` against `flock -n FILE true`, whole process,
# interleaved runs, medians and their ratio (goal: within 1.5x).
CLI_BENCH_RUNS ?= 300
bench-cli: $(BIN)/lease ## lease run against flock(1): ratio of medians
	$(PYTHON) $(CLI_TEST_DIR)/bench_cli.py --lease-bin $(abspath $(BIN)/lease) --runs $(CLI_BENCH_RUNS)

TEST_TARGETS += test-cli
