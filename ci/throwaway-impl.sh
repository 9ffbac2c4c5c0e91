#!/usr/bin/env bash
# make test-throwaway: adding an implementation is one file plus one registry
# row (docs/design.md "Add an implementation"). In a scratch copy of the tree,
# writes src/impl_throwaway.c (the project's algorithm without renewal, so
# that its traits differ from every shipped row) and one row in
# src/lease_implementations.h, touches nothing else, builds (from the main
# build's objects: see below and docs/ci.md), and runs it through the library suite,
# the programs' cmocka suite, the simulator (campaign and scenario verdicts),
# the CLI and a slice of the pytest suite.
# Each must name the new implementation: a suite that kept its own list would
# not.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failures=0
check() { # NAME COMMAND...: passes when the command succeeds
    local name=$1
    shift
    if "$@" >"$scratch/out" 2>&1; then
        echo "ok   $name"
    else
        echo "FAIL $name:"
        tail -n 20 "$scratch/out" | sed 's/^/     /'
        failures=$((failures + 1))
    fi
}

tree=$scratch/tree
mkdir -p "$tree"
git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - 2>/dev/null | tar -xf - -C "$tree"

cat >"$tree/src/impl_throwaway.c" <<'EOF'
/* impl_throwaway.c: the project's algorithm without renewal, written by
 * ci/throwaway-impl.sh to show that one file plus one registry row is all a
 * new implementation needs. */
#include "lease_impl.h"

static enum lease_status throwaway_inspect(const struct lease_env *env, const struct lease_options *options,
                                           struct lease_result *result) {
    return lease_ops_default.inspect(env, options, result);
}

static enum lease_status throwaway_acquire(const struct lease_env *env, const struct lease_options *options,
                                           struct lease_result *result) {
    return lease_ops_default.acquire(env, options, result);
}

static enum lease_status throwaway_release(const struct lease_env *env, const struct lease_options *options,
                                           const char *token, struct lease_result *result) {
    return lease_ops_default.release(env, options, token, result);
}

const struct lease_ops lease_ops_throwaway = {
    .version = LEASE_OPS_VERSION,
    .name = "throwaway",
    .impl_version = "0",
    .description = "the project's algorithm without renewal (ci/throwaway-impl.sh)",
    .inspect = throwaway_inspect,
    .acquire = throwaway_acquire,
    .release = throwaway_release,
    .renew = NULL,
    .traits = {.checks_pid = true, .detects_reuse = true, .writes_fence = true},
};
EOF
sed -i 's|^    /\* a new row goes above this line \*/|    X(lease_ops_throwaway) \\\n&|' "$tree/src/lease_implementations.h"
changed=$(cd "$tree" && diff -rq --exclude=build --exclude=.git . "$OLDPWD" 2>/dev/null |
    sed -n 's|^Files \./\([^ ]*\) and .*|\1|p; s|^Only in \./\([^:]*\): |\1/|p')
check "the change is one new file and one registry row" test "$(sort <<<"$changed" | tr '\n' ' ')" = \
    "src/impl_throwaway.c src/lease_implementations.h "
check "the registry row is one line" test "$(diff "$tree/src/lease_implementations.h" src/lease_implementations.h | grep -c '^<')" = 1

# The scratch tree starts from the main build's objects (copied with their
# times, as are the sources): make compiles again only what the new file and
# the registry row reach (the registry and the new file: src/lease_impl.h does
# not include the list) and links, as an incremental build would (make
# test-throwaway builds the main tree first).
mkdir -p "$tree/build"
cp -a build/obj "$tree/build/"
# Its own make flags: under "make -s" the commands it counts would not be printed.
build=(env MAKEFLAGS= make -C "$tree" --no-print-directory -j2)
targets=(all build/tests/test_lease_lib build/bin/test-programs)
if ! "${build[@]}" "${targets[@]}" >"$scratch/build.log" 2>&1; then
    echo "FAIL the tree with the new implementation builds:"
    tail -n 20 "$scratch/build.log" | sed 's/^/     /'
    exit 1
fi
echo "ok   the tree with the new implementation builds ($(grep -c -- ' -c ' "$scratch/build.log") compiled, the others the main build's)"
check "the new file and the row recompile the registry and the new file only" \
    test "$(grep -o -- ' -c [^ ]*' "$scratch/build.log" | sort | tr '\n' ' ')" = " -c src/impl_throwaway.c  -c src/registry.c "
bin=$tree/build/bin

check "the library suite runs it (group impl_throwaway)" bash -c \
    "cd '$tree' && CMOCKA_MESSAGE_OUTPUT=stdout build/tests/test_lease_lib | grep -q '^=== impl_throwaway'"
check "the programs' suite runs it (group programs_throwaway)" bash -c \
    "cd '$tree' && CONFORMANCE_BIN=build/bin CONFORMANCE_FIXTURES=fixtures CMOCKA_MESSAGE_OUTPUT=stdout \
     build/bin/test-programs > '$scratch/programs.txt' 2>&1; status=\$?;
     grep -q '=== programs_throwaway' '$scratch/programs.txt' && test \$status -eq 0"
check "the simulator lists it" bash -c "'$bin/leasesim' --list-impls | grep -q '^throwaway '"
check "a campaign of the simulator holds every invariant" "$bin/leasesim" --impl throwaway --seeds 1..300 --quiet
check "the simulator's scenario verdicts judge it" bash -c \
    "cd '$tree' && build/bin/leasesim --scenario fixtures/scenarios/clock-jump.scn --check 2>&1 | grep -q '^ok .* throwaway '"
check "the CLI takes it by name" bash -c \
    "LEASE_IMPLEMENTATION=throwaway '$bin/lease' inspect --lease '$scratch/l.json' --json |
     grep -q '\"implementation\":\"throwaway\"'"
check "a program runs its body under it" bash -c \
    "LEASE_IMPLEMENTATION=throwaway HEAVY_MAINTENANCE_LEASE_PATH='$scratch/p.json' MAINTENANCE_LOG='$scratch/log' \
     '$bin/backup' >/dev/null && grep -q '^enter backup ' '$scratch/log'"
check "the pytest suite's held/recovery cases pass over it" bash -c \
    "cd '$tree' && LEASE_IMPL='env LEASE_IMPLEMENTATION=throwaway build/bin/{script}' \
     /usr/bin/python3 -m pytest conformance/pytest -p no:cacheprovider -q -x -k 'held or stale' 2>&1 | tail -n 3 |
     grep -q ' passed'"

[ "$failures" -eq 0 ] && echo "test-throwaway: a new implementation is one file plus one registry row" && exit 0
echo "test-throwaway: $failures failed"
exit 1
