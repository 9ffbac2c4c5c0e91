"""The four maintenance programs as real processes, against any implementation.

Each test names the behaviour it proves; each assertion message says what was
expected and what came out, and names the broken behaviour in capitals
(FOREIGN RELEASE, OVERLAP, ...) so a report can be grepped.
"""
import json
import os
import pathlib
import re
import signal
import subprocess
import time
import uuid

import pytest

import overlap
from conftest import (FAILURE_MESSAGES, INHERITED_TOKEN_ENV, REPO, SCRIPTS, STORM_CHECK_EVERY, Result, Runner, read_lines,
                      storm_body_ms, storm_crowd, wait_until)

LEASES = REPO / "fixtures" / "leases"
SECOND_LINE = "   This script will not run while another heavy-maintenance task is active."
DEFAULT_TTL_MS = 21600000
STORM_PROCESSES = 32
# The storm ends when enough work was done (not after a wall time: a loaded
# machine once ended it with 0 deferrals); the cap only bounds a suite that
# makes no progress at all.
STORM_COMPLETIONS = 150
STORM_DEFERRALS = 150
STORM_CAP_S = 120
RECLAIMERS = 8
DEFERRAL_PREFIX = "⏸️  Deferred: heavy-maintenance lease held by '"


def deferral_lines(owner, reason, pid, acquired_at):
    return [f"⏸️  Deferred: heavy-maintenance lease held by '{owner}' (reason='{reason}', pid={pid}, "
            f"acquiredAt={acquired_at}).", SECOND_LINE]


def is_deferral(result):
    """A deferral by its structure: exit 0 and the next-to-last stdout line opens like line 1 of
    docs/spec.md section 3. The exact text is checked separately (deferral_text_problem), so a
    wrong text is reported once, as itself, and not as an overlap or a missing deferral."""
    return result.returncode == 0 and len(result.stdout_lines) >= 2 and \
        result.stdout_lines[-2].startswith(DEFERRAL_PREFIX)


def deferral_text_problem(result):
    """None when the deferral's two lines have the contract's shape, else what differs."""
    first, second = result.stdout_lines[-2:]
    shape = r"⏸️  Deferred: heavy-maintenance lease held by '.*' \(reason='.*', pid=.*, acquiredAt=.*\)\."
    if not re.fullmatch(shape, first):
        return f"WRONG DEFERRAL TEXT (line 1): {first!r}"
    if second != SECOND_LINE:
        return f"WRONG DEFERRAL TEXT (line 2): expected {SECOND_LINE!r}, got {second!r}"
    return None


def acquired_lines(script, status="acquired"):
    return [f"🔒 {script}: heavy-maintenance lease {status}; running.",
            f"✅ {script}: done; heavy-maintenance lease released."]


def other(script):
    return SCRIPTS[(SCRIPTS.index(script) + 1) % len(SCRIPTS)]


def install_lease(runner, content):
    return runner.install_lease(content)


def expect_held_untouched(runner, result, before, what):
    assert result.returncode == 0, f"held: expected exit 0, got {result.returncode}{result.describe()}"
    after = runner.lease_bytes()
    assert after == before, (f"FOREIGN RELEASE: the held path changed or removed the holder's lease file ({what});"
                             f"\n  expected (unchanged): {before!r}\n  got: {after!r}{result.describe()}")


def expect_completed(runner, result, status="acquired"):
    assert result.returncode == 0, f"expected exit 0 after the body ran, got {result.returncode}{result.describe()}"
    assert result.stdout_lines == acquired_lines(result.script, status), (
        f"wrong stdout for an {status} run:\n  expected: {acquired_lines(result.script, status)}"
        f"\n  got: {result.stdout_lines}{result.describe()}")
    assert runner.lease_bytes() is None, (
        f"LEASE NOT RELEASED: the lease file is still there after the body ended: {runner.lease_bytes()!r}"
        f"{result.describe()}")


def body_entries(runner):
    return [line for line in runner.log_lines() if line.startswith("enter ")]


# ---- acquired --------------------------------------------------------------

