"""Integration tests of the `lease` wrapper (docs/spec.md section 8, docs/lease-cli.md).

Real processes; synchronisation on readiness lines written by lease_child.py;
every wait has a deadline."""
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import (CHILD, LEASE_BIN, PATH_ENV, TIMEOUT_S, TOKEN_ENV, clean_env, process_gone, read_ready,
                      single_json, wait_for)

DEFERRAL_FIRST = "\u23f8\ufe0f  Deferred: heavy-maintenance lease held by '{owner}' (reason='{reason}', pid={pid}, acquiredAt={acquiredAt})."
DEFERRAL_SECOND = "   This script will not run while another heavy-maintenance task is active."

# ---- help, version, usage errors ------------------------------------------------


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"], ["acquire", "--help"], ["release", "--help"],
                                  ["renew", "--help"], ["inspect", "--help"], ["run", "--owner", "x", "--help"]])
def test_help_prints_usage_and_exits_0(lease, argv):
    done = lease.run(*argv, lease=False)
    assert done.returncode == 0
    assert done.stdout.startswith("usage: lease")
    assert done.stderr == ""


def test_version_prints_version_and_exits_0(lease):
    done = lease.run("--version", lease=False)
    assert done.returncode == 0
    assert done.stdout.startswith("lease ")
    done = lease.run("--version", "--json", lease=False)
    assert single_json(done.stdout)["status"] == "version"


USAGE_ERRORS = {
    "no_command": [],
    "unknown_command": ["frobnicate"],
    "unknown_option": ["acquire", "--owner", "x", "--frob"],
    "option_of_another_command": ["inspect", "--owner", "x"],
    "ttl_zero": ["acquire", "--owner", "x", "--ttl-ms", "0"],
    "ttl_negative": ["acquire", "--owner", "x", "--ttl-ms", "-5"],
    "ttl_not_numeric": ["acquire", "--owner", "x", "--ttl-ms", "5s"],
    "ttl_overflow": ["acquire", "--owner", "x", "--ttl-ms", "99999999999999999999999"],
    "owner_empty": ["acquire", "--owner", ""],
    "owner_control_character": ["acquire", "--owner", "a\x1b[2Jb"],
    "owner_missing": ["acquire"],
    "owner_without_value": ["acquire", "--owner"],
    "owner_twice": ["acquire", "--owner", "a", "--owner", "b"],
    "run_without_separator": ["run", "--owner", "x", "true"],
    "run_without_command": ["run", "--owner", "x", "--"],
    "release_without_token": ["release"],
    "renew_without_token": ["renew"],
    "held_exit_out_of_range": ["run", "--owner", "x", "--held-exit", "256", "--", "true"],
    "json_with_value": ["inspect", "--json=yes"],
    "unknown_implementation": ["inspect", "--impl", "no-such-impl"],
}


@pytest.mark.parametrize("argv", list(USAGE_ERRORS.values()), ids=list(USAGE_ERRORS))
def test_usage_error_exits_64_with_one_stderr_line(lease, argv):
    done = lease.run(*argv)
    assert done.returncode == 64, done
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("lease: "), done.stderr
    assert not lease.path.exists()


@pytest.mark.parametrize("argv", [["inspect", "\x01\njson"], ["acquire", "--owner", "x", "--\x1b[2J"],
                                  ["\x1b]0;title\x07"]])
def test_usage_error_escapes_control_bytes_in_one_line(lease, argv):
    done = lease.run(*argv)
    assert done.returncode == 64
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("lease: ")
    assert not any(ord(c) < 0x20 for c in done.stderr[:-1])


@pytest.mark.parametrize("argv", [USAGE_ERRORS["ttl_zero"], USAGE_ERRORS["unknown_implementation"],
                                  USAGE_ERRORS["run_without_command"]])
def test_usage_error_in_json_mode_prints_one_error_object(lease, argv):
    if "--" in argv:
        argv = argv[:-1] + ["--json", "--"]
    else:
        argv = argv + ["--json"]
    done = lease.run(*argv)
    assert done.returncode == 64
    assert len(done.stdout.splitlines()) == 1
    obj = single_json(done.stdout)
    assert obj["status"] == "error" and obj["message"]
    assert done.stderr.startswith("lease: ")


