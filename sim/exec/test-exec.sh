#!/usr/bin/env bash
# test-exec.sh LEASESIM: a short real-process campaign under seccomp user
# notification (docs/exec.md) and the determinism check. Each check names
# what it asserts; the script fails on the first wrong verdict.
set -u
leasesim=$1
programs='build/bin/{script}'
racy='env LEASE_IMPLEMENTATION=neo-v2 build/bin/{script}'
python='/usr/bin/python3 -S sim/exec/py_lease.py {script}'
racy_adapter='/usr/bin/python3 -S fixtures/adapters/racy_lease.py {script}'
correct_adapter='/usr/bin/python3 -S fixtures/adapters/correct_lease.py {script}'
failures=0

expect() { # expect STATUS DESCRIPTION COMMAND...
    local want=$1 what=$2
    shift 2
    local output status
    output=$("$@" 2>&1)
    status=$?
    if [ "$status" -eq 69 ]; then
        echo "test-exec: FAIL $what: the seccomp filter was refused (exit 69)"
        echo "$output" | tail -3
        failures=$((failures + 1))
    elif [ "$status" -ne "$want" ]; then
        echo "test-exec: FAIL $what: exit $status, expected $want"
        echo "$output" | tail -20
        failures=$((failures + 1))
    else
        echo "test-exec: ok $what"
    fi
    LAST_OUTPUT=$output
}

# same_traces WHAT A B: two --trace files agree once pids are normalised (a
# private pid namespace gives the same pids already; normalised in case a
# kernel differs), and are not empty; prints ok or FAIL naming WHAT.
same_traces() {
    local what=$1
    sed 's/"pid":[0-9-]*/"pid":N/' "$2" > "$2.norm"
    sed 's/"pid":[0-9-]*/"pid":N/' "$3" > "$3.norm"
    if [ -s "$2.norm" ] && cmp -s "$2.norm" "$3.norm"; then
        echo "test-exec: ok $what"
    else
        echo "test-exec: FAIL not $what"; failures=$((failures + 1))
        diff "$2.norm" "$3.norm" | head -5
    fi
}

expect 64 "usage: --exec without a seed is refused" "$leasesim" --exec "$programs"
expect 64 "usage: an unknown option is refused" "$leasesim" --exec "$programs" --seed 1 --bogus x
expect 0 "the project's programs hold every invariant (random, 10 seeds)" \
    "$leasesim" --exec "$programs" --seeds 1..10 --quiet
expect 0 "the project's programs hold every invariant (pct, 12 seeds)" \
    "$leasesim" --exec "$programs" --strategy pct --seeds 1..12 --quiet
expect 1 "the racy implementation (neo-v2) is caught" "$leasesim" --exec "$racy" --seeds 1..100 --shrink off
case $LAST_OUTPUT in
*"replay: "*"--exec"*) echo "test-exec: ok the violation prints its replay line" ;;
*) echo "test-exec: FAIL no replay line"; failures=$((failures + 1)) ;;
esac
expect 1 "exhaustive (at most 1 preemption): the racy implementation is caught with an order file to replay" \
    "$leasesim" --exec "$racy" --strategy exhaustive --preemptions 1 --seed 1
case $LAST_OUTPUT in
*"exhaustive: "*"VIOLATION"*"--order "*) echo "test-exec: ok the exhaustive search names the schedule's order file" ;;
*) echo "test-exec: FAIL the exhaustive search printed no violation with an order file"; failures=$((failures + 1)) ;;
esac
# Python seeds are the suite's cost (a Python start makes some 3,000 notified
# calls, most of them libfaketime re-reading its clock file at each of
# Python's monotonic clock reads: docs/exec.md). Three seeds of
# each passing adapter: their schedules already take every path of the six
# or five seeds these checks ran before (the same scheduled calls on the same
# files; each process both wins and defers; the reference adapter's retries
# and sleeps).
expect 0 "the locked Python adapter holds every invariant (3 seeds)" "$leasesim" --exec "$python" --seeds 1..3 --quiet
expect 1 "the racy Python adapter is caught" env PY_LEASE_MODE=racy "$leasesim" --exec "$python" --seeds 1..100 --shrink off
expect 1 "the racy adapter of the original design (fixtures/adapters/racy_lease.py) is caught, two reclaimers, shrunk" \
    "$leasesim" --exec "$racy_adapter" --scenario fixtures/scenarios/two-reclaimers.scn --invariant exclusion --seeds 1..100
