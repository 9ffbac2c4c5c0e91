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
test-lib: $(LIB_TEST_BINARIES)
	@set -e; for test in $(LIB_TEST_BINARIES); do $$test; done

TEST_TARGETS += test-lib

# `make install` into a scratch prefix, then build and run a program outside
# the tree against it through pkg-config, both shared and static.
INSTALL_TEST_PREFIX := $(abspath $(O))/install-test
.PHONY: test-install
test-install:
	@rm -rf $(INSTALL_TEST_PREFIX)
	@$(MAKE) --no-print-directory install PREFIX=$(INSTALL_TEST_PREFIX) >/dev/null
	@set -e; export PKG_CONFIG_PATH=$(INSTALL_TEST_PREFIX)/lib/pkgconfig; \
	cc -o $(INSTALL_TEST_PREFIX)/example-shared conformance/install/example.c $$(pkg-config --cflags --libs lease) \
		-Wl,-rpath,$(INSTALL_TEST_PREFIX)/lib; \
	cc -o $(INSTALL_TEST_PREFIX)/example-static conformance/install/example.c $$(pkg-config --cflags lease) \
		$(INSTALL_TEST_PREFIX)/lib/liblease.a $$(pkg-config --libs-only-l --static lease | sed 's/-llease//'); \
	ldd $(INSTALL_TEST_PREFIX)/example-shared | grep -q 'liblease.so.1 => $(INSTALL_TEST_PREFIX)/lib/'; \
	for variant in shared static; do \
		out=$$($(INSTALL_TEST_PREFIX)/example-$$variant $(INSTALL_TEST_PREFIX)/lease.json); \
		test "$$out" = "acquired active released" || { echo "test-install: $$variant: got '$$out'"; exit 1; }; \
	done; \
	$(INSTALL_TEST_PREFIX)/bin/lease --version >/dev/null 2>&1 || test ! -x $(BIN)/lease; \
	echo "test-install: pkg-config build and run passed (shared and static): 1 passed, 0 failed"

TEST_TARGETS += test-install
