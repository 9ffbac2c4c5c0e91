#!/usr/bin/env bash
# Runs each named make target as one suite, keeps going after a failure, and
# ends with one summary line per suite and a total "N passed, N failed".
#
# Machine-readable results: every cmocka group writes JUnit XML to
# $CI_REPORT_DIR/<group>.xml (cmocka 1.1.5 replaces %g with the group name and
# writes to stderr instead when the file already exists, so stale files are
# removed first); pytest suites write their own pytest-*.xml there. After the
# run, one line per JUnit file. CMOCKA_MESSAGE_OUTPUT=tap (or stdout, subunit)
# in the environment keeps cmocka's text output instead of XML.
set -uo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${CI_REPORT_DIR:-}" ]]; then
    case "${VARIANT:-}" in
        "") CI_REPORT_DIR=build/reports ;;
        *) CI_REPORT_DIR=build/${VARIANT}/reports ;;
    esac
fi
mkdir -p "$CI_REPORT_DIR"
CI_REPORT_DIR=$(cd "$CI_REPORT_DIR" && pwd)
export CI_REPORT_DIR
rm -f "$CI_REPORT_DIR"/*.xml

export CMOCKA_MESSAGE_OUTPUT=${CMOCKA_MESSAGE_OUTPUT:-xml}
if [[ "${CMOCKA_MESSAGE_OUTPUT,,}" == xml ]]; then
    export CMOCKA_XML_FILE="$CI_REPORT_DIR/%g.xml"
fi

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
if compgen -G "$CI_REPORT_DIR/*.xml" >/dev/null; then
    echo "=== JUnit reports ($CI_REPORT_DIR)"
    /usr/bin/python3 ci/junit_summary.py "$CI_REPORT_DIR"/*.xml
fi
echo "=== summary"
printf '%s\n' "${summary[@]}"
echo "suites: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