replay=$(printf '%s\n' "$LAST_OUTPUT" | sed -n 's/^replay: //p')
case $replay in
*" --order "*) echo "test-exec: ok the shrunk violation's replay names its order file" ;;
*) echo "test-exec: FAIL no order file in the replay line: $replay"; failures=$((failures + 1)) ;;
esac
shrunk=$(printf '%s\n' "$LAST_OUTPUT" | sed -n 's/^syscall sequence (shrunk: the violation after \([0-9]*\) .*/\1/p')
replayed=$(eval "$replay" 2>&1 | sed -n 's/^syscall sequence (\([0-9]*\) lease syscalls up to the violation.*/\1/p')
if [ -n "$shrunk" ] && [ "$shrunk" = "$replayed" ]; then
    echo "test-exec: ok the replay with the order file violates again after the same $shrunk lease syscalls"
else
    echo "test-exec: FAIL the replay did not reproduce the shrunk violation ($shrunk vs $replayed)"; failures=$((failures + 1))
fi
expect 0 "the reference adapter (fixtures/adapters/correct_lease.py) holds every invariant (3 seeds)" \
    "$leasesim" --exec "$correct_adapter" --seeds 1..3 --quiet
expect 0 "faults: the reference adapter holds every invariant with crashes and errno failures (4 seeds)" \
    "$leasesim" --exec "$correct_adapter" --seeds 1..4 --crash 30 --errno 30 --quiet
expect 0 "faults: the project's programs hold every invariant with crashes, errno failures and torn writes and clock jumps (12 seeds)" \
    "$leasesim" --exec "$programs" --seeds 1..12 --crash 20 --errno 20 --torn 50 --clock-jump 20 --quiet
expect 1 "the release race carried to exclusion (racy adapter, scenario, --invariant exclusion)" \
    "$leasesim" --exec "$racy_adapter" --scenario fixtures/scenarios/exec/release-race-exclusion.scn \
    --invariant exclusion --seeds 1..100 --shrink off
case $LAST_OUTPUT in
*"invariant=exclusion"*"clock=virtual"*) echo "test-exec: ok the release race is named exclusion under the virtual clock" ;;
*) echo "test-exec: FAIL the release race was not an exclusion violation under the virtual clock"; failures=$((failures + 1)) ;;
esac
expect 0 "the project's programs hold every invariant in the release-race scenario (TTL 1 s, bodies of 1 s, 3 seeds)" \
    "$leasesim" --exec "$programs" --scenario fixtures/scenarios/exec/release-race-exclusion.scn --seeds 1..3 --quiet
# A process that does not read the virtual clock is reported, not silently
# judged with the wrong time: here Python without the preload.
expect 0 "a process that ignores the virtual clock runs" \
    "$leasesim" --exec "env -u LD_PRELOAD $correct_adapter" --programs kbSync --initial none --seed 1
case $LAST_OUTPUT in
*"clock: p0 kbSync wrote acquiredAt="*"does not read the virtual clock"*) echo "test-exec: ok it is reported on its own line" ;;
*) echo "test-exec: FAIL a process that ignores the virtual clock was not reported"; failures=$((failures + 1)) ;;
esac
expect 1 "bounded wedge: an adapter that leaves an unrecoverable lease is caught" \
    env PY_LEASE_MODE=wedge "$leasesim" --exec "$python" --seeds 1..5 --shrink off
case $LAST_OUTPUT in
*"invariant=bounded-wedge"*) echo "test-exec: ok the wedge is named bounded-wedge" ;;
*) echo "test-exec: FAIL the wedge was not named bounded-wedge"; failures=$((failures + 1)) ;;
esac
expect 1 "honest deferral: an adapter that defers to a holder that never was is caught" \
    env PY_LEASE_MODE=liar "$leasesim" --exec "$python" --seeds 1..2 --shrink off
case $LAST_OUTPUT in
*"invariant=honest-deferral"*) echo "test-exec: ok the lie is named honest-deferral" ;;
*) echo "test-exec: FAIL the lie was not named honest-deferral"; failures=$((failures + 1)) ;;
esac
# Pid reuse: as root, a crashed holder's pid goes to an unrelated process in a
# private pid namespace (ns_last_pid); unprivileged, the knob is skipped with one line.
expect 0 "pid reuse: the project's programs recover a crashed holder's lease whose pid was given away" \
    "$leasesim" --exec "$programs" --scenario fixtures/scenarios/pid-reuse-wedge.scn --seeds 1..2
