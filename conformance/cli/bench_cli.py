"""Benchmark: `lease run --owner x -- true` against util-linux `flock -n FILE true`.

Whole process each time (spawn, lock, run `true`, unlock, exit), timed with
os.posix_spawn + waitpid so the harness adds the same small cost to both.
Runs are interleaved (ABAB..., the order flipping every pair) so that drift
in machine load hits both sides alike. Prints the two medians and their ratio:

    lease_run_median_ms <x> ms
    flock_median_ms <y> ms
    lease_run_vs_flock_ratio <x/y> ratio
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

WARMUP_RUNS = 20


def time_once(argv, env):
    start = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, env)
    _, status = os.waitpid(pid, 0)
    elapsed_ns = time.perf_counter_ns() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench-cli: {' '.join(argv)} exited {os.waitstatus_to_exitcode(status)}")
    return elapsed_ns


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lease-bin", required=True)
    parser.add_argument("--runs", type=int, default=300)
    options = parser.parse_args()
    flock = shutil.which("flock")
    true = shutil.which("true")
    if flock is None or true is None:
        sys.exit("bench-cli: flock(1) (util-linux) and true(1) are needed")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO_HEAVY", "HEAVY_MAINTENANCE", "LEASE_"))}
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as directory:
        lease_argv = [os.path.abspath(options.lease_bin), "run", "--owner", "x", "--lease",
                      os.path.join(directory, "lease.json"), "--", true]
        flock_argv = [flock, "-n", os.path.join(directory, "flock.lock"), true]
        for _ in range(WARMUP_RUNS):
            time_once(lease_argv, env)
            time_once(flock_argv, env)
        lease_ns, flock_ns = [], []
        for index in range(options.runs):
            pair = [(lease_argv, lease_ns), (flock_argv, flock_ns)]
            for argv, samples in (pair if index % 2 == 0 else reversed(pair)):
                samples.append(time_once(argv, env))
    lease_ms = statistics.median(lease_ns) / 1e6
    flock_ms = statistics.median(flock_ns) / 1e6
    print(f"runs {options.runs} each, interleaved")
    print(f"lease_run_median_ms {lease_ms:.3f} ms")
    print(f"flock_median_ms {flock_ms:.3f} ms")
    print(f"lease_run_vs_flock_ratio {lease_ms / flock_ms:.3f} ratio")


if __name__ == "__main__":
    main()
