"""The wrapper against hostile surroundings (issue: no body outlives its lease;
docs/spec.md sections 9.2 and 9.7): a hard-linked lock file, a read-only file
system, a directory the caller cannot write. Real processes, no sleeps."""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import LEASE_BIN, TIMEOUT_S, clean_env, single_json

SANDMAN = str(Path(LEASE_BIN).parent / "sandman")
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def run(argv, env=None, prefix=()):
    return subprocess.run([*prefix, *argv], env=clean_env(env), capture_output=True, text=True,
                          timeout=TIMEOUT_S, check=False)


def test_hard_linked_lock_file_is_refused_and_its_victim_untouched(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious bytes that must survive\n" * 4)
    before = victim.read_bytes()
    lease_path = tmp_path / "lease.json"
    os.link(victim, str(lease_path) + ".lock")
    done = run([LEASE_BIN, "acquire", "--owner", "x", "--lease", str(lease_path)])
    assert done.returncode == 125, done
    assert "more than one hard link" in done.stderr
    assert "refusing to lock or write it" in done.stderr
    assert victim.read_bytes() == before
    assert not lease_path.exists()


def require_root(what):
    if os.geteuid() != 0:
        pytest.skip(f"{what} needs root (mount, setpriv)")


@pytest.fixture
def read_only_mount(tmp_path):
    """A small tmpfs that the test can remount read-only (root only)."""
    require_root("a read-only mount")
    point = tmp_path / "ro"
    point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(point)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"mount refused here: {mounted.stderr.strip()}")
    yield point
    subprocess.run(["umount", "-l", str(point)], check=False)


def test_live_holder_on_a_read_only_file_system_still_defers(read_only_mount):
    lease_path = read_only_mount / "lease.json"
    # A live holder: this test process.
    done = run([LEASE_BIN, "acquire", "--owner", "holder", "--pid", str(os.getpid()), "--lease", str(lease_path)])
    assert done.returncode == 0, done.stderr
    before = lease_path.read_bytes()
    assert subprocess.run(["mount", "-o", "remount,ro", str(read_only_mount)], check=False).returncode == 0
    done = run([LEASE_BIN, "acquire", "--owner", "x", "--lease", str(lease_path)])
    assert done.returncode == 75, done
    done = run([LEASE_BIN, "run", "--owner", "x", "--lease", str(lease_path), "--", "true"])
    assert done.returncode == 0, done
    assert "Deferred: heavy-maintenance lease held by 'holder'" in done.stdout
    done = run([LEASE_BIN, "inspect", "--json", "--lease", str(lease_path)])
    assert single_json(done.stdout)["status"] == "active"
    done = run([SANDMAN], env={"HEAVY_MAINTENANCE_LEASE_PATH": str(lease_path)})
    assert done.returncode == 0, done
    assert "Deferred: heavy-maintenance lease held by 'holder'" in done.stdout
    assert lease_path.read_bytes() == before


def test_stale_lease_on_a_read_only_file_system_fails_closed(read_only_mount):
    lease_path = read_only_mount / "lease.json"
    done = run([LEASE_BIN, "acquire", "--owner", "gone", "--pid", "2147483646", "--lease", str(lease_path)])
    assert done.returncode == 0, done.stderr
    assert subprocess.run(["mount", "-o", "remount,ro", str(read_only_mount)], check=False).returncode == 0
    done = run([LEASE_BIN, "acquire", "--owner", "x", "--lease", str(lease_path)])
    assert done.returncode == 125, done
    assert "Read-only file system" in done.stderr


@pytest.fixture
def shared_directory():
    """A root-owned directory that other users may enter but not write
    (pytest's own tmp_path is private to root)."""
    require_root("running as another user")
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed")
    directory = Path(tempfile.mkdtemp(prefix="lease-shared-"))
    os.chmod(directory, 0o755)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.parametrize("sidecar_exists", [True, False])
def test_a_caller_without_write_access_defers_to_a_live_holder(shared_directory, sidecar_exists):
    directory = shared_directory
    lease_path = directory / "lease.json"
    done = run([LEASE_BIN, "acquire", "--owner", "holder", "--pid", str(os.getpid()), "--lease", str(lease_path)])
    assert done.returncode == 0, done.stderr
    if not sidecar_exists:
        os.unlink(str(lease_path) + ".lock")
    os.chmod(directory, 0o755)  # root's directory: nobody may not write it
    before = lease_path.read_bytes()
    done = run([LEASE_BIN, "acquire", "--owner", "x", "--lease", str(lease_path)], prefix=NOBODY)
    assert done.returncode == 75, done
    assert lease_path.read_bytes() == before
