# The library suites (cmocka): pure helpers, and the behavioural suite run
# against every implementation in the operations table.
LIB_TEST_DIR := $(O)/tests
LIB_TEST_BINARIES := $(LIB_TEST_DIR)/test_units $(LIB_TEST_DIR)/test_lease_lib $(LIB_TEST_DIR)/test_env_posix
LIB_TEST_CFLAGS_EXTRA := -Iconformance/lib

$(LIB_TEST_DIR)/test_units: $(OBJ)/conformance/lib/test_units.o $(LIB_STATIC)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) -lcmocka

$(LIB_TEST_DIR)/test_env_posix: $(OBJ)/conformance/lib/test_env_posix.o $(LIB_STATIC)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) -lcmocka

$(LIB_TEST_DIR)/test_lease_lib: $(OBJ)/conformance/lib/test_lease_lib.o $(OBJ)/conformance/lib/fake_env.o $(LIB_STATIC)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) -lcmocka

$(OBJ)/conformance/lib/%.o: conformance/lib/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LIB_TEST_CFLAGS_EXTRA) -c $< -o $@

.PHONY: test-lib
test-lib: $(LIB_TEST_BINARIES) ## the library suites over every implementation (cmocka)
	@set -e; for test in $(LIB_TEST_BINARIES); do $$test; done

TEST_TARGETS += test-lib

# `make install` into two prefixes and a DESTDIR; the README's example is
# built and run against each (ci/install-test.sh).
.PHONY: test-install
test-install: all ## install into two prefixes and a DESTDIR; build the README example
	@bash ci/install-test.sh $(abspath $(O))/install-test

TEST_TARGETS += test-install