@pytest.mark.parametrize("script", SCRIPTS)
def test_acquired_runs_body_prints_banner_and_releases(runner, script):
    assert runner.lease_bytes() is None
    result = runner.run(script)
    expect_completed(runner, result)
    check = overlap.check("\n".join(runner.log_lines()))
    assert check.completions == 1 and not check.violations, f"expected one enter/exit pair, log: {runner.log_lines()}"


@pytest.mark.parametrize("script", SCRIPTS)
def test_lease_names_program_and_its_pid_while_body_runs(runner, script):
    holder = runner.start_holder(script, body="sleep", MAINTENANCE_GATE_FILE=runner.gate_path)
    lease = runner.lease_json()
    expected = {"owner": script, "reason": "manual-cli", "pid": holder.ready_pid}
    got = {key: (lease or {}).get(key) for key in expected}
    assert got == expected, f"lease during the body: expected {expected}, got {lease}"
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", lease["token"]), (
        f"token is not a UUID v4: {lease['token']!r}")
    assert lease.get("staleAfterMs") == DEFAULT_TTL_MS, f"expected staleAfterMs {DEFAULT_TTL_MS}, got {lease}"
    assert list(lease)[:7] == ["owner", "reason", "pid", "token", "acquiredAt", "staleAfterMs", "expiresAt"], (
        f"key order differs from docs/spec.md section 2: {list(lease)}")
    runner.gate_path.touch()
    result = holder.wait()
    expect_completed(runner, result)


@pytest.mark.parametrize("script", SCRIPTS[:1])
def test_readiness_line_arrives_through_a_fifo(runner, script):
    fifo = runner.tmp_path / "ready.fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # opened first, so the writer never blocks
    try:
        holder = runner.start(script, MAINTENANCE_BODY="hang", MAINTENANCE_READY_FILE=fifo)
        chunks = []

        def line_arrived():
            try:
                chunks.append(os.read(reader, 4096))
            except BlockingIOError:
                pass
            return b"\n" in b"".join(chunks)

        wait_until(line_arrived, "the readiness line on the FIFO")
        words = b"".join(chunks).decode().split()
        assert words[:2] == ["ready", script] and runner.lease_json()["pid"] == int(words[2]), (
            f"expected 'ready {script} <pid>' naming the lease's pid, got {words} and {runner.lease_json()}")
        holder.kill(signal.SIGTERM)
        result = holder.result()
        assert holder.process.returncode in (1, -signal.SIGTERM), f"SIGTERM ends the body{result.describe()}"
        if runner.impl.is_own:  # the project's programs treat SIGTERM as a body failure and release
            assert holder.process.returncode == 1 and runner.lease_bytes() is None, (
                f"LEASE NOT RELEASED after SIGTERM{result.describe()}")
    finally:
        os.close(reader)


# ---- held ------------------------------------------------------------------

@pytest.mark.parametrize("script", SCRIPTS)
def test_held_by_live_program_defers_names_holder_and_leaves_file_unchanged(runner, script):
    holder = runner.start_holder(other(script))
    before = runner.lease_bytes()
    lease = json.loads(before)
    result = runner.run(script)
    expect_held_untouched(runner, result, before, "held by a live program")
    expected = deferral_lines(lease["owner"], "manual-cli", holder.ready_pid, lease["acquiredAt"])
    assert result.stdout_lines[-2:] == expected, (
        f"deferral lines differ:\n  expected: {expected}\n  got: {result.stdout_lines[-2:]}{result.describe()}")
    assert len(body_entries(runner)) == 1, f"BODY RAN WHILE HELD: log {runner.log_lines()}"


@pytest.mark.parametrize("script", SCRIPTS)
def test_lease_in_original_format_is_honoured(runner, script):
    before = install_lease(runner, (LEASES / "original-active.json").read_bytes())
    result = runner.run(script)
    expect_held_untouched(runner, result, before, "lease written by the original implementation")
    expected = deferral_lines("kbSync", "manual-cli", 1, "2026-05-16T19:27:00.000Z")
    assert result.stdout_lines[-2:] == expected, (
        f"deferral lines differ:\n  expected: {expected}\n  got: {result.stdout_lines[-2:]}{result.describe()}")
    assert body_entries(runner) == [], f"BODY RAN WHILE HELD: log {runner.log_lines()}"


