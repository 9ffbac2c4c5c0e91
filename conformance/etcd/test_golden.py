"""The etcd backend prints what the file lease prints (docs/etcd.md, "Same outputs").

The four programs: the golden outputs of fixtures/golden, byte for byte, on the etcd backend.
`lease run` / `inspect` / `acquire`: the same scenario on both backends, compared after the fields
that differ by nature are normalised (tokens, times, pids, the path, and in --json results
`metadata` (fence = revision, host; no pidStartTime/bootId/processGroup), `implementation`,
`detail`; the etcd holder's `host=`/`host:` in the human lines).
"""
import json
import os
import re
import subprocess

import pytest

import etcd_member

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOLDEN = os.path.join(REPO, "fixtures", "golden")
LEASES = os.path.join(REPO, "fixtures", "leases")
PROGRAMS = ["backup", "kbSync", "sandman", "syncGithubWorkflow"]
KEY_PREFIX = "/heavy-maintenance-lease/"
STALE = json.dumps({"owner": "backup", "reason": "nightly", "pid": 1, "token": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                    "acquiredAt": "2020-01-01T00:00:00.000Z", "staleAfterMs": 60000,
                    "expiresAt": "2020-01-01T00:01:00.000Z", "metadata": {}}, indent=2) + "\n"


def fixture_bytes(name):
    with open(os.path.join(LEASES, name), "rb") as lease:
        return lease.read()


def golden(name, program):
    with open(os.path.join(GOLDEN, name), encoding="utf-8") as text:
        return text.read().replace("{program}", program)


def clean_env(extra):
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("MAINTENANCE_", "LEASE_")) and key != "NEO_HEAVY_MAINTENANCE_LEASE_INHERITED_TOKEN"}
    env.update(extra)
    return env


class Backend:
    """One backend: where the lease lives and how to seed it."""

    def __init__(self, name, url, path):
        self.name, self.url, self.path = name, url, str(path)
        self.env = {"HEAVY_MAINTENANCE_LEASE_PATH": self.path}
        if name == "etcd":
            self.env.update(LEASE_IMPLEMENTATION="etcd", LEASE_ETCD_ENDPOINTS=url)

    def seed(self, data):
        if self.name == "etcd":
            etcd_member.put_value(self.url, KEY_PREFIX + self.path, data)
        else:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(self.path, "wb") as lease:
                lease.write(data if isinstance(data, bytes) else data.encode())

    def stored(self):
        if self.name == "etcd":
            return etcd_member.get_value(self.url, KEY_PREFIX + self.path)
        try:
            with open(self.path, "rb") as lease:
                return lease.read()
        except FileNotFoundError:
            return None


@pytest.fixture(params=["file", "etcd"])
def backend(request, etcd_url, tmp_path):
    return Backend(request.param, etcd_url, tmp_path / request.param / "lease.json")


@pytest.fixture
def etcd(etcd_url, tmp_path):
    return Backend("etcd", etcd_url, tmp_path / "etcd" / "lease.json")


def run_program(bin_dir, backend, program, **extra):
    env = clean_env({**backend.env, **extra})
    return subprocess.run([os.path.join(bin_dir, program)], env=env, capture_output=True, text=True, timeout=60)


# ---- the four programs: fixtures/golden on etcd --------------------------------

SCENARIOS = {
    "acquired.stdout": (None, {}),
    "held.stdout": (fixture_bytes("original-active.json"), {}),
    "held-escaped.stdout": (fixture_bytes("escaped-owner.json"), {}),
    "acquired-after-stale.stdout": (STALE, {}),
    "acquired-after-malformed.stdout": (fixture_bytes("malformed.json"), {}),
    "failed.stdout": (None, {"MAINTENANCE_BODY": "fail"}),
}


# Each scenario runs one of the four programs, in turn (each program one or two scenarios): the four
# are one maintenance_main (src/programs/maintenance.c) under four names, and what differs by name
# (the name, the failure line) is printed the same on every backend and judged for all four against
# every golden file by make test-programs (on every file implementation).
GOLDEN_CASES = [(name, PROGRAMS[index % len(PROGRAMS)]) for index, name in enumerate(sorted(SCENARIOS))]


@pytest.mark.parametrize(("name", "program"), GOLDEN_CASES)
def test_programs_print_the_golden_outputs_on_etcd(bin_dir, etcd, program, name):
    seed, extra = SCENARIOS[name]
    if seed is not None:
        etcd.seed(seed)
    done = run_program(bin_dir, etcd, program, **extra)
    assert done.stdout == golden(name, program), f"{name}: stderr {done.stderr!r}"
    assert done.returncode == (1 if name == "failed.stdout" else 0), done.stderr
    if name.startswith("held"):
        assert etcd.stored() == seed, "the holder's value changed"
    else:
        assert etcd.stored() is None, "the lease was not released"


@pytest.mark.parametrize("program", PROGRAMS)
def test_inherited_run_prints_the_golden_output_on_etcd(bin_dir, etcd, program):
    acquired = subprocess.run([os.path.join(bin_dir, "lease"), "acquire", "--owner", "parent", "--json"],
                              env=clean_env(etcd.env), capture_output=True, text=True, timeout=30)
    token = json.loads(acquired.stdout)["lease"]["token"]
    before = etcd.stored()
    done = run_program(bin_dir, etcd, program, NEO_HEAVY_MAINTENANCE_LEASE_INHERITED_TOKEN=token)
    assert (done.returncode, done.stdout) == (0, golden("inherited.stdout", program)), done.stderr
    assert etcd.stored() == before


