"""Fixtures for the `lease` wrapper tests: the binary, a lease path under
tmp_path, a runner with a timeout, and background wrappers that are killed
(whole process group) on teardown."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
LEASE_BIN = os.environ.get("LEASE_BIN") or str(ROOT / "build" / "bin" / "lease")
CHILD = [sys.executable, str(HERE / "lease_child.py")]
TOKEN_ENV = "NEO_HEAVY_MAINTENANCE_LEASE_INHERITED_TOKEN"
PATH_ENV = "HEAVY_MAINTENANCE_LEASE_PATH"
TIMEOUT_S = 20.0


def clean_env(extra=None):
    """The test process's environment without lease variables that would
    change what the wrapper does, plus extra."""
    env = {k: v for k, v in os.environ.items()
           if k not in (TOKEN_ENV, PATH_ENV, "LEASE_IMPLEMENTATION")}
    env.update(extra or {})
    return env


def wait_for(predicate, what, timeout_s=TIMEOUT_S):
    """Polls predicate until it returns something truthy; fails after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.005)
    pytest.fail(f"timed out after {timeout_s}s waiting for {what}")


def read_ready(path):
    """The child's readiness line (JSON), once the file exists."""
    def ready():
        try:
            return json.loads(Path(path).read_text())
        except FileNotFoundError:
            return None
    return wait_for(ready, f"readiness line in {path}")


def process_gone(pid):
    """True when pid no longer exists or is a zombie (a zombie no longer runs)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


class Lease:
    """Runs the wrapper against one lease file."""

    def __init__(self, path: Path):
        self.path = path

    def run(self, *args, env=None, lease=True, timeout=TIMEOUT_S):
        argv = [LEASE_BIN, *args]
        if lease and args and args[0] in ("run", "acquire", "release", "renew", "inspect"):
            argv[2:2] = ["--lease", str(self.path)]
        return subprocess.run(argv, env=clean_env(env), capture_output=True, text=True,
                              timeout=timeout, check=False)

    def json(self, *args, env=None):
        done = self.run(*args, "--json", env=env) if "--" not in args else None
        assert done is not None, "use run() for commands with --"
        return done, single_json(done.stdout)

    def payload(self):
        return json.loads(self.path.read_text())

    def acquire(self, owner="holder", *extra):
        done = self.run("acquire", "--owner", owner, "--json", *extra)
        assert done.returncode == 0, done.stderr
        return single_json(done.stdout)["token"]


def single_json(stdout):
    """Exactly one JSON object, alone on the last line of stdout."""
    lines = stdout.splitlines()
    assert lines, "no output"
    obj = json.loads(lines[-1])
    assert isinstance(obj, dict), stdout
    return obj


@pytest.fixture
def lease(tmp_path):
    return Lease(tmp_path / "leases" / "lease.json")


def default_signals():
    """In the child before exec: the signals a wrapper forwards get their default action. A
    wrapper started with one ignored (nohup, a shell's background job) rightly leaves it
    ignored and unforwarded; the tests start it as a terminal would."""
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, signal.SIG_DFL)


@pytest.fixture
def background(tmp_path):
    """Starts wrappers in their own process groups; kills those groups on teardown."""
    started = []

    def start(argv, env=None):
        process = subprocess.Popen([LEASE_BIN, *argv], env=clean_env(env), stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, start_new_session=True,
                                   preexec_fn=default_signals)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.communicate(timeout=TIMEOUT_S)