@pytest.mark.parametrize("script", SCRIPTS)
def test_held_message_escapes_terminal_sequences_in_owner(runner, script):
    before = install_lease(runner, (LEASES / "escaped-owner.json").read_bytes())
    result = runner.run(script)
    expect_held_untouched(runner, result, before, "owner with escape sequences")
    raw = [c for c in result.stdout if ord(c) < 0x20 and c != "\n" or ord(c) == 0x7f]
    assert not raw, f"UNESCAPED CONTROL CHARACTERS in the deferral: {raw!r}{result.describe()}"
    assert len(result.stdout_lines) >= 2 and result.stdout_lines[-1] == SECOND_LINE
    line = result.stdout_lines[-2]
    assert "evil" in line and "\\x1b" in line.lower() and "pid=1," in line, (
        f"expected the owner with ESC shown as \\x1b, got {line!r}")


@pytest.mark.parametrize("script", SCRIPTS)
def test_mismatched_inherited_token_falls_through_to_held(runner, script):
    runner.start_holder(other(script))
    before = runner.lease_bytes()
    result = runner.run(script, **{INHERITED_TOKEN_ENV: str(uuid.uuid4())})
    expect_held_untouched(runner, result, before, "mismatched inherited token")
    assert result.stdout_lines[-1:] == [SECOND_LINE], f"expected a deferral{result.describe()}"
    assert result.stderr.strip(), f"expected one warning line about the token on stderr{result.describe()}"


# ---- inherited -------------------------------------------------------------

@pytest.mark.parametrize("script", SCRIPTS)
def test_inherited_token_runs_body_without_touching_lease(runner, script):
    runner.start_holder(other(script))
    before = runner.lease_bytes()
    token = json.loads(before)["token"]
    result = runner.run(script, **{INHERITED_TOKEN_ENV: token})
    assert result.returncode == 0, f"inherited: expected exit 0{result.describe()}"
    expected = [f"🔒 {script}: heavy-maintenance lease inherited; running.",
                f"✅ {script}: done; the inherited heavy-maintenance lease stays with its holder."]
    assert result.stdout_lines == expected, f"expected {expected}{result.describe()}"
    assert runner.lease_bytes() == before, (
        f"FOREIGN RELEASE: an inherited run changed the parent's lease:\n  before {before!r}\n  after "
        f"{runner.lease_bytes()!r}")
    assert len(body_entries(runner)) == 2, f"expected the inherited body to run, log: {runner.log_lines()}"


# ---- recovery --------------------------------------------------------------

@pytest.mark.parametrize("script", SCRIPTS)
def test_stale_pid_lease_is_recovered_with_one_stderr_line(runner, script):
    install_lease(runner, (LEASES / "stale-dead-pid.json").read_bytes())
    result = runner.run(script)
    assert "acquired-after-stale" in result.stderr, f"expected acquired-after-stale on stderr{result.describe()}"
    assert len(result.stderr.splitlines()) == 1, f"expected one stderr line{result.describe()}"
    expect_completed(runner, result, "acquired-after-stale")


@pytest.mark.parametrize("content", ["truncated", "empty"])
def test_malformed_lease_is_recovered(impl, tmp_path, content):
    """The four programs, each on a lease file of its own: a file changed less than 2 s ago may
    still be being written (docs/spec.md 9.12), so each waits that grace out; together they wait
    it once, not four times."""
    data = (LEASES / "malformed.json").read_bytes() if content == "truncated" else b""
    runners = {}
    try:
        for script in SCRIPTS:
            (tmp_path / script).mkdir()
            runners[script] = Runner(impl, tmp_path / script)
            install_lease(runners[script], data)
        started = {script: runners[script].start(script) for script in SCRIPTS}
        for script, program in started.items():
            result = program.wait()
            assert "acquired-after-malformed" in result.stderr, (
                f"{script}: expected acquired-after-malformed{result.describe()}")
            expect_completed(runners[script], result, "acquired-after-malformed")
    finally:
        for each in runners.values():
            each.cleanup()


