#!/usr/bin/env bash
# Runs each named make target as one suite, keeps going after a failure, and
# ends with one summary line per suite and a total "N passed, N failed".
#
# Suites run several at a time, as many as keep the CPUs busy without
# crowding them. ci/suite-durations (written by make bench-suites) gives each
# suite's wall and CPU seconds when it runs alone on the project's 2-core
# machine; its weight is the CPUs it keeps busy (CPU over wall seconds). A
# suite starts while the weights of the running ones add up to fewer than
# TEST_LOAD CPUs (default: nproc), at most TEST_JOBS at once (default: four
# times the CPUs). Suites that mostly wait (on TTLs, timeouts,
# real processes' replies) weigh little and run beside the ones that compute;
# the ones that compute do not time-slice one another (every time slice given
# to a crowd costs CPU: a plain make test took 160 CPU seconds four suites at
# a time, 130 two at a time). A weight is an average over a whole run: when
# the running suites all wait at once, the CPUs idle; so the next suite also
# starts when, over half a second or more, a quarter of a CPU or more stayed
# idle (/proc/stat). A suite missing from ci/suite-durations weighs
# 1 CPU and starts last. TEST_JOBS=1 runs them one after another with their
# output live. With more than one job each suite's output goes to
# build/reports/suites/TARGET.log and is printed whole when the suite ends, so
# outputs never interleave; build/reports/suites/timeline says when each
# started, how long it ran and its CPU seconds. Each suite has its own pytest
# temporary root, so that one pytest session never prunes another's folders.
#
# Machine-readable results: every cmocka group writes JUnit XML to
# $CI_REPORT_DIR/<group>.xml (cmocka 1.1.5 replaces %g with the group name and
# writes to stderr instead when the file already exists, so stale files are
# removed first); pytest suites write their own pytest-*.xml there. After the
# run, one line per JUnit file. CMOCKA_MESSAGE_OUTPUT=tap (or stdout, subunit)
# in the environment keeps cmocka's text output instead of XML.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

# The settings first, before anything is removed or written.
cpus=$(nproc)
jobs=${TEST_JOBS:-$((4 * cpus))}
if ! [[ "$jobs" =~ ^[1-9][0-9]{0,2}$ ]]; then
    echo "run-suites: TEST_JOBS must be a number from 1 to 999, not '$jobs'" >&2
    exit 64
fi
load=${TEST_LOAD:-$cpus}
if ! [[ "$load" =~ ^[1-9][0-9]{0,2}(\.[0-9]{1,2})?$ ]]; then
    echo "run-suites: TEST_LOAD must be a number of CPUs from 1 to 999 (two decimals at most), not '$load'" >&2
    exit 64
fi

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

# In hundredths of a CPU from here on: bash counts in integers.
load_budget=$(awk -v l="$load" 'BEGIN { printf "%d", l * 100 + 0.5 }')
logs=$CI_REPORT_DIR/suites
mkdir -p "$logs"
temp_root=${PYTEST_DEBUG_TEMPROOT:-$(pwd)/build/pytest-tmp}

# The order to start them in and the weights, from the "TARGET WALL-SECONDS
# CPU-SECONDS" lines of ci/suite-durations. The suites that wait longest
# beyond their computing (wall minus CPU over the CPUs) start first: their
# waits overlap everything else, and the ones that only compute close the run,
# where they use every CPU. The suites it does not list come last, in the
# order given, each weighing 1 CPU.
declare -A weight slack
for target in "$@"; do weight[$target]=100; done
while read -r target wall cpu _; do
    [[ -v "weight[$target]" && "$wall" =~ ^[0-9]+$ && "${cpu:-}" =~ ^[0-9]+(\.[0-9]+)?$ ]] || continue
    read -r "weight[$target]" "slack[$target]" < <(awk -v c="$cpu" -v w="$wall" -v n="$cpus" \
        'BEGIN { x = c * 100 / (w < 1 ? 1 : w); printf "%d %d\n", (x < 1 ? 1 : x), (w - c / n) * 10 + 100000 }')
done < <(grep -v '^#' ci/suite-durations)
order=("$@")
if [[ $jobs -gt 1 ]]; then
    mapfile -t order < <(
        for target in "$@"; do echo "${slack[$target]:-0} $target"; done | sort -s -k1,1nr | cut -d' ' -f2
    )
fi

declare -A status seconds start_of
# The suites that only compute (no real process waits on another's reply)
# run at a lower priority: they take the CPU the others leave. A suite whose
# processes hand each call to a supervisor and wait for its answer
# (test-exec: tens of thousands of round trips) or whose processes race on
# timing otherwise waits behind them for every time slice.
batch=" ${BATCH_SUITES-test-sim test-oracle2 test-timeline test-deb check-layers test-docs test-install test-throwaway} "
run_one() { # TARGET: runs it with its own pytest root; its output on stdout, its CPU seconds in TARGET.cpu
    local target=$1 priority=() status
    mkdir -p "$temp_root/$target"
    [[ $batch == *" $target "* ]] && priority=(nice -n 10)
    PYTEST_DEBUG_TEMPROOT=$temp_root/$target "${priority[@]}" make --no-print-directory "$target"
    status=$?
    # times: this shell's own, then its children's user and system time
    # ("1m2.345s"); not in a pipe, whose own subshell has no children yet.
    times >"$logs/$target.times"
    awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, p, /[ms]/); t += p[1] * 60 + p[2] } printf "%.1f\n", t }' \
        "$logs/$target.times" >"$logs/$target.cpu"
    return $status
}