if [ "$(id -u)" -eq 0 ]; then
    case $LAST_OUTPUT in
    *"pid-reuse=2"*) echo "test-exec: ok the pid was given away in both seeds" ;;
    *) echo "test-exec: FAIL the pid was not given away"; failures=$((failures + 1)) ;;
    esac
fi
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
    nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    # uid 65534 runs copies in a directory of its own: the tree may sit under a
    # directory only root may search (mktemp -d makes them 0700), where every
    # start would fail and a wedge would be all the checks saw.
    unprivileged=$(mktemp -d)
    chmod 0755 "$unprivileged"
    cp "$leasesim" build/bin/kbSync build/bin/backup build/bin/sandman build/bin/syncGithubWorkflow \
        fixtures/scenarios/pid-reuse-wedge.scn "$unprivileged/"
    expect 0 "unprivileged (uid 65534): the pid-reuse scenario runs, the knob skipped" \
        "${nobody[@]}" "$unprivileged/leasesim" --exec "$unprivileged/{script}" \
        --scenario "$unprivileged/pid-reuse-wedge.scn" --seed 1
    case $LAST_OUTPUT in
    "pid reuse: skipped (unprivileged"*) echo "test-exec: ok one line says the pid-reuse knob is skipped" ;;
    *) echo "test-exec: FAIL no line saying the pid-reuse knob is skipped"; failures=$((failures + 1)) ;;
    esac
    expect 0 "unprivileged (uid 65534): the project's programs pass" \
        "${nobody[@]}" "$unprivileged/leasesim" --exec "$unprivileged/{script}" --seeds 1..3 --quiet
    expect 1 "unprivileged (uid 65534): the racy implementation is caught" \
        "${nobody[@]}" "$unprivileged/leasesim" --exec "env LEASE_IMPLEMENTATION=neo-v2 $unprivileged/{script}" \
        --seeds 1..100 --shrink off
    case $LAST_OUTPUT in # a wedge would only say that nothing could start
    *"invariant=bounded-wedge"*) echo "test-exec: FAIL unprivileged: the racy run was a wedge, not its race"; failures=$((failures + 1)) ;;
    *"VIOLATION seed="*) echo "test-exec: ok unprivileged: the racy implementation is caught by its race, not a wedge" ;;
    esac
    rm -rf "$unprivileged"
fi
# EXEC_TEST_DETERMINISM=off (the instrumented builds of make ci-gates): the
# five-times-five runs are left out; the order is the scheduler's, the same in
# every build, and make test checks it.
if [ "${EXEC_TEST_DETERMINISM:-on}" = off ]; then
    echo "test-exec: skipped the determinism runs (an instrumented build; make test runs them)"
else
    expect 0 "determinism: same seed, same ordered syscall log, 5 runs of 5 (programs)" \
        "$leasesim" --exec "$programs" --seeds 1..2 --determinism
    expect 0 "determinism: same seed, same ordered syscall log, 5 runs of 5 (racy)" \
        "$leasesim" --exec "$racy" --seeds 1 --determinism
    expect 0 "determinism: same seed, same ordered syscall log, 5 runs of 5 (Python)" \
        "$leasesim" --exec "$python" --seeds 1 --determinism
fi

# The clock shim (sim/exec/clock_shim.c, docs/exec.md "Time"): libfaketime's
# clock reads are answered from a page the controller writes, so no clock file
# is opened by a notified call; with LEASESIM_CLOCK_SHIM=off every clock read
# opens the file. Either way a seed runs the same schedule and sees the same
# virtual times: the two traces are the same (pids normalised).
shim_dir=$(mktemp -d)
expect 0 "the clock shim: a Python seed with clock jumps runs" \
    "$leasesim" --exec "$correct_adapter" --seed 2 --clock-jump 100 --trace "$shim_dir/on.jsonl"
case $LAST_OUTPUT in
*"clock-file-opens=0"*) echo "test-exec: ok the clock shim answered every clock read (no clock file opened)" ;;
*) echo "test-exec: FAIL clock files were opened with the clock shim on"; failures=$((failures + 1)) ;;
esac
expect 0 "LEASESIM_CLOCK_SHIM=off: the same seed runs" env LEASESIM_CLOCK_SHIM=off \
    "$leasesim" --exec "$correct_adapter" --seed 2 --clock-jump 100 --trace "$shim_dir/off.jsonl"