def test_unknown_implementation_from_environment_is_a_usage_error(lease):
    done = lease.run("inspect", env={"LEASE_IMPLEMENTATION": "bogus"})
    assert done.returncode == 64
    assert "bogus" in done.stderr


# ---- acquire / release / renew / inspect ------------------------------------------


def test_acquire_prints_token_and_writes_the_lease(lease):
    done = lease.run("acquire", "--owner", "cron-job", "--reason", "nightly")
    assert done.returncode == 0, done.stderr
    words = done.stdout.split()
    assert words[0] == "acquired"
    token = dict(w.split("=", 1) for w in words[1:])["token"]
    payload = lease.payload()
    assert payload["token"] == token
    assert payload["owner"] == "cron-job" and payload["reason"] == "nightly"
    # The lease names the caller (this test process), which stays alive.
    assert payload["pid"] == os.getpid()


def test_acquire_pid_names_the_given_process_and_dies_with_it(lease):
    holder = subprocess.Popen(["cat"], stdin=subprocess.PIPE)
    try:
        done = lease.run("acquire", "--owner", "cron-job", "--pid", str(holder.pid))
        assert done.returncode == 0, done.stderr
        assert lease.payload()["pid"] == holder.pid
        assert lease.run("acquire", "--owner", "other").returncode == 75
    finally:
        holder.stdin.close()
        holder.wait(timeout=TIMEOUT_S)
    done, obj = lease.json("acquire", "--owner", "other")
    assert done.returncode == 0 and obj["status"] == "acquired-after-stale"


@pytest.mark.parametrize("value", ["0", "-1", "x", "4294967296"])
def test_acquire_pid_must_be_a_process_id(lease, value):
    done = lease.run("acquire", "--owner", "cron-job", "--pid", value)
    assert done.returncode == 64
    assert "--pid" in done.stderr and not lease.path.exists()


def test_acquire_json_has_status_token_and_the_stored_lease(lease):
    done, obj = lease.json("acquire", "--owner", "cron-job")
    assert done.returncode == 0
    assert obj["status"] == "acquired"
    assert obj["previousStatus"] == "missing"
    assert obj["lease"] == lease.payload()
    assert obj["token"] == lease.payload()["token"]


def test_acquire_when_held_exits_75_and_names_the_holder(lease):
    lease.acquire("first")
    before = lease.path.read_bytes()
    done = lease.run("acquire", "--owner", "second")
    assert done.returncode == 75
    assert done.stdout.startswith("held by 'first' ")
    assert lease.path.read_bytes() == before
    done, obj = lease.json("acquire", "--owner", "second")
    assert done.returncode == 75
    assert obj["status"] == "held" and obj["previousStatus"] == "active"
    assert obj["lease"]["owner"] == "first"


def test_release_with_the_token_exits_0_and_removes_the_lease(lease):
    token = lease.acquire()
    done, obj = lease.json("release", "--token", token)
    assert done.returncode == 0
    assert obj["status"] == "released"
    assert not lease.path.exists()


def test_release_with_another_token_exits_1_and_keeps_the_lease(lease):
    lease.acquire()
    before = lease.path.read_bytes()
    done, obj = lease.json("release", "--token", "not-the-token")
    assert done.returncode == 1
    assert obj["status"] == "not-owner"
    assert obj["lease"]["owner"] == "holder"
    assert lease.path.read_bytes() == before
    done = lease.run("release", "--token", "not-the-token")
    assert done.returncode == 1 and done.stdout.startswith("not-owner ")


def test_release_of_a_missing_lease_exits_1(lease):
    done, obj = lease.json("release", "--token", "whatever")
    assert done.returncode == 1
    assert obj["status"] == "missing"


def test_renew_with_the_token_moves_expires_at_forward(lease):
    token = lease.acquire("holder", "--ttl-ms", "60000")
    before = lease.payload()["expiresAt"]
    done, obj = lease.json("renew", "--token", token, "--ttl-ms", "120000")
    assert done.returncode == 0, done.stderr
    assert obj["status"] == "renewed"
    assert lease.payload()["expiresAt"] > before
    assert lease.payload()["token"] == token


def test_renew_with_another_token_exits_1(lease):
    lease.acquire()
    before = lease.path.read_bytes()
    done, obj = lease.json("renew", "--token", "nope")
    assert done.returncode == 1 and obj["status"] == "not-owner"
    assert lease.path.read_bytes() == before
    lease.path.unlink()
    done, obj = lease.json("renew", "--token", "nope")
    assert done.returncode == 1 and obj["status"] == "missing"


