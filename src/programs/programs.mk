# The four maintenance programs: one shared body (maintenance.c) and a
# one-line main per program.
PROGRAMS_NAMES := sandman kbSync backup syncGithubWorkflow
PROGRAMS_BINARIES := $(PROGRAMS_NAMES:%=$(BIN)/%)
PROGRAMS_SHARED_OBJECTS := $(OBJ)/src/programs/maintenance.o

PROGRAMS += $(PROGRAMS_BINARIES)

.PHONY: programs
programs: $(PROGRAMS_BINARIES)

$(PROGRAMS_BINARIES): $(BIN)/%: $(OBJ)/src/programs/main_%.o $(PROGRAMS_SHARED_OBJECTS) $(LIB_STATIC)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(PROGRAMS_SHARED_OBJECTS) $(LIB_STATIC) $(LIBS)