def test_golden_comparison_rejects_a_changed_output(bin_dir, etcd):
    """The comparison is real: a run that defers does not match the acquired golden file."""
    etcd.seed(fixture_bytes("original-active.json"))
    done = run_program(bin_dir, etcd, "backup")
    assert done.stdout != golden("acquired.stdout", "backup")


# ---- lease run / acquire / inspect: the same outputs on both backends ----------

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
BY_NATURE = ("metadata", "implementation", "detail", "path")


def normalise(text, backend):
    text = text.replace(backend.path, "PATH")
    text = re.sub(r"host=[^,]*, ", "", text)  # the etcd holder's host in the held line
    text = "\n".join(line for line in text.split("\n") if not line.startswith(("host: ", "detail: ")))
    text = UUID.sub("UUID", STAMP.sub("TIME", text))
    return re.sub(r"\bpid(=|: )\d+", r"pid\1PID", text)


def normalise_json(line, backend):
    result = json.loads(line)
    for key in BY_NATURE:
        result.pop(key, None)
    lease = result.get("lease")
    if isinstance(lease, dict):
        lease.pop("metadata", None)
        if isinstance(lease.get("pid"), int):
            lease["pid"] = "PID"
    return json.loads(normalise(json.dumps(result, sort_keys=True), backend))


def lease_cli(bin_dir, backend, *args, json_output=False):
    env = clean_env(backend.env)
    args = list(args)
    if json_output:
        args.insert(args.index("--") if "--" in args else len(args), "--json")
    done = subprocess.run([os.path.join(bin_dir, "lease"), *args], env=env, capture_output=True, text=True,
                          timeout=60)
    out = normalise_json(done.stdout.splitlines()[-1], backend) if json_output else normalise(done.stdout, backend)
    return done.returncode, out, normalise(done.stderr, backend)


def scenario(bin_dir, backend, json_output):
    """The same sequence of commands; returns everything they printed, normalised."""
    seen = [lease_cli(bin_dir, backend, "inspect", json_output=json_output),
            lease_cli(bin_dir, backend, "run", "--owner", "job", "--", "true", json_output=json_output),
            lease_cli(bin_dir, backend, "run", "--owner", "job", "--", "false", json_output=json_output)]
    acquired = subprocess.run([os.path.join(bin_dir, "lease"), "acquire", "--owner", "holder", "--json"],
                              env=clean_env(backend.env), capture_output=True, text=True, timeout=30)
    token = json.loads(acquired.stdout)["lease"]["token"]
    seen += [lease_cli(bin_dir, backend, "inspect", json_output=json_output),
             lease_cli(bin_dir, backend, "acquire", "--owner", "second", json_output=json_output),
             lease_cli(bin_dir, backend, "run", "--owner", "second", "--", "true", json_output=json_output),
             lease_cli(bin_dir, backend, "release", "--token", "not-the-token", json_output=json_output),
             lease_cli(bin_dir, backend, "release", "--token", token, json_output=json_output)]
    backend.seed(fixture_bytes("malformed.json"))
    seen += [lease_cli(bin_dir, backend, "inspect", json_output=json_output),
             lease_cli(bin_dir, backend, "run", "--owner", "job", "--", "true", json_output=json_output)]
    backend.seed(STALE)
    seen += [lease_cli(bin_dir, backend, "run", "--owner", "job", "--", "true", json_output=json_output)]
    return seen


@pytest.mark.parametrize("json_output", [False, True], ids=["human", "json"])
def test_lease_cli_prints_the_same_on_both_backends(bin_dir, etcd_url, tmp_path, json_output):
    file = Backend("file", etcd_url, tmp_path / "file" / "lease.json")
    etcd = Backend("etcd", etcd_url, tmp_path / "etcd" / "lease.json")
    on_file, on_etcd = scenario(bin_dir, file, json_output), scenario(bin_dir, etcd, json_output)
    for step, (expected, got) in enumerate(zip(on_file, on_etcd)):
        assert got == expected, f"step {step}: file {expected!r}\n  etcd {got!r}"


def test_etcd_holder_names_its_host(bin_dir, etcd):
    """metadata.host: shown by inspect and in the held line (docs/spec.md section 10)."""
    env = clean_env(etcd.env)
    lease = os.path.join(bin_dir, "lease")
    subprocess.run([lease, "acquire", "--owner", "holder"], env=env, capture_output=True, timeout=30, check=True)
    host = os.uname().nodename
    stored = json.loads(etcd.stored())
    assert stored["metadata"]["host"] == host
    shown = subprocess.run([lease, "inspect"], env=env, capture_output=True, text=True, timeout=30).stdout
    assert f"host: {host}\n" in shown
    held = subprocess.run([lease, "acquire", "--owner", "second"], env=env, capture_output=True, text=True,
                          timeout=30)
    assert held.returncode == 75 and f"host={host}, " in held.stdout + held.stderr
    assert json.loads(subprocess.run([lease, "inspect", "--json"], env=env, capture_output=True, text=True,
                                     timeout=30).stdout)["lease"]["metadata"]["host"] == host


def test_normalising_keeps_what_must_match(tmp_path):
    """Only fields that differ by nature are normalised: a different status or owner still differs."""
    backend = Backend("file", None, tmp_path / "lease.json")
    held = '{"status":"held","lease":{"owner":"a","pid":1,"metadata":{"host":"h"}},"path":"x","exitCode":75}'
    assert normalise_json(held, backend) != normalise_json(held.replace('"held"', '"acquired"'), backend)
    assert normalise_json(held, backend) != normalise_json(held.replace('"a"', '"b"'), backend)
    assert normalise_json(held, backend) == normalise_json(held.replace('"h"', '"other"'), backend)