def test_inspect_missing_and_active(lease):
    done = lease.run("inspect")
    assert done.returncode == 1  # missing: `if lease inspect` is false
    assert done.stdout.splitlines()[0] == "status: missing"
    token = lease.acquire("holder")
    done = lease.run("inspect")
    assert done.returncode == 0
    fields = dict(line.split(": ", 1) for line in done.stdout.splitlines())
    assert fields["status"] == "active"
    assert fields["owner"] == "holder" and fields["token"] == token
    done, obj = lease.json("inspect")
    assert done.returncode == 0
    assert obj["status"] == "active" and obj["lease"] == lease.payload()
    assert obj["exitCode"] == 0


@pytest.mark.parametrize("content,status,code", [('{"owner": "x", "pid": 2147483646, "acquiredAt": '
                                                  '"2026-01-01T00:00:00Z", "staleAfterMs": 1}', "stale", 2),
                                                 ("{not json", "malformed", 3)])
def test_inspect_exits_by_class(lease, content, status, code):
    lease.path.parent.mkdir(parents=True)
    lease.path.write_text(content)
    done, obj = lease.json("inspect")
    assert (done.returncode, obj["status"], obj["exitCode"]) == (code, status, code)
    lease.path.unlink()
    lease.path.mkdir()  # a directory at the path: unreadable
    done, obj = lease.json("inspect")
    assert (done.returncode, obj["status"]) == (125, "unreadable")


def test_inspect_escapes_terminal_bytes_of_a_foreign_lease(lease):
    lease.path.parent.mkdir(parents=True)
    lease.path.write_text(json.dumps({"owner": "evil\u001b[2J", "pid": os.getpid(),
                                      "acquiredAt": "2099-01-01T00:00:00Z"}))
    done = lease.run("inspect")
    assert "\x1b" not in done.stdout
    assert "owner: evil\\x1b[2J" in done.stdout


def test_implementation_is_selectable_by_flag_and_environment(lease):
    done, obj = lease.json("acquire", "--owner", "o", "--impl", "neo-v1")
    assert done.returncode == 0 and obj["implementation"] == "neo-v1"
    done, obj = lease.json("release", "--token", obj["token"], env={"LEASE_IMPLEMENTATION": "neo-v2"})
    assert done.returncode == 0 and obj["implementation"] == "neo-v2" and obj["status"] == "released"


def test_lease_flag_overrides_the_environment_path(lease, tmp_path):
    env_path = tmp_path / "from-env.json"
    done = lease.run("acquire", "--owner", "o", lease=False, env={PATH_ENV: str(env_path)})
    assert done.returncode == 0 and env_path.exists()
    done = lease.run("acquire", "--owner", "o", env={PATH_ENV: str(env_path)})
    assert done.returncode == 0 and lease.path.exists()


def test_lease_path_that_is_a_directory_exits_125_naming_the_path(lease, tmp_path):
    directory = tmp_path / "a-directory"
    directory.mkdir()
    for argv in (["acquire", "--owner", "o"], ["run", "--owner", "o", "--", "true"]):
        done = subprocess.run([LEASE_BIN, argv[0], "--lease", str(directory), *argv[1:]], env=clean_env(),
                              capture_output=True, text=True, timeout=TIMEOUT_S)
        assert done.returncode == 125, done
        assert str(directory) in done.stderr
        assert len(done.stderr.splitlines()) == 1
    done = subprocess.run([LEASE_BIN, "acquire", "--lease", str(directory), "--owner", "o", "--json"],
                          env=clean_env(), capture_output=True, text=True, timeout=TIMEOUT_S)
    obj = single_json(done.stdout)
    assert done.returncode == 125 and obj["status"] == "error" and str(directory) in obj["message"]


# ---- run --------------------------------------------------------------------------


@pytest.mark.parametrize("status", [0, 3, 42])
def test_run_exits_with_the_commands_status_and_releases(lease, status):
    done = lease.run("run", "--owner", "job", "--", "sh", "-c", f"exit {status}")
    assert done.returncode == status
    assert not lease.path.exists()


