"""A real single-member etcd for the etcd backend's suite.

Free loopback ports are chosen at run time, the data directory lives in a
temporary directory; readiness is etcd's own log line announcing that it
serves clients (read from its output pipe, no sleeps), confirmed by its
/health endpoint; the member is stopped at the end. Without /usr/bin/etcd the suite is skipped with
one line.
"""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import urllib.request

import pytest

ETCD = shutil.which("etcd") or "/usr/bin/etcd"
START_TIMEOUT_S = 20
HEALTH_TIMEOUT_S = 2


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def healthy(url):
    try:
        with urllib.request.urlopen(url + "/health", timeout=HEALTH_TIMEOUT_S) as reply:
            return json.load(reply).get("health") == "true"
    except (OSError, ValueError):
        return False


@pytest.fixture(scope="session")
def etcd_url():
    if not os.access(ETCD, os.X_OK):
        pytest.skip("etcd backend: /usr/bin/etcd is not installed (Debian package etcd-server)")
    directory = tempfile.mkdtemp(prefix="lease-etcd-")
    client, peer = free_port(), free_port()
    url = f"http://127.0.0.1:{client}"
    log = open(os.path.join(directory, "etcd.log"), "wb")
    member = subprocess.Popen(
        [ETCD, "--name", "m0", "--data-dir", os.path.join(directory, "data"),
         "--listen-client-urls", url, "--advertise-client-urls", url,
         "--listen-peer-urls", f"http://127.0.0.1:{peer}",
         "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
         "--initial-cluster", f"m0=http://127.0.0.1:{peer}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    ready = threading.Event()

    def drain():  # keeps etcd's pipe empty and signals readiness
        for line in member.stdout:
            log.write(line)
            if b"serving insecure client requests" in line:
                ready.set()
        ready.set()  # EOF: etcd exited

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        ready.wait(timeout=START_TIMEOUT_S)
        if member.poll() is not None or not healthy(url):
            pytest.fail("etcd did not start; see " + log.name)
        yield url
    finally:
        member.terminate()
        member.wait(timeout=10)
        reader.join(timeout=10)
        log.close()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def bin_dir():
    return os.environ.get("CONFORMANCE_BIN", "build/bin")
