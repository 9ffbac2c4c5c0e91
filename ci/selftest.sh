#!/usr/bin/env bash
# make ci-selftest: proves that each kind of failure makes the gates fail with
# a message that says which. Each case copies the tree (without build/ and
# .git/) into build/selftest/<case>/, injects one failure there, runs the gate
# and checks its exit status and message. The real tree is never modified.
# PROGRAMS= limits the scratch builds to the library, so that a part that does
# not build at the moment cannot make a case pass or fail for the wrong reason.
#
#   assertion  a cmocka test that fails        -> tests-cov FAILED, names suite and case
#   coverage   an uncovered library function   -> COVERAGE GATE FAILED, lists the function
#   asan       a heap overflow in a test       -> sanitizers FAILED, exit 86, report kept
#   ubsan      a signed overflow in a test     -> sanitizers FAILED, exit 87
#   fuzz       a crash the fuzzer must find    -> fuzz FAILED, names the reproducer
#   bench      a ratio and an instruction count 30% worse -> flagged SLOWER, exit 1;
#              a wall time 30% slower -> shown, not judged
set -uo pipefail
cd "$(dirname "$0")/.."

root=$PWD
scratch_base=$root/build/selftest
passed=0
failed=0
results=()

# scratch CASE: a fresh copy of the tree, prints its path.
scratch() {
    local dir=$scratch_base/$1
    rm -rf "$dir" && mkdir -p "$dir"
    tar -C "$root" --exclude=./build --exclude=./.git --exclude=./.pytest_cache \
        --exclude='__pycache__' -cf - . | tar -C "$dir" -xf -
    echo "$dir"
}

# expect CASE STATUS LOG PATTERN...: the gate must have failed and its log
# must match every pattern (extended regular expressions).
expect() {
    local name=$1 status=$2 log=$3
    shift 3
    local missing=()
    for pattern in "$@"; do
        grep -qE -- "$pattern" "$log" || missing+=("$pattern")
    done
    if [[ $status -ne 0 && ${#missing[@]} -eq 0 ]]; then
        passed=$((passed + 1))
        results+=("ok     $name: the gate failed (exit $status) and said: $(grep -m 1 -E -- "$1" "$log" | cut -c1-160)")
    else
        failed=$((failed + 1))
        results+=("FAILED $name: exit $status, missing in $log: ${missing[*]:-none}")
    fi
}

# A make fragment that registers one extra suite: a C program compiled with
# the variant's flags (so the sanitizers instrument it), run as a test.
write_suite_fragment() {
    local dir=$1 name=$2 source=$3 libs=$4 run=$5
    cat >"$dir/ci/selftest-inject.mk" <<MK
\$(O)/selftest/$name: $source \$(LIB_STATIC)
	@mkdir -p \$(@D)
	\$(CC) \$(ALL_CFLAGS) \$(ALL_LDFLAGS) -o \$@ $source \$(LIB_STATIC) \$(LIBS) $libs
.PHONY: test-selftest-$name
test-selftest-$name: \$(O)/selftest/$name
	$run
MK
}

case_assertion() {
    local dir
    dir=$(scratch assertion)
    cat >"$dir/ci/selftest_assert.c" <<'C'
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include "lease.h"
static void test_selftest_status_name_is_wrong_on_purpose(void **state) {
    (void)state;
    assert_string_equal(lease_status_name(LEASE_STATUS_HELD), "not-held");
}
int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_selftest_status_name_is_wrong_on_purpose)};
    return cmocka_run_group_tests_name("selftest_assertion", tests, NULL, NULL);
}
C
    write_suite_fragment "$dir" assertion ci/selftest_assert.c -lcmocka '$(O)/selftest/assertion'
    (cd "$dir" && make --no-print-directory coverage CI_EXTRA_MK=ci/selftest-inject.mk \
        PROGRAMS= TEST_TARGETS="test-lib test-selftest-assertion") >"$scratch_base/assertion.log" 2>&1
    expect assertion $? "$scratch_base/assertion.log" \
        'gate tests-cov +FAILED suites failed under the coverage build: test-selftest-assertion' \
        'FAILED selftest_assertion: 0 passed, 1 failed' \
        'failure: selftest_assertion: test_selftest_status_name_is_wrong_on_purpose' \
        '"held" != "not-held"'
}

case_coverage() {
    local dir
    dir=$(scratch coverage)
    {
        echo '/* selftest: library code that no test calls */'
        echo '#include "lease.h"'
        echo 'int lease_selftest_never_called(int value);'
        echo 'int lease_selftest_never_called(int value) {'
        echo '    int total = 0;'
        for index in $(seq 1 80); do
            echo "    if (value == $index) total += value * $index;"
        done
        echo '    return total;'
        echo '}'
    } >"$dir/src/selftest_uncovered.c"
    (cd "$dir" && make --no-print-directory coverage PROGRAMS= TEST_TARGETS="test-lib") >"$scratch_base/coverage.log" 2>&1
    expect coverage $? "$scratch_base/coverage.log" \
        'COVERAGE GATE FAILED: library line coverage' \
        'src/selftest_uncovered.c: lease_selftest_never_called' \
        'gate coverage +FAILED library: lines'
}

