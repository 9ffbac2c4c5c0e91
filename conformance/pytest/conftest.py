"""Fixtures for the maintenance-program conformance suite.

The implementation under test is a command template (--lease-impl or the
LEASE_IMPL environment variable; default build/bin/{script}). Every process
runs from an argument list (no shell) with a private lease path under
tmp_path, in its own process group, which teardown kills. Every wait has a
deadline, so a hang fails instead of blocking.

LEASE_TEST_BACKEND=etcd runs the same cases on the etcd backend: a real etcd
is started on loopback for the session (conformance/etcd/etcd_member.py; under
make test-etcd, the one member with_etcd.py started for all its suites), the
programs get LEASE_IMPLEMENTATION=etcd, and the lease "file" of a test is its
etcd key (read and seeded through etcd's JSON gateway). Cases that differ by
nature are skipped with their reason (ETCD_SKIPS).
"""
import json
import os
import pathlib
import re
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
BACKEND = os.environ.get("LEASE_TEST_BACKEND", "file")
ETCD_KEY_PREFIX = "/heavy-maintenance-lease/"
PID_PROBE = ("pid-based dead-holder detection: on etcd a dead holder frees the key when its etcd lease "
             "expires, never by a pid probe (docs/spec.md section 10)")
# The cases that differ by nature on the etcd backend, each with its reason.
ETCD_SKIPS = {
    "test_stale_pid_lease_is_recovered_with_one_stderr_line": PID_PROBE,
    "test_holder_killed_mid_body_is_recovered_at_once": PID_PROBE,
    "test_body_crash_leaves_lease_that_next_program_recovers": PID_PROBE,
    "test_reused_pid_is_reported_and_own_implementation_recovers": PID_PROBE,
    "test_reclaimers_of_one_stale_lease_exactly_one_runs": PID_PROBE + " (the stale lease is a dead pid's)",
    "test_lease_of_live_process_of_another_user_is_alive": PID_PROBE + " (EPERM from the probe)",
    "test_held_result_whose_holder_cannot_be_read_defers_naming_unknown": (
        "file-level hazard: a lease file still being written (created first, written later) has no etcd "
        "counterpart: a key is created with its value in one transaction"),
    "test_unreadable_lease_file_of_another_user_fails_closed_untouched": (
        "file-level hazard: on etcd there is no file whose permissions could refuse a reader"),
    "test_lease_error_fails_closed_naming_path": (
        "file-level hazard: on etcd the path only names the key; an unreachable cluster failing closed is "
        "conformance/etcd/test_etcd.py::test_unreachable_or_unset_cluster_fails_closed"),
    "test_mixed_storm_beside_the_original_design_causes_no_overlap": (
        "file-level hazard: the original's writers keep a lease file and the etcd backend a key, so the two "
        "sides never meet (the storm would pass without judging anything)"),
}
DEFAULT_TEMPLATE = "build/bin/{script}"
SCRIPTS = ["sandman", "kbSync", "backup", "syncGithubWorkflow"]
FAILURE_MESSAGES = {
    "sandman": "❌ REM cycle failed:",
    "kbSync": "❌ Synchronization Failed:",
    "backup": "❌ Backup failed:",
    "syncGithubWorkflow": "❌ Sync failed:",
}
LEASE_PATH_ENV = "HEAVY_MAINTENANCE_LEASE_PATH"
INHERITED_TOKEN_ENV = "NEO_HEAVY_MAINTENANCE_LEASE_INHERITED_TOKEN"
RUN_TIMEOUT_S = 20
# The storms look at the body log after this many more processes ended, and stop at the
# first overlap they find there: the rest of the storm could only repeat it.
STORM_CHECK_EVERY = 10
# A storm's crowd near its end: no more processes than the work still wanted
# plus this many. Each process still running when the counts are reached
# only adds a body or a deferral nobody counts (a Python start is 40 ms).
STORM_TAIL_SLACK = 4
WAIT_TIMEOUT_S = 10
POLL_S = 0.005


