#!/usr/bin/python3
"""A storm of real processes against one lease (make storm, make test-storm).

CONCURRENCY processes at a time, drawn from the four programs and `lease run`,
race for one lease file while the storm SIGKILLs some holders and SIGSTOPs
others past the lease's TTL (then SIGCONTs them). Its length is decided by
work done (BODIES bodies entered, or LAUNCHES launches), not by wall time, so
a loaded machine makes it slower, never different; a safety deadline only
turns a hang into a failure. While the lease names a holder the storm stopped,
only two contenders run beside it until 0.8 of a TTL after the stop, then the
whole crowd races for the expiring lease (PAUSED_SHARE, below).

Every body appends `enter`/`exit` records to one log with single O_APPEND
writes, so the file order is the real order. The storm's own records keep
that order true: a victim is SIGSTOPped (its group and its command's: `lease
run` gives its command a group of its own) and seen stopped, its `killed PID`
record appended, and only then SIGKILLed, so no successor can enter (the dead
holder's lease is free at once) before the record, and the frozen victim
writes nothing after it (a record appended after the SIGKILL once let a
successor's `enter` come first on a loaded machine, and a `lease run` body
left running by a stop of its wrapper's group alone once entered after its
`killed` record: false overlaps). A `stopped PID TIME` record carries the
time taken just before the SIGSTOP, never later than the stop itself, and
`holding` when the lease file named PID once it was stopped; `continued PID`
comes before its SIGCONT.
Exclusion is judged from that order: a body that enters while another is
inside is an OVERLAP, unless one of the two was stopped past its TTL while it
held the lease and then told it had lost it (exit 124): that is a TTL takeover
the contract allows (docs/spec.md sections 6 and 9.9), counted apart. Either
the one inside was stopped in its body, or the one entering was stopped after
its acquire and before its body's first record, and its body began when it was
continued, before its keeper's next renewal found the lease taken (no lease can
stop a body that a pause outlived from starting: only a fence can, section 10).
A pause of the whole machine, which the storm records as it notices it (`stall`
records, StallWatch below), excuses the same two cases for any process.

Prints `name value unit` lines; exit 1 when the implementation under test
overlapped (or, with --expect-overlaps, when it did not: the original's models
must show the storm has teeth).
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PROGRAMS = ["sandman", "kbSync", "backup", "syncGithubWorkflow"]
LOST_EXIT = 124
# While the lease names a holder the storm stopped, every contender defers at once and is replaced
# at once: hundreds of launches that show nothing new (one storm of 1,000 launches entered 41
# bodies and saw no takeover). Until PAUSED_SHARE of a TTL after the stop, only PAUSED_CONTENDERS
# run beside the stopped ones; from then on the whole crowd races for the expiring lease.
PAUSED_SHARE = 0.8
PAUSED_CONTENDERS = 2
# The machine's own pauses: a thread of the storm sleeps STALL_TICK_S at a time and writes a
# `stall storm 0 FROM TO` record (CLOCK_MONOTONIC nanoseconds) when one of its sleeps lasted more
# than a quarter of the TTL. A virtual machine's snapshot once froze every process of a storm for
# 1.5 s (the kernel's log showed the host's page reporting at that moment): a lease acquired just
# before it expired during it, and a takeover by TTL followed (docs/spec.md section 9.9).
STALL_TICK_S = 0.01


def launch(options, rng, log, ready_dir, index):
    """Starts one process; returns (Popen, kind)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HEAVY_MAINTENANCE_LEASE_PATH": options.lease,
           "MAINTENANCE_LOG": log, "MAINTENANCE_TTL_MS": str(options.ttl_ms),
           "MAINTENANCE_BODY": "sleep", "MAINTENANCE_SLEEP_MS": str(rng.randint(0, options.body_ms_max))}
    if options.impl != "lease":
        env["LEASE_IMPLEMENTATION"] = options.impl
    if rng.random() < 0.25:
        sleep_s = rng.randint(0, options.body_ms_max) / 1000
        # $PPID is the wrapper: the body's records name the process the storm knows.
        # /proc/uptime is the boot-time clock, which matches CLOCK_MONOTONIC
        # (the programs' records) but for suspends, to 10 ms.
        body = (f'read up rest < /proc/uptime; echo "enter lease-run $PPID ${{up}}" >> {log}; '
                f'sleep {sleep_s:.3f}; echo "exit lease-run $PPID 0" >> {log}')
        argv = [options.lease_bin, "run", "--impl", options.impl, "--owner", "storm-run", "--ttl-ms",
                str(options.ttl_ms), "--", "sh", "-c", body]
        kind = "lease-run"
    else:
        kind = rng.choice(PROGRAMS)
        argv = [str(Path(options.bin) / kind)]
    process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    return process, kind