# The program's own exit status is printed so that the code can be checked;
# the suite then fails like a test that saw a crash.
sanitizer_case() {
    local name=$1 body=$2
    shift 2
    local dir
    dir=$(scratch "$name")
    cat >"$dir/ci/selftest_$name.c" <<C
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
    (void)argv;
$body
}
C
    write_suite_fragment "$dir" "$name" "ci/selftest_$name.c" "" \
        '@$(O)/selftest/'"$name"'; status=$$?; echo "selftest program exit status $$status"; exit $$status'
    (cd "$dir" && make --no-print-directory check CI_EXTRA_MK=ci/selftest-inject.mk \
        PROGRAMS= TEST_TARGETS="test-selftest-$name" CHECK_FUZZ_SECONDS=0) >"$scratch_base/$name.log" 2>&1
    expect "$name" $? "$scratch_base/$name.log" "$@"
}

case_asan() {
    sanitizer_case asan '    char *buffer = malloc(8);
    memset(buffer, 0, 8 + (size_t)argc);
    printf("%d\n", buffer[0]);
    free(buffer);
    return 0;' \
        'selftest program exit status 86' \
        'gate sanitizers +FAILED findings in .*; first: .*AddressSanitizer: heap-buffer-overflow' \
        'CHECK FAILED: .*sanitizers'
}

case_ubsan() {
    sanitizer_case ubsan '    int big = INT_MAX - 1 + argc;
    printf("%d\n", big + argc);
    return 0;' \
        'selftest program exit status 87' \
        'gate sanitizers +FAILED findings in .*; first: runtime error: signed integer overflow' \
        'CHECK FAILED: .*sanitizers'
}

case_fuzz() {
    local dir
    dir=$(scratch fuzz)
    cat >"$dir/ci/fuzz/fuzz_selftest.c" <<'C'
/* selftest: a reader that trusts a length byte, as a real bug would. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
volatile char selftest_sink;
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size >= 4 && data[0] == 'L' && data[1] == 'E' && data[2] == 'A') {
        char *copy = malloc(4);
        memcpy(copy, data, data[3]);
        selftest_sink = copy[data[3] > 0 ? data[3] - 1 : 0];
        free(copy);
    }
    return 0;
}
C
    mkdir -p "$dir/fixtures/fuzz/fuzz_selftest"
    printf 'x' >"$dir/fixtures/fuzz/fuzz_selftest/seed"
    (cd "$dir" && make --no-print-directory fuzz FUZZ_SECONDS=30 \
        FUZZ_SOURCES=ci/fuzz/fuzz_selftest.c) >"$scratch_base/fuzz.log" 2>&1
    expect fuzz $? "$scratch_base/fuzz.log" \
        'gate fuzz +FAILED fuzz_selftest crashed on build/fuzz/crashes/fuzz_selftest-crash-' \
        'reproduce: build/fuzz/bin/fuzz_selftest build/fuzz/crashes/' \
        'ERROR: AddressSanitizer: '
}

# A repeatable figure 30% worse than its baseline must be flagged; a wall
# time is shown but not judged.
case_bench() {
    mkdir -p "$scratch_base/bench"
    printf 'selftest_ratio 1.0 ratio\nselftest_instructions_per_step 1000 instructions\nselftest_median_ms 10 ms\n' \
        >"$scratch_base/bench/baseline.txt"
    printf 'selftest_ratio 1.3 ratio\nselftest_instructions_per_step 1300 instructions\nselftest_median_ms 13 ms\n' \
        >"$scratch_base/bench/figures.txt"
    /usr/bin/python3 ci/bench_compare.py --baseline "$scratch_base/bench/baseline.txt" \
        "$scratch_base/bench/figures.txt" >"$scratch_base/bench.log" 2>&1
    expect bench $? "$scratch_base/bench.log" \
        'SLOWER selftest_ratio 1.3 ratio \(baseline 1, \+30.0%, lower is better\)' \
        'SLOWER selftest_instructions_per_step 1300 instructions \(baseline 1000, \+30.0%, lower is better\)' \
        'info   selftest_median_ms 13 ms \(baseline 10, \+30.0%; wall time, not judged\)' \
        'bench: 3 figures, 2 flagged'
}

cases=("$@")
[[ ${#cases[@]} -eq 0 ]] && cases=(assertion coverage asan ubsan fuzz bench)
mkdir -p "$scratch_base"
for name in "${cases[@]}"; do
    echo "=== ci-selftest: $name"
    start=$(date +%s)
    "case_$name"
    echo "${results[-1]} ($(( $(date +%s) - start ))s)"
done
echo "=== ci-selftest summary"
printf '%s\n' "${results[@]}"
echo "ci-selftest: $passed passed, $failed failed (logs in build/selftest/)"
[[ $failed -eq 0 ]]
