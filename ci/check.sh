#!/usr/bin/env bash
# make check: the suites given as arguments (TEST_TARGETS minus CI_SAN_SKIP)
# again under ASan+UBSan with recovery off (VARIANT=san -> build/san), then
# valgrind on the C test binaries of the plain build, then a short fuzz run.
#
# Exit codes that no lease status or CLI code (0,1,64,75,125,126,127,128+N)
# can be mistaken for: ASan/LSan 86, UBSan 87, valgrind 88. Every report is
# also written to build/san/reports/sanitizer.<pid>, so a finding in a child
# process whose exit status a test did not check still fails the gate.
set -uo pipefail
cd "$(dirname "$0")/.."
source ci/gate-lib.sh

reports=$PWD/build/san/reports
asan_exit=86
ubsan_exit=87
failed=()
start=$(date +%s)

# ---- sanitizers ------------------------------------------------------------
echo "=== check: build (VARIANT=san)"
mkdir -p "$reports"
rm -f build/san/build.log
rm -f "$reports"/sanitizer.*
# -k: a part that does not build must not hide the other parts' findings.
gate_make -k -j"$(nproc)" VARIANT=san all 2>&1 | tee build/san/build.log
build_status=${PIPESTATUS[0]}
build_error=$(grep -m 1 -E 'error:|Error [0-9]' build/san/build.log)
export ASAN_OPTIONS="exitcode=$asan_exit:abort_on_error=0:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_string_checks=1:log_path=$reports/sanitizer"
export UBSAN_OPTIONS="halt_on_error=1:exitcode=$ubsan_exit:print_stacktrace=1:log_path=$reports/sanitizer"
echo "=== check: suites under ASan+UBSan: $*"
gate_make VARIANT=san test-run TEST_TARGETS="$*" 2>&1 | tee build/san/suites.log
suites_status=${PIPESTATUS[0]}
unset ASAN_OPTIONS UBSAN_OPTIONS
failed_suites=$(sed -n 's/^FAILED \([^ :]*\) (.*/\1/p' build/san/suites.log | tr '\n' ' ')
if [[ $build_status -ne 0 ]]; then
    gate_record tests-san FAILED "the sanitizer build failed: $build_error; suites failed: ${failed_suites:-none}"
    failed+=(tests-san)
elif [[ $suites_status -eq 0 ]]; then
    gate_record tests-san ok "every suite passed under ASan+UBSan ($*)"
else
    gate_record tests-san FAILED "suites failed under ASan+UBSan: ${failed_suites:-see build/san/suites.log}"
    failed+=(tests-san)
fi
# ASan/LSan reports land in sanitizer.<pid>; GCC's UBSan ignores log_path
# and writes to stderr, which the suites' output keeps.
markers='(ERROR|WARNING): (Address|Leak|UndefinedBehavior)Sanitizer|runtime error: '
logs=()
# A log with only warnings (ASan's note on swapcontext, used by the
# simulator's coroutines) is not a finding.
for log in "$reports"/sanitizer.*; do
    [[ -f "$log" ]] && grep -qE "$markers" "$log" && logs+=("$log")
done
grep -E "$markers" build/san/suites.log >build/san/sanitizer-lines.txt && logs+=(build/san/suites.log)
if [[ ${#logs[@]} -ne 0 ]]; then
    echo "=== check: sanitizer reports"
    for log in "${logs[@]}"; do
        echo "--- $log"
        grep -E -A 30 "$markers" "$log" | head -n 40
    done
    first=$(grep -h -m 1 -oE "($markers).*" "${logs[@]}" | head -n 1 | cut -c1-200)
    gate_record sanitizers FAILED "findings in ${#logs[@]} log(s) (${logs[0]}...); first: ${first:-see $reports}"
    failed+=(sanitizers)
else
    gate_record sanitizers ok "no ASan/LSan/UBSan report"
fi

# ---- valgrind on the plain build's C test binaries -------------------------
echo "=== check: valgrind"
gate_make valgrind || failed+=(valgrind)

# ---- a short fuzz run ------------------------------------------------------
echo "=== check: fuzz (${CHECK_FUZZ_SECONDS:-15}s per target)"
gate_make -j"$(nproc)" fuzz-build && gate_make fuzz FUZZ_SECONDS="${CHECK_FUZZ_SECONDS:-15}" || failed+=(fuzz)

echo "check: $(( $(date +%s) - start ))s"
if [[ ${#failed[@]} -ne 0 ]]; then
    echo "CHECK FAILED: ${failed[*]}"
    exit 1
fi
echo "check: every gate passed"
