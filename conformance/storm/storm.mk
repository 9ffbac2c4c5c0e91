# conformance/storm: real processes of the four programs and `lease run` in a
# storm with SIGKILL and SIGSTOP of holders (conformance/storm/storm.py).
#   make storm        64 processes, 2000 bodies of the project's lease (0 overlaps
#                     required), then the original's models beside it (overlaps
#                     expected: the storm has teeth)
#   make test-storm   the short form in make test: 16 processes, 300 bodies
STORM := $(PYTHON) conformance/storm/storm.py --bin $(BIN) --lease-bin $(BIN)/lease
STORM_PROGRAMS = $(BIN)/lease $(PROGRAMS_BINARIES)

.PHONY: storm test-storm
storm: $(STORM_PROGRAMS) ## 64-process storm with kills and stops; figures for lease and the models
	$(STORM) --impl lease --concurrency 64 --bodies 2000
	$(STORM) --impl neo-v1 --concurrency 64 --bodies 1000 --expect-overlaps
	$(STORM) --impl neo-v2 --concurrency 64 --bodies 1000 --expect-overlaps

test-storm: $(STORM_PROGRAMS) ## a short storm of real processes (16 processes, 300 bodies)
	$(STORM) --impl lease --concurrency 16 --bodies 300

TEST_TARGETS += test-storm
