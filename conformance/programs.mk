# The programs' conformance suites (conformance/README.md):
#   make test-programs       cmocka: programs as child processes, golden outputs, every C implementation
#   make test-pytest         pytest: programs as real processes (build/bin/{script})
#   make conformance LEASE_IMPL='cmd ... {script}'   the pytest suite against any implementation
#   make test-broken-adapter the suite must fail against fixtures/adapters/broken-release.sh, naming it
PROGRAMS_TEST_BINARY := $(BIN)/test-programs
PROGRAMS_REPORTS := $(or $(CI_REPORT_DIR),$(O)/reports)
PROGRAMS_PYTEST := $(PYTHON) -m pytest conformance/pytest -p no:cacheprovider
LEASE_IMPL ?= build/bin/{script}
PROGRAMS_BROKEN_IMPL := fixtures/adapters/broken-release.sh {script}

TEST_TARGETS += test-programs test-pytest test-broken-adapter test-reference-adapter

.PHONY: test-programs test-pytest conformance test-broken-adapter

$(PROGRAMS_TEST_BINARY): $(OBJ)/conformance/programs/test_programs.o $(LIB_STATIC)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcmocka $(LIBS)

test-programs: $(PROGRAMS_TEST_BINARY) $(PROGRAMS_BINARIES) ## the four programs over every C implementation (cmocka, golden files)
	CONFORMANCE_BIN=$(BIN) CONFORMANCE_FIXTURES=fixtures $(PROGRAMS_TEST_BINARY)

test-pytest: $(PROGRAMS_BINARIES) ## the programs as real processes (pytest)
	@mkdir -p $(PROGRAMS_REPORTS)
	$(PROGRAMS_PYTEST) -q --tb=short --lease-impl='$(BIN)/{script}' --junitxml=$(PROGRAMS_REPORTS)/pytest-conformance.xml

# Its own report file: pointing the suite at another implementation never
# overwrites the project's own pytest-conformance.xml.
conformance: $(PROGRAMS_BINARIES) ## the pytest suite against LEASE_IMPL='cmd ... {script}'
	@mkdir -p $(PROGRAMS_REPORTS)
	$(PROGRAMS_PYTEST) -q --tb=short --lease-impl='$(LEASE_IMPL)' --junitxml=$(PROGRAMS_REPORTS)/conformance-report.xml

# The reference adapter (fixtures/adapters/correct_lease.py, Python) must pass
# the whole suite: the example implementation authors start from.
.PHONY: test-reference-adapter
test-reference-adapter: ## the Python reference adapter passes the whole conformance suite
	@mkdir -p $(PROGRAMS_REPORTS)
	$(PROGRAMS_PYTEST) -q --tb=short --lease-impl='$(PYTHON) fixtures/adapters/correct_lease.py {script}' \
		--junitxml=$(PROGRAMS_REPORTS)/pytest-reference-adapter.xml

# Passes only when the suite fails against the broken adapter and its report
# names the broken behaviour.
test-broken-adapter: $(PROGRAMS_BINARIES) ## the suite must catch a broken adapter and name it
	@mkdir -p $(PROGRAMS_REPORTS)
	@if BROKEN_ADAPTER_BIN=$(BIN) $(PROGRAMS_PYTEST) -q --tb=no --lease-impl='$(PROGRAMS_BROKEN_IMPL)' \
		> $(PROGRAMS_REPORTS)/broken-adapter.txt 2>&1; then \
		echo "test-broken-adapter: FAILED: the suite passed against $(PROGRAMS_BROKEN_IMPL)"; exit 1; fi
	@grep -q '^FAIL .*held' $(PROGRAMS_REPORTS)/broken-adapter.txt && \
		grep -q 'FOREIGN RELEASE' $(PROGRAMS_REPORTS)/broken-adapter.txt || { \
		echo "test-broken-adapter: FAILED: the report does not name the foreign release"; \
		tail -n 40 $(PROGRAMS_REPORTS)/broken-adapter.txt; exit 1; }
	@echo "test-broken-adapter: ok: the suite failed against the broken adapter and named it:"
	@grep -m 3 'FOREIGN RELEASE' $(PROGRAMS_REPORTS)/broken-adapter.txt | sed 's/^/    /'
	@grep '^=== [0-9]* passed' $(PROGRAMS_REPORTS)/broken-adapter.txt | sed 's/^/    /'

# Reports (does not fail) how the original algorithm's models fare: the storm
# shows their races, the reused pid their wedge.
.PHONY: conformance-models
conformance-models: $(PROGRAMS_BINARIES) ## report how the original's models fare (does not fail)
	@for impl in neo-v1 neo-v2; do \
		$(PROGRAMS_PYTEST) -q --tb=no --lease-impl="env LEASE_IMPLEMENTATION=$$impl $(BIN)/{script}" 2>&1 \
			| sed -n '/=== lease conformance report/,$$p' | grep -v '^PASS'; \
	done; true