def test_run_gives_the_command_its_token_while_the_lease_names_the_wrapper(lease, tmp_path):
    seen = tmp_path / "seen"
    script = f'printf "%s\\n" "${TOKEN_ENV}" > {seen}; cat {lease.path} >> {seen}'
    done = lease.run("run", "--owner", "job", "--", "sh", "-c", script)
    assert done.returncode == 0, done.stderr
    token_line, payload_text = seen.read_text().split("\n", 1)
    payload = json.loads(payload_text)
    assert token_line == payload["token"]
    assert payload["owner"] == "job"
    assert not lease.path.exists()


def test_run_json_prints_one_object_with_status_and_lease(lease):
    done = lease.run("run", "--owner", "job", "--json", "--", "true")
    assert done.returncode == 0
    assert len(done.stdout.splitlines()) == 1
    obj = single_json(done.stdout)
    assert obj["status"] == "completed" and obj["exitCode"] == 0
    assert obj["previousStatus"] == "missing" and obj["lease"]["owner"] == "job"


def test_run_when_held_prints_the_deferral_lines_and_does_not_run(lease, tmp_path):
    lease.acquire("sandman", "--reason", "manual-cli")
    before = lease.path.read_bytes()
    payload = lease.payload()
    marker = tmp_path / "ran"
    done = lease.run("run", "--owner", "kbSync", "--", "touch", str(marker))
    assert done.returncode == 0
    assert done.stdout.splitlines()[-2:] == [DEFERRAL_FIRST.format(**payload), DEFERRAL_SECOND]
    assert not marker.exists()
    assert lease.path.read_bytes() == before


def test_run_when_held_exits_with_held_exit(lease):
    lease.acquire()
    done = lease.run("run", "--owner", "x", "--held-exit", "9", "--", "true")
    assert done.returncode == 9
    done = lease.run("run", "--owner", "x", "--held-exit", "9", "--json", "--", "true")
    obj = single_json(done.stdout)
    assert done.returncode == 9 and obj["status"] == "held" and obj["lease"]["owner"] == "holder"
    assert obj["previousStatus"] == "active"


def test_run_of_a_missing_command_exits_127_and_releases(lease):
    done = lease.run("run", "--owner", "x", "--", "/nonexistent/command")
    assert done.returncode == 127
    assert "/nonexistent/command" in done.stderr
    assert not lease.path.exists()


def test_run_of_a_non_executable_file_exits_126_and_releases(lease, tmp_path):
    script = tmp_path / "not-executable"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o644)
    done = lease.run("run", "--owner", "x", "--", str(script))
    assert done.returncode == 126
    assert not lease.path.exists()


def test_run_of_a_command_killed_by_a_signal_exits_128_plus_n(lease):
    done = lease.run("run", "--owner", "x", "--", "sh", "-c", "kill -USR1 $$")
    assert done.returncode == 128 + signal.SIGUSR1
    assert not lease.path.exists()


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_run_forwards_the_signal_to_the_command_and_releases(lease, tmp_path, background, signal_number):
    ready, log = tmp_path / "ready", tmp_path / "log"
    wrapper = background(["run", "--lease", str(lease.path), "--owner", "x", "--", *CHILD, str(ready),
                          "--log", str(log)])
    child = read_ready(ready)
    os.kill(wrapper.pid, signal_number)
    wrapper.communicate(timeout=TIMEOUT_S)
    assert wrapper.returncode == 128 + signal_number
    assert log.read_text().split() == [signal_number.name]
    assert process_gone(child["pid"])
    assert not lease.path.exists()


def test_nested_run_inherits_the_lease_without_a_second_acquire(lease):
    inner = [LEASE_BIN, "run", "--lease", str(lease.path), "--owner", "inner", "--json", "--", "true"]
    done = lease.run("run", "--owner", "outer", "--", *inner)
    assert done.returncode == 0, done.stderr
    obj = single_json(done.stdout)
    assert obj["status"] == "inherited"
    assert obj["lease"]["owner"] == "outer"
    assert "warning" not in done.stderr
    assert not lease.path.exists()


def test_run_with_a_foreign_inherited_token_warns_and_acquires(lease):
    done = lease.run("run", "--owner", "x", "--json", "--", "true", env={TOKEN_ENV: "not-a-lease-token"})
    assert done.returncode == 0
    assert single_json(done.stdout)["status"] == "completed"
    assert len(done.stderr.splitlines()) == 1


