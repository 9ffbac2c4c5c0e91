# The etcd backend (docs/etcd.md):
#   make test-etcd   the algorithm against a scripted transport (cmocka), then the lease CLI and the four programs against a real etcd on loopback,
#                    then the program suite (conformance/pytest) and the library suite (conformance/lib) on the etcd backend
ETCD_PYTEST := $(PYTHON) -m pytest conformance/etcd -p no:cacheprovider

# The program suite's storms on etcd do a fifth of their work (30 bodies and 30 deferrals in the
# contention storm, as for the reference adapter; its first wave is still 32 contenders at once):
# each start of a program on etcd costs about 25 ms of CPU (libcurl loaded, then its requests;
# 3.5 ms on a file) and etcd about 8 ms more, and every further body takes the same path through
# one etcd txn again. The storms run whole on the file backend (make test-pytest); the etcd
# backend's own storms are test_etcd.py's and make test-multihost's. The four programs are one
# maintenance_main under four names (make test-programs runs all four on every backend's files):
# on etcd each case that names a program runs once, for the four in turn (--programs-per-case one).
ETCD_STORM_SCALE := 0.2

TEST_TARGETS += test-etcd test-multihost

.PHONY: test-etcd test-etcd-suites

ETCD_ALGORITHM_TEST := $(O)/tests/test_etcd_algorithm

$(ETCD_ALGORITHM_TEST): $(OBJ)/conformance/etcd/test_etcd_algorithm.o $(LIB_STATIC)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) -lcmocka

# One etcd member for every suite (with_etcd.py names it in $LEASE_TEST_ETCD_ENDPOINTS; the
# pytest suites' etcd_member.member() uses it instead of starting their own).
test-etcd: $(BIN)/lease $(PROGRAMS_BINARIES) $(ETCD_ALGORITHM_TEST) $(LIB_TEST_DIR)/test_lease_lib ## the etcd backend: algorithm units, then the CLI, the program suite and the library suite against a real etcd on loopback
	@mkdir -p $(PROGRAMS_REPORTS)
	$(PYTHON) conformance/etcd/with_etcd.py $(MAKE) --no-print-directory test-etcd-suites

# The suites of test-etcd, run by it under with_etcd.py: never against no etcd.
test-etcd-suites:
	@[ -n "$$LEASE_TEST_ETCD_ENDPOINTS" ] || { echo "test-etcd-suites: run by make test-etcd (with_etcd.py names the etcd)"; exit 2; }
	$(ETCD_ALGORITHM_TEST)
	$(LIB_TEST_DIR)/test_lease_lib
	CONFORMANCE_BIN=$(BIN) $(ETCD_PYTEST) -q --tb=short -rs --junitxml=$(PROGRAMS_REPORTS)/pytest-etcd.xml
	LEASE_TEST_BACKEND=etcd $(PROGRAMS_PYTEST) -q --tb=short --storm-scale $(ETCD_STORM_SCALE) --programs-per-case one --lease-impl='$(BIN)/{script}' \
		--junitxml=$(PROGRAMS_REPORTS)/pytest-conformance-etcd.xml

# Three etcd members and three hosts in network namespaces under kill, pause and
# partition (root only; one skip line otherwise).
.PHONY: test-multihost
test-multihost: $(BIN)/lease $(PROGRAMS_BINARIES) ## three etcd members and three hosts in namespaces, with a nemesis (root)
	CONFORMANCE_BIN=$(BIN) timeout 170 bash conformance/etcd/multihost.sh