def pytest_addoption(parser):
    parser.addoption("--lease-impl", default=None,
                     help="command template of the implementation under test, {script} is the program name "
                          "(default: $LEASE_IMPL or build/bin/{script})")
    parser.addoption("--storm-scale", default="1",
                     help="the share of the storms' work to do, from 0.1 to 1 (default 1: 150 bodies and 150 "
                          "deferrals in the contention storm, 30 bodies a side in the mixed storm); for "
                          "implementations whose every start costs tens of milliseconds")
    parser.addoption("--programs-per-case", default="all",
                     help="'all' (default): every case that names a program runs once per program; 'one': "
                          "once, for one of them, the four in turn from case to case (for implementations "
                          "whose four programs are one code path under four names)")


def storm_scale_of(config):
    text = config.getoption("--storm-scale")
    try:
        scale = float(text)
    except ValueError:
        scale = 0.0
    if not 0.1 <= scale <= 1:
        raise pytest.UsageError(f"--storm-scale must be a number from 0.1 to 1, not '{text}'")
    return scale


def storm_body_ms(completions_counted):
    """A storm body's length: 2 ms, so that the lease changes hands as often as it can; 50 ms once
    the storm's completions are counted. On a loaded machine starts spread out and 2 ms bodies
    rarely meet one another, so each deferral still wanted cost a start of a whole crowd."""
    return 50 if completions_counted else 2


def storm_crowd(most, wanted):
    """How many processes a storm keeps running: `most`, but near its end only the work
    still `wanted` (bodies plus deferrals) and STORM_TAIL_SLACK more."""
    return min(most, wanted + STORM_TAIL_SLACK)


@pytest.fixture
def storm_work(request):
    """storm_work(N): N bodies (or deferrals) of a storm at --storm-scale, at least 10."""
    return lambda amount: max(10, round(amount * request.config.storm_scale))


class Impl:
    """The implementation under test: turns a program name into an argv."""

    def __init__(self, template):
        self.template = template
        self.words = shlex.split(template)
        if not self.words:
            raise pytest.UsageError("--lease-impl / LEASE_IMPL is empty")

    def argv(self, script):
        words = [word.replace("{script}", script) for word in self.words]
        # Relative paths in the template are the repository's (the tests run in tmp_path).
        return [str(REPO / word) if "/" in word and not os.path.isabs(word) and (REPO / word).parent.exists()
                else word for word in words]

    @property
    def is_own(self):
        """The project's own implementation: the suite insists on its choices there."""
        implementation = os.environ.get("LEASE_IMPLEMENTATION", "")
        own_build = re.fullmatch(r"build(/[a-z]+)?/bin/\{script\}", self.template) is not None
        return own_build and implementation in ("", "lease", "etcd")


def template_of(config):
    return config.getoption("--lease-impl") or os.environ.get("LEASE_IMPL") or DEFAULT_TEMPLATE


@pytest.fixture(scope="session")
def etcd_url():
    """LEASE_TEST_BACKEND=etcd: a real etcd for the session, named to the programs."""
    if BACKEND != "etcd":
        yield None
        return
    sys.path.insert(0, str(REPO / "conformance" / "etcd"))
    import etcd_member
    try:
        with etcd_member.member() as url:
            saved = {key: os.environ.get(key) for key in ("LEASE_IMPLEMENTATION", "LEASE_ETCD_ENDPOINTS")}
            os.environ.update(LEASE_IMPLEMENTATION="etcd", LEASE_ETCD_ENDPOINTS=url)
            os.environ.pop("LEASE_ETCD_KEY", None)
            yield url
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    except etcd_member.NotInstalled as missing:
        pytest.skip(str(missing))


@pytest.fixture(scope="session")
def impl(request, etcd_url):
    return Impl(template_of(request.config))


@dataclass
class Result:
    script: str
    argv: list
    returncode: int
    stdout: str
    stderr: str
    elapsed_s: float

    @property
    def stdout_lines(self):
        return self.stdout.splitlines()

    def describe(self):
        return (f"\n  command: {self.argv}\n  exit status: {self.returncode}\n"
                f"  stdout: {self.stdout!r}\n  stderr: {self.stderr!r}")


def read_lines(path):
    try:
        return pathlib.Path(path).read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return []


