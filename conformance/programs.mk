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

# Under the sanitizer and coverage builds (make ci-gates) the storms do a third
# of their work: every start of an instrumented program costs about 60 ms of
# CPU (0.4 ms plain), and more bodies run the same code again, no new code.
PROGRAMS_STORM_SCALE := $(if $(VARIANT),0.33,1)

test-pytest: $(PROGRAMS_BINARIES) ## the programs as real processes (pytest)
	@mkdir -p $(PROGRAMS_REPORTS)
	$(PROGRAMS_PYTEST) -q --tb=short --storm-scale $(PROGRAMS_STORM_SCALE) --lease-impl='$(BIN)/{script}' \
		--junitxml=$(PROGRAMS_REPORTS)/pytest-conformance.xml

# Its own report file: pointing the suite at another implementation never
# overwrites the project's own pytest-conformance.xml.
conformance: $(PROGRAMS_BINARIES) ## the pytest suite against LEASE_IMPL='cmd ... {script}'
	@mkdir -p $(PROGRAMS_REPORTS)
	$(PROGRAMS_PYTEST) -q --tb=short --lease-impl='$(LEASE_IMPL)' --junitxml=$(PROGRAMS_REPORTS)/conformance-report.xml

# The reference adapter (fixtures/adapters/correct_lease.py, Python) must pass
# the whole suite: the example implementation authors start from. Its storms
# do a tenth of the work (--storm-scale: 15 bodies and 15 deferrals in the
# contention storm, its first wave still 32 contenders at once; 10 bodies a
# side in the mixed one): each of its starts costs about 60 ms of CPU against
# 0.4 ms for a C program, and leasesim --exec (make test-exec) searches its
# schedules far more closely than a storm can. Its four programs are one file
# under four names: each case that names a program runs once, for the four in
# turn (--programs-per-case one: 29 cases, not 84; the JUnit report must name
# all four). First, a value out of range is refused with pytest's usage
# status (4).
.PHONY: test-reference-adapter
test-reference-adapter: ## the Python reference adapter passes the whole conformance suite
	@mkdir -p $(PROGRAMS_REPORTS)
	@$(PROGRAMS_PYTEST) -q --collect-only --storm-scale 2 > $(PROGRAMS_REPORTS)/storm-scale-refused.txt 2>&1; \
		status=$$?; [ $$status -eq 4 ] && grep -q "storm-scale must be a number from 0.1 to 1, not '2'" \
		$(PROGRAMS_REPORTS)/storm-scale-refused.txt || { echo "test-reference-adapter: FAILED: --storm-scale 2 was not refused (exit $$status)"; \
		cat $(PROGRAMS_REPORTS)/storm-scale-refused.txt; exit 1; }
	@$(PROGRAMS_PYTEST) -q --collect-only --programs-per-case two > $(PROGRAMS_REPORTS)/programs-per-case-refused.txt 2>&1; \
		status=$$?; [ $$status -eq 4 ] && grep -q "programs-per-case must be 'all' or 'one', not 'two'" \
		$(PROGRAMS_REPORTS)/programs-per-case-refused.txt || { echo "test-reference-adapter: FAILED: --programs-per-case two was not refused (exit $$status)"; \
		cat $(PROGRAMS_REPORTS)/programs-per-case-refused.txt; exit 1; }
	$(PROGRAMS_PYTEST) -q --tb=short --storm-scale 0.1 --programs-per-case one \
		--lease-impl='$(PYTHON) -S fixtures/adapters/correct_lease.py {script}' \
		--junitxml=$(PROGRAMS_REPORTS)/pytest-reference-adapter.xml
	@grep -o 'name="[a-z_]*\[\([^"]*-\)\{0,1\}\(sandman\|kbSync\|backup\|syncGithubWorkflow\)\]"' \
		$(PROGRAMS_REPORTS)/pytest-reference-adapter.xml | sed 's/.*[[-]\([a-zA-Z]*\)\]"$$/\1/' | sort -u | wc -l | grep -qx 4 || \
		{ echo "test-reference-adapter: FAILED: --programs-per-case one did not run each of the four programs"; exit 1; }

