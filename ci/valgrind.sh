#!/usr/bin/env bash
# make valgrind: each C test binary given as an argument (the plain build's,
# CI_VALGRIND_BINARIES) under memcheck; exit 88 from valgrind on an error or a
# definite/indirect leak. Logs in build/ci/valgrind/.
set -uo pipefail
cd "$(dirname "$0")/.."
source ci/gate-lib.sh

valgrind_exit=88
mkdir -p build/ci/valgrind
failed=()
for binary in "$@"; do
    log=build/ci/valgrind/$(basename "$binary").log
    CMOCKA_MESSAGE_OUTPUT=tap valgrind -q --error-exitcode=$valgrind_exit --leak-check=full \
        --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
        --track-origins=yes "$binary" >"$log" 2>&1
    status=$?
    echo "valgrind: $binary: exit $status"
    if [[ $status -ne 0 ]]; then
        failed+=("$(basename "$binary") (exit $status)")
        grep -E '^==[0-9]+==|^not ok' "$log" | head -n 30
    fi
done
gate_verdict valgrind $# "no test binary to run" "$# binaries clean: $*" "${failed[*]}; logs in build/ci/valgrind/" || exit 1
