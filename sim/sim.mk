# sim/sim.mk: the deterministic simulator (leasesim), its tests, the bug zoo
# (conformance/zoo) and its figures.

SIM_SOURCES := $(wildcard sim/*.c)
SIM_SOURCES := $(filter-out sim/test_world.c,$(SIM_SOURCES))
SIM_OBJECTS := $(SIM_SOURCES:%.c=$(OBJ)/%.o) $(OBJ)/conformance/zoo/zoo.o
SIM_LIBRARY_OBJECTS := $(filter-out $(OBJ)/sim/main.o,$(SIM_OBJECTS))
LEASESIM := $(BIN)/leasesim

PROGRAMS += $(LEASESIM)
TEST_TARGETS += test-sim test-timeline

$(OBJ)/sim/%.o: ALL_CFLAGS += -Iconformance/zoo -Isim
$(OBJ)/conformance/zoo/%.o: ALL_CFLAGS += -Iconformance/zoo

$(LEASESIM): $(SIM_OBJECTS) $(LIB_STATIC)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(SIM_OBJECTS) $(LIB_STATIC) $(LIBS) -lm

$(O)/tests/test_sim_world: $(OBJ)/sim/test_world.o $(SIM_LIBRARY_OBJECTS) $(LIB_STATIC)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) -lcmocka -lm

.PHONY: test-sim-dpor test-sim-explore test-timeline test-sim-tool test-sim test-sim-unit test-sim-scenarios test-sim-seeds test-sim-determinism test-sim-campaign test-sim-mixed \
	zoo bench-sim sim-million main-job

# Its parts run two at a time, each one's output kept whole (--output-sync):
# the suite is the longest of the sanitizer build's and would otherwise hold
# the run up alone at its end.
# Under the sanitizer and coverage builds (VARIANT set) the reduced search is
# not compared with the unreduced one (test-sim-dpor, check-explore's
# reference): their agreement does not depend on the build, make test checks
# it, and the unreduced searches take minutes there.
# The parts run two at a time, longest first (explore 3.2 CPU s down to the
# units' 0.1): no long part is left to run alone on one CPU at the end.
SIM_TEST_PARTS := test-sim-explore test-sim-tool test-sim-campaign test-sim-determinism \
	$(if $(VARIANT),,test-sim-dpor) test-sim-scenarios test-sim-mixed test-sim-seeds zoo test-sim-unit
test-sim: ## the simulator: world units, scenarios, seeds, determinism, campaigns, tool checks
	@$(MAKE) --no-print-directory -j2 --output-sync=target $(SIM_TEST_PARTS)

test-sim-unit: $(O)/tests/test_sim_world
	$(O)/tests/test_sim_world

# Every scenario's verdict per implementation must match its expect lines.
test-sim-scenarios: $(LEASESIM)
	@status=0; for f in fixtures/scenarios/*.scn; do $(LEASESIM) --scenario $$f --check || status=1; done; exit $$status

# Seeds that once found a bug: "IMPL SEED [EXPECTED-INVARIANT]" per line.
test-sim-seeds: $(LEASESIM)
	@bash sim/replay-seeds.sh $(LEASESIM) fixtures/seeds

# The pictures as a person sees them: SVG and HTML rendered in headless Chromium.
test-timeline: $(LEASESIM) ## the SVG pictures and the HTML timeline rendered in headless Chromium
	@bash sim/check-timeline.sh $(LEASESIM) $(O)/timeline

# leasesim as a tool: unwritable outputs, exhaustive refusals, --merge checks, heartbeat.
test-sim-tool: $(LEASESIM)
	@CHECK_TOOL_SEEDS=$(if $(VARIANT),600,3000) bash sim/check-tool.sh $(LEASESIM) $(O)/sim-tool

# The reduced exhaustive search finds what the full one finds (and the check
# catches a reduction broken on purpose).
# The broken run reads the references (unreduced searches) the sound one kept.
test-sim-dpor: $(LEASESIM)
	@rm -rf $(O)/sim-dpor/references
	@CHECK_REFERENCES=$(O)/sim-dpor/references bash sim/check-dpor.sh $(LEASESIM) $(O)/sim-dpor
	@CHECK_REFERENCES=$(O)/sim-dpor/references LEASESIM_DPOR_BREAK=1 bash sim/check-dpor.sh $(LEASESIM) $(O)/sim-dpor --expect-failure > $(O)/sim-dpor/broken.log || { cat $(O)/sim-dpor/broken.log; exit 1; }
	@tail -1 $(O)/sim-dpor/broken.log

# Exhaustive plans defined by scenarios (fixtures/scenarios/exhaustive/):
# each file's expectations under every schedule, a violation the default
# plan misses, and the reduced search against the unreduced one (which
# must catch a reduction broken on purpose, LEASESIM_DPOR_BREAK); under
# VARIANT builds the expectations only (see SIM_TEST_PARTS).
test-sim-explore: $(LEASESIM)
ifeq ($(VARIANT),)
	@rm -rf $(O)/sim-explore/references
	@CHECK_REFERENCES=$(O)/sim-explore/references bash sim/check-explore.sh $(LEASESIM)
	@mkdir -p $(O)/sim-explore
	@if CHECK_REFERENCES=$(O)/sim-explore/references LEASESIM_DPOR_BREAK=1 CHECK_EXPLORE_FIRST_FAILURE=1 bash sim/check-explore.sh $(LEASESIM) > $(O)/sim-explore/broken.log; then \
		cat $(O)/sim-explore/broken.log; echo "check-explore: FAILED to catch the broken reduction"; exit 1; fi
	@echo "check-explore: the broken reduction was caught: $$(tail -2 $(O)/sim-explore/broken.log | head -1 | sed 's/check-explore: //')"
else
	@CHECK_EXPLORE_REFERENCE=off bash sim/check-explore.sh $(LEASESIM)
endif

test-sim-determinism: $(LEASESIM)
	$(LEASESIM) --impl lease --seeds 1..300 --determinism
	$(LEASESIM) --impl neo-v2 --seeds 1..300 --determinism
	@CHECK_TRACE_SEEDS="$(if $(VARIANT),7,7 33 1234)" bash sim/check-trace-bytes.sh $(LEASESIM) $(O)/sim-determinism
	LEASESIM_CHECK_SCHEDULER=1 $(LEASESIM) --impl lease --seeds 1..500 --quiet
	LEASESIM_CHECK_SCHEDULER=1 $(LEASESIM) --impl neo-v1 --strategy pct --seeds 1..200 --quiet --no-shrink > /dev/null; test $$? -le 1
	LEASESIM_CHECK_SCHEDULER=1 $(LEASESIM) --impl lease --scenario fixtures/bench/crowd-256.scn --seeds 1..3 --quiet

# The campaigns' seeds: under the sanitizer and coverage builds (make
# ci-gates) a tenth: the first 1,500 seeds already reach every
# counter, and the other seeds add run time in those slow builds, not code
# they have not run (docs/design.md, Speed).
ifeq ($(VARIANT),)
SIM_CAMPAIGN_SEEDS ?= 20000
SIM_PCT_SEEDS ?= 5000
else
SIM_CAMPAIGN_SEEDS ?= 2000
SIM_PCT_SEEDS ?= 500
endif

test-sim-campaign: $(LEASESIM)
	$(LEASESIM) --impl lease --seeds 1..$(SIM_CAMPAIGN_SEEDS) --quiet
	$(LEASESIM) --impl lease --strategy random --seeds 1..$(SIM_PCT_SEEDS) --quiet
	$(LEASESIM) --impl lease --strategy pct --seeds 1..$(SIM_PCT_SEEDS) --quiet

# Mixed-implementation runs: lease beside the original's writers; who is
# blamed (docs/spec.md 9.22).
test-sim-mixed: $(LEASESIM)
	@bash sim/check-mixed.sh $(LEASESIM) $(O)/sim-mixed

zoo: $(LEASESIM) ## every broken implementation of the zoo must be caught
	$(LEASESIM) --zoo --seeds 1..50000

bench-sim: $(LEASESIM) ## simulator speed and seeds-to-first-violation
	$(LEASESIM) --bench

sim-million: $(LEASESIM) ## a million seeds of lease over two shards
	@mkdir -p $(O)/sim-million
	$(LEASESIM) --impl lease --seeds 1..1000000 --shard 1/2 --summary $(O)/sim-million/shard1.json --quiet > $(O)/sim-million/shard1.log & \
	$(LEASESIM) --impl lease --seeds 1..1000000 --shard 2/2 --summary $(O)/sim-million/shard2.json --quiet > $(O)/sim-million/shard2.log; \
	wait; $(LEASESIM) --merge $(O)/sim-million/shard1.json $(O)/sim-million/shard2.json

main-job: $(LEASESIM) ## what make run runs after building
	$(LEASESIM) --impl lease --seeds 1..100000
	$(LEASESIM) --impl lease --scenario fixtures/scenarios/original-wedge.scn --seed 1 --svg $(O)/wedge.svg --html $(O)/wedge.html --trace $(O)/wedge.trace.jsonl
	$(LEASESIM) --impl neo-v1 --scenario fixtures/scenarios/original-wedge.scn --seed 1 --svg $(O)/wedge-neo-v1.svg --html $(O)/wedge-neo-v1.html --trace $(O)/wedge-neo-v1.trace.jsonl
	$(LEASESIM) --scenario fixtures/scenarios/original-wedge.scn --check
	@echo "wedge timelines: $(O)/wedge.svg (lease: recovered at once), $(O)/wedge-neo-v1.svg (the original: wedged until the TTL)"
	@echo "interactive timelines: $(O)/wedge.html $(O)/wedge-neo-v1.html; traces: $(O)/wedge.trace.jsonl $(O)/wedge-neo-v1.trace.jsonl"

# The layering, proven from the objects' symbol tables (ci/check-layers.py):
# each table (ci/check-layers.src, ci/check-layers.sim) lists a tree's layers
# bottom first. ci/check-layers.test.sh judges both tables, prints their
# verdicts, and shows the checker failing on broken layerings.
TEST_TARGETS += check-layers
.PHONY: check-layers
check-layers: $(SIM_OBJECTS) $(LIB_OBJECTS) ## the layering of the library and the simulator from the objects' symbols: no upward use, no circle
	@bash ci/check-layers.test.sh $(OBJ)
