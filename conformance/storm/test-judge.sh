#!/usr/bin/env bash
# test-judge.sh: the storm's judge (storm.py --judge) on body logs with known
# verdicts (conformance/storm/judge/): it passes a clean log, fails an
# overlap, and excuses a stopped holder's lease taken over only when the
# holder reported it lost and was stopped for at least 2/3 of the TTL (in its
# body, or holding the lease before its body began), or when the whole machine
# paused that long (a `stall` record) with the same timing.
set -u
cd "$(dirname "$0")"
failures=0
expect() { # expect STATUS OVERLAPS TAKEOVERS LOG LOST WHAT (- for no counts)
    local output status
    output=$(/usr/bin/python3 storm.py --judge "judge/$4" --lost "$5" --ttl-ms 1000 2>&1)
    status=$?
    if [[ $status -eq $1 ]] && { [[ $2 == - ]] || { grep -qx "storm_judge_overlaps $2 count" <<<"$output" &&
        grep -qx "storm_judge_ttl_takeovers $3 count" <<<"$output"; }; }; then
        echo "storm-judge: ok $6"
    else
        echo "storm-judge: FAIL $6 (exit $status, want $1 with $2 overlaps and $3 takeovers):"
        sed 's/^/    /' <<<"$output"
        failures=$((failures + 1))
    fi
}
expect 0 0 0 clean.log "" "a clean log (bodies one after another, a killed holder) passes"
expect 1 1 0 overlap.log "" "a body entering while another is inside is an overlap"
expect 1 1 0 overlap.log 100 "reporting the lease lost does not excuse a holder that was never stopped"
expect 0 0 1 ttl-takeover.log 100 "a holder stopped past 2/3 of the TTL that reported the lease lost is a TTL takeover"
expect 1 1 0 ttl-takeover.log "" "the same entry is an overlap when the stopped holder never reported the loss"
expect 1 1 0 early-takeover.log 100 "an entry 0.5 s into a stop (TTL 1 s) is an overlap even if the holder reports the loss"
expect 0 0 1 stopped-before-body.log 100 "a body beginning on waking from a stop past 2/3 of the TTL, holding the lease, reported lost, is a TTL takeover"
expect 1 1 0 stopped-before-body.log "" "the same entry is an overlap when the woken holder never reported the loss"
expect 1 1 0 stopped-before-body-not-holding.log 100 "the same entry is an overlap when the lease did not name it at its stop"
expect 1 1 0 stopped-before-body-early.log 100 "the same entry is an overlap when the other entered 0.5 s into its stop (TTL 1 s)"
expect 1 1 0 stopped-before-body-woken-first.log 100 "the same entry is an overlap when the other entered after it was continued"
expect 0 0 1 stall-before-body.log 100 "a machine pause past 2/3 of the TTL, then a body beside its successor, reported lost, is a TTL takeover"
expect 1 1 0 stall-before-body.log "" "the same entry is an overlap when the woken holder never reported the loss"
expect 1 1 0 stall-too-short.log 100 "a machine pause of 0.48 s (TTL 1 s) excuses nothing"
expect 0 0 1 stall-inside-body.log 100 "a holder paused in its body with the machine, reported lost, was taken over by TTL"
expect 1 1 0 stall-inside-body.log 200 "the same entry is an overlap when only the one entering reported a loss"
expect 1 1 0 stall-long-before.log 100 "two entries 2 s after a machine pause are an overlap"
expect 64 - - missing.log "" "a log that cannot be read is a usage error (exit 64)"
[[ $failures -eq 0 ]] && echo "storm-judge: 18 passed" && exit 0
echo "storm-judge: $failures failed"
exit 1
