#!/usr/bin/python3
"""The second oracle: checks a lease history (JSON Lines, `leasesim --history FILE`)
on its own, written apart from sim/oracle.c and sharing no code with it.

    check_history.py HISTORY.jsonl            each run's violations; exit 1 when any
    check_history.py --compare HISTORY.jsonl  each run's verdict against the simulator's
                                              own (the run's last record); exit 1 on a
                                              disagreement

What it judges (docs/spec.md sections 6 and 9.14):
  exclusion           a body enters, or a lease is renewed, while another body runs
                      under a different lease that is still valid by its expiresAt (a
                      takeover after that expiry is counted, not a violation)
  no-foreign-release  a release or renewal removes or replaces a lease file written by
                      another process
  honest-deferral     a held result names no holder, or a token that was not at the
                      lease path during the call, or one that had expired during all of it
  fence               an acquisition's fence is not greater than every earlier one's
  double-acquisition  a process is told "acquired" while another holder, told so
                      earlier and still alive and not releasing, holds a valid lease
  expiry              a new or renewed lease's expiresAt is not one TTL (the run's ttl
                      knob) after a wall clock reading during the call (the readings are
                      rounded to the clock's resolution; not judged across a clock jump)

Mixed runs (docs/spec.md 9.22): when the run header names the implementation under
test (under_test) and records name each process's impl, a violation counts only when a
process under test caused it: the taker of a race when nobody else took either lease off
the path, the remover of the victim's or the taker's file (read from the file records'
writer and actor), the process whose own result broke a rule. Violations caused by
models alone are counted (model_races), as the first oracle counts model-race.

The history's records (sim/README.md "History schema"): "run" (header), "invoke"/"ok"
of acquire, inspect, release and renew, "body-enter"/"body-exit", "file" (the lease
path changed: its inode, writer and bytes), "end" (a process ended: crash or exit),
"verdict" (the first oracle's). Every record has the run, the step, the true time t,
and (but "end") the wall clock and the clock offset.
"""
import json
import re
import sys
from datetime import datetime

INF = float("inf")
COMMON = ("exclusion", "no-foreign-release", "honest-deferral")
SECOND_ONLY = ("fence", "double-acquisition", "expiry")
# A verdict of the first oracle outside COMMON and SECOND_ONLY (bounded-wedge, which
# needs the simulator's knowledge of what an implementation can detect; progress;
# determinism; any invariant added later) is not compared.
ACQUIRED = ("acquired", "acquired-after-stale", "acquired-after-malformed")


def wall_of_text(text):
    """ISO-8601 UTC text to epoch milliseconds; INF when absent or unusable
    (an expiry nobody can read never ends)."""
    if not isinstance(text, str) or not text:
        return INF
    match = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)", text)
    if not match:
        return INF
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime.fromisoformat(f"{year}-{month}-{day}T{hour}:{minute}:{second}"
                                        + ("+00:00" if zone == "Z" else zone))
    except ValueError:
        return INF
    millis = int((fraction or "0").ljust(3, "0")[:3])
    return int(moment.timestamp()) * 1000 + millis


def field_of_bytes(data, key):
    """A string field of a lease file's bytes, also of a torn (partly written) one:
    the first `"key"` followed by blanks and colons, then a quoted value."""
    try:
        payload = json.loads(data)
        if isinstance(payload, dict):
            value = payload.get(key)
            return value if isinstance(value, str) else None
        return None
    except ValueError:
        pass
    match = re.search('"' + re.escape(key) + '"[ :\n]*"([^"]*)"', data)
    return match.group(1) if match else None


class Process:
    def __init__(self, index, label, impl=None, pid=None):
        self.index = index
        self.label = label
        self.impl = impl
        self.pid = pid
        self.first_wall = None  # wall clock at its first call (the program's start)
        self.first_step = None
        self.call = None  # the function being called, between invoke and ok
        self.call_for = None  # an acquire naming another process (acquire --pid): that process's index
        self.call_wall = None  # wall clock and clock offset at that invoke
        self.call_clock = None
        self.in_body = False
        self.body_token = None
        self.expires = INF  # what this process last learned of its lease's expiry
        self.lost = False  # its lease was seen expired and taken over: gone for good
        self.holding = None  # token it was told it acquired, until it releases or ends
        self.hold_expires = INF
        self.alive = True