if [[ $LAST_OUTPUT =~ clock-file-opens=([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -gt 100 ]; then
    echo "test-exec: ok without the shim every clock read opens the clock file (${BASH_REMATCH[1]} opens)"
else
    echo "test-exec: FAIL without the shim the clock file was not opened at each clock read"; failures=$((failures + 1))
fi
same_traces "the same trace with and without the clock shim (schedule and virtual times)" \
    "$shim_dir/off.jsonl" "$shim_dir/on.jsonl"
mkdir "$shim_dir/a dir"
expect 0 "a TMPDIR with a space (where LD_PRELOAD splits): the run goes on without the shim" \
    env TMPDIR="$shim_dir/a dir" "$leasesim" --exec "$correct_adapter" --seed 1
case $LAST_OUTPUT in
*"clock: the clock shim is off: the run folder's path (TMPDIR) holds a space"*"clock-file-opens="[1-9]*)
    echo "test-exec: ok one line says the shim is off there, and libfaketime read the clock file" ;;
*) echo "test-exec: FAIL no line saying the shim is off, or no clock file read"; failures=$((failures + 1)) ;;
esac
rm -rf "$shim_dir"
expect 64 "a bad LEASESIM_CLOCK_SHIM is refused" env LEASESIM_CLOCK_SHIM=maybe "$leasesim" --exec "$programs" --seed 1
case $LAST_OUTPUT in
"leasesim: LEASESIM_CLOCK_SHIM must be on or off, not 'maybe'") echo "test-exec: ok one line names the bad value" ;;
*) echo "test-exec: FAIL the refusal is not one line naming the value: $LAST_OUTPUT"; failures=$((failures + 1)) ;;
esac

# --trace: the simulator's records, written by sim/trace.c (docs/exec.md,
# "Trace"). check_trace.py: the simulator's schema (the keys sim/check-tool.sh
# checks), ops from SIM_OP_TABLE, this mode's extra fields; shown first to
# fail on broken traces.
trace_dir=$(mktemp -d)
check_trace() { # check_trace DESCRIPTION FILE
    local what=$1
    shift
    if /usr/bin/python3 sim/exec/check_trace.py "$@"; then
        echo "test-exec: ok $what"
    else
        echo "test-exec: FAIL $what"; failures=$((failures + 1))
    fi
}
expect 0 "--trace writes the simulator's records, one per scheduled call" \
    "$leasesim" --exec "$programs" --seed 1 --trace "$trace_dir/a.jsonl"
check_trace "the exec trace follows the simulator's trace schema" "$trace_dir/a.jsonl"
for op in create_exclusive body_enter body_exit exit; do
    if grep -q "\"op\":\"$op\"" "$trace_dir/a.jsonl"; then echo "test-exec: ok the trace has a $op record"
    else echo "test-exec: FAIL the trace has no $op record"; failures=$((failures + 1)); fi
done
# The checker fails on broken traces: a record without its op, an op the
# simulator does not have, a negative rc without its errno name, no header.
sed '2s/"op":"[a-z_]*",//' "$trace_dir/a.jsonl" > "$trace_dir/no-op.jsonl"
sed '2s/"op":"[a-z_]*"/"op":"openat"/' "$trace_dir/a.jsonl" > "$trace_dir/bad-op.jsonl"
sed '2s/"rc":0/"rc":-5/' "$trace_dir/a.jsonl" > "$trace_dir/no-errno.jsonl"
sed '1d' "$trace_dir/a.jsonl" > "$trace_dir/no-header.jsonl"
{ cat "$trace_dir/a.jsonl"; grep -m1 '"syscall"' "$trace_dir/a.jsonl" | sed 's/"step":[0-9]*/"step":100000/'; } \
    > "$trace_dir/after-exit.jsonl"
for broken in no-op bad-op no-errno no-header after-exit; do
    if /usr/bin/python3 sim/exec/check_trace.py "$trace_dir/$broken.jsonl" > /dev/null; then
        echo "test-exec: FAIL check_trace.py accepts a broken trace ($broken)"; failures=$((failures + 1))
    else
        echo "test-exec: ok check_trace.py rejects a broken trace ($broken)"
    fi
done
# Determinism: the same seed twice (a crash, errno and torn-write run) gives
# the same trace once pids are normalised (same_traces).
for run in 1 2; do
    "$leasesim" --exec "$programs" --seed 7 --crash 150 --errno 100 --torn 100 --trace "$trace_dir/d$run.jsonl" \
        > /dev/null 2>&1
done
check_trace "the faulty run's trace follows the schema" "$trace_dir/d1.jsonl"
if grep -q '"rc":-[0-9]*,"errno":"E[A-Z]*"' "$trace_dir/d1.jsonl"; then echo "test-exec: ok the faulty run's trace names an injected fault's errno"
else echo "test-exec: FAIL no injected fault's errno in the faulty run's trace"; failures=$((failures + 1)); fi
same_traces "determinism: two runs of one seed write the same --trace (pids normalised)" \
    "$trace_dir/d1.jsonl" "$trace_dir/d2.jsonl"
