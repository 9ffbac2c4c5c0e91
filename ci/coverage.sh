#!/usr/bin/env bash
# make coverage: an instrumented build (VARIANT=cov -> build/cov) runs the
# suites given as arguments (TEST_TARGETS minus CI_COV_SKIP), including the
# simulator's scenarios, which cover the crash paths a killed process cannot
# record. Writes build/cov/coverage/{html/index.html,lcov.info,cobertura.xml,
# summary.txt} and fails when gcovr cannot write the Cobertura XML or when the library (src/*.c) is under
# COVERAGE_LINE_MIN % lines or COVERAGE_BRANCH_MIN % branches.
set -uo pipefail
cd "$(dirname "$0")/.."
source ci/gate-lib.sh

out=build/cov/coverage
line_min=${COVERAGE_LINE_MIN:-95}
branch_min=${COVERAGE_BRANCH_MIN:-85}
start=$(date +%s)

echo "=== coverage: build (VARIANT=cov)"
mkdir -p build/cov
# -k: a part that does not build must not hide the others' coverage; the
# build failure still fails the gate below.
gate_make -k -j"$(nproc)" VARIANT=cov all 2>&1 | tee build/cov/build.log
build_status=${PIPESTATUS[0]}
find build/cov -name '*.gcda' -delete
rm -rf "$out" && mkdir -p "$out"

echo "=== coverage: suites: $*"
suites_ok=true
gate_make VARIANT=cov test-run TEST_TARGETS="$*" 2>&1 | tee "$out/suites.log"
[[ ${PIPESTATUS[0]} -eq 0 ]] || suites_ok=false
failed_suites=$(sed -n 's/^FAILED \([^ :]*\) (.*/\1/p' "$out/suites.log" | tr '\n' ' ')
if [[ $build_status -ne 0 ]]; then
    suites_ok=false
    gate_record tests-cov FAILED "the instrumented build failed: $(grep -m 1 -E 'error:|Error [0-9]' build/cov/build.log); suites failed: ${failed_suites:-none}"
elif $suites_ok; then
    gate_record tests-cov ok "every suite passed under the coverage build ($*)"
else
    gate_record tests-cov FAILED "suites failed under the coverage build: ${failed_suites:-see $out/suites.log}"
fi

echo "=== coverage: reports"
# Notes and counts of a source that is gone (a renamed file in a reused build
# folder) are not part of the tree: drop them before any report reads them.
find build/cov/obj -name '*.gcno' | while read -r note; do
    source=${note#build/cov/obj/}
    [[ -f ${source%.gcno}.c ]] || rm -f "$note" "${note%.gcno}.gcda" "${note%.gcno}.o" "${note%.gcno}.d"
done
# lcov: the whole project's code (library, CLI, programs, simulator), not the tests.
lcov_rc=(--rc lcov_branch_coverage=1)
# The zero baseline (--initial) keeps files that no test loaded, at 0%.
lcov --quiet "${lcov_rc[@]}" --capture --initial --directory build/cov/obj --base-directory . \
    --output-file "$out/baseline.info" 2>"$out/lcov.log"
lcov --quiet "${lcov_rc[@]}" --capture --directory build/cov/obj --base-directory . \
    --output-file "$out/run.info" 2>>"$out/lcov.log"
lcov --quiet "${lcov_rc[@]}" --add-tracefile "$out/baseline.info" --add-tracefile "$out/run.info" \
    --output-file "$out/all.info" 2>>"$out/lcov.log" || cat "$out/lcov.log"
lcov --quiet "${lcov_rc[@]}" --extract "$out/all.info" "$PWD/src/*" "$PWD/sim/*" \
    --output-file "$out/extracted.info" 2>>"$out/lcov.log"
lcov --quiet "${lcov_rc[@]}" --remove "$out/extracted.info" "$PWD/sim/test_*" \
    --output-file "$out/lcov.info" 2>>"$out/lcov.log"
# The report's front page has the gate's scope (the library, src/*.c), so its
# headline is the figure the gate judges; the whole tree (wrapper, programs,
# simulator) is the second report, html-all/. Colours follow the gate: green
# at or above it, yellow above 75%, red below.
lcov --quiet "${lcov_rc[@]}" --remove "$out/lcov.info" "$PWD/src/cli/*" "$PWD/src/programs/*" "$PWD/sim/*" \
    --output-file "$out/library.info" 2>>"$out/lcov.log"
commit=$(git rev-parse --short HEAD 2>/dev/null || echo "${GITHUB_SHA:0:7}" | grep . || echo work-tree)
genhtml --quiet "${lcov_rc[@]}" --rc genhtml_hi_limit="$line_min" --rc genhtml_med_limit=75 \
    --legend --prefix "$PWD" \
    --title "liblease $commit: the library (src/*.c), the scope of the gate (lines ${line_min}%, branches ${branch_min}%); whole tree: ../html-all/index.html" \
    --output-directory "$out/html" "$out/library.info" >>"$out/lcov.log" 2>&1
genhtml --quiet "${lcov_rc[@]}" --rc genhtml_hi_limit="$line_min" --rc genhtml_med_limit=75 \
    --legend --prefix "$PWD" \
    --title "lease $commit: the whole tree (not gated; the gate's page is ../html/index.html)" \
    --output-directory "$out/html-all" "$out/lcov.info" >>"$out/lcov.log" 2>&1
# gcovr: Cobertura XML for CI tools and the per-file JSON the gate reads.
# (timeout: gcovr 5.2 can hang when a worker fails, e.g. on a source edited
# after it was compiled.)
timeout 600 gcovr --root . --object-directory build/cov/obj --filter 'src/' --filter 'sim/' --exclude 'sim/test_' \
    --gcov-ignore-parse-errors --cobertura-pretty --cobertura "$out/cobertura.xml" \
    --txt "$out/missing-lines.txt" >"$out/gcovr.log" 2>&1
gcovr_status=$?
if [[ $gcovr_status -ne 0 || ! -s "$out/cobertura.xml" ]]; then
    tail -n 5 "$out/gcovr.log"
    gate_record cobertura FAILED "gcovr failed (exit $gcovr_status): no Cobertura XML; see $out/gcovr.log"
else
    gate_record cobertura ok "$out/cobertura.xml"
fi

# The gate reads lcov.info, the same data as the HTML report.
/usr/bin/python3 ci/coverage_report.py --lcov "$out/lcov.info" \
    --line-min "$line_min" --branch-min "$branch_min" | tee "$out/summary.txt"
verdict=${PIPESTATUS[0]}
gate_line=$(grep '^library:' "$out/summary.txt" | head -n 1)
if [[ $verdict -eq 0 ]]; then
    gate_record coverage ok "$gate_line (gate: ${line_min}% lines, ${branch_min}% branches); report $out/html/index.html"
else
    gate_record coverage FAILED "$gate_line is under the gate (${line_min}% lines, ${branch_min}% branches); see $out/summary.txt"
fi
echo "coverage: $(( $(date +%s) - start ))s; HTML $out/html/index.html, $out/lcov.info, $out/cobertura.xml"
$suites_ok && [[ $verdict -eq 0 && $gcovr_status -eq 0 ]]
