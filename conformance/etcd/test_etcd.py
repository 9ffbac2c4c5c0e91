"""The etcd backend judged by the contract (docs/spec.md sections 8 and 10),
through the lease CLI and the four programs, against a real etcd."""
import json
import os
import subprocess
import time

import pytest

PROGRAMS = ["backup", "kbSync", "sandman", "syncGithubWorkflow"]
EXPIRY_DEADLINE_S = 15
# Between two `lease inspect`s while an etcd lease runs out (each a process that loads libcurl:
# about 25 ms of CPU): etcd's shortest lease is 2 s, so about 20 looks instead of 80.
EXPIRY_POLL_S = 0.1


@pytest.fixture
def run(etcd_url, bin_dir, tmp_path):
    """Runs `lease ARGS --json` on the etcd backend; returns (exit, object)."""
    path = str(tmp_path / "lease.json")

    def call(*args, endpoints=None):
        env = dict(os.environ, LEASE_IMPLEMENTATION="etcd",
                   LEASE_ETCD_ENDPOINTS=etcd_url if endpoints is None else endpoints,
                   LEASE_ETCD_TIMEOUT_MS="1000")
        done = subprocess.run([os.path.join(bin_dir, "lease"), *args, "--lease", path, "--json"],
                              env=env, capture_output=True, text=True, timeout=30)
        return done.returncode, json.loads(done.stdout), done.stderr
    return call


def test_acquire_then_held_then_release(run):
    code, missing, _ = run("inspect")
    assert (code, missing["status"]) == (1, "missing")  # inspect exits by class: 1 missing
    code, ours, _ = run("acquire", "--owner", "first")
    assert (code, ours["status"]) == (0, "acquired")
    token = ours["lease"]["token"]
    code, held, _ = run("acquire", "--owner", "second")
    assert (code, held["status"], held["lease"]["owner"]) == (75, "held", "first")
    code, active, _ = run("inspect")
    assert (code, active["status"], active["lease"]["token"]) == (0, "active", token)
    code, released, _ = run("release", "--token", token)
    assert (code, released["status"]) == (0, "released")
    code, again, _ = run("release", "--token", token)
    assert (code, again["status"]) == (1, "missing")


def test_wrong_token_never_removes(run):
    _, ours, _ = run("acquire", "--owner", "first")
    code, refused, _ = run("release", "--token", "not-the-token")
    assert (code, refused["status"]) == (1, "not-owner")
    code, refused, _ = run("renew", "--token", "not-the-token")
    assert (code, refused["status"]) == (1, "not-owner")
    _, still, _ = run("inspect")
    assert still["lease"]["token"] == ours["lease"]["token"]
    assert run("release", "--token", ours["lease"]["token"])[0] == 0


def test_renew_moves_expiry_and_keeps_fence(run):
    _, ours, _ = run("acquire", "--owner", "first", "--ttl-ms", "60000")
    code, renewed, _ = run("renew", "--token", ours["lease"]["token"])
    assert (code, renewed["status"]) == (0, "renewed")
    assert renewed["lease"]["expiresAt"] >= ours["lease"]["expiresAt"]
    assert renewed["lease"]["metadata"]["fence"] == ours["lease"]["metadata"]["fence"]
    _, seen, _ = run("inspect")
    assert seen["lease"]["expiresAt"] == renewed["lease"]["expiresAt"]
    run("release", "--token", ours["lease"]["token"])


def test_fence_only_grows(run):
    fences = []
    for _ in range(3):
        _, ours, _ = run("acquire", "--owner", "first")
        fences.append(ours["lease"]["metadata"]["fence"])
        run("release", "--token", ours["lease"]["token"])
    assert fences == sorted(fences) and len(set(fences)) == 3


def test_expired_etcd_lease_frees_the_key(run):
    _, ours, _ = run("acquire", "--owner", "crashed", "--ttl-ms", "1000")
    deadline = time.monotonic() + EXPIRY_DEADLINE_S
    status = "active"
    while status == "active" and time.monotonic() < deadline:
        status = run("inspect")[1]["status"]
        if status == "active":
            time.sleep(EXPIRY_POLL_S)
    assert status == "missing"
    code, lost, _ = run("renew", "--token", ours["lease"]["token"])
    assert code == 1 and lost["status"] in ("missing", "not-owner")
    assert run("acquire", "--owner", "next")[1]["status"] == "acquired"


@pytest.mark.parametrize("endpoints", ["http://127.0.0.1:1", ""])
def test_unreachable_or_unset_cluster_fails_closed(run, endpoints):
    code, failed, stderr = run("acquire", "--owner", "first", endpoints=endpoints)
    assert (code, failed["status"]) == (125, "error")
    assert "etcd" in stderr or "LEASE_ETCD_ENDPOINTS" in stderr