@pytest.mark.parametrize("script", SCRIPTS)
def test_holder_killed_mid_body_is_recovered_at_once(runner, script):
    holder = runner.start_holder(other(script))
    # Kill the process that wrote the readiness line (the one holding the lease),
    # then let a wrapping adapter reap it, so no zombie keeps the pid alive.
    os.kill(holder.ready_pid, signal.SIGKILL)
    holder.wait()
    assert runner.lease_bytes() is not None, (
        "FOREIGN RELEASE: the killed holder's lease did not stay behind (something removed it)")
    result = runner.run(script, timeout_s=10)
    assert "acquired-after-stale" in result.stderr, (
        f"WEDGE: a holder killed with SIGKILL was not recovered (expected acquired-after-stale){result.describe()}")
    assert result.elapsed_s < 5, f"WEDGE: recovery took {result.elapsed_s:.1f}s"
    expect_completed(runner, result, "acquired-after-stale")


@pytest.mark.parametrize("script", SCRIPTS)
def test_body_crash_leaves_lease_that_next_program_recovers(runner, script):
    crashed = runner.run(script, MAINTENANCE_BODY="crash")
    assert crashed.returncode in (-signal.SIGKILL, 128 + signal.SIGKILL), (
        f"crash: expected death by SIGKILL{crashed.describe()}")
    lease = runner.lease_json()
    assert lease and lease["owner"] == script, (
        f"FOREIGN RELEASE: expected the crashed holder's lease to remain, got {lease}")
    result = runner.run(other(script))
    assert "acquired-after-stale" in result.stderr, f"WEDGE after a crash{result.describe()}"
    expect_completed(runner, result, "acquired-after-stale")
    assert [line.split()[0] for line in runner.log_lines()] == ["enter", "crash", "enter", "exit"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_reused_pid_is_reported_and_own_implementation_recovers(runner, impl, note, script):
    unrelated = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        start_time = int(pathlib.Path(f"/proc/{unrelated.pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
        boot_id = pathlib.Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        now_ms = int(time.time() * 1000)
        stamp = lambda ms: time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"
        payload = {"owner": other(script), "reason": "manual-cli", "pid": unrelated.pid, "token": str(uuid.uuid4()),
                   "acquiredAt": stamp(now_ms), "staleAfterMs": DEFAULT_TTL_MS,
                   "expiresAt": stamp(now_ms + DEFAULT_TTL_MS),
                   "metadata": {"pidStartTime": start_time + 1000, "bootId": boot_id}}
        install_lease(runner, json.dumps(payload, indent=2))
        result = runner.run(script)
    finally:
        unrelated.kill()
        unrelated.wait()
    recovered = "acquired-after-stale" in result.stderr and result.returncode == 0
    note(f"pid reused by a live process: {'recovered (acquired-after-stale)' if recovered else 'deferred: wedged until the TTL'}")
    if impl.is_own:
        assert recovered, f"WEDGE: the project's implementation did not detect the reused pid{result.describe()}"
        expect_completed(runner, result, "acquired-after-stale")


@pytest.mark.parametrize("script", SCRIPTS[:1])
def test_live_holder_past_its_ttl_renews_and_keeps_the_lease(runner, impl, note, script):
    holder = runner.start_holder(script, body="sleep", MAINTENANCE_GATE_FILE=runner.gate_path, MAINTENANCE_TTL_MS=600)
    first = runner.lease_json()
    expires_at = time.time() + 0.9  # past the first expiresAt (600 ms after acquiring) with margin
    wait_until(lambda: time.time() >= expires_at, "the holder's first expiresAt to pass")
    result = runner.run(other(script))
    kept = result.returncode == 0 and result.stdout_lines[-1:] == [SECOND_LINE]
    note(f"live holder past its first TTL: {'kept the lease (renewed)' if kept else 'taken over'}")
    runner.gate_path.touch()
    holder_result = holder.wait()
    if impl.is_own:
        assert kept, f"TAKEOVER OF A LIVE HOLDER: expected the contender to defer{result.describe()}"
        assert runner.lease_json() is None or runner.lease_json() != first
        assert holder_result.returncode == 0, f"holder should finish normally{holder_result.describe()}"


# ---- failures --------------------------------------------------------------

@pytest.mark.parametrize("script", SCRIPTS)
def test_body_failure_exits_1_with_program_message_and_releases(runner, script):
    result = runner.run(script, MAINTENANCE_BODY="fail")
    assert result.returncode == 1, f"body failure: expected exit 1{result.describe()}"
    lines = [line for line in result.stderr.splitlines() if line.startswith(FAILURE_MESSAGES[script])]
    assert len(lines) == 1, f"expected one stderr line starting {FAILURE_MESSAGES[script]!r}{result.describe()}"
    assert runner.lease_bytes() is None, f"LEASE NOT RELEASED after a body failure: {runner.lease_bytes()!r}"


@pytest.mark.parametrize("script", SCRIPTS)
@pytest.mark.parametrize("obstacle", ["path-is-directory", "parent-is-file"])
def test_lease_error_fails_closed_naming_path(runner, script, obstacle):
    if obstacle == "path-is-directory":
        lease_path = runner.tmp_path / "lease-dir"
        lease_path.mkdir()
    else:
        (runner.tmp_path / "plain-file").write_text("x")
        lease_path = runner.tmp_path / "plain-file" / "lease.json"
    result = runner.run(script, HEAVY_MAINTENANCE_LEASE_PATH=lease_path)
    assert result.returncode == 1, f"lease error: expected exit 1 (fail closed){result.describe()}"
    named = str(lease_path) if obstacle == "path-is-directory" else str(lease_path.parent)
    assert result.stderr.startswith("❌") and named in result.stderr, (
        f"expected a ❌ line naming the path{result.describe()}")
    assert body_entries(runner) == [], f"FAIL OPEN: the body ran despite a lease error: {runner.log_lines()}"


@pytest.mark.parametrize("script", SCRIPTS)
@pytest.mark.parametrize("variable,value", [("MAINTENANCE_BODY", "explode"), ("MAINTENANCE_SLEEP_MS", "soon"),
                                            ("MAINTENANCE_TTL_MS", "0")])
def test_unknown_fake_body_value_exits_64_and_runs_nothing(runner, script, variable, value):
    result = runner.run(script, **{variable: value})
    assert result.returncode == 64, f"expected exit 64 for {variable}={value}{result.describe()}"
    assert variable in result.stderr, f"expected the error to name {variable}{result.describe()}"
    assert runner.lease_bytes() is None and body_entries(runner) == [], "expected nothing to run"


# ---- concurrency -----------------------------------------------------------

@pytest.mark.parametrize("script", SCRIPTS)
def test_two_programs_started_together_exactly_one_runs(runner, script):
    ready = runner.tmp_path / "ready-pair"
    gated = dict(MAINTENANCE_BODY="sleep", MAINTENANCE_GATE_FILE=runner.gate_path, MAINTENANCE_READY_FILE=ready)
    pair = [runner.start(script, **gated), runner.start(other(script), **gated)]
    # Done waiting when one body runs and the other program ended, or when both
    # bodies run (an overlap, reported below).
    # Both ended (e.g. an adapter that dies at start-up): reported below at once, not after a wait.
    wait_until(lambda: len(read_lines(ready)) >= 2 or (read_lines(ready) and any(p.poll() is not None for p in pair))
               or all(p.poll() is not None for p in pair),
               "one program to start its body and the other to defer")
    runner.gate_path.touch()
    results = [p.wait() for p in pair]
    deferred = [r for r in results if is_deferral(r)]
    ran = [r for r in results if not is_deferral(r)]
    assert len(ran) == 1 and len(deferred) == 1, (
        f"OVERLAP or no progress: expected exactly one body and one deferral, got {len(ran)} ran:"
        + "".join(r.describe() for r in results))
    problem = deferral_text_problem(deferred[0])
    assert problem is None, problem + deferred[0].describe()
    winner_pid = int(read_lines(ready)[0].split()[2])
    assert f"held by '{ran[0].script}'" in deferred[0].stdout and f"pid={winner_pid}," in deferred[0].stdout, (
        f"the deferral should name the holder {ran[0].script} pid {winner_pid}{deferred[0].describe()}")
    expect_completed(runner, ran[0])
    assert len(body_entries(runner)) == 1


def describe_pids(finished, pids):
    """stdout, stderr and exit status of the processes whose pids the overlap names."""
    by_pid = {result.pid: result for result in finished}
    return "".join(f"\n  process {pid}:" + (by_pid[pid].describe() if pid in by_pid else " (not a started process)")
                   for pid in pids)


def test_contention_storm_never_overlaps_bodies(runner, storm_work):
    completions, deferrals = storm_work(STORM_COMPLETIONS), storm_work(STORM_DEFERRALS)
    running, finished, launched = [], [], 0
    started_at = time.monotonic()
    looked_at = 0  # how many had finished when the log was last checked
    failure, failed_at = None, 0  # the first process that failed, and how many had ended then

    def counts():
        done = sum(1 for r in finished if r.returncode == 0 and not is_deferral(r))
        return done, sum(1 for r in finished if is_deferral(r))

    while True:
        done, deferred_count = counts()
        enough = done >= completions and deferred_count >= deferrals
        if enough and not running:
            break
        assert time.monotonic() - started_at < STORM_CAP_S, (
            f"NO PROGRESS: after {STORM_CAP_S} s only {done} completed and {deferred_count} deferred "
            f"(want {completions} and {deferrals})")
        # Once the deferrals are counted, a quarter of the crowd still contends for each release;
        # the rest would only add deferrals (each a process start) while the completions are awaited.
        crowd = STORM_PROCESSES if deferred_count < deferrals else STORM_PROCESSES // 4
        crowd = storm_crowd(crowd, max(0, completions - done) + max(0, deferrals - deferred_count))
        body_ms = storm_body_ms(done >= completions)
        while not enough and len(running) < crowd:
            running.append(runner.start(SCRIPTS[launched % len(SCRIPTS)], MAINTENANCE_SLEEP_MS=body_ms))
            launched += 1
        still = []
        for started in running:
            if started.poll() is None:
                still.append(started)
                continue
            result = started.result()
            result.pid = started.pid
            # A process that failed is reported at once, with its exit status and stderr.
            # Exit 124 (docs/spec.md 9.9): its lease was taken while it held it; with a 6 h TTL and
            # no crash nobody may take it: two holders were each told "acquired" (even if their
            # bodies did not overlap).
            assert result.returncode != 124, (
                "DOUBLE ACQUISITION: a storm process found its lease taken over while valid (exit 124):"
                + result.describe())
            finished.append(result)
            if result.returncode != 0 and failure is None:
                failure, failed_at = result, len(finished)
        running = still
        # A process that failed may be the symptom of an overlap (a holder whose lease was taken
        # finds its file gone at its release): the storm runs on for STORM_CHECK_EVERY more ended
        # processes, then the overlaps are named first.
        if failure is not None and len(finished) >= failed_at + STORM_CHECK_EVERY:
            break
        if len(finished) >= looked_at + STORM_CHECK_EVERY:
            # An overlap already logged fails the storm now: the rest of it could only repeat it.
            looked_at = len(finished)
            if overlap.check(runner.whole_log()).violations:
                break
        time.sleep(0.002)
    for started in running:  # still running when an overlap stopped the storm: they end first
        result = started.wait()
        result.pid = started.pid
        finished.append(result)
    check = overlap.check("\n".join(runner.log_lines()))
    if check.violations:
        pids = sorted({int(pid) for line in check.violations[:10] for pid in re.findall(r"pid (\d+)", line)})
        also = "" if failure is None else "\n  and a storm process failed:" + failure.describe()
        assert False, "\n".join(check.violations[:10]) + describe_pids(finished, pids) + also
    assert failure is None, "storm process failed:" + failure.describe()
    completed = [r for r in finished if not is_deferral(r)]
    deferred = [r for r in finished if is_deferral(r)]
    print(f"storm: {launched} processes, {len(completed)} completed, {len(deferred)} deferred")
    problems = {deferral_text_problem(r) for r in deferred} - {None}
    assert not problems, "\n".join(sorted(problems))
    assert len(completed) == check.completions, (
        f"completions in stdout ({len(completed)}) and in the log ({check.completions}) differ")
    assert check.open_body is None and runner.lease_bytes() is None, "a lease or a body was left behind"


# ---- races arranged on purpose (issue: name their cause) --------------------

def test_reclaimers_of_one_stale_lease_exactly_one_runs(runner):
    """Hazard 1 (two reclaimers): N programs recover one stale lease together; one body runs."""
    install_lease(runner, (LEASES / "stale-dead-pid.json").read_bytes())
    ready = runner.tmp_path / "ready-reclaimers"
    gated = dict(MAINTENANCE_BODY="sleep", MAINTENANCE_GATE_FILE=runner.gate_path, MAINTENANCE_READY_FILE=ready)
    group = [runner.start(SCRIPTS[i % len(SCRIPTS)], **gated) for i in range(RECLAIMERS)]
    # Every program either waits at the gate (its body runs) or has ended.
    wait_until(lambda: len(read_lines(ready)) + sum(p.poll() is not None for p in group) >= RECLAIMERS,
               "every reclaimer to run its body or end")
    holders = read_lines(ready)
    runner.gate_path.touch()
    results = [p.wait() for p in group]
    assert len(holders) == 1, (
        f"TWO RECLAIMERS: {len(holders)} bodies ran after recovering one stale lease: {holders}"
        + "".join(r.describe() for r in results if not is_deferral(r)))
    assert all(r.returncode == 0 for r in results), "".join(r.describe() for r in results if r.returncode)
    assert runner.lease_bytes() is None, "LEASE NOT RELEASED after the reclaimers ended"


@pytest.mark.parametrize("script", SCRIPTS[:2])
def test_release_race_outgoing_holder_leaves_successor_lease(runner, script):
    """Hazard 2: a holder whose lease expired releases while its successor holds: the
    successor's lease stays (gates order the steps: expire, take over, release)."""
    holder = runner.start_holder(script, body="sleep", MAINTENANCE_GATE_FILE=runner.gate_path)
    lease = runner.lease_json()
    lease["expiresAt"] = "2000-01-01T00:00:00.000Z"  # the holder's lease is now past its TTL
    install_lease(runner, json.dumps(lease, indent=2) + "\n")
    successor_gate = runner.tmp_path / "gate-successor"
    successor = runner.start_holder(other(script), body="sleep", MAINTENANCE_GATE_FILE=successor_gate)
    successor_lease = runner.lease_bytes()
    assert successor_lease is not None and json.loads(successor_lease)["pid"] == successor.ready_pid, (
        f"the successor should hold the expired lease: {successor_lease!r}")
    runner.gate_path.touch()  # the outgoing holder ends and releases now
    outgoing = holder.wait()
    assert runner.lease_bytes() == successor_lease, (
        f"FOREIGN RELEASE: the outgoing holder removed or changed its successor's lease"
        f"\n  expected: {successor_lease!r}\n  got: {runner.lease_bytes()!r}{outgoing.describe()}")
    successor_gate.touch()
    expect_completed(runner, successor.wait(), "acquired-after-stale")


def unprivileged(runner):
    """argv prefix running as nobody (uid 65534); skips with the reason when the suite is not root."""
    if os.geteuid() != 0:
        pytest.skip("needs root to run the program as another user (setpriv --reuid=65534)")
    for path in (runner.tmp_path, runner.lease_path.parent):
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o777)
    for parent in runner.tmp_path.parents:  # pytest's base directory is 0700: let nobody traverse it
        if parent == pathlib.Path("/"):
            break
        parent.chmod(parent.stat().st_mode | 0o001)
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def run_as_nobody(runner, script):
    argv = unprivileged(runner) + runner.impl.argv(script)
    stdout_path = runner.tmp_path / f"nobody-{script}.stdout"
    stderr_path = runner.tmp_path / f"nobody-{script}.stderr"
    with open(stdout_path, "wb") as stdout, open(stderr_path, "wb") as stderr:
        process = subprocess.run(argv, env=runner.env({}), cwd=runner.tmp_path,
                                 stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, timeout=20)
    return Result(script, argv, process.returncode, stdout_path.read_text(errors="replace"),
                  stderr_path.read_text(errors="replace"), 0.0)


@pytest.mark.parametrize("script", SCRIPTS[:1])
def test_lease_of_live_process_of_another_user_is_alive(runner, script):
    """EPERM from kill(pid, 0) means alive (docs/spec.md section 2): the program defers."""
    unprivileged(runner)
    lease = json.loads((LEASES / "stale-dead-pid.json").read_text())
    lease.update(pid=os.getpid(), acquiredAt="2026-01-01T00:00:00.000Z", expiresAt="2999-01-01T00:00:00.000Z")
    lease["metadata"] = {}
    before = install_lease(runner, json.dumps(lease, indent=2) + "\n")
    runner.lease_path.chmod(0o644)
    result = run_as_nobody(runner, script)
    assert is_deferral(result), f"EPERM TAKEN AS DEAD: a live root process's lease was not honoured{result.describe()}"
    expect_held_untouched(runner, result, before, "holder of another user")


@pytest.mark.parametrize("script", SCRIPTS[:1])
def test_unreadable_lease_file_of_another_user_fails_closed_untouched(runner, script):
    """A lease file of another user that cannot be read is never removed or replaced
    (docs/spec.md section 9.1): lease error, exit 1, body not run, file unchanged."""
    unprivileged(runner)
    lease = json.loads((LEASES / "stale-dead-pid.json").read_text())
    before = install_lease(runner, json.dumps(lease, indent=2) + "\n")
    runner.lease_path.chmod(0o600)  # root's file: nobody may not read it
    result = run_as_nobody(runner, script)
    assert runner.lease_bytes() == before, (
        f"FOREIGN RELEASE: a lease file of another user was removed or rewritten{result.describe()}")
    assert result.returncode == 1 and "❌" in result.stderr and str(runner.lease_path) in result.stderr, (
        f"expected a lease error naming the path (exit 1){result.describe()}")
    assert body_entries(runner) == [], "the body ran although the lease could not be read"


TORN = b'{\n  "owner": "sandman",\n  "rea'  # a lease file caught in the middle of its write


@pytest.mark.parametrize("script", SCRIPTS[:1])
def test_held_result_whose_holder_cannot_be_read_defers_naming_unknown(runner, script):
    """Hazard 7 (a held result with no readable holder crashed the original's scripts), arranged:
    a writer keeps the lease file torn and young (docs/spec.md section 9.12: it may still be being
    written), so the program cannot read a holder and must not reclaim the file. It defers with
    both deferral lines, the holder fields 'unknown', exit 0, body not run, the file not replaced."""
    install_lease(runner, TORN)
    inode = runner.lease_path.stat().st_ino
    program = runner.start(script)
    while program.poll() is None:  # the other writer at work: the file changes all the time
        try:
            descriptor = os.open(runner.lease_path, os.O_WRONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            break  # removed under the writer: reported below
        os.write(descriptor, TORN)
        os.close(descriptor)
        time.sleep(0.05)  # the writer's own pace, not a synchronisation
    result = program.wait()
    try:
        now_inode = runner.lease_path.stat().st_ino
    except FileNotFoundError:
        now_inode = None
    assert now_inode == inode and runner.lease_bytes() == TORN, (
        "RECLAIMED A FILE STILL BEING WRITTEN: the program replaced or removed a torn lease file that "
        f"changed moments ago (docs/spec.md section 9.12){result.describe()}")
    assert body_entries(runner) == [], f"the body ran beside a writer still writing its lease{result.describe()}"
    assert is_deferral(result), (
        f"HELD WITHOUT HOLDER mishandled: expected a deferral (exit 0, the two lines) naming an unknown holder"
        f"{result.describe()}")
    assert "held by 'unknown'" in result.stdout_lines[-2], (
        f"the deferral should name the holder 'unknown': {result.stdout_lines[-2]!r}{result.describe()}")
    problem = deferral_text_problem(result)
    assert problem is None, problem + result.describe()
