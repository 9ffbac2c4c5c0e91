"""One phase of make test-multihost's storm (multihost.sh): ROUNDS rounds; in each, the programs
start at once on each of the three hosts, inside the host's network namespace, and every one is
waited for. Prints the phase's `name value unit` lines: bodies that ran, runs that deferred, runs
that failed (closed: a nonzero exit). The programs' settings come from the environment.

This process enters each host's namespace itself (setns) and starts the host's programs from
there (vfork and exec): a shell fork and an nsenter for each of the 144 programs cost about 8 ms
of CPU more each (perf, 2026-12-07: 2.3 CPU seconds in bash and nsenter, 1.1 now with this one).

    python3 multihost_storm.py PHASE NETNS_PREFIX ROUNDS WORK_DIR BIN_DIR PROGRAM...
"""
import ctypes
import os
import subprocess
import sys

CLONE_NEWNET = 0x40000000
RUN_TIMEOUT_S = 60  # a program waits at most 700 ms per request; this only bounds a hang
LIBC = ctypes.CDLL(None, use_errno=True)


def enter(namespace):
    """Moves this process into the named network namespace (ip netns add made /run/netns/NAME)."""
    descriptor = os.open(f"/run/netns/{namespace}", os.O_RDONLY)
    try:
        if LIBC.setns(descriptor, CLONE_NEWNET) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"setns {namespace}: {os.strerror(error)}")
    finally:
        os.close(descriptor)


def storm_round(phase, prefix, round_number, work, bin_dir, programs):
    """Returns (ran, deferred, failed) of one round: every program on every host at once."""
    started = []
    for host in (1, 2, 3):
        enter(f"{prefix}-h{host}")
        for name in programs:
            out = os.path.join(work, f"{phase}.{round_number}.{host}.{name}")
            with open(out, "wb") as sink:
                child = subprocess.Popen([os.path.join(bin_dir, name)], stdin=subprocess.DEVNULL, stdout=sink,
                                         stderr=subprocess.STDOUT)
            started.append((child, out))
    ran = deferred = failed = 0
    for child, out in started:
        code = child.wait(timeout=RUN_TIMEOUT_S)
        with open(out, "rb") as text:
            said_deferred = b"Deferred" in text.read()
        if code == 0 and said_deferred:
            deferred += 1
        elif code == 0:
            ran += 1
        else:
            failed += 1
    return ran, deferred, failed


def main(argv):
    if len(argv) < 6:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 64
    phase, prefix, rounds, work, bin_dir, programs = argv[0], argv[1], int(argv[2]), argv[3], argv[4], argv[5:]
    totals = [0, 0, 0]
    for round_number in range(1, rounds + 1):
        for index, count in enumerate(storm_round(phase, prefix, round_number, work, bin_dir, programs)):
            totals[index] += count
    print(f"{phase}_bodies_ran {totals[0]} bodies")
    print(f"{phase}_deferred {totals[1]} runs")
    print(f"{phase}_failed_closed {totals[2]} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
