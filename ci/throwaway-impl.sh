#!/usr/bin/env bash
# make test-throwaway: adding an implementation is one file plus one registry
# row (docs/design.md "Add an implementation"). In a scratch copy of the tree,
# writes src/impl_throwaway.c (the project's algorithm without renewal, so
# that its traits differ from every shipped row) and one row in
# src/lease_implementations.h, touches nothing else, builds (at -O0, reusing
# the objects of its last scratch build that make finds up to date: see below
# and docs/ci.md), and runs it through the library suite, the programs' cmocka
# suite, the simulator (campaign and scenario verdicts), the CLI and a slice
# of the pytest suite.
# Each must name the new implementation: a suite that kept its own list would
# not.
set -uo pipefail
cd "$(dirname "$0")/.."
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
# Every file copied below was last changed before this second (less a margin
# for the filesystem's coarse clock): the objects this run leaves in the cache
# are stamped with it, so a source changed later is newer than they are.
copied_before=$(($(date +%s) - 2))
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

# -O0: the point is the plumbing, not the speed; the suites' own binaries.
build=(make -C "$tree" --no-print-directory -j2 CFLAGS="-O0 -g")
targets=(all build/tests/test_lease_lib build/bin/test-programs)

# The objects of the last run's scratch build (build/throwaway-cache) are
# reused as make reuses any object: an object is copied in only when the exact
# command that compiles it now (compiler, every flag, source, output) is the one
# that compiled it, and the compiler reports the same version; make then
# rebuilds whatever its -MMD dependencies say is older than a source or header
# of this tree. The two files written above get the cache's stamp back only
# when they are byte for byte the ones its objects were compiled from (else
# they stay newer, and everything that includes the registry is rebuilt). The
# cache holds objects only: every library and binary is linked afresh. No
# cache, another compiler, or a failed build: the full build, as before.
cache=build/throwaway-cache
commands=$("${build[@]}" -n -B "${targets[@]}" 2>/dev/null | grep -E '^[^ ]+ .* -c [^ ]+ -o [^ ]+$' | sort)
compilers=$(cut -d' ' -f1 <<<"$commands" | sort -u | while read -r compiler; do "$compiler" --version 2>&1 | head -n 1; done)
if [[ -n "$commands" && -d $cache/obj && -f $cache/commands && "$compilers" == "$(cat "$cache/compilers" 2>/dev/null)" ]]; then
    mkdir -p "$tree/build"
    cp -a "$cache/obj" "$tree/build/obj" 2>/dev/null
    # An object whose command changed, or that nothing compiles any more, goes;
    # so does one without its dependency file (make could not see its headers).
    comm -13 <(printf '%s\n' "$commands") "$cache/commands" | sed 's/.* -o //' | while read -r object; do
        rm -f "$tree/$object" "$tree/${object%.o}.d"
    done
    find "$tree/build/obj" -name '*.o' | while read -r object; do
        [[ -f ${object%.o}.d ]] || rm -f "$object"
    done
    for file in src/impl_throwaway.c src/lease_implementations.h; do
        cmp -s "$cache/$file" "$tree/$file" && touch -r "$cache/$file" "$tree/$file"
    done
fi
if ! "${build[@]}" "${targets[@]}" >"$scratch/build.log" 2>&1; then
    echo "FAIL the tree with the new implementation builds:"
    tail -n 20 "$scratch/build.log" | sed 's/^/     /'
    exit 1
fi
compiled=$(grep -cE ' -c [^ ]+ -o [^ ]+$' "$scratch/build.log")
reused=$(($(find "$tree/build/obj" -name '*.o' | wc -l) - compiled))
# The new cache: this build's objects and the commands and sources they came
# from, all stamped as of the copy, swapped in whole.
if [[ -n "$commands" ]] && mkdir -p build && next=$(mktemp -d build/throwaway-cache.new.XXXXXX); then
    cp -a "$tree/build/obj" "$next/obj"
    mkdir -p "$next/src"
    cp "$tree/src/impl_throwaway.c" "$tree/src/lease_implementations.h" "$next/src/"
    printf '%s\n' "$commands" >"$next/commands"
    printf '%s\n' "$compilers" >"$next/compilers"
    find "$next/obj" "$next/src" -type f -exec touch -d "@$copied_before" {} +
    old=$(mktemp -d build/throwaway-cache.old.XXXXXX)
    mv "$cache" "$old/" 2>/dev/null
    mv -T "$next" "$cache" 2>/dev/null || rm -rf "$next" # another run's cache came first
    rm -rf "$old"
fi
echo "ok   the tree with the new implementation builds ($compiled objects compiled, $reused taken from the last run's build)"
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
