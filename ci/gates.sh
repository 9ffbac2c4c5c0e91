#!/usr/bin/env bash
# make ci-gates: the coverage gate, then the sanitizer/valgrind/fuzz gates,
# each in its own make; ends with one line per gate and names the failed ones.
set -uo pipefail
cd "$(dirname "$0")/.."
source ci/gate-lib.sh

rm -f "$CI_GATE_DIR"/*.txt
start=$(date +%s)
gate_make coverage
coverage_status=$?
gate_make check
check_status=$?
echo "=== ci-gates ($(( $(date +%s) - start ))s)"
failed=()
for gate in tests-cov coverage cobertura tests-san sanitizers valgrind fuzz; do
    if [[ -f "$CI_GATE_DIR/$gate.txt" ]]; then
        cat "$CI_GATE_DIR/$gate.txt"
        grep -q '^gate [^ ]* *FAILED' "$CI_GATE_DIR/$gate.txt" && failed+=("$gate")
    else
        printf 'gate %-12s %-6s %s\n' "$gate" "FAILED" "did not run (an earlier step stopped)"
        failed+=("$gate")
    fi
done
gates_total=7
if [[ ${#failed[@]} -ne 0 || $coverage_status -ne 0 || $check_status -ne 0 ]]; then
    echo "CI GATES FAILED: ${failed[*]:-see above}"
    failed_count=${#failed[@]}
    [[ $failed_count -eq 0 ]] && failed_count=1 # a make step failed without a gate line
    echo "gates: $(( gates_total - failed_count )) passed, $failed_count failed"
    exit 1
fi
echo "ci-gates: every gate passed"
echo "gates: $gates_total passed, 0 failed"
