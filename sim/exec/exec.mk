# sim/exec/exec.mk: leasesim --exec, real processes under the simulator's
# schedules through seccomp user notification (docs/exec.md). Linked into
# leasesim; only that binary gets -lseccomp.

EXEC_SOURCES := $(filter-out sim/exec/clock_shim.c,$(wildcard sim/exec/*.c))
EXEC_OBJECTS := $(EXEC_SOURCES:%.c=$(OBJ)/%.o) $(OBJ)/sim/exec/clock_shim_blob.o
SIM_OBJECTS += $(EXEC_OBJECTS)

# The clock shim (sim/exec/clock_shim.c): a library preloaded into the
# processes under test, so built plain in every build (they carry no
# sanitizer or coverage runtime), and carried inside leasesim.
CLOCK_SHIM := $(OBJ)/sim/exec/clock_shim.so
$(CLOCK_SHIM): sim/exec/clock_shim.c sim/exec/clock_page.h
	@mkdir -p $(dir $@)
	$(CC) $(REQUIRED_CFLAGS) -O2 -fPIC -shared -o $@ $<
$(OBJ)/sim/exec/clock_shim_blob.o: sim/exec/clock_shim_blob.S $(CLOCK_SHIM)
	@mkdir -p $(dir $@)
	$(CC) -c -DCLOCK_SHIM_PATH='"$(CLOCK_SHIM)"' -o $@ $<

$(LEASESIM): $(EXEC_OBJECTS)
$(LEASESIM): LIBS += -lseccomp
$(OBJ)/sim/exec/%.o: ALL_CFLAGS += -Isim -Isim/exec

TEST_TARGETS += test-exec

.PHONY: test-exec exec-determinism exec-figures exec-campaign

# A short real-process campaign and the determinism check (docs/exec.md).
test-exec: $(LEASESIM) all ## real processes under leasesim --exec: a short campaign and the refusals
	@EXEC_TEST_DETERMINISM=$(if $(VARIANT),off,on) bash sim/exec/test-exec.sh $(LEASESIM)

# Same seed, same ordered log of lease syscalls (pids and paths normalised), five runs of five.
exec-determinism: $(LEASESIM) all ## leasesim --exec: the same seed gives the same syscall order
	$(LEASESIM) --exec '$(BIN)/{script}' --seeds 1..3 --determinism
	$(LEASESIM) --exec 'env LEASE_IMPLEMENTATION=neo-v2 $(BIN)/{script}' --seeds 1..3 --determinism
	$(LEASESIM) --exec '/usr/bin/python3 -S sim/exec/py_lease.py {script}' --seeds 1..3 --determinism
	PY_LEASE_MODE=racy $(LEASESIM) --exec '/usr/bin/python3 -S sim/exec/py_lease.py {script}' --seeds 1..3 --determinism
	$(LEASESIM) --exec '/usr/bin/python3 -S fixtures/adapters/racy_lease.py {script}' --seeds 1..3 --determinism
	$(LEASESIM) --exec '/usr/bin/python3 -S fixtures/adapters/correct_lease.py {script}' --seeds 1..3 --determinism
	if command -v node >/dev/null; then $(LEASESIM) --exec 'node fixtures/adapters/racy_lease.mjs {script}' --seeds 1..3 --determinism; fi

# Figures: seeds to the first violation, replay identity, overhead (docs/exec.md).
exec-figures: $(LEASESIM) all ## leasesim --exec figures: seeds to a violation, replay identity, overhead
	@bash sim/exec/figures.sh $(LEASESIM)

# The long campaign: the project's programs, crashes, errno failures, torn writes and clock jumps on, 2,000 seeds.
exec-campaign: $(LEASESIM) all ## leasesim --exec: the project's programs over 2,000 seeds with crashes, errors, torn writes and clock jumps
	$(LEASESIM) --exec '$(BIN)/{script}' --seeds 1..2000 --crash 20 --errno 20 --torn 20 --clock-jump 20 --quiet
