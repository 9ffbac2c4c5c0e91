# The etcd backend (docs/etcd.md):
#   make test-etcd   the algorithm against a scripted transport (cmocka), then the lease CLI and the four programs against a real etcd on loopback,
#                    then the program suite (conformance/pytest) and the library suite (conformance/lib) on the etcd backend
ETCD_PYTEST := $(PYTHON) -m pytest conformance/etcd -p no:cacheprovider

TEST_TARGETS += test-etcd test-multihost

.PHONY: test-etcd

ETCD_ALGORITHM_TEST := $(O)/tests/test_etcd_algorithm

$(ETCD_ALGORITHM_TEST): $(OBJ)/conformance/etcd/test_etcd_algorithm.o $(LIB_STATIC)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) -lcmocka

test-etcd: $(BIN)/lease $(PROGRAMS_BINARIES) $(ETCD_ALGORITHM_TEST) $(LIB_TEST_DIR)/test_lease_lib ## the etcd backend: algorithm units, then the CLI, the program suite and the library suite against a real etcd on loopback
	@mkdir -p $(PROGRAMS_REPORTS)
	$(PYTHON) conformance/etcd/with_etcd.py $(ETCD_ALGORITHM_TEST)
	$(PYTHON) conformance/etcd/with_etcd.py $(LIB_TEST_DIR)/test_lease_lib
	CONFORMANCE_BIN=$(BIN) $(ETCD_PYTEST) -q --tb=short -rs --junitxml=$(PROGRAMS_REPORTS)/pytest-etcd.xml
	LEASE_TEST_BACKEND=etcd $(PROGRAMS_PYTEST) -q --tb=short --storm-scale $(PROGRAMS_STORM_SCALE) --lease-impl='$(BIN)/{script}' \
		--junitxml=$(PROGRAMS_REPORTS)/pytest-conformance-etcd.xml

# Three etcd members and three hosts in network namespaces under kill, pause and
# partition (root only; one skip line otherwise).
.PHONY: test-multihost
test-multihost: $(BIN)/lease $(PROGRAMS_BINARIES) ## three etcd members and three hosts in namespaces, with a nemesis (root)
	CONFORMANCE_BIN=$(BIN) timeout 170 bash conformance/etcd/multihost.sh
