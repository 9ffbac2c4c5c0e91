"""No body outlives its lease (docs/spec.md sections 9.8 and 9.4): `lease run`
keeps the lease alive while any process of the command's tree lives, ends what
is left of the tree before it releases, and reports a lease lost while the
command ran (exit 124). Real processes; every wait is on a readiness file or a
process state, with a deadline."""
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from conftest import CHILD, LEASE_BIN, TIMEOUT_S, clean_env, process_gone, read_ready, single_json, wait_for

SANDMAN = str(Path(LEASE_BIN).parent / "sandman")


def child_command(ready, *extra):
    return " ".join([*CHILD, str(ready), *map(str, extra)])


def test_a_grandchild_keeps_the_lease_after_the_wrapper_is_killed(lease, tmp_path):
    outer_ready, grand_ready, grand_go = tmp_path / "outer", tmp_path / "grand", tmp_path / "grand-go"
    script = f"{child_command(grand_ready, '--go', grand_go)} & exec {child_command(outer_ready)}"
    # No pipes: the grandchild outlives the wrapper and would hold them open.
    wrapper = subprocess.Popen([LEASE_BIN, "run", "--lease", str(lease.path), "--owner", "job", "--", "sh", "-c",
                                script], env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    command = read_ready(outer_ready)
    grandchild = read_ready(grand_ready)
    os.kill(wrapper.pid, signal.SIGKILL)
    wrapper.wait(timeout=TIMEOUT_S)
    wait_for(lambda: process_gone(command["pid"]), "the command to die with its wrapper")
    assert not process_gone(grandchild["pid"])
    # The body's grandchild still works: the next run must defer, not start a second body.
    done = lease.run("run", "--owner", "next", "--", "true")
    assert done.returncode == 0, done.stderr
    assert "Deferred: heavy-maintenance lease held by 'job'" in done.stdout
    assert lease.payload()["metadata"]["processGroup"] == command["pid"]
    grand_go.touch()
    wait_for(lambda: process_gone(grandchild["pid"]), "the grandchild to finish")
    done = lease.run("run", "--owner", "next", "--json", "--", "true")
    assert done.returncode == 0, done.stderr
    assert single_json(done.stdout)["previousStatus"] == "stale"


def test_sigterm_to_the_wrapper_ends_the_whole_tree_and_releases(lease, tmp_path, background):
    outer_ready, grand_ready, grand_log = tmp_path / "outer", tmp_path / "grand", tmp_path / "grand.log"
    script = f"{child_command(grand_ready, '--log', grand_log)} & exec {child_command(outer_ready)}"
    wrapper = background(["run", "--lease", str(lease.path), "--owner", "job", "--", "sh", "-c", script])
    command = read_ready(outer_ready)
    grandchild = read_ready(grand_ready)
    os.kill(wrapper.pid, signal.SIGTERM)
    wrapper.communicate(timeout=TIMEOUT_S)
    assert wrapper.returncode == 128 + signal.SIGTERM
    assert process_gone(command["pid"]) and process_gone(grandchild["pid"])
    assert grand_log.read_text().split() == ["SIGTERM"]
    assert not lease.path.exists()


def test_what_the_command_leaves_behind_is_ended_before_release(lease, tmp_path):
    in_group, escaped = tmp_path / "in-group", tmp_path / "escaped"
    in_log, escaped_log = tmp_path / "in-group.log", tmp_path / "escaped.log"
    # One helper stays in the command's group, one leaves it with setsid; the
    # command waits until both are ready, then exits.
    script = (f"{child_command(in_group, '--log', in_log)} & "
              f"setsid {child_command(escaped, '--log', escaped_log)} & "
              f"while [ ! -e {in_group} ] || [ ! -e {escaped} ]; do sleep 0.01; done")
    done = lease.run("run", "--owner", "job", "--", "sh", "-c", script)
    assert done.returncode == 0, done.stderr
    for ready, log in ((in_group, in_log), (escaped, escaped_log)):
        pid = json.loads(ready.read_text())["pid"]
        assert process_gone(pid), f"{ready.name} outlived the lease"
        assert log.read_text().split() == ["SIGTERM"]
    assert not lease.path.exists()


def expires_at_ms(payload):
    return datetime.fromisoformat(payload["expiresAt"].replace("Z", "+00:00")).timestamp() * 1000


def take_over_while_stopped(lease, pid):
    """Stops pid, waits until its lease expires, lets a thief take it over,
    continues pid; returns the thief's acquire result."""
    os.kill(pid, signal.SIGSTOP)
    deadline_ms = expires_at_ms(lease.payload())
    wait_for(lambda: time.time() * 1000 >= deadline_ms + 5, "the stopped holder's lease to expire")
    thief = lease.json("acquire", "--owner", "thief")[1]
    assert thief["status"] == "acquired-after-stale"
    os.kill(pid, signal.SIGCONT)
    return thief


def test_a_stopped_wrapper_that_lost_its_lease_ends_its_command_and_exits_124(lease, tmp_path, background):
    ready, log = tmp_path / "ready", tmp_path / "log"
    wrapper = background(["run", "--lease", str(lease.path), "--owner", "slow", "--ttl-ms", "600", "--json", "--",
                          *CHILD, str(ready), "--log", str(log)])
    command = read_ready(ready)
    thief = take_over_while_stopped(lease, wrapper.pid)
    stdout, stderr = wrapper.communicate(timeout=TIMEOUT_S)
    assert wrapper.returncode == 124, stderr
    assert "lost" in stderr
    obj = single_json(stdout)
    assert obj["status"] == "lost" and obj["exitCode"] == 124
    assert process_gone(command["pid"]) and log.read_text().split() == ["SIGTERM"]
    assert lease.payload()["token"] == thief["token"]  # the successor's lease untouched


def test_a_program_that_lost_its_lease_reports_it_and_exits_124(lease, tmp_path):
    ready = tmp_path / "ready"
    env = {"HEAVY_MAINTENANCE_LEASE_PATH": str(lease.path), "MAINTENANCE_TTL_MS": "600",
           "MAINTENANCE_BODY": "sleep", "MAINTENANCE_SLEEP_MS": "1500", "MAINTENANCE_READY_FILE": str(ready)}
    program = subprocess.Popen([SANDMAN], env=clean_env(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    try:
        wait_for(ready.exists, "sandman to hold the lease")
        thief = take_over_while_stopped(lease, program.pid)
        stdout, stderr = program.communicate(timeout=TIMEOUT_S)
    finally:
        if program.poll() is None:
            os.killpg(program.pid, signal.SIGKILL)
            program.communicate(timeout=TIMEOUT_S)
    assert program.returncode == 124, stderr
    assert "❌ sandman: lost the heavy-maintenance lease" in stderr
    assert "✅" not in stdout
    assert lease.payload()["token"] == thief["token"]
