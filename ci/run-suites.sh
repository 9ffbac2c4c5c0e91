#!/usr/bin/env bash
# Runs each named make target as one suite, keeps going after a failure, and
# ends with one summary line per suite and a total "N passed, N failed".
set -uo pipefail
passed=0
failed=0
summary=()
for target in "$@"; do
    echo "=== suite: $target"
    start=$(date +%s)
    if make --no-print-directory "$target"; then
        passed=$((passed + 1))
        summary+=("ok     $target ($(( $(date +%s) - start ))s)")
    else
        failed=$((failed + 1))
        summary+=("FAILED $target ($(( $(date +%s) - start ))s)")
    fi
done
echo "=== summary"
printf '%s\n' "${summary[@]}"
echo "suites: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
