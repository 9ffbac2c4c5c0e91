# Heavy-maintenance lease: library, wrapper, programs, simulator, suites.
#
#   make            build the library and the programs into build/
#   make run        the main job: a simulation campaign plus the wedge replay
#   make test       every test (installs missing Debian packages first)
#   make install PREFIX=/usr/local
#
# Variants build into their own folders so flags never mix:
#   make VARIANT=san ...  -> build/san  (ASan + UBSan, recovery off)
#   make VARIANT=cov ...  -> build/cov  (gcov instrumentation)
#
# Required flags live in REQUIRED_CFLAGS so that a user CFLAGS override
# cannot drop them.

# No built-in implicit rules (every rule here is written out): with them, make
# searched the built-in rules for a way to remake each included .d file, and
# reading the Makefile took 163 M instructions instead of 15 M (callgrind on
# make -q); every suite of make test is its own make. make -n of all, test,
# ci-gates, run, bench, deb and install prints the same commands either way.
MAKEFLAGS += --no-builtin-rules
.DEFAULT_GOAL := all
SHELL := /bin/bash

CC ?= cc
CFLAGS ?= -O2 -g
PYTHON ?= /usr/bin/python3
# Python keeps the bytecode of the project's modules (in __pycache__ beside
# them, ignored by git: Python's default) even when the environment sets
# PYTHONDONTWRITEBYTECODE: the suites start Python some 600 times, and each
# start compiled again the modules it imports (the reference adapter that the
# racy and broken adapters reuse: 5 ms a start). Not PYTHONPYCACHEPREFIX:
# under a prefix Python ignores the standard library's own compiled files, and
# a fresh clone's first Python processes compiled the library again, each.
unexport PYTHONDONTWRITEBYTECODE
# pytest's temporary folders live under this tree's build folder: another
# checkout's pytest sessions (which prune all but the last three folders of a
# shared /tmp/pytest-of-USER) can never remove a running suite's files.
export PYTEST_DEBUG_TEMPROOT ?= $(abspath build)/pytest-tmp
# Parsing forks nothing once the tree exists: every suite is its own make, and
# a fork here cost each of them milliseconds (docs/design.md, Test time).
ifeq ($(wildcard $(PYTEST_DEBUG_TEMPROOT)/.),)
$(shell mkdir -p "$(PYTEST_DEBUG_TEMPROOT)")
endif
PREFIX ?= /usr/local
DESTDIR ?=
VARIANT ?=

REQUIRED_CFLAGS := -std=c11 -Wall -Wextra -Wpedantic -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wcast-qual -Wwrite-strings -Wformat=2 -Wvla
REQUIRED_CPPFLAGS := -D_GNU_SOURCE -Isrc -MMD -MP

