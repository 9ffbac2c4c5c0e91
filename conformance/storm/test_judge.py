#!/usr/bin/python3
"""make test-storm, first part: the storm's judge (storm.py) on body logs with known verdicts
(conformance/storm/judge/): it passes a clean log, fails an overlap, and excuses a holder's lease
taken over only when the holder reported it lost and was stopped for at least 2/3 of the TTL (in its
body, or holding the lease before its body began), or the whole machine paused that long (a `stall`
record) with the same timing.

One process judges every case through storm.judge(); the command line (`storm.py --judge`: its
output lines and its exit statuses 0, 1 and 64) runs as a process three times. Eighteen processes,
one a case, cost about 1.2 CPU seconds here; this, a fifth of that.

    usage: test_judge.py     (exit 0: every case gave its verdict; 1: a case did not)
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import storm  # noqa: E402

TTL_MS = 1000
# (overlaps, TTL takeovers, log, pids that reported the lease lost, what the case shows)
CASES = [
    (0, 0, "clean.log", "", "a clean log (bodies one after another, a killed holder) passes"),
    (1, 0, "overlap.log", "", "a body entering while another is inside is an overlap"),
    (1, 0, "overlap.log", "100", "reporting the lease lost does not excuse a holder that was never stopped"),
    (0, 1, "ttl-takeover.log", "100",
     "a holder stopped past 2/3 of the TTL that reported the lease lost is a TTL takeover"),
    (1, 0, "ttl-takeover.log", "", "the same entry is an overlap when the stopped holder never reported the loss"),
    (1, 0, "early-takeover.log", "100",
     "an entry 0.5 s into a stop (TTL 1 s) is an overlap even if the holder reports the loss"),
    (0, 1, "stopped-before-body.log", "100", "a body beginning on waking from a stop past 2/3 of the TTL, "
     "holding the lease, reported lost, is a TTL takeover"),
    (1, 0, "stopped-before-body.log", "", "the same entry is an overlap when the woken holder never reported the loss"),
    (1, 0, "stopped-before-body-not-holding.log", "100",
     "the same entry is an overlap when the lease did not name it at its stop"),
    (1, 0, "stopped-before-body-early.log", "100",
     "the same entry is an overlap when the other entered 0.5 s into its stop (TTL 1 s)"),
    (1, 0, "stopped-before-body-woken-first.log", "100",
     "the same entry is an overlap when the other entered after it was continued"),
    (0, 1, "stall-before-body.log", "100",
     "a machine pause past 2/3 of the TTL, then a body beside its successor, reported lost, is a TTL takeover"),
    (1, 0, "stall-before-body.log", "", "the same entry is an overlap when the woken holder never reported the loss"),
    (1, 0, "stall-too-short.log", "100", "a machine pause of 0.48 s (TTL 1 s) excuses nothing"),
    (0, 1, "stall-inside-body.log", "100",
     "a holder paused in its body with the machine, reported lost, was taken over by TTL"),
    (1, 0, "stall-inside-body.log", "200", "the same entry is an overlap when only the one entering reported a loss"),
    (1, 0, "stall-long-before.log", "100", "two entries 2 s after a machine pause are an overlap"),
]
# The command line: (exit status, lines its output must hold, log, lost, what the case shows)
COMMAND_CASES = [
    (0, ["storm_judge_overlaps 0 count", "storm_judge_ttl_takeovers 1 count"], "ttl-takeover.log", "100",
     "the command line prints the counts and exits 0 on an excused takeover"),
    (1, ["storm_judge_overlaps 1 count", "storm_judge_ttl_takeovers 0 count"], "overlap.log", "",
     "the command line prints the counts and exits 1 on an overlap"),
    (64, [], "missing.log", "", "a log that cannot be read is a usage error (exit 64)"),
]


def main():
    failures = 0
    for overlaps, takeovers, log, lost, what in CASES:
        pids = {int(pid) for pid in lost.split(",") if pid}
        got_overlaps, got_takeovers, _examples = storm.judge(os.path.join(HERE, "judge", log), pids, TTL_MS)
        if (got_overlaps, got_takeovers) == (overlaps, takeovers):
            print(f"storm-judge: ok {what}")
        else:
            print(f"storm-judge: FAIL {what} ({log}: {got_overlaps} overlaps and {got_takeovers} takeovers, "
                  f"want {overlaps} and {takeovers})")
            failures += 1
    for status, lines, log, lost, what in COMMAND_CASES:
        argv = [sys.executable, os.path.join(HERE, "storm.py"), "--judge", os.path.join(HERE, "judge", log),
                "--lost", lost, "--ttl-ms", str(TTL_MS)]
        run = subprocess.run(argv, capture_output=True, text=True, check=False)
        printed = run.stdout.splitlines()
        if run.returncode == status and all(line in printed for line in lines):
            print(f"storm-judge: ok {what}")
        else:
            print(f"storm-judge: FAIL {what} (exit {run.returncode}, want {status} with {lines}):")
            print("".join(f"    {line}\n" for line in (run.stdout + run.stderr).splitlines()), end="")
            failures += 1
    cases = len(CASES) + len(COMMAND_CASES)
    if failures:
        print(f"storm-judge: {failures} of {cases} failed")
        return 1
    print(f"storm-judge: {cases} passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
