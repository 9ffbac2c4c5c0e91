# The programs' conformance suites (conformance/README.md):
#   make test-programs       cmocka: programs as child processes, golden outputs, every C implementation
#   make test-pytest         pytest: programs as real processes (build/bin/{script})
#   make conformance LEASE_IMPL='cmd ... {script}'   the pytest suite against any implementation
#   make test-broken-adapter the suite must fail against fixtures/adapters/broken-release.sh, naming it
#   make test-reference-adapter the suite must pass against fixtures/adapters/correct_lease.py (reference adapter)
#   make test-racy-adapter   the suite must fail against fixtures/adapters/racy_lease.py, naming the overlap
#   make test-race-cases     each arranged race fails, naming its cause, against an adapter broken that way
PROGRAMS_TEST_BINARY := $(BIN)/test-programs
PROGRAMS_REPORTS := $(or $(CI_REPORT_DIR),$(O)/reports)
PROGRAMS_PYTEST := $(PYTHON) -m pytest conformance/pytest -p no:cacheprovider
LEASE_IMPL ?= build/bin/{script}
PROGRAMS_BROKEN_IMPL := fixtures/adapters/broken-release.sh {script}

TEST_TARGETS += test-programs test-pytest test-broken-adapter test-reference-adapter test-racy-adapter test-race-cases

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

# The Python adapters speak the adapter protocol themselves (no C program runs).
PROGRAMS_RACY_IMPL := /usr/bin/python3 fixtures/adapters/racy_lease.py {script}
.PHONY: test-racy-adapter

# Passes only when the suite fails against the racy adapter (the original
# algorithm's races) and its report names the overlap the races cause.
test-racy-adapter: ## the suite must fail against the racy adapter (the original's races), naming the overlap
	@mkdir -p $(PROGRAMS_REPORTS)
	@if $(PROGRAMS_PYTEST) -q --tb=no --lease-impl='$(PROGRAMS_RACY_IMPL)' \
		> $(PROGRAMS_REPORTS)/racy-adapter.txt 2>&1; then \
		echo "test-racy-adapter: FAILED: the suite passed against $(PROGRAMS_RACY_IMPL)"; exit 1; fi
	@grep -q '^FAIL .*storm' $(PROGRAMS_REPORTS)/racy-adapter.txt && \
		grep -q 'OVERLAP' $(PROGRAMS_REPORTS)/racy-adapter.txt || { \
		echo "test-racy-adapter: FAILED: the report does not name the overlap"; \
		tail -n 40 $(PROGRAMS_REPORTS)/racy-adapter.txt; exit 1; }
	@echo "test-racy-adapter: ok: the suite failed against the racy adapter and named it:"
	@grep -m 3 'OVERLAP' $(PROGRAMS_REPORTS)/racy-adapter.txt | sed 's/^/    /'
	@grep '^=== [0-9]* passed' $(PROGRAMS_REPORTS)/racy-adapter.txt | sed 's/^/    /'

# Each arranged race and protocol check of the pytest suite fails, naming its
# cause, against an adapter broken that way (fixtures/adapters/).
.PHONY: test-race-cases
RACE_CASE = BROKEN_ADAPTER_BIN=$(BIN) $(PROGRAMS_PYTEST) -q --tb=line
test-race-cases: $(PROGRAMS_BINARIES) ## each arranged race fails, naming its cause, against an adapter broken that way
	@mkdir -p $(PROGRAMS_REPORTS)
	@check() { name=$$1; impl=$$2; filter=$$3; want=$$4; out=$(PROGRAMS_REPORTS)/race-case-$$name.txt; \
		if $(RACE_CASE) -k "$$filter" --lease-impl="$$impl" > $$out 2>&1; then \
			echo "test-race-cases: FAILED: $$name: the suite passed against $$impl"; return 1; fi; \
		grep -q "$$want" $$out || { echo "test-race-cases: FAILED: $$name: '$$want' not named"; tail -n 30 $$out; return 1; }; \
		echo "test-race-cases: ok: $$name: $$want"; }; \
	check reclaimers 'fixtures/adapters/broken-release.sh {script}' reclaimers 'TWO RECLAIMERS' && \
	check release-race 'fixtures/adapters/broken-release.sh {script}' release_race 'FOREIGN RELEASE' && \
	check deferral-text 'fixtures/adapters/broken-deferral-text.sh {script}' two_programs 'WRONG DEFERRAL TEXT' && \
	check startup 'fixtures/adapters/broken-startup.sh {script}' 'storm or two_programs' 'exit status: 3' && \
	check double-acquisition '/usr/bin/python3 fixtures/adapters/broken_double.py {script}' contention_storm 'DOUBLE ACQUISITION' && \
	check unknown-holder '/usr/bin/python3 fixtures/adapters/broken_unknown_holder.py {script}' holder_cannot_be_read 'HELD WITHOUT HOLDER' && \
	check no-grace 'env LEASE_IMPLEMENTATION=neo-v2 $(BIN)/{script}' holder_cannot_be_read 'RECLAIMED A FILE STILL BEING WRITTEN' && \
	check mixed-storm 'env LEASE_IMPLEMENTATION=neo-v2 $(BIN)/{script}' mixed_storm "REPLACED A LIVE WRITER'S FILE" && \
	if [ "$$(id -u)" = 0 ]; then \
		check eperm '/usr/bin/python3 fixtures/adapters/broken_eperm.py {script}' live_process_of_another 'EPERM TAKEN AS DEAD' && \
		check other-owner 'fixtures/adapters/broken-release.sh {script}' unreadable_lease_file 'FOREIGN RELEASE'; \
	else echo "test-race-cases: skipped eperm: needs root to run a program as another user"; fi