def test_second_endpoint_used_when_first_refuses(run, etcd_url):
    code, ours, _ = run("acquire", "--owner", "first", endpoints="http://127.0.0.1:1," + etcd_url)
    assert (code, ours["status"]) == (0, "acquired")
    assert run("release", "--token", ours["lease"]["token"])[0] == 0


def test_a_libcurl_that_cannot_be_used_fails_closed_with_its_reason(etcd_url, bin_dir, tmp_path):
    """libcurl is loaded when the first request is made (src/etcd_client.c):
    a libcurl.so.4 without its functions is an error naming what is missing,
    never a crash, and the file backend never loads it."""
    fake = tmp_path / "libcurl.so.4"
    source = tmp_path / "empty.c"
    source.write_text("int not_curl;\n")
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(fake), str(source)], check=True)
    env = dict(os.environ, LD_LIBRARY_PATH=str(tmp_path), LEASE_ETCD_ENDPOINTS=etcd_url)
    lease = os.path.join(bin_dir, "lease")
    path = str(tmp_path / "lease.json")
    done = subprocess.run([lease, "acquire", "--impl", "etcd", "--owner", "first", "--lease", path, "--json"],
                          env=env, capture_output=True, text=True, timeout=30)
    assert (done.returncode, json.loads(done.stdout)["status"]) == (125, "error")
    assert "libcurl.so.4 has no curl_easy_init" in done.stderr
    done = subprocess.run([lease, "acquire", "--owner", "first", "--lease", path, "--json"],
                          env=env, capture_output=True, text=True, timeout=30)
    assert (done.returncode, json.loads(done.stdout)["status"]) == (0, "acquired")


def intervals(log_path):
    """[(enter_ns, exit_ns, name)] from MAINTENANCE_LOG records."""
    open_bodies, spans = {}, []
    with open(log_path) as log:
        for line in log:
            kind, name, pid, stamp = line.split()
            if kind == "enter":
                open_bodies[pid] = int(stamp)
            else:
                spans.append((open_bodies.pop(pid), int(stamp), name))
    assert not open_bodies, "a body entered and never left"
    return sorted(spans)


def assert_exclusive(spans):
    for earlier, later in zip(spans, spans[1:]):
        assert earlier[1] <= later[0], f"overlap: {earlier} and {later}"


def test_exclusion_checker_rejects_an_overlap(tmp_path):
    log = tmp_path / "overlap.log"
    log.write_text("enter a 1 10\nenter b 2 15\nexit a 1 20\nexit b 2 30\n")
    with pytest.raises(AssertionError, match="overlap"):
        assert_exclusive(intervals(log))


def test_programs_storm_excludes(etcd_url, bin_dir, tmp_path):
    log = tmp_path / "bodies.log"
    env = dict(os.environ, LEASE_IMPLEMENTATION="etcd", LEASE_ETCD_ENDPOINTS=etcd_url,
               HEAVY_MAINTENANCE_LEASE_PATH=str(tmp_path / "lease.json"), MAINTENANCE_BODY="sleep",
               MAINTENANCE_SLEEP_MS="30", MAINTENANCE_LOG=str(log))
    env.pop("NEO_HEAVY_MAINTENANCE_LEASE_INHERITED_TOKEN", None)
    children = [subprocess.Popen([os.path.join(bin_dir, name)], env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL) for name in PROGRAMS * 3]
    codes = [child.wait(timeout=60) for child in children]
    assert all(code == 0 for code in codes), codes
    spans = intervals(log)
    assert spans, "no body ran"
    assert_exclusive(spans)


def test_cli_options_select_the_cluster(etcd_url, bin_dir, tmp_path):
    env = {key: value for key, value in os.environ.items()
           if key not in ("LEASE_IMPLEMENTATION", "LEASE_ETCD_ENDPOINTS", "LEASE_ETCD_KEY")}
    lease = [os.path.join(bin_dir, "lease")]
    common = ["--backend", "etcd", "--endpoints", etcd_url, "--key", "/test/cli-options", "--json"]
    done = subprocess.run(lease + ["acquire", "--owner", "cli", *common], env=env, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    token = json.loads(done.stdout)["lease"]["token"]
    # The same key through another lease path: the key option wins over the path.
    seen = subprocess.run(lease + ["inspect", "--lease", str(tmp_path / "other.json"), *common], env=env,
                          capture_output=True, text=True, timeout=30)
    assert json.loads(seen.stdout)["lease"]["token"] == token
    done = subprocess.run(lease + ["release", "--token", token, *common], env=env, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    done = subprocess.run(lease + ["inspect", "--endpoints", "", "--json"], env=env, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 64 and "must not be empty" in done.stderr