class BodyLog:
    """The body log as it grows, read from where the last look stopped: the storm looks at it every
    2 ms, and a look at the whole log grew longer as the storm went on (a 64-process storm of 600
    bodies: 0.43 ms of the storm's own CPU a launch, 0.41 now). Only whole records count (a record
    is one write, but a look may come while it is being copied)."""

    def __init__(self, path):
        self.stream = open(path, "rb")  # noqa: SIM115 (open for the storm's whole length)
        self.partial = b""
        self.entered = 0  # bodies entered: `enter` records
        self.last = b""  # the last whole record

    def look(self):
        data = self.partial + self.stream.read()
        end = data.rfind(b"\n")
        if end < 0:
            self.partial = data
            return
        records, self.partial = data[:end].split(b"\n"), data[end + 1:]
        self.entered += sum(1 for record in records if record.startswith(b"enter "))
        self.last = records[-1]

    def holder(self):
        """The pid whose body is inside now (its enter is the last record), or None."""
        words = self.last.split()
        return int(words[2]) if len(words) >= 3 and words[0] == b"enter" else None

    def close(self):
        self.stream.close()


def signal_group(pid, number):
    """Signals a launched process's group; one that already ended is fine."""
    try:
        os.killpg(pid, number)
        return True
    except ProcessLookupError:
        return False


def freeze(pid):
    """SIGSTOPs a launched process and its command: the process's group, then the groups of its
    children (`lease run` starts its command in a group of its own: stopping the wrapper's group
    alone left the body running, and a body that entered just after its wrapper's `killed` record
    was judged inside forever). Waits until each of them is stopped (a signal is taken on the way
    back from the system call in progress, which may still append a record). Returns the groups
    frozen, none when the process had ended."""
    if not signal_group(pid, signal.SIGSTOP):
        return []
    groups = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as stream:
            groups += [int(child) for child in stream.read().split()]
    except OSError:
        pass
    groups = [groups[0]] + [group for group in groups[1:] if signal_group(group, signal.SIGSTOP)]
    for group in groups:
        for _ in range(1000):  # bounded: 1 s
            try:
                with open(f"/proc/{group}/stat", encoding="ascii", errors="replace") as stream:
                    state = stream.read().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                break  # gone
            if state in ("T", "t", "Z", "X"):
                break
            time.sleep(0.001)
    return groups


def lease_holder(path):
    """The pid the lease file at path names as its holder, or None (a file being written, torn,
    missing or naming no integer pid names nobody)."""
    try:
        with open(path, encoding="utf-8") as stream:
            pid = json.load(stream).get("pid")
    except (OSError, ValueError, AttributeError):
        return None
    return pid if isinstance(pid, int) and not isinstance(pid, bool) else None


class StallWatch(threading.Thread):
    """Writes a `stall` record into the body log for each pause of the machine longer than
    min_ns (see STALL_TICK_S)."""

    def __init__(self, log, min_ns):
        super().__init__(daemon=True)
        self.log, self.min_ns, self.done = log, min_ns, threading.Event()

    def run(self):
        descriptor = os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
        try:
            before = time.monotonic_ns()
            while not self.done.wait(STALL_TICK_S):
                now = time.monotonic_ns()
                if now - before > self.min_ns:
                    os.write(descriptor, f"stall storm 0 {before} {now}\n".encode())
                before = now
        finally:
            os.close(descriptor)