class Run:
    """One run: its records in step order, judged one by one."""

    def __init__(self, header):
        self.header = header
        self.processes = {}
        self.versions = []  # the lease path's versions: step, wall, inode, writer, token, expires
        self.inode_writer = {}
        self.inode_for = {}  # inode -> the process its writer acquired it for (acquire --pid)
        self.findings = []
        self.max_fence = None
        self.first_clock = header.get("clock", 0)
        knobs = header.get("knobs", "")
        ttl = re.search(r"\bttl=(\d+)ms", knobs)
        resolution = re.search(r"\bwall-resolution=(\d+)ms", knobs)
        self.ttl_ms = int(ttl.group(1)) if ttl else None
        self.resolution_ms = int(resolution.group(1)) if resolution else 1
        self.clock_jumped = False
        self.verdict = None
        self.under_test = header.get("under_test")
        self.model_races = 0

    def process(self, record):
        index = record.get("proc")
        if index is None:
            return None
        if index not in self.processes:
            self.processes[index] = Process(index, record.get("label", str(index)), record.get("impl"),
                                            record.get("pid"))
        return self.processes[index]

    def find(self, invariant, record, text, culprits=None):
        """A finding, unless (in a mixed run) no culprit runs the implementation
        under test: then a counted model race. Returns whether it was a finding."""
        if culprits is not None and self.mixed() and all(c.impl != self.under_test for c in culprits):
            self.model_races += 1
            return False
        self.findings.append((invariant, record.get("step"), text))
        return True

    # -- attribution (mixed runs) ----------------------------------------------
    def mixed(self):
        return self.under_test is not None and any(
            process.impl not in (None, self.under_test) for process in self.processes.values())

    def remover_of(self, process, token):
        """Who took the last version of the lease path that was process's (it wrote
        it, or it carried token) off the path, when another did; else None."""
        for position in range(len(self.versions) - 1, -1, -1):
            version = self.versions[position]
            mine = (version["inode"] >= 0 and version["writer"] == process.index) or \
                (bool(token) and version["token"] == token)
            if not mine:
                continue
            if position + 1 >= len(self.versions):
                return None
            actor = self.remover_at(position + 1)
            return self.processes.get(actor) if actor is not None and actor != process.index else None
        return None

    def remover_at(self, position):
        """Who made the change at versions[position] (None: nobody yet). An exchange only
        displaces the version before it (docs/spec.md 9.26): while the displacing process
        is still in its call, that version is not gone; when it never came back, whoever
        took the displacing version off the path kept it out, else the displacing process."""
        version = self.versions[position]
        actor = version["actor"]
        if not version["displaced"]:
            return actor
        if position + 1 < len(self.versions) and self.versions[position + 1]["actor"] is not None:
            return self.versions[position + 1]["actor"]
        process = self.processes.get(actor)
        pending = process is not None and process.alive and process.call in ("acquire", "renew")
        return None if pending else actor

    def race_culprits(self, taker, taker_token, victim, victim_token):
        removed_victim = self.remover_of(victim, victim_token)
        removed_taker = self.remover_of(taker, taker_token)
        by_another = (removed_victim is not None and removed_victim is not taker) or removed_taker is not None
        culprits = [taker] if not by_another or removed_victim is taker else []
        return culprits + [p for p in (removed_victim, removed_taker) if p is not None and p is not taker]

    def orphan_culprits(self, me, lease):
        """A held result naming a token never at the path: its holder's (by pid) file
        taken off the path by another process blames that remover."""
        pid = lease.get("pid")
        holders = [p for p in self.processes.values() if p.pid == pid and p.alive and p is not me]
        remover = self.remover_of(holders[-1], None) if holders and pid is not None else None
        return [remover] if remover is not None else [me]

    # -- exclusion -------------------------------------------------------------
    def others_valid(self, me, wall, what, record):
        for other in self.processes.values():
            if other is me or not other.in_body or other.lost or other.body_token == me.body_token:
                continue
            start = me.first_wall if me.first_wall is not None else -INF
            if wall >= other.expires or start >= other.expires:
                other.lost = True  # taken over after its expiry: allowed, counted
                continue
            if self.find("exclusion", record, f"{me.label} {what} while {other.label} runs its body under a "
                         f"valid lease (expires in {other.expires - wall} ms)",
                         self.race_culprits(me, me.body_token, other, other.body_token)):
                return

    def body_enter(self, me, record):
        me.in_body = True
        me.lost = False
        me.body_token = record.get("token")
        me.expires = wall_of_text(record.get("expiresAt"))
        self.others_valid(me, record["wall"], "entered its body", record)

    # -- the lease path ----------------------------------------------------------
    def file(self, actor, record):
        inode = record.get("inode", -1)
        data = record.get("data")
        token = field_of_bytes(data, "token") if inode >= 0 and data is not None else None
        expires = wall_of_text(field_of_bytes(data, "expiresAt")) if inode >= 0 and data is not None else INF
        removed = record.get("removed")
        if removed is not None and actor is not None and actor.call in ("release", "renew"):
            writer = self.inode_writer.get(removed)
            # the lease of a process that an acquire named is its own to remove
            if writer != actor.index and self.inode_for.get(removed) != actor.index:
                name = self.processes[writer].label if writer in self.processes else f"process {writer}"
                self.find("no-foreign-release", record, f"{actor.label} removed, while "
                          f"{'releasing' if actor.call == 'release' else 'renewing'}, the lease written by {name}",
                          [actor])
        if inode >= 0:
            self.inode_writer[inode] = record.get("writer")
            named = actor.call_for if actor is not None and actor.call == "acquire" else None
            self.inode_for[inode] = named if named is not None else self.inode_for.get(inode)
        version = dict(step=record["step"], wall=record["wall"], inode=inode, token=token or "",
                       expires=expires if inode >= 0 else INF, writer=record.get("writer") if inode >= 0 else None,
                       actor=actor.index if actor is not None else None, displaced=bool(record.get("displaced")))
        if self.versions:
            last = self.versions[-1]
            if (last["inode"], last["token"], last["expires"]) == (inode, version["token"], version["expires"]):
                return
        # A body whose lease file is replaced after its expiry has lost it for good.
        start = actor.first_wall if actor is not None and actor.first_wall is not None else -INF
        for holder in self.processes.values():
            if holder.in_body and not holder.lost and holder.body_token != version["token"]:
                if version["wall"] >= holder.expires or start >= holder.expires:
                    holder.lost = True
        self.versions.append(version)

    # -- results -------------------------------------------------------------------
    def held(self, me, record):
        lease = record.get("lease")
        if not isinstance(lease, dict):
            self.find("honest-deferral", record, f"{me.label} got held without a holder (lease: null)", [me])
            return
        token = lease.get("token", "")
        first_step, call_wall = me.first_step, me.first_wall
        found, valid = False, False
        for position, version in enumerate(self.versions):
            end = self.versions[position + 1]["step"] if position + 1 < len(self.versions) else INF
            if end < first_step or version["token"] != token:
                continue
            found = True
            earliest = version["wall"] if version["step"] >= first_step else call_wall
            if earliest < version["expires"] or call_wall < version["expires"]:
                valid = True
        if not found:
            self.find("honest-deferral", record, f"{me.label} got held naming token {token[:40]}, which was not at "
                      "the lease path during the call", self.orphan_culprits(me, lease))
        elif not valid and not self.clock_jumped:
            self.find("honest-deferral", record, f"{me.label} got held naming {lease.get('owner')}'s lease, which "
                      "had expired by its TTL during the whole call", [me])

    def acquired(self, me, record):
        lease = record.get("lease") or {}
        token, expires, wall = lease.get("token"), wall_of_text(lease.get("expiresAt")), record["wall"]
        fence = lease.get("fence")
        if isinstance(fence, int):
            if self.max_fence is not None and fence <= self.max_fence:
                self.find("fence", record, f"{me.label} acquired with fence {fence}, not greater than the earlier "
                          f"{self.max_fence}", [me])
            self.max_fence = fence if self.max_fence is None else max(self.max_fence, fence)
        start = me.first_wall if me.first_wall is not None else wall
        for other in self.processes.values():
            if other is me or other.holding is None or other.holding == token or not other.alive or other.lost:
                continue
            if wall < other.hold_expires and start < other.hold_expires:
                if self.find("double-acquisition", record, f"{me.label} was told {record['status']} while "
                             f"{other.label}'s lease was valid (expires in {other.hold_expires - wall} ms)",
                             self.race_culprits(me, token, other, other.holding)):
                    break
        me.holding, me.hold_expires = token, expires
        if me.call_for is not None:
            # acquire --pid: the lease is the named process's from now on, as if
            # it had made the call; the caller (a launcher, which exits) holds nothing
            named = self.processes[me.call_for]
            named.holding, named.hold_expires, me.holding = token, expires, None
            if named.first_wall is None:
                named.first_wall, named.first_step = me.first_wall, me.first_step

    def expiry_sane(self, me, record, lease):
        """expiresAt = the writer's wall clock during the call + TTL, within the resolution."""
        if self.ttl_ms is None or me.call_wall is None or record.get("clock") != me.call_clock:
            return
        expires = wall_of_text(lease.get("expiresAt"))
        # The recorded wall clock is the one the implementation reads (rounded to the resolution).
        low = me.call_wall + self.ttl_ms
        high = record["wall"] + self.ttl_ms
        if not low <= expires <= high:
            self.find("expiry", record, f"{me.label} was told {record['status']} with expiresAt {lease.get('expiresAt')}, "
                      f"{expires - record['wall'] if expires != INF else 'never'} ms after the wall clock at the end "
                      f"of the call (TTL {self.ttl_ms} ms, resolution {self.resolution_ms} ms)", [me])

    def ok(self, me, record):
        function, status = record.get("f"), record.get("status")
        me.call = None
        lease = record.get("lease")
        if isinstance(lease, dict) and (function, status) in (("acquire", "acquired"),
                                                               ("acquire", "acquired-after-stale"),
                                                               ("acquire", "acquired-after-malformed"),
                                                               ("renew", "renewed")):
            self.expiry_sane(me, record, lease)
        if function == "acquire" and status == "held":
            self.held(me, record)
        elif function == "acquire" and status in ACQUIRED:
            self.acquired(me, record)
        elif function == "renew" and status == "renewed" and isinstance(lease, dict):
            me.expires = me.hold_expires = wall_of_text(lease.get("expiresAt"))
            # the renewal extends every body under that token: the children that inherited it too
            for other in self.processes.values():
                if other is not me and other.in_body and other.body_token == lease.get("token"):
                    other.expires = me.expires
            if me.in_body:
                self.others_valid(me, record["wall"], "renewed its lease", record)

    def feed(self, record):
        kind = record.get("type")
        if kind == "verdict":
            self.verdict = record.get("violation")
            return
        if "clock" in record and record["clock"] != self.first_clock:
            self.clock_jumped = True
        me = self.process(record)
        if kind == "invoke":
            if me.first_wall is None:
                me.first_wall, me.first_step = record["wall"], record["step"]
            me.call = record.get("f")
            me.call_wall, me.call_clock = record["wall"], record.get("clock")
            named = record.get("for")
            me.call_for = named.get("proc") if isinstance(named, dict) else None
            if me.call_for is not None and me.call_for not in self.processes:
                self.processes[me.call_for] = Process(me.call_for, named.get("label", str(me.call_for)))
            if me.call == "release":
                me.holding = None
        elif kind == "ok":
            self.ok(me, record)
        elif kind == "body-enter":
            self.body_enter(me, record)
        elif kind == "body-exit":
            me.in_body = False
        elif kind == "end":
            me.in_body, me.alive, me.holding = False, False, None
        elif kind == "file":
            self.file(me, record)

    def judge(self, records):
        # The processes' ends were written last, at the step they happened.
        for record in sorted(records, key=lambda item: item.get("step", 0)):
            self.feed(record)
        return self


