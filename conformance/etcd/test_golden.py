"""Golden outputs on the etcd backend (docs/etcd.md, "Golden outputs").

The four programs and `lease run` run each scenario twice, on the file lease
and on etcd (the holder seeded as a file, or as the key's value under an etcd
lease), and must print the same fixtures/golden output with the same exit
status. `lease run --json` objects must agree apart from the fields that
differ by nature (BY_NATURE). Two goldens do not apply: acquired-after-stale
and acquired-after-malformed are statuses this backend never reports (expiry
removes the key; a value that is not a lease is held until it expires).
"""
import json
import os
import subprocess

import pytest

import etcd_member

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOLDEN = os.path.join(REPO, "fixtures", "golden")
LEASES = os.path.join(REPO, "fixtures", "leases")
PROGRAMS = ["sandman", "kbSync", "backup", "syncGithubWorkflow"]
ORIGINAL_TOKEN = "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b"
# scenario: (seeded lease file or None, extra environment, golden file, exit status)
SCENARIOS = {
    "acquired": (None, {}, "acquired.stdout", 0),
    "held": ("original-active.json", {}, "held.stdout", 0),
    "held-escaped": ("escaped-owner.json", {}, "held-escaped.stdout", 0),
    "failed": (None, {"MAINTENANCE_BODY": "fail"}, "failed.stdout", 1),
    "inherited": ("original-active.json", {"NEO_HEAVY_MAINTENANCE_LEASE_INHERITED_TOKEN": ORIGINAL_TOKEN},
                  "inherited.stdout", 0),
    "mismatched-token": ("original-active.json", {"NEO_HEAVY_MAINTENANCE_LEASE_INHERITED_TOKEN": "not-the-token"},
                         "held.stdout", 0),
}
# Fields of `lease run --json` that differ by nature between the backends:
# which backend, its explanation, the lease's metadata (fence = revision, host
# instead of pidStartTime/bootId), and what differs between any two runs.
BY_NATURE = {"implementation", "detail", "path"}
LEASE_BY_NATURE = {"metadata", "token", "pid", "acquiredAt", "expiresAt"}


def golden(name, program=""):
    with open(os.path.join(GOLDEN, name), encoding="utf-8") as file:
        return file.read().replace("{program}", program)


class Backend:
    """One backend: seeds a holder and runs programs and the CLI against one lease path."""

    def __init__(self, kind, url, bin_dir, directory):
        self.kind, self.url, self.bin_dir = kind, url, bin_dir
        os.makedirs(directory, exist_ok=True)
        self.path = os.path.join(directory, "lease", "heavy-maintenance-lease.json")
        self.log = os.path.join(directory, "bodies.log")

    def env(self, extra):
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("MAINTENANCE_", "LEASE_", "NEO_HEAVY_", "HEAVY_MAINTENANCE_"))}
        env.update(HEAVY_MAINTENANCE_LEASE_PATH=self.path, MAINTENANCE_LOG=self.log)
        if self.kind == "etcd":
            env.update(LEASE_IMPLEMENTATION="etcd", LEASE_ETCD_ENDPOINTS=self.url, LEASE_ETCD_TIMEOUT_MS="2000")
        env.update(extra)
        return env

    def seed(self, name):
        with open(os.path.join(LEASES, name), "rb") as file:
            data = file.read()
        if self.kind == "etcd":
            etcd_member.put_value(self.url, etcd_member.key_of(self.path), data)
        else:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(self.path, "wb") as file:
                file.write(data)

    def run(self, argv, extra=None):
        return subprocess.run(argv, env=self.env(extra or {}), capture_output=True, text=True, timeout=30)

    def program(self, name, extra):
        return self.run([os.path.join(self.bin_dir, name)], extra)

    def lease_run(self, *args):
        return self.run([os.path.join(self.bin_dir, "lease"), "run", "--lease", self.path, "--owner", "job", *args])


@pytest.fixture
def backends(etcd_url, bin_dir, tmp_path):
    def make(label):
        return [Backend(kind, etcd_url, bin_dir, str(tmp_path / label / kind)) for kind in ("file", "etcd")]
    return make


@pytest.mark.parametrize("program", PROGRAMS)
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_programs_print_the_file_leases_golden_output(backends, program, scenario):
    seeded, extra, golden_name, status = SCENARIOS[scenario]
    expected = golden(golden_name, program)
    for backend in backends(scenario):
        if seeded:
            backend.seed(seeded)
        done = backend.program(program, extra)
        assert (done.returncode, done.stdout) == (status, expected), (
            f"{backend.kind}: {program} {scenario}: expected exit {status} and {golden_name}:\n{expected}"
            f"got exit {done.returncode}:\n{done.stdout}stderr: {done.stderr}")


def test_lease_run_prints_the_same_deferral_and_command_output(backends):
    for backend in backends("run"):
        done = backend.lease_run("--", "echo", "ran")
        assert (done.returncode, done.stdout) == (0, "ran\n"), f"{backend.kind}: {done}"
        backend.seed("original-active.json")
        done = backend.lease_run("--", "echo", "ran")
        assert (done.returncode, done.stdout) == (0, golden("held.stdout")), f"{backend.kind}: {done}"


def differences(file_object, etcd_object):
    """What differs between two `lease run --json` objects beyond the fields that differ by nature."""
    found = []
    for key in sorted(set(file_object) | set(etcd_object)):
        if key in BY_NATURE:
            continue
        if key == "lease":
            mine, theirs = file_object.get(key) or {}, etcd_object.get(key) or {}
            if list(mine) != list(theirs):
                found.append(f"lease fields {list(mine)} != {list(theirs)}")
            found += [f"lease.{field}: {mine.get(field)!r} != {theirs.get(field)!r}"
                      for field in sorted(set(mine) | set(theirs))
                      if field not in LEASE_BY_NATURE and mine.get(field) != theirs.get(field)]
        elif file_object.get(key) != etcd_object.get(key):
            found.append(f"{key}: {file_object.get(key)!r} != {etcd_object.get(key)!r}")
    return found


@pytest.mark.parametrize("seeded", [None, "original-active.json", "escaped-owner.json"])
def test_lease_run_json_agrees_apart_from_fields_that_differ_by_nature(backends, seeded):
    objects = []
    for backend in backends(str(seeded)):
        if seeded:
            backend.seed(seeded)
        done = backend.lease_run("--json", "--", "true")
        assert done.returncode == 0, f"{backend.kind}: {done}"
        objects.append(json.loads(done.stdout))
    assert differences(*objects) == [], f"file: {objects[0]}\netcd: {objects[1]}"
    assert objects[1]["implementation"] == "etcd" and objects[1]["lease"]["metadata"]["fence"] > 0


def test_the_comparison_fails_on_a_real_difference():
    file_object = {"status": "held", "implementation": "lease", "lease": {"owner": "a", "token": "x"}}
    assert differences(file_object, dict(file_object, implementation="etcd")) == []
    assert differences(file_object, dict(file_object, status="acquired")) != []
    assert differences(file_object, dict(file_object, lease={"owner": "b", "token": "y"})) != []
    assert differences(file_object, dict(file_object, lease={"token": "x", "owner": "a"})) != []
