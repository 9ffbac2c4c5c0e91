# conformance/storm: real processes of the four programs and `lease run` in a
# storm with SIGKILL and SIGSTOP of holders (conformance/storm/storm.py).
#   make storm        64 processes, 2000 bodies of the project's lease (0 overlaps
#                     required), then the original's models beside it (overlaps
#                     expected: the storm has teeth)
#   make test-storm   the short form in make test: the judge on logs with known
#                     verdicts, then 8 processes, 150 bodies or 600 launches,
#                     6.5 faults per 100 launches (docs/design.md, Speed)
STORM := $(PYTHON) conformance/storm/storm.py --bin $(BIN) --lease-bin $(BIN)/lease
STORM_PROGRAMS = $(BIN)/lease $(PROGRAMS_BINARIES)

.PHONY: storm test-storm
storm: $(STORM_PROGRAMS) ## 64-process storm with kills and stops; figures for lease and the models
	$(STORM) --impl lease --concurrency 64 --bodies 2000
	$(STORM) --impl neo-v1 --concurrency 64 --bodies 1000 --expect-overlaps
	$(STORM) --impl neo-v2 --concurrency 64 --bodies 1000 --expect-overlaps

# Most launches of a storm are deferrals (every process but the holder defers
# and is replaced at once), each a process start of 2 to 4 ms of CPU here: the
# short form keeps the faults (about 40 kills and stops) and the contention
# with half the crowd and half the bodies of its former 16/300, a third of
# the CPU; make storm is the long form. While the lease names a stopped holder
# the storm runs 2 contenders beside it until 0.8 TTL after the stop (storm.py,
# PAUSED_SHARE): 1,000 launches had entered 41 to 60 bodies on a quiet machine,
# most launches deferrals to a frozen holder; 600 launches now enter 62 to 91,
# with as many faults (6.5 per 100: about 40 kills and stops), for 3.3 CPU
# seconds instead of 5.3 to 5.9.
test-storm: $(STORM_PROGRAMS) ## the storm's judge on known logs, then a short storm of real processes (8 processes, 150 bodies)
	@$(PYTHON) conformance/storm/test_judge.py
	$(STORM) --impl lease --concurrency 8 --bodies 150 --launches 600 --fault-rate 0.065

TEST_TARGETS += test-storm