rm -rf "$trace_dir"
expect 73 "an unwritable --trace is an error" "$leasesim" --exec "$programs" --seed 1 --trace /nonexistent/dir/t.jsonl

# --svg: the run's timeline, drawn by the simulator's own sim/svg.c
# (docs/exec.md). check_svg.py: well-formed XML, the verdict in the title, a
# lane per process; shown first to fail on a broken picture.
svg_dir=$(mktemp -d)
check_svg() { # check_svg DESCRIPTION FILE VERDICT LANES
    local what=$1
    shift
    if /usr/bin/python3 sim/exec/check_svg.py "$@"; then
        echo "test-exec: ok $what"
    else
        echo "test-exec: FAIL $what"; failures=$((failures + 1))
    fi
}
expect 1 "--svg: the racy implementation's violation is drawn" \
    "$leasesim" --exec "$racy" --seeds 1..100 --svg "$svg_dir/racy.svg"
invariant=$(printf '%s\n' "$LAST_OUTPUT" | sed -n 's/^VIOLATION seed=.* invariant=\([a-z-]*\)$/\1/p')
check_svg "--svg: the violation's picture is well-formed, its title names $invariant, two lanes" \
    "$svg_dir/racy.svg" "$invariant" 2
head -c 1500 "$svg_dir/racy.svg" > "$svg_dir/cut.svg"
if /usr/bin/python3 sim/exec/check_svg.py "$svg_dir/cut.svg" "$invariant" 2 > /dev/null; then
    echo "test-exec: FAIL check_svg.py passed a cut-off picture"; failures=$((failures + 1))
else
    echo "test-exec: ok check_svg.py fails on a cut-off picture"
fi
if /usr/bin/python3 sim/exec/check_svg.py "$svg_dir/racy.svg" hold 2 > /dev/null ||
    /usr/bin/python3 sim/exec/check_svg.py "$svg_dir/racy.svg" "$invariant" 3 > /dev/null; then
    echo "test-exec: FAIL check_svg.py passed a wrong verdict or lane count"; failures=$((failures + 1))
else
    echo "test-exec: ok check_svg.py fails on a wrong verdict and on a wrong lane count"
fi
expect 0 "--svg: three of the project's programs with crashes and clock jumps, drawn" \
    "$leasesim" --exec "$programs" --programs kbSync,backup,sandman --seeds 1..2 --crash 20 --clock-jump 20 \
    --svg "$svg_dir/programs.svg" --quiet
check_svg "--svg: the passing run's title says every invariant held, three lanes" "$svg_dir/programs.svg" hold 3
expect 1 "--svg: the exhaustive search draws the violating schedule" \
    "$leasesim" --exec "$racy" --strategy exhaustive --preemptions 1 --seed 1 --svg "$svg_dir/exhaustive.svg"
invariant=$(printf '%s\n' "$LAST_OUTPUT" | sed -n 's/^VIOLATION exec=.* invariant=\([a-z-]*\) .*/\1/p')
check_svg "--svg: the exhaustive violation's title names $invariant" "$svg_dir/exhaustive.svg" "$invariant" 2
rm -rf "$svg_dir"
expect 73 "an unwritable --svg is an error" "$leasesim" --exec "$programs" --seed 1 --svg /nonexistent/dir/t.svg

# A refused filter: inside a run, a second listener is refused by the kernel
# (one user-notification listener per filter chain), so a nested leasesim
# must say so and exit 69, never pass.
nested=$(mktemp)
"$leasesim" --exec "sh -c '$leasesim --exec build/bin/kbSync --programs kbSync --seed 1 >$nested 2>&1; echo exit=\$? >>$nested'" \
    --programs nested --initial none --clock real --seed 1 >/dev/null 2>&1 # no preload: a sanitized leasesim must come first
if grep -q '^exit=69$' "$nested" && grep -q 'refused the seccomp user-notification filter' "$nested"; then
    echo "test-exec: ok a refused filter gives one line and exit 69"
else
    echo "test-exec: FAIL a refused filter did not give exit 69"; cat "$nested"; failures=$((failures + 1))
fi
rm -f "$nested"

if [ "$failures" -ne 0 ]; then
    echo "test-exec: $failures check(s) failed"
    exit 1
fi
echo "test-exec: all checks passed"