def _epoch_ms(timestamp):
    from datetime import datetime
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp() * 1000


def test_run_renews_a_short_lease_while_the_command_runs(lease, tmp_path, background):
    ready, go = tmp_path / "ready", tmp_path / "go"
    wrapper = background(["run", "--lease", str(lease.path), "--owner", "long", "--ttl-ms", "1200", "--",
                          *CHILD, str(ready), "--go", str(go)])
    read_ready(ready)
    first_expiry_ms = _epoch_ms(lease.payload()["expiresAt"])
    # Past the first expiry (plus a margin), the lease must have moved on ...
    wait_for(lambda: time.time() * 1000 > first_expiry_ms + 300, "the first expiry to pass")
    assert _epoch_ms(lease.payload()["expiresAt"]) > first_expiry_ms
    # ... and another acquire must still find it held.
    done = lease.run("acquire", "--owner", "intruder")
    assert done.returncode == 75, done.stdout
    go.touch()
    wrapper.communicate(timeout=TIMEOUT_S)
    assert wrapper.returncode == 0
    assert not lease.path.exists()


def test_sigkilled_wrapper_takes_its_command_along_and_leaves_a_recoverable_lease(lease, tmp_path, background):
    ready = tmp_path / "ready"
    wrapper = background(["run", "--lease", str(lease.path), "--owner", "doomed", "--", *CHILD, str(ready)])
    child = read_ready(ready)
    os.kill(wrapper.pid, signal.SIGKILL)
    wrapper.communicate(timeout=TIMEOUT_S)
    wait_for(lambda: process_gone(child["pid"]), "the orphaned command to die")
    assert lease.payload()["owner"] == "doomed"
    done, obj = lease.json("acquire", "--owner", "next")
    assert done.returncode == 0
    assert obj["status"] == "acquired-after-stale"
    assert "stale" in done.stderr


def test_run_over_a_malformed_lease_recovers_and_says_so_on_stderr(lease):
    lease.path.parent.mkdir(parents=True)
    lease.path.write_text('{"owner": ')
    done = lease.run("run", "--owner", "x", "--json", "--", "true")
    assert done.returncode == 0
    obj = single_json(done.stdout)
    assert obj["status"] == "completed" and obj["previousStatus"] == "malformed"
    assert done.stderr.startswith("lease: recovered a malformed lease at ")
    assert len(done.stderr.splitlines()) == 1
    assert not lease.path.exists()


def test_documented_shell_example_holds_the_lease_across_steps(lease, tmp_path):
    """docs/lease-cli.md: acquire in $(...), lend the token to a nested run, release on exit."""
    script = f'''
set -e
out=$("{LEASE_BIN}" acquire --lease "{lease.path}" --owner backup) || exit 9
token=${{out#*token=}}; token=${{token%% *}}
trap '"{LEASE_BIN}" release --lease "{lease.path}" --token "$token" >/dev/null' EXIT
echo "shell $$"
"{LEASE_BIN}" inspect --lease "{lease.path}"
NEO_HEAVY_MAINTENANCE_LEASE_INHERITED_TOKEN=$token "{LEASE_BIN}" run --lease "{lease.path}" --owner backup --json -- true
'''
    for shell in ("bash", "sh"):
        done = subprocess.run([shell, "-c", script], env=clean_env(), capture_output=True, text=True,
                              timeout=TIMEOUT_S)
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        shell_pid = lines[0].split()[1]
        assert "status: active" in lines and f"pid: {shell_pid}" in lines
        assert single_json(done.stdout)["status"] == "inherited"
        assert not lease.path.exists()


def test_run_json_names_the_signal_that_killed_the_command(lease):
    done = lease.run("run", "--owner", "x", "--json", "--", "sh", "-c", "kill -KILL $$")
    assert done.returncode == 128 + signal.SIGKILL
    obj = single_json(done.stdout)
    assert obj["exitCode"] == 137 and obj["signal"] == signal.SIGKILL


@pytest.mark.parametrize("flags,code", [(["--quiet"], 0), (["-q"], 0), (["-q", "-E", "75"], 75),
                                        (["--quiet", "--held-exit=9"], 9)])