# Passes only when the suite fails against the broken adapter and its report
# names the broken behaviour.
# $(call expect_suite_fails,NAME,IMPL,FAILED CASE,CAUSE,WHAT,ENV,CASES): passes only
# when the pytest suite's CASES (a -k expression: the cases that arrange what
# the adapter breaks; the rest of the suite would only repeat the verdict at
# several times the cost) fail against IMPL with a FAILED CASE whose report
# names CAUSE (WHAT in the message); the report is kept in
# $(PROGRAMS_REPORTS)/NAME.txt. The session stops at its first failure (-x).
define expect_suite_fails
	@mkdir -p $(PROGRAMS_REPORTS)
	@if $(6) $(PROGRAMS_PYTEST) -q --tb=no -x -k '$(7)' --lease-impl='$(2)' > $(PROGRAMS_REPORTS)/$(1).txt 2>&1; then \
		echo "test-$(1): FAILED: the suite's cases '$(7)' passed against $(2)"; exit 1; fi
	@grep -q '^FAIL .*$(3)' $(PROGRAMS_REPORTS)/$(1).txt && grep -q '$(4)' $(PROGRAMS_REPORTS)/$(1).txt || { \
		echo "test-$(1): FAILED: the report does not name the $(5)"; \
		tail -n 40 $(PROGRAMS_REPORTS)/$(1).txt; exit 1; }
	@echo "test-$(1): ok: the suite failed against the $(subst -, ,$(1)) and named it:"
	@grep -m 3 '$(4)' $(PROGRAMS_REPORTS)/$(1).txt | sed 's/^/    /'
	@grep '^=== [0-9]* passed' $(PROGRAMS_REPORTS)/$(1).txt | sed 's/^/    /'
endef

test-broken-adapter: $(PROGRAMS_BINARIES) ## the suite must catch a broken adapter and name it
	$(call expect_suite_fails,broken-adapter,$(PROGRAMS_BROKEN_IMPL),held,FOREIGN RELEASE,foreign release,BROKEN_ADAPTER_BIN=$(BIN),held_by_live_program or original_format)

# Reports (does not fail) how the original algorithm's models fare: the storm
# shows their races, the reused pid their wedge.
.PHONY: conformance-models
conformance-models: $(PROGRAMS_BINARIES) ## report how the original's models fare (does not fail)
	@for impl in neo-v1 neo-v2; do \
		$(PROGRAMS_PYTEST) -q --tb=no --lease-impl="env LEASE_IMPLEMENTATION=$$impl $(BIN)/{script}" 2>&1 \
			| sed -n '/=== lease conformance report/,$$p' | grep -v '^PASS'; \
	done; true

# The Python adapters speak the adapter protocol themselves (no C program runs).
PROGRAMS_RACY_IMPL := /usr/bin/python3 -S fixtures/adapters/racy_lease.py {script}
.PHONY: test-racy-adapter

# Passes only when the suite fails against the racy adapter (the original
# algorithm's races) and its report names the overlap the races cause. The
# contention storm and the reclaimers' case show them; the mixed storm's own
# teeth are the race case mixed-storm (test-race-cases).
test-racy-adapter: ## the suite must fail against the racy adapter (the original's races), naming the overlap
	$(call expect_suite_fails,racy-adapter,$(PROGRAMS_RACY_IMPL),contention_storm,OVERLAP,overlap,,contention_storm or reclaimers)

# Each arranged race and protocol check of the pytest suite fails, naming its
# cause, against an adapter broken that way (fixtures/adapters/): the cases, and
# why their sessions share one process, are in conformance/pytest/race_cases.py.
.PHONY: test-race-cases
test-race-cases: $(PROGRAMS_BINARIES) ## each arranged race fails, naming its cause, against an adapter broken that way
	@mkdir -p $(PROGRAMS_REPORTS)
	@$(PYTHON) conformance/pytest/race_cases.py --self-test $(BIN) $(PROGRAMS_REPORTS)
