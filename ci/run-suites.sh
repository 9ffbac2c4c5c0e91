#!/usr/bin/env bash
# Runs each named make target as one suite, keeps going after a failure, and
# ends with one summary line per suite and a total "N passed, N failed".
#
# Suites run TEST_JOBS at a time (default: twice the number of CPUs, since
# most suites spend their time waiting on real processes, not computing;
# TEST_JOBS=1 runs them one after another with their output live). With more
# than one job each suite's output goes to build/reports/suites/TARGET.log and
# is printed whole when the suite ends, so outputs never interleave. The
# slowest suites of the previous run start first (their durations are kept in
# build/reports/suites/durations). Each suite has its own pytest temporary
# root, so that one pytest session never prunes another's folders.
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

jobs=${TEST_JOBS:-$((2 * $(nproc)))}
if ! [[ "$jobs" =~ ^[1-9][0-9]{0,2}$ ]]; then
    echo "run-suites: TEST_JOBS must be a number from 1 to 999, not '$jobs'" >&2
    exit 64
fi
logs=$CI_REPORT_DIR/suites
mkdir -p "$logs"
temp_root=${PYTEST_DEBUG_TEMPROOT:-$(pwd)/build/pytest-tmp}

# The order to start them in: the slowest of the last run first, then the
# rest in the order given. A fresh clone has no last run: ci/suite-durations
# (the durations of a plain make test here, kept with the code) orders it, so
# the longest suites never start last and hold the run up alone.
order=("$@")
durations=$logs/durations
[[ -s $durations ]] || durations=ci/suite-durations
if [[ $jobs -gt 1 && -s $durations ]]; then
    mapfile -t order < <(
        for target in "$@"; do
            seconds=$(awk -v t="$target" '$1 == t { print $2 }' "$durations")
            echo "${seconds:-0} $target"
        done | sort -s -k1,1nr | cut -d' ' -f2
    )
fi

declare -A status seconds
# The suites that only compute (no real process waits on another's reply)
# run at a lower priority: they take the CPU the others leave. A suite whose
# processes hand each call to a supervisor and wait for its answer
# (test-exec: tens of thousands of round trips) or whose processes race on
# timing otherwise waits behind them for every time slice.
batch=" ${BATCH_SUITES-test-sim test-oracle2 test-timeline test-deb check-layers test-docs test-install test-throwaway} "
run_one() { # TARGET: runs it with its own pytest root; its output on stdout
    local target=$1 priority=()
    mkdir -p "$temp_root/$target"
    [[ $batch == *" $target "* ]] && priority=(nice -n 10)
    PYTEST_DEBUG_TEMPROOT=$temp_root/$target "${priority[@]}" make --no-print-directory "$target"
}

if [[ $jobs -eq 1 ]]; then
    for target in "${order[@]}"; do
        echo "=== suite: $target"
        start=$SECONDS
        run_one "$target"
        status[$target]=$?
        seconds[$target]=$((SECONDS - start))
    done
else
    declare -A pid_of start_of
    running=0
    finish() { # waits for one suite, prints its output whole
        local pid target
        wait -n -p pid
        local rc=$?
        for target in "${!pid_of[@]}"; do
            [[ ${pid_of[$target]} == "$pid" ]] || continue
            status[$target]=$rc
            seconds[$target]=$((SECONDS - ${start_of[$target]}))
            unset "pid_of[$target]"
            echo "=== suite: $target (${seconds[$target]}s)"
            cat "$logs/$target.log"
        done
        running=$((running - 1))
    }
    for target in "${order[@]}"; do
        [[ $running -lt $jobs ]] || finish
        start_of[$target]=$SECONDS
        run_one "$target" >"$logs/$target.log" 2>&1 </dev/null &
        pid_of[$target]=$!
        running=$((running + 1))
    done
    while [[ $running -gt 0 ]]; do finish; done
fi

passed=0
failed=0
summary=()
: >"$logs/durations.new"
for target in "$@"; do
    if [[ ${status[$target]} -eq 0 ]]; then
        passed=$((passed + 1))
        summary+=("ok     $target (${seconds[$target]}s)")
    else
        failed=$((failed + 1))
        summary+=("FAILED $target (${seconds[$target]}s)")
    fi
    echo "$target ${seconds[$target]}" >>"$logs/durations.new"
done
mv "$logs/durations.new" "$logs/durations"
if compgen -G "$CI_REPORT_DIR/*.xml" >/dev/null; then
    echo "=== JUnit reports ($CI_REPORT_DIR)"
    /usr/bin/python3 ci/junit_summary.py "$CI_REPORT_DIR"/*.xml
fi
echo "=== summary ($jobs at a time, ${SECONDS}s)"
printf '%s\n' "${summary[@]}"
echo "suites: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
