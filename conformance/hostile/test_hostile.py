"""The hostile corpus (fixtures/hostile/, expected.tsv) and hostile surroundings
built at test time, through `lease inspect`, `lease run` and a program.

Each case checks: the documented status; nothing valid removed; no link
followed (victims byte-for-byte unchanged); nothing written in the lease's
directory but the lease, its .lock and its .tmp; nothing blocks (every
process has a timeout). BIN (default build/bin) selects the build, so the
sanitizer gate runs the same cases over build/san/bin."""
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("BIN") or ROOT / "build" / "bin")
CORPUS = ROOT / "fixtures" / "hostile"
TIMEOUT_S = 20
RAW_BIDI = "\u202e"


def expectations():
    rows = []
    for line in (CORPUS / "expected.tsv").read_text().splitlines():
        if line and not line.startswith("#"):
            rows.append(tuple(line.split("\t")))
    return rows


def run(argv, lease_path, env=None):
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HEAVY_MAINTENANCE_LEASE_PATH": str(lease_path)}
    for name in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
        if name in os.environ:
            environment[name] = os.environ[name]
    environment.update(env or {})
    return subprocess.run(argv, env=environment, capture_output=True, text=True, errors="replace",
                          timeout=TIMEOUT_S, check=False)


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() and not path.is_symlink() else None


def snapshot(directory):
    """Every name in the directory with what it is, except the lease's own files."""
    return {entry.name: (entry.is_symlink(), entry.is_dir(), digest(entry)) for entry in directory.iterdir()}


def assert_only_lease_files_changed(before, after, lease_name):
    own = {lease_name, lease_name + ".lock", lease_name + ".tmp"}
    changed = {name for name in set(before) | set(after) if before.get(name) != after.get(name)} - own
    assert not changed, f"written outside the lease: {sorted(changed)}"


@pytest.mark.parametrize("name,status,action", expectations(), ids=[row[0] for row in expectations()])
@pytest.mark.parametrize("driver", ["lease-run", "program"])
def test_corpus_file(tmp_path, name, status, action, driver):
    lease_path = tmp_path / "lease.json"
    shutil.copyfile(CORPUS / name, lease_path)
    original = lease_path.read_bytes()
    done = run([str(BIN / "lease"), "inspect", "--json", "--lease", str(lease_path)], lease_path)
    assert done.returncode == {"active": 0, "stale": 2, "malformed": 3}[status], done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["status"] == status
    before = snapshot(tmp_path)
    if driver == "lease-run":
        done = run([str(BIN / "lease"), "run", "--owner", "hostile", "--lease", str(lease_path), "--", "true"],
                   lease_path)
        failed_code = 125
    else:
        done = run([str(BIN / "sandman")], lease_path)
        failed_code = 1
    after = snapshot(tmp_path)
    assert_only_lease_files_changed(before, after, lease_path.name)
    assert RAW_BIDI not in done.stdout + done.stderr, "a bidirectional control reached the terminal raw"
    if action == "defer":
        assert done.returncode == 0, done.stderr
        assert "Deferred: heavy-maintenance lease held by" in done.stdout
        assert lease_path.read_bytes() == original
    elif action == "recover":
        assert done.returncode == 0, done.stderr
        assert "Deferred" not in done.stdout
        assert not lease_path.exists()
    else:
        assert done.returncode == failed_code, done
        assert lease_path.read_bytes() == original


VICTIM_TEXT = b"a file that is not the lease and must never change\n"


def make_victim(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_bytes(VICTIM_TEXT)
    return victim


def test_huge_sparse_file_is_malformed_and_read_no_further(tmp_path):
    lease_path = tmp_path / "lease.json"
    with open(lease_path, "wb") as stream:
        stream.truncate(8 * 1024 * 1024 * 1024)  # 8 GiB, no blocks
    done = run([str(BIN / "lease"), "inspect", "--json", "--lease", str(lease_path)], lease_path)
    assert json.loads(done.stdout.splitlines()[-1])["status"] == "malformed"
    done = run([str(BIN / "lease"), "run", "--owner", "x", "--lease", str(lease_path), "--", "true"], lease_path)
    assert done.returncode == 0 and not lease_path.exists()


@pytest.mark.parametrize("kind", ["fifo", "symlink", "directory"])
def test_what_is_not_a_regular_file_is_unreadable_and_kept(tmp_path, kind):
    lease_path = tmp_path / "lease.json"
    victim = make_victim(tmp_path)
    if kind == "fifo":
        os.mkfifo(lease_path)
    elif kind == "symlink":
        lease_path.symlink_to(victim)
    else:
        lease_path.mkdir()
    before = snapshot(tmp_path)
    done = run([str(BIN / "lease"), "inspect", "--json", "--lease", str(lease_path)], lease_path)
    assert json.loads(done.stdout.splitlines()[-1])["status"] == "unreadable"
    done = run([str(BIN / "lease"), "run", "--owner", "x", "--lease", str(lease_path), "--", "true"], lease_path)
    assert done.returncode == 125, done
    done = run([str(BIN / "sandman")], lease_path)
    assert done.returncode == 1 and "❌" in done.stderr
    assert_only_lease_files_changed(before, snapshot(tmp_path), lease_path.name)
    assert victim.read_bytes() == VICTIM_TEXT
    assert os.path.lexists(lease_path)


def test_a_lease_hard_linked_to_a_victim_is_replaced_never_written_through(tmp_path):
    lease_path = tmp_path / "lease.json"
    victim = make_victim(tmp_path)
    os.link(victim, lease_path)  # not JSON: malformed, so it is taken over
    done = run([str(BIN / "lease"), "run", "--owner", "x", "--lease", str(lease_path), "--", "true"], lease_path)
    assert done.returncode == 0, done.stderr
    assert victim.read_bytes() == VICTIM_TEXT


def test_a_lock_file_hard_linked_to_a_victim_is_refused(tmp_path):
    lease_path = tmp_path / "lease.json"
    victim = make_victim(tmp_path)
    os.link(victim, str(lease_path) + ".lock")
    for argv, code in (([str(BIN / "lease"), "run", "--owner", "x", "--lease", str(lease_path), "--", "true"], 125),
                       ([str(BIN / "sandman")], 1)):
        done = run(argv, lease_path)
        assert done.returncode == code, done
        assert "more than one hard link" in done.stderr
    assert victim.read_bytes() == VICTIM_TEXT
    assert not lease_path.exists()


def test_another_users_live_lease_is_honoured_and_kept(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("chown to another user needs root")
    lease_path = tmp_path / "lease.json"
    shutil.copyfile(CORPUS / "duplicate-keys.json", lease_path)
    os.chown(lease_path, 65534, 65534)
    original = lease_path.read_bytes()
    done = run([str(BIN / "sandman")], lease_path)
    assert done.returncode == 0 and "Deferred" in done.stdout
    assert lease_path.read_bytes() == original and lease_path.stat().st_uid == 65534