if [[ $jobs -eq 1 ]]; then
    for target in "${order[@]}"; do
        echo "=== suite: $target"
        start_of[$target]=$SECONDS
        (run_one "$target")
        status[$target]=$?
        seconds[$target]=$((SECONDS - ${start_of[$target]}))
    done
else
    declare -A pid_of
    running=0
    busy=0 # the running suites' weights, in hundredths of a CPU
    # Each suite, when it ends, writes "TARGET STATUS" to a pipe (one short
    # line: one write). The loop below looks whether a line is there (read -t
    # 0 reads nothing) and then reads it whole; meanwhile it waits on a second
    # pipe that nobody writes (read -t 0.5: a sleep without a process) and
    # looks at the CPUs. Neither pipe is left open in the suites.
    ended=$(mktemp -u)
    mkfifo "$ended" "$ended.tick"
    exec {ended_fd}<>"$ended" {tick_fd}<>"$ended.tick"
    rm -f "$ended" "$ended.tick"
    finished() { # TARGET STATUS: prints its output whole
        local target=$1
        if [[ ! -v "pid_of[$target]" ]]; then
            echo "run-suites: an end for no running suite: '$target $2'" >&2
            return
        fi
        wait "${pid_of[$target]}" 2>/dev/null
        status[$target]=$2
        seconds[$target]=$((SECONDS - ${start_of[$target]}))
        unset "pid_of[$target]"
        busy=$((busy - ${weight[$target]}))
        running=$((running - 1))
        echo "=== suite: $target (${seconds[$target]}s)"
        cat "$logs/$target.log"
    }
    # A suite whose shell ended without writing its line (killed): failed.
    lost() {
        local target
        for target in "${!pid_of[@]}"; do
            kill -0 "${pid_of[$target]}" 2>/dev/null && continue
            # Its line may have been written just before it ended.
            if read -r -t 0 -u "$ended_fd"; then
                read -r -u "$ended_fd" name rc && finished "$name" "$rc"
                return
            fi
            echo "run-suites: the shell of $target ended without a status" >>"$logs/$target.log"
            finished "$target" 125
        done
    }
    # next_end: takes one suite's end when its line is there (status 0); else
    # waits half a second, fails the suites whose shell died, and returns 1.
    next_end() {
        if read -r -t 0 -u "$ended_fd"; then
            read -r -u "$ended_fd" name rc && finished "$name" "$rc"
            return 0
        fi
        read -r -t 0.5 -u "$tick_fd" _
        lost
        return 1
    }
    # The CPUs left idle since the last look, in hundredths of a CPU
    # (/proc/stat: idle and iowait ticks, at 100 a second).
    idle_seen() {
        local _cpu _user _nice _system idle iowait _rest now
        read -r _cpu _user _nice _system idle iowait _rest </proc/stat
        now=${EPOCHREALTIME/./}
        idle_cpus=0
        if [[ -v idle_mark ]]; then
            local span=$(((now - time_mark) / 10000)) # hundredths of a second
            ((span > 0)) && idle_cpus=$(((idle + iowait - idle_mark) * 100 / span))
        fi
        idle_mark=$((idle + iowait)) time_mark=$now
    }
    # A suite also starts when, over half a second or more, the CPUs stayed
    # idle by a quarter of a CPU or more: the running suites were all waiting
    # (TTLs, timeouts, replies), which their weights, averages over their
    # whole run, cannot say.
    idle_admit=25
    idle_seen
    for target in "${order[@]}"; do
        # While the running suites keep fewer than TEST_LOAD CPUs busy, the
        # next suite starts: the CPUs are never left idle by a suite waiting
        # for room, and never crowded by more than one suite's weight.
        while [[ $running -ge $jobs ]] || { [[ $busy -ge $load_budget ]] && [[ $idle_cpus -lt $idle_admit ]]; }; do
            if next_end; then idle_cpus=0; else idle_seen; fi
        done
        start_of[$target]=$SECONDS
        (
            run_one "$target" >"$logs/$target.log" 2>&1 </dev/null {ended_fd}>&- {tick_fd}>&-
            echo "$target $?" >&"$ended_fd"
        ) &
        pid_of[$target]=$!
        running=$((running + 1))
        busy=$((busy + ${weight[$target]}))
        idle_seen
        idle_cpus=0
    done
    while [[ $running -gt 0 ]]; do next_end || :; done
    exec {ended_fd}<&- {tick_fd}<&-
fi

passed=0
failed=0
summary=()
: >"$logs/timeline.new"
for target in "$@"; do
    if [[ ${status[$target]} -eq 0 ]]; then
        passed=$((passed + 1))
        summary+=("ok     $target (${seconds[$target]}s)")
    else
        failed=$((failed + 1))
        summary+=("FAILED $target (${seconds[$target]}s)")
    fi
    cpu=$(<"$logs/$target.cpu") 2>/dev/null
    echo "$target ${start_of[$target]:-} ${seconds[$target]} ${cpu:-}" >>"$logs/timeline.new"
done
# When each suite started (seconds into the run), how long it ran, its CPU seconds.
mv "$logs/timeline.new" "$logs/timeline"
if compgen -G "$CI_REPORT_DIR/*.xml" >/dev/null; then
    echo "=== JUnit reports ($CI_REPORT_DIR)"
    /usr/bin/python3 ci/junit_summary.py "$CI_REPORT_DIR"/*.xml
fi
if [[ $jobs -eq 1 ]]; then
    echo "=== summary (one at a time, ${SECONDS}s)"
else
    echo "=== summary (up to $jobs at a time within $load CPUs, ${SECONDS}s)"
fi
printf '%s\n' "${summary[@]}"
echo "suites: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