def record_ns(word):
    """A record's CLOCK_MONOTONIC time: nanoseconds (programs) or seconds with
    a fraction (lease run's bodies, from /proc/uptime)."""
    return int(float(word) * 1e9) if "." in word else int(word)


def judge(log_path, lost, ttl_ms):
    """Walks the log in file order. Returns (overlaps, ttl_takeovers, examples).
    A body inside when another enters is excused only when the storm had
    stopped it long enough for its lease to expire (its last renewal was at
    most ttl/3 before the stop, so at least 2/3 of a TTL, less 20 ms of clock
    resolution, before the other entered) and it then reported the lease lost:
    a model that loses its lease to a race is not excused. The same excuses
    the one entering when it was stopped holding the lease (`holding`) before
    its body began, the one inside entered that long after the stop, and the
    one entering then reported the lease lost: its body began on waking, on a
    lease taken while it slept (the one inside entered before its `continued` record).
    A pause of the whole machine (a `stall` record, FROM to TO, long enough for a
    lease to expire: 2/3 of a TTL less the watcher's own tick) excuses the same two
    cases for any process, as a stop of every process would: the one inside entered
    before the pause began, the other entered once it had begun and within a TTL of
    its end, and the one inside reported the lease lost; or the one entering reported
    the loss, entered within a third of a TTL (its first renewal) of the pause's end,
    and the one inside entered after the pause began. Stalls are read first: the
    watcher writes its record after the pause, perhaps after the entries it explains."""
    stopped_at = {}
    stopped_holding = set()
    asleep = set()  # stopped and not yet continued
    expiry_ns = (ttl_ms * 2 // 3 - 20) * 1000000
    inside = {}  # pid -> (name, when it entered, who was asleep then)
    overlaps = ttl_takeovers = 0
    examples = []
    ended = set()

    def expired_under_stop(pid, later_ns):
        return pid in lost and pid in stopped_at and later_ns - stopped_at[pid] >= expiry_ns

    lines = Path(log_path).read_text().splitlines()
    stalls = []  # (from, to) of the machine's pauses long enough for a lease to expire
    for line in lines:
        words = line.split()
        if len(words) >= 5 and words[0] == "stall":
            start_ns, end_ns = record_ns(words[3]), record_ns(words[4])
            if end_ns - start_ns - int(STALL_TICK_S * 1e9) >= expiry_ns:
                stalls.append((start_ns, end_ns))
    ttl_ns, renew_ns = ttl_ms * 1000000, ttl_ms * 1000000 // 3 + 20 * 1000000

    def expired_under_stall(inside_pid, inside_ns, entering_pid, entering_ns):
        """Whether a pause of the machine explains entering_pid's entry while inside_pid was inside."""
        for start_ns, end_ns in stalls:
            if inside_pid in lost and inside_ns < start_ns <= entering_ns <= end_ns + ttl_ns:
                return True  # the one inside was paused in its body; the other took its expired lease
            if entering_pid in lost and start_ns <= inside_ns <= entering_ns <= end_ns + renew_ns:
                return True  # the one entering was paused after its acquire; the other took it first
        return False

    for line in lines:
        words = line.split()
        if len(words) < 3:
            continue
        event, name, pid = words[0], words[1], int(words[2])
        if event == "stopped":
            stopped_at[pid] = record_ns(words[3])
            asleep.add(pid)
            if words[4:5] == ["holding"]:
                stopped_holding.add(pid)
            else:
                stopped_holding.discard(pid)
        elif event == "continued":
            asleep.discard(pid)
        elif event == "enter":
            entered_ns = record_ns(words[3]) if len(words) > 3 else 0
            for other, (other_name, other_entered_ns, sleepers) in inside.items():
                if expired_under_stop(other, entered_ns) or (
                        pid in stopped_holding and pid in sleepers and expired_under_stop(pid, other_entered_ns)) \
                        or expired_under_stall(other, other_entered_ns, pid, entered_ns):
                    ttl_takeovers += 1
                else:
                    overlaps += 1
                    if len(examples) < 5:
                        examples.append(f"{name} {pid} entered while {other_name} {other} was inside")
            inside[pid] = (name, entered_ns, frozenset(asleep))
        elif event in ("exit", "crash", "killed"):
            inside.pop(pid, None)
            ended.add(pid)
    return overlaps, ttl_takeovers, examples


def storm(options):
    rng = random.Random(options.seed)
    work = Path(tempfile.mkdtemp(prefix="lease-storm-"))
    options.lease = options.lease or str(work / "lease" / "heavy-maintenance-lease.json")
    log = str(work / "bodies.log")
    Path(log).touch()
    running = {}   # pid -> (Popen, kind)
    stopped = {}   # pid -> (monotonic time to SIGCONT, the groups frozen, monotonic time of the stop)
    lost = set()
    counts = dict.fromkeys(["launches", "bodies", "completed", "deferrals", "recoveries", "lost", "kills",
                            "stops", "errors", "failed"], 0)
    deadline = time.monotonic() + options.deadline_s

    def reap(process, kind):
        stdout, stderr = process.communicate()
        code = process.returncode
        if "Deferred: heavy-maintenance lease held by" in stdout:
            counts["deferrals"] += 1
        elif code == LOST_EXIT:
            counts["lost"] += 1
            lost.add(process.pid)
        elif code == 0:
            counts["completed"] += 1
        elif code < 0 or code in (137, 143):
            pass  # killed by the storm
        elif code == 1 and "lease error" in stderr:
            counts["errors"] += 1
        else:
            counts["failed"] += 1
        if "recovered" in stderr:
            counts["recoveries"] += 1

    def continue_frozen(pid, groups):
        """Its `continued` record first, then SIGCONT: the record comes before anything it writes."""
        with open(log, "a", encoding="utf-8") as stream:
            stream.write(f"continued storm {pid} 0\n")
        for group in groups:
            signal_group(group, signal.SIGCONT)

    body_log = BodyLog(log)
    stall_watch = StallWatch(log, options.ttl_ms * 1000000 // 4)
    stall_watch.start()

    while time.monotonic() < deadline:
        for pid, (process, kind) in list(running.items()):
            if process.poll() is not None and pid not in stopped:
                reap(process, kind)
                del running[pid]
        now = time.monotonic()
        for pid, (wake, groups, _since) in list(stopped.items()):
            if now >= wake:
                continue_frozen(pid, groups)
                del stopped[pid]
        body_log.look()
        counts["bodies"] = body_log.entered
        if counts["bodies"] >= options.bodies or counts["launches"] >= options.launches:
            break
        faults_due = 0
        crowd = options.concurrency
        lease_pid = lease_holder(options.lease) if stopped else None
        if lease_pid in stopped and now < stopped[lease_pid][2] + PAUSED_SHARE * options.ttl_ms / 1000:
            crowd = min(crowd, len(stopped) + PAUSED_CONTENDERS)
        while len(running) < crowd and counts["launches"] < options.launches:
            process, kind = launch(options, rng, log, work, counts["launches"])
            running[process.pid] = (process, kind)
            counts["launches"] += 1
            faults_due += rng.random() < options.fault_rate
        holder = body_log.holder()
        for _ in range(faults_due):
            victims = [pid for pid in running if pid not in stopped]
            if not victims:
                break
            # Half the faults hit the process inside its body: a holder.
            victim = holder if holder in victims and rng.random() < 0.5 else rng.choice(victims)
            if rng.random() < 0.5:
                # Frozen first: while it is stopped and alive its lease stays its own (see the top).
                groups = freeze(victim)
                if not groups:
                    continue
                with open(log, "a", encoding="utf-8") as stream:
                    stream.write(f"killed storm {victim} 0\n")
                for group in groups:
                    signal_group(group, signal.SIGKILL)
                counts["kills"] += 1
            else:
                stopped_ns = time.monotonic_ns()  # before the stop: the expiry is judged from no later a time
                groups = freeze(victim)
                if not groups:
                    continue
                holding = " holding" if lease_holder(options.lease) == victim else ""
                with open(log, "a", encoding="utf-8") as stream:
                    stream.write(f"stopped storm {victim} {stopped_ns}{holding}\n")
                since = time.monotonic()
                stopped[victim] = (since + rng.uniform(0, 2.5 * options.ttl_ms / 1000), groups, since)
                counts["stops"] += 1
        time.sleep(0.002)  # pacing of the storm's own loop, not a synchronisation
    timed_out = time.monotonic() >= deadline
    for pid, (_wake, groups, _since) in stopped.items():
        continue_frozen(pid, groups)
    for pid, (process, kind) in running.items():
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            signal_group(pid, signal.SIGKILL)
        reap(process, kind)
    stall_watch.done.set()
    stall_watch.join()
    body_log.look()
    body_log.close()
    counts["bodies"] = body_log.entered
    overlaps, takeovers, examples = judge(log, lost, options.ttl_ms)
    if overlaps or timed_out:
        print(f"storm: the body log is kept: {log}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return counts, overlaps, takeovers, examples, timed_out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default="build/bin")
    parser.add_argument("--lease-bin", default="build/bin/lease")
    parser.add_argument("--impl", default="lease")
    parser.add_argument("--lease", default=None)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--bodies", type=int, default=2000)
    parser.add_argument("--launches", type=int, default=100000)
    parser.add_argument("--ttl-ms", type=int, default=1000)
    parser.add_argument("--body-ms-max", type=int, default=20)
    parser.add_argument("--fault-rate", type=float, default=0.01, help="faults per launch")
    parser.add_argument("--deadline-s", type=float, default=600)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--expect-overlaps", action="store_true")
    parser.add_argument("--judge", metavar="LOG", help="judge an existing body log instead of running a storm "
                        "(the judge's own test: make test-storm feeds it logs with known verdicts)")
    parser.add_argument("--lost", default="", help="with --judge: comma-separated pids that reported the lease lost")
    options = parser.parse_args()
    if options.judge:
        try:
            lost = {int(pid) for pid in options.lost.split(",") if pid}
            overlaps, takeovers, examples = judge(options.judge, lost, options.ttl_ms)
        except (OSError, ValueError) as error:
            print(f"storm: --judge {options.judge}: {error}", file=sys.stderr)
            return 64
        print(f"storm_judge_overlaps {overlaps} count")
        print(f"storm_judge_ttl_takeovers {takeovers} count")
        for example in examples:
            print(f"  OVERLAP: {example}")
        return 1 if overlaps else 0
    counts, overlaps, takeovers, examples, timed_out = storm(options)
    label = options.impl.replace("-", "_")
    print(f"storm: impl={options.impl} concurrency={options.concurrency} ttl={options.ttl_ms}ms seed={options.seed}")
    for name in ("launches", "bodies", "completed", "deferrals", "recoveries", "lost", "kills", "stops", "errors",
                 "failed"):
        print(f"storm_{label}_{name} {counts[name]} count")
    print(f"storm_{label}_ttl_takeovers {takeovers} count")
    print(f"storm_{label}_overlaps {overlaps} count")
    for example in examples:
        print(f"  OVERLAP: {example}")
    if timed_out:
        print(f"storm: FAILED: the safety deadline of {options.deadline_s:.0f} s passed before the work was done")
        return 1
    if options.expect_overlaps:
        print(f"storm: {options.impl}: {'has' if overlaps else 'NO'} overlaps (expected some: the storm has teeth)")
        return 0 if overlaps else 1
    if counts["bodies"] == 0 or counts["deferrals"] == 0:
        print("storm: FAILED: no bodies or no deferrals: the storm did not contend")
        return 1
    print(f"storm: {options.impl}: {overlaps} overlaps")
    return 1 if overlaps else 0


if __name__ == "__main__":
    sys.exit(main())
