#!/usr/bin/python3
"""make test-race-cases: each arranged race and protocol check of the pytest suite
fails, naming its cause, against an adapter broken that way (fixtures/adapters/).

    race_cases.py [--self-test] BIN REPORTS

BIN holds the project's programs; each case's pytest report goes to
REPORTS/race-case-NAME.txt. One line per case (ok, or FAILED and why); exit 1 when
any case passed against its broken adapter or did not name its cause, 64 on a bad
argument. --self-test first shows the check failing where it must: a case whose
"broken" adapter is the project's own programs (the suite passes against them).

The cases' pytest sessions run one after another in this one process
(pytest.main): each session collects, configures and reports from scratch; the
modules, unchanged between sessions, are imported once. Ten interpreters and ten
imports of pytest cost about 2 CPU seconds more on the project's machine. Each
session stops at its first failure (-x): the case is caught once it fails naming
its cause, and its other programs would only say it again.

A storm finds its race by chance (a fresh-clone run under load once saw the mixed
storm end its 30 bodies a side without neo-v2 meeting a writer's window; 24 runs
here, 6 of them beside busy loops, caught it within 1 to 7 s): the storm cases get
up to 3 storms, the arranged ones 1.
"""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))

# name, implementation ({bin}: the programs' folder), -k filter, what the report
# must name, storms
CASES = [
    ("reclaimers", "/usr/bin/python3 -S fixtures/adapters/broken_adopt.py {script}", "reclaimers", "TWO RECLAIMERS", 1),
    ("release-race", "fixtures/adapters/broken-release.sh {script}", "release_race", "FOREIGN RELEASE", 1),
    ("deferral-text", "fixtures/adapters/broken-deferral-text.sh {script}", "two_programs", "WRONG DEFERRAL TEXT", 1),
    ("startup", "fixtures/adapters/broken-startup.sh {script}", "storm or two_programs", "exit status: 3", 1),
    ("double-acquisition", "/usr/bin/python3 -S fixtures/adapters/broken_double.py {script}", "contention_storm",
     "DOUBLE ACQUISITION", 3),
    ("unknown-holder", "/usr/bin/python3 -S fixtures/adapters/broken_unknown_holder.py {script}",
     "holder_cannot_be_read", "HELD WITHOUT HOLDER", 1),
    ("no-grace", "env LEASE_IMPLEMENTATION=neo-v2 {bin}/{script}", "holder_cannot_be_read",
     "RECLAIMED A FILE STILL BEING WRITTEN", 1),
    ("mixed-storm", "env LEASE_IMPLEMENTATION=neo-v2 {bin}/{script}", "mixed_storm", "REPLACED A LIVE WRITER'S FILE",
     3),
]
# Running a program as another user needs root.
ROOT_CASES = [
    ("eperm", "/usr/bin/python3 -S fixtures/adapters/broken_eperm.py {script}", "live_process_of_another",
     "EPERM TAKEN AS DEAD", 1),
    ("other-owner", "fixtures/adapters/broken-release.sh {script}", "unreadable_lease_file", "FOREIGN RELEASE", 1),
]


def session(arguments, report):
    """pytest.main(arguments) with this process's stdout and stderr (the file descriptors,
    so the programs it starts write there too) on the file report; its exit status."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    try:
        with open(report, "w") as out:
            os.dup2(out.fileno(), 1)
            os.dup2(out.fileno(), 2)
            try:
                return int(pytest.main(arguments))
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


def check(name, impl, keyword, want, storms, reports, say=print):
    report = os.path.join(reports, f"race-case-{name}.txt")
    arguments = [HERE, "-p", "no:cacheprovider", "-q", "--tb=line", "-x", "-k", keyword, f"--lease-impl={impl}"]
    for storm in range(1, storms + 1):
        if session(arguments, report) != 0:
            break
        if storm == storms:
            say(f"test-race-cases: FAILED: {name}: the suite passed against {impl} ({storms} time(s))")
            return False
        say(f"test-race-cases: {name}: storm {storm} of {storms} passed against {impl} "
            "(a storm finds its race by chance): again")
    with open(report, errors="replace") as text:
        lines = text.read().splitlines()
    if not any(want in line for line in lines):
        say(f"test-race-cases: FAILED: {name}: '{want}' not named")
        say("\n".join(lines[-30:]))
        return False
    say(f"test-race-cases: ok: {name}: {want}")
    return True


def main(argv):
    self_test = argv[1:2] == ["--self-test"]
    if self_test:
        argv = argv[:1] + argv[2:]
    if len(argv) != 3 or not os.path.isdir(argv[1]) or not os.path.isdir(argv[2]):
        print("usage: race_cases.py [--self-test] BIN REPORTS (two existing folders)", file=sys.stderr)
        return 64
    programs, reports = argv[1], argv[2]
    os.environ["BROKEN_ADAPTER_BIN"] = programs
    if self_test:
        print("test-race-cases: self-test: with the project's programs as the broken adapter the check must fail")
        if check("self-test", f"{programs}/{{script}}", "two_programs", "WRONG DEFERRAL TEXT", 1, reports,
                 say=lambda _line: None):
            print("test-race-cases: FAILED: the check passed a case whose adapter is correct")
            return 1
        print("test-race-cases: ok: the check fails a case the suite passes")
    cases = CASES + (ROOT_CASES if os.geteuid() == 0 else [])
    for name, impl, keyword, want, storms in cases:
        if not check(name, impl.replace("{bin}", programs), keyword, want, storms, reports):
            return 1
    if os.geteuid() != 0:
        print("test-race-cases: skipped eperm and other-owner: they need root to run a program as another user")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
