#!/usr/bin/env bash
# make bench-suites: what `make test` costs, suite by suite. Each suite of
# TEST_TARGETS runs alone (one after another, so one suite's CPU is not
# another's), timed by /usr/bin/time: its CPU seconds (user + system, its
# children included) and its wall seconds. Then `make test-run` runs them all
# as make test does (TEST_JOBS at a time) for the wall time the goal names.
# Prints `name value unit` lines (make bench compares them when
# CI_BENCH_TARGETS names this target; not by default: it takes minutes).
# CPU seconds are the figure to compare between machines and runs: wall time
# depends on what else the machine does. OUTDIR/suite-durations gets one
# "TARGET WALL CPU" line per suite, longest first: copied over
# ci/suite-durations, it is how make test orders and weighs its suites
# (ci/run-suites.sh).
# The machine's own speed is measured before and after the whole run: this
# machine's two CPUs are shared with others, and the same work takes from 95
# to 118 CPU seconds from run to run. machine_*_python_start_ms is the CPU of
# one `python3 -S -c pass` (40 in a row: process creation and page faults,
# most of what the suites do) and machine_*_compute_seconds that of a fixed
# 5,000-seed campaign (LEASESIM); test_run_cpu_seconds is the whole run's.
# They say how fast the machine was around the run, not what the run will
# cost: what varies most is what the two CPUs cost each other (docs/design.md).
#   usage: LEASESIM=PATH ci/bench-suites.sh OUTDIR SUITE...
set -uo pipefail
out=$1
shift
mkdir -p "$out"
total=0
failed=0
: >"$out/durations.unsorted"
for suite in "$@"; do
    mkdir -p "$out/pytest-tmp/$suite"
    PYTEST_DEBUG_TEMPROOT=$out/pytest-tmp/$suite /usr/bin/time -f '%U %S %e' -o "$out/$suite.time" \
        make --no-print-directory "$suite" >"$out/$suite.log" 2>&1
    status=$?
    read -r user system wall <"$out/$suite.time"
    cpu=$(awk -v u="$user" -v s="$system" 'BEGIN { printf "%.1f", u + s }')
    total=$(awk -v t="$total" -v c="$cpu" 'BEGIN { printf "%.1f", t + c }')
    if [[ $status -ne 0 ]]; then
        failed=$((failed + 1))
        echo "bench-suites: $suite failed (exit $status); see $out/$suite.log" >&2
    fi
    awk -v t="$suite" -v w="$wall" -v c="$cpu" 'BEGIN { printf "%s %d %s\n", t, w + 0.5, c }' >>"$out/durations.unsorted"
    echo "test_suite_${suite//-/_}_cpu_seconds $cpu s"
    echo "test_suite_${suite//-/_}_wall_seconds $wall s"
done
echo "test_cpu_seconds_total $total s"
{
    sed -n '/^#/p' ci/suite-durations
    sort -s -k2,2nr "$out/durations.unsorted"
} >"$out/suite-durations"
rm -f "$out/durations.unsorted"
# machine_index WHEN: the two speed indices, named machine_WHEN_...
machine_index() {
    local user system
    /usr/bin/time -f '%U %S' -o "$out/index.time" bash -c 'for _ in {1..40}; do /usr/bin/python3 -S -c pass; done'
    read -r user system <"$out/index.time"
    awk -v u="$user" -v s="$system" -v w="$1" 'BEGIN { printf "machine_%s_python_start_ms %.1f ms\n", w, (u + s) * 1000 / 40 }'
    /usr/bin/time -f '%U %S' -o "$out/index.time" "${LEASESIM:?}" --impl lease --seeds 1..5000 --quiet >/dev/null
    read -r user system <"$out/index.time"
    awk -v u="$user" -v s="$system" -v w="$1" 'BEGIN { printf "machine_%s_compute_seconds %.2f s\n", w, u + s }'
    rm -f "$out/index.time"
}
machine_index before
start=$(date +%s.%N)
/usr/bin/time -f '%U %S' -o "$out/test-run.time" make --no-print-directory test-run TEST_TARGETS="$*" \
    >"$out/test-run.log" 2>&1 || failed=$((failed + 1))
awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "test_wall_seconds %.1f s\n", b - a }'
read -r user system <"$out/test-run.time"
awk -v u="$user" -v s="$system" 'BEGIN { printf "test_run_cpu_seconds %.1f s\n", u + s }'
machine_index after
[[ $failed -eq 0 ]]