# $(call find_files,DIR,PATTERN): the files under DIR, at any depth, whose path
# matches PATTERN (a make pattern, e.g. %.d); make's own wildcard, no fork.
find_files = $(foreach entry,$(wildcard $(1)/*),$(call find_files,$(entry),$(2)) $(filter $(2),$(entry)))

ifeq ($(VARIANT),)
O := build
VARIANT_CFLAGS :=
VARIANT_LDFLAGS :=
else ifeq ($(VARIANT),san)
O := build/san
VARIANT_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
VARIANT_LDFLAGS := -fsanitize=address,undefined
else ifeq ($(VARIANT),cov)
O := build/cov
VARIANT_CFLAGS := -O0 -g --coverage
VARIANT_LDFLAGS := --coverage
else
$(error VARIANT must be empty, san or cov)
endif

ALL_CFLAGS = $(REQUIRED_CPPFLAGS) $(CPPFLAGS) $(CFLAGS) $(VARIANT_CFLAGS) $(REQUIRED_CFLAGS) -fPIC
ALL_LDFLAGS = $(LDFLAGS) $(VARIANT_LDFLAGS)
# libcurl is not linked: the etcd transport loads it when first used
# (src/etcd_client.c), so starting a program does not load its 30 libraries.
LIBS := -ljansson -ldl

BIN := $(O)/bin
LIBDIR := $(O)/lib
OBJ := $(O)/obj

# ---- the library ----------------------------------------------------------
LIB_SOURCES := $(wildcard src/*.c)
LIB_OBJECTS := $(LIB_SOURCES:%.c=$(OBJ)/%.o)
LIB_STATIC := $(LIBDIR)/liblease.a
LIB_SHARED := $(LIBDIR)/liblease.so.1
LIB_SHARED_LINK := $(LIBDIR)/liblease.so

$(OBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB_STATIC): $(LIB_OBJECTS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(LIB_SHARED): $(LIB_OBJECTS)
	@mkdir -p $(@D)
	$(CC) -shared -Wl,-soname,liblease.so.1 $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(LIB_SHARED_LINK): $(LIB_SHARED)
	ln -sf liblease.so.1 $@

# ---- the lease wrapper ----------------------------------------------------
CLI_SOURCES := $(wildcard src/cli/*.c)
CLI_OBJECTS := $(CLI_SOURCES:%.c=$(OBJ)/%.o)

$(BIN)/lease: $(CLI_OBJECTS) $(LIB_STATIC)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJECTS) $(LIB_STATIC) $(LIBS)

PROGRAMS := $(BIN)/lease
TEST_TARGETS :=

# Each part of the project brings its own rules; a missing fragment is an error.
include src/cli/cli.mk
include src/programs/programs.mk
include conformance/lib.mk
include conformance/programs.mk
include conformance/etcd/etcd.mk
include sim/sim.mk
include conformance/oracle/oracle.mk
include conformance/storm/storm.mk
include conformance/hostile/hostile.mk
include sim/exec/exec.mk
include ci/ci.mk

.PHONY: all lib deps run test test-run install uninstall clean help format format-check

all: lib $(PROGRAMS) ## build the library and every program into build/
lib: $(LIB_STATIC) $(LIB_SHARED_LINK) ## build liblease (static and shared)

# The targets a person types, with the text after `##` on their rule line.
help: ## list the targets a person types
	@grep -hE '^[a-zA-Z0-9_.-]+:.*## ' $(MAKEFILE_LIST) | sort -u \
		| sed -E 's/^([a-zA-Z0-9_.-]+):.*## (.*)/\1\t\2/' | awk -F'\t' '{printf "  make %-22s %s\n", $$1, $$2}'

# The house style (.clang-format), applied to every tracked C file.
FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format: ## apply the house style (.clang-format) to every C file
	@clang-format -i $(FORMAT_FILES)
format-check: ## fail when a C file drifts from the house style
	@clang-format --dry-run --Werror $(FORMAT_FILES) && echo "format-check: $(words $(FORMAT_FILES)) files in the house style"

# make test and make run build on every CPU unless make was given its own -j
# (then the sub-make shares its jobserver).
BUILD_JOBS = $(if $(findstring jobserver,$(MAKEFLAGS)),,-j$(shell nproc))

# Installs the Debian packages the project needs when they are missing.
deps: ## install the Debian packages the project needs (ci/deps.sh)
	@bash ci/deps.sh

# The main job: installs what is missing, builds, runs the default simulation
# campaign and replays the production wedge scenario.
run: deps ## the main job: a simulation campaign plus the wedge replay
	@$(MAKE) --no-print-directory $(BUILD_JOBS) all
	@$(MAKE) --no-print-directory main-job

# Every test. The suites register themselves in TEST_TARGETS.
# The test executables are built with the rest, on every CPU (test-run's own
# make has no -j: each suite runs its own make, outside any jobserver).
test: deps ## every test; ends with 'suites: N passed, N failed'
	@$(MAKE) --no-print-directory $(BUILD_JOBS) all $(TEST_BINARIES)
	@$(MAKE) --no-print-directory test-run

# The suites run several at a time (ci/run-suites.sh, TEST_LOAD, TEST_JOBS), so every
# executable they share is built first, once, never by two suites at once.
TEST_BINARIES = $(CLI_ARGS_TEST) $(LIB_TEST_BINARIES) $(PROGRAMS_TEST_BINARY) $(ETCD_ALGORITHM_TEST) \
	$(O)/tests/test_sim_world
test-run: $(TEST_BINARIES)
	@bash ci/run-suites.sh $(TEST_TARGETS)

# ---- install --------------------------------------------------------------
INSTALL_LIB := $(DESTDIR)$(PREFIX)/lib
INSTALL_INCLUDE := $(DESTDIR)$(PREFIX)/include
INSTALL_BIN := $(DESTDIR)$(PREFIX)/bin
INSTALL_MAN1 := $(DESTDIR)$(PREFIX)/share/man/man1
MAN_PAGES := $(wildcard docs/man/*.1)
INSTALL_COMPLETION := $(DESTDIR)$(PREFIX)/share/bash-completion/completions

LEASE_VERSION = $(shell sed -n 's/^\#define LEASE_VERSION_STRING "\(.*\)"/\1/p' src/lease.h)

# lease.pc is written at install time for the PREFIX of that install (never
# cached in build/, where the first prefix used would stick); DESTDIR is
# only where the files land, never what they say.
install: all ## install into $(DESTDIR)$(PREFIX) (PREFIX=/usr/local)
	install -d $(INSTALL_LIB)/pkgconfig $(INSTALL_INCLUDE) $(INSTALL_BIN)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(LEASE_VERSION)|g' src/lease.pc.in \
		> $(INSTALL_LIB)/pkgconfig/lease.pc
	chmod 0644 $(INSTALL_LIB)/pkgconfig/lease.pc
	install -m 0644 src/lease.h src/lease_impl.h src/lease_implementations.h $(INSTALL_INCLUDE)/
	install -m 0644 $(LIB_STATIC) $(INSTALL_LIB)/
	install -m 0755 $(LIB_SHARED) $(INSTALL_LIB)/
	ln -sf liblease.so.1 $(INSTALL_LIB)/liblease.so
	install -m 0755 $(BIN)/lease $(LEASESIM) $(INSTALL_BIN)/
	$(if $(MAN_PAGES),install -d $(INSTALL_MAN1) && install -m 0644 $(MAN_PAGES) $(INSTALL_MAN1)/)
	install -d $(INSTALL_COMPLETION)
	install -m 0644 packaging/completion/lease.bash $(INSTALL_COMPLETION)/lease
	ln -sf lease $(INSTALL_COMPLETION)/leasesim

uninstall: ## remove what install put there
	rm -f $(INSTALL_INCLUDE)/lease.h $(INSTALL_INCLUDE)/lease_impl.h $(INSTALL_INCLUDE)/lease_implementations.h $(INSTALL_LIB)/liblease.a \
		$(INSTALL_LIB)/liblease.so $(INSTALL_LIB)/liblease.so.1 $(INSTALL_LIB)/pkgconfig/lease.pc \
		$(INSTALL_BIN)/lease $(INSTALL_BIN)/leasesim $(addprefix $(INSTALL_MAN1)/,$(notdir $(MAN_PAGES))) \
		$(INSTALL_COMPLETION)/lease $(INSTALL_COMPLETION)/leasesim

clean: ## remove build/
	rm -rf build

-include $(call find_files,$(O)/obj,%.d)