def records_of(path):
    """(line number, record) for each non-empty line of the JSON-lines file. The lines are decoded
    in one call (as one JSON array: a fifth of the time of one call a line); a file that does not
    decode so is decoded line by line, to name its first bad line."""
    with open(path, encoding="utf-8") as source:
        numbered = [(number, line.strip()) for number, line in enumerate(source, 1)]
    numbered = [(number, line) for number, line in numbered if line]
    try:
        records = json.loads("[" + ",".join(line for _number, line in numbered) + "]")
        if len(records) == len(numbered):
            return [(number, record) for (number, _line), record in zip(numbered, records)]
    except ValueError:
        pass
    decoded = []
    for number, line in numbered:
        try:
            decoded.append((number, json.loads(line)))
        except ValueError as error:
            raise SystemExit(f"check_history.py: {path}:{number}: not JSON: {error}")
    return decoded


def read_runs(path):
    """[(header, [records])] in file order; a run's records keep their order."""
    runs, current = [], None
    for number, record in records_of(path):
        if not isinstance(record, dict):
            raise SystemExit(f"check_history.py: {path}:{number}: not a JSON object")
        if record.get("type") == "run":
            current = (record, [])
            runs.append(current)
        elif current is None:
            raise SystemExit(f"check_history.py: {path}:{number}: a record before the first run header")
        else:
            current[1].append(record)
    return runs