def wait_until(condition, what, timeout_s=WAIT_TIMEOUT_S):
    """Polls condition() until it returns a true value or the deadline passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(POLL_S)
    pytest.fail(f"timed out after {timeout_s}s waiting for {what}")


class Started:
    """A program started in the background, output captured in files."""

    def __init__(self, runner, script, argv, process, stdout_path, stderr_path):
        self.runner, self.script, self.argv = runner, script, argv
        self.process, self.stdout_path, self.stderr_path = process, stdout_path, stderr_path
        self.start = time.monotonic()

    @property
    def pid(self):
        return self.process.pid

    def poll(self):
        return self.process.poll()

    def wait(self, timeout_s=RUN_TIMEOUT_S):
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"{self.script} did not finish within {timeout_s}s")
        return self.result()

    def result(self):
        return Result(self.script, self.argv, self.process.returncode,
                      pathlib.Path(self.stdout_path).read_text(errors="replace"),
                      pathlib.Path(self.stderr_path).read_text(errors="replace"),
                      time.monotonic() - self.start)

    def kill(self, signal_number=signal.SIGKILL):
        try:
            os.killpg(self.process.pid, signal_number)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=WAIT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pass


class Runner:
    """Runs programs of the implementation under test against one private lease file."""

    def __init__(self, impl, tmp_path):
        self.impl = impl
        self.tmp_path = tmp_path
        self.lease_path = tmp_path / "lease" / "heavy-maintenance-lease.json"
        self.log_path = tmp_path / "bodies.log"
        self.ready_path = tmp_path / "ready"
        self.gate_path = tmp_path / "gate"
        self.started = []
        self.counter = 0

    def env(self, extra):
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("MAINTENANCE_") and key != INHERITED_TOKEN_ENV and key != LEASE_PATH_ENV}
        env[LEASE_PATH_ENV] = str(self.lease_path)
        env["MAINTENANCE_LOG"] = str(self.log_path)
        for key, value in extra.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = str(value)
        return env

    def start(self, script, **extra):
        self.counter += 1
        stdout_path = self.tmp_path / f"out-{self.counter}-{script}.stdout"
        stderr_path = self.tmp_path / f"out-{self.counter}-{script}.stderr"
        argv = self.impl.argv(script)
        with open(stdout_path, "wb") as stdout, open(stderr_path, "wb") as stderr:
            process = subprocess.Popen(argv, env=self.env(extra), cwd=self.tmp_path, stdin=subprocess.DEVNULL,
                                       stdout=stdout, stderr=stderr, start_new_session=True)
        started = Started(self, script, argv, process, stdout_path, stderr_path)
        self.started.append(started)
        return started

    def run(self, script, timeout_s=RUN_TIMEOUT_S, **extra):
        return self.start(script, **extra).wait(timeout_s)

    def start_holder(self, script, body="hang", **extra):
        """Starts script holding the lease and returns once its body said it is ready."""
        ready_path = self.tmp_path / f"ready-holder-{self.counter + 1}"
        holder = self.start(script, MAINTENANCE_BODY=body, MAINTENANCE_READY_FILE=ready_path, **extra)

        def ready():
            if holder.poll() is not None:
                pytest.fail(f"holder {script} exited before it was ready:{holder.result().describe()}")
            return read_lines(ready_path)

        line = wait_until(ready, f"the readiness line of holder {script}")[0]
        holder.ready_pid = int(line.split()[2])
        return holder

    @property
    def etcd_key(self):
        return ETCD_KEY_PREFIX + str(self.lease_path)

    def lease_bytes(self):
        if BACKEND == "etcd":
            import etcd_member
            return etcd_member.get_value(os.environ["LEASE_ETCD_ENDPOINTS"].split(",")[0], self.etcd_key)
        try:
            return self.lease_path.read_bytes()
        except FileNotFoundError:
            return None

    def install_lease(self, content):
        """Puts content where the programs look for the lease (on etcd: the key, no etcd lease attached)."""
        data = content if isinstance(content, bytes) else content.encode()
        if BACKEND == "etcd":
            import etcd_member
            etcd_member.put_value(os.environ["LEASE_ETCD_ENDPOINTS"].split(",")[0], self.etcd_key, data)
            return self.lease_bytes()
        self.lease_path.parent.mkdir(parents=True, exist_ok=True)
        self.lease_path.write_bytes(data)
        return self.lease_path.read_bytes()

    def lease_json(self):
        data = self.lease_bytes()
        return None if data is None else json.loads(data)

    def log_lines(self):
        return read_lines(self.log_path)

    def whole_log(self):
        """The body log up to its last complete record (a record being appended is left for later)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return text[:text.rfind("\n") + 1]

    def cleanup(self):
        for started in self.started:
            if started.poll() is None:
                started.kill()