def test_quiet_run_prints_nothing_when_held_and_keeps_the_status(lease, flags, code):
    lease.acquire("holder")
    done = lease.run("run", "--owner", "x", *flags, "--", "true")
    assert (done.returncode, done.stdout, done.stderr) == (code, "", "")


def test_wait_is_woken_by_the_release_and_runs(lease, tmp_path, background):
    ready, go = tmp_path / "ready", tmp_path / "go"
    holder = background(["run", "--lease", str(lease.path), "--owner", "first", "--", *CHILD, str(ready),
                         "--go", str(go)])
    read_ready(ready)
    waiter = background(["run", "--lease", str(lease.path), "--owner", "second", "--wait", "forever", "--json",
                         "--", "true"])
    # The waiter must still be waiting while the holder works...
    assert waiter.poll() is None
    assert lease.payload()["owner"] == "first"
    released = time.monotonic()
    go.touch()
    holder.communicate(timeout=TIMEOUT_S)
    stdout, stderr = waiter.communicate(timeout=TIMEOUT_S)
    # ...and woken by the release (inotify), well before its 30 s re-check.
    assert time.monotonic() - released < 10
    assert waiter.returncode == 0, stderr
    assert single_json(stdout)["status"] == "completed"


def test_acquire_wait_gives_up_after_its_time_and_says_held(lease):
    lease.acquire("holder")
    started = time.monotonic()
    done = lease.run("acquire", "--owner", "x", "-w", "0.3")
    assert done.returncode == 75
    assert time.monotonic() - started >= 0.3
    assert "held by 'holder'" in done.stdout


@pytest.mark.parametrize("value", ["-1", "soon", "1.", ".5", "1e3", "99999999999"])
def test_wait_refuses_what_is_not_seconds(lease, value):
    done = lease.run("acquire", "--owner", "x", "--wait", value)
    assert done.returncode == 64 and "--wait must be seconds" in done.stderr


def test_run_result_file_parses_while_the_command_owns_stdout(lease, tmp_path):
    result = tmp_path / "result.json"
    done = lease.run("run", "--owner", "x", "--result", str(result), "--", "sh", "-c", "echo body")
    assert done.returncode == 0 and done.stdout == "body\n"
    obj = json.loads(result.read_text())
    assert obj["status"] == "completed" and obj["exitCode"] == 0


def test_run_json_fd_parses_while_the_command_owns_stdout(lease, tmp_path):
    read_end, write_end = os.pipe()
    argv = [LEASE_BIN, "run", "--lease", str(lease.path), "--owner", "x", "--json-fd", str(write_end), "--", "sh",
            "-c", "echo body"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S, pass_fds=(write_end,),
                          check=False)
    os.close(write_end)
    with os.fdopen(read_end) as stream:
        obj = json.loads(stream.read())
    assert done.returncode == 0 and done.stdout == "body\n"
    assert obj["status"] == "completed"


def test_run_result_that_cannot_be_written_runs_nothing(lease, tmp_path):
    marker = tmp_path / "ran"
    done = lease.run("run", "--owner", "x", "--result", str(tmp_path / "missing" / "r.json"), "--", "touch",
                     str(marker))
    assert done.returncode == 125 and "cannot write --result" in done.stderr
    assert not marker.exists() and not lease.path.exists()


def test_default_path_in_a_directory_without_a_lease_directory_warns_once(tmp_path):
    env = clean_env()
    env.pop(PATH_ENV, None)
    done = subprocess.run([LEASE_BIN, "run", "--owner", "x", "--", "true"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    assert done.returncode == 0
    assert "the default lease path is relative to the working directory" in done.stderr
    assert len(done.stderr.splitlines()) == 1
    (tmp_path / ".neo-ai-data" / "orchestrator-daemon").mkdir(parents=True, exist_ok=True)
    done = subprocess.run([LEASE_BIN, "run", "--owner", "x", "--", "true"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    assert done.returncode == 0 and done.stderr == ""


def test_nonblock_defers_at_once_and_excludes_wait(lease):
    lease.acquire("holder")
    done = lease.run("run", "-n", "--owner", "x", "--", "true")
    assert done.returncode == 0 and "Deferred" in done.stdout
    done = lease.run("acquire", "-n", "-w", "5", "--owner", "x")
    assert done.returncode == 64 and "exclude each other" in done.stderr