def describe(header):
    return f"run {header.get('run')} impl={header.get('impl')} seed={header.get('seed')}"


def compare(run, first_knows=()):
    """'agree', 'skip' or 'disagree', and why. first_knows: the second-only
    invariants the first oracle checks too (then a miss of either side disagrees)."""
    found = {invariant for invariant, _, _ in run.findings}
    first = run.verdict
    if first is None:
        return "disagree", "the history has no verdict of the first oracle (cut short?)"
    judged = set(COMMON) | (set(first_knows) & set(SECOND_ONLY))
    if first != "none" and first not in judged | set(SECOND_ONLY):
        return "skip", f"first oracle: {first} (not judged by the second)"
    judged |= {first} - {"none"}
    if first == "none":
        extra = found & judged
        if not extra:
            return "agree", "none"
        return "disagree", f"first oracle: none; second: {', '.join(sorted(extra))}"
    if first not in found:
        return "disagree", f"first oracle: {first}; second: {', '.join(sorted(found)) or 'none'}"
    return "agree", first


def main(argv):
    arguments = [argument for argument in argv[1:] if not argument.startswith("--")]
    flags = {argument for argument in argv[1:] if argument.startswith("--")}
    if len(arguments) != 1 or not flags <= {"--compare", "--quiet"}:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 64
    runs = [Run(header).judge(records) for header, records in read_runs(arguments[0])]
    if "--compare" not in flags:
        violations = 0
        for run in runs:
            for invariant, step, text in run.findings:
                violations += 1
                print(f"{describe(run.header)}: VIOLATION {invariant} at step {step}: {text}")
        print(f"check_history: {len(runs)} run(s), {violations} violation(s)")
        return 1 if violations else 0
    tally = {"agree": 0, "skip": 0, "disagree": 0}
    second_only = {}
    for run in runs:
        verdict, why = compare(run)
        tally[verdict] += 1
        for invariant, _, _ in run.findings:
            if invariant in SECOND_ONLY and run.verdict != invariant:
                second_only[invariant] = second_only.get(invariant, 0) + 1
        if verdict == "disagree" or ("--quiet" not in flags and verdict == "skip"):
            print(f"{describe(run.header)}: {verdict.upper()}: {why}")
            for invariant, step, text in run.findings[:3]:
                print(f"    second oracle: {invariant} at step {step}: {text}")
    extra = "".join(f", {name} found by the second only in {count} run(s)" for name, count in sorted(second_only.items()))
    print(f"check_history: {len(runs)} run(s): {tally['agree']} agree, {tally['disagree']} disagree, "
          f"{tally['skip']} not compared{extra}")
    return 1 if tally["disagree"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