@pytest.fixture
def runner(impl, tmp_path):
    active = Runner(impl, tmp_path)
    yield active
    active.cleanup()


@pytest.fixture
def note(request):
    """Records an observation for the report (cases the contract leaves open)."""
    def add(text):
        request.config._lease_notes.append(f"{request.node.nodeid}: {text}")
        request.node.user_properties.append(("observed", text))
    return add


def one_program_per_case(items):
    """(kept, deselected): of the items of each case that differ only by their program,
    the one for SCRIPTS' next program in turn (among the programs the case names)."""
    def params(item):
        return getattr(getattr(item, "callspec", None), "params", {})

    groups = {}  # (function, its other parameters) -> {script: item}
    for item in items:
        if "script" in params(item):
            others = tuple(sorted((name, repr(value)) for name, value in params(item).items() if name != "script"))
            groups.setdefault((item.function, others), {})[params(item)["script"]] = item
    chosen = set()
    for turn, by_script in enumerate(groups.values()):
        named = [script for script in SCRIPTS if script in by_script]
        chosen.add(id(by_script[named[turn % len(named)]]))
    kept = [item for item in items if "script" not in params(item) or id(item) in chosen]
    return kept, [item for item in items if item not in kept]


def pytest_collection_modifyitems(config, items):
    choice = config.getoption("--programs-per-case")
    if choice not in ("all", "one"):
        raise pytest.UsageError(f"--programs-per-case must be 'all' or 'one', not '{choice}'")
    if choice == "one":
        kept, deselected = one_program_per_case(items)
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
    if BACKEND != "etcd":
        return
    for item in items:
        reason = ETCD_SKIPS.get(getattr(item, "originalname", item.name))
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_configure(config):
    config._lease_notes = []
    # A process may run several sessions (conformance/pytest/race_cases.py): each reports its own.
    pytest_runtest_logreport.outcomes = []
    config.storm_scale = storm_scale_of(config)


def pytest_runtest_logreport(report):
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        message = ""
        if report.failed and hasattr(report.longrepr, "reprcrash") and report.longrepr.reprcrash:
            message = report.longrepr.reprcrash.message
        elif report.failed:
            message = str(report.longrepr).splitlines()[-1] if str(report.longrepr) else ""
        report_list = getattr(pytest_runtest_logreport, "outcomes", None)
        if report_list is None:
            pytest_runtest_logreport.outcomes = report_list = []
        report_list.append((report.nodeid, report.outcome, message))


def pytest_terminal_summary(terminalreporter, config):
    outcomes = getattr(pytest_runtest_logreport, "outcomes", [])
    write = terminalreporter.write_line
    write("")
    write(f"=== lease conformance report: LEASE_IMPL={template_of(config)!r} backend={BACKEND}")
    for nodeid, outcome, _message in outcomes:
        label = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}.get(outcome, outcome.upper())
        write(f"{label:4}  {nodeid.split('::', 1)[-1]}")
    failures = [(nodeid, message) for nodeid, outcome, message in outcomes if outcome == "failed"]
    for nodeid, message in failures:
        write("")
        write(f"--- FAILED {nodeid.split('::', 1)[-1]}")
        for line in message.splitlines()[:40]:
            write(f"    {line}")
    if config._lease_notes:
        write("")
        write("--- observations (behaviour the contract leaves to the implementation)")
        for line in config._lease_notes:
            write(f"    {line}")
    passed = sum(1 for _n, outcome, _m in outcomes if outcome == "passed")
    write(f"=== {passed} passed, {len(failures)} failed")
