"""A real single-member etcd on loopback for the suites that run on the etcd backend.

Free loopback ports are chosen at run time and the data directory is a temporary directory, in
/dev/shm (memory) when there is one: no test restarts the member or asks its writes to outlive it,
and etcd's fsyncs to a disk cost about a fifth of its CPU.
Readiness is etcd's own log line saying it serves clients (read from its output pipe, no sleeps),
confirmed by its /health endpoint. The member is stopped at the end. Used by conformance/etcd and
by conformance/pytest under LEASE_TEST_BACKEND=etcd.

When $LEASE_TEST_ETCD_ENDPOINTS already names a member (with_etcd.py sets it: make test-etcd runs
all its suites on the one member it starts), that member is used and left running; the suites' keys
are their tests' own temporary paths (and one key of test_etcd.py's), so they never meet on a key.
"""
import base64
import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import urllib.request

ETCD = shutil.which("etcd") or "/usr/bin/etcd"
START_TIMEOUT_S = 20
REQUEST_TIMEOUT_S = 2
SCRATCH = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
MISSING_LINE = "etcd backend: /usr/bin/etcd is not installed (Debian package etcd-server)"
SHARED = "LEASE_TEST_ETCD_ENDPOINTS"


class NotInstalled(Exception):
    pass


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def healthy(url):
    try:
        with urllib.request.urlopen(url + "/health", timeout=REQUEST_TIMEOUT_S) as reply:
            return json.load(reply).get("health") == "true"
    except (OSError, ValueError):
        return False


def call(url, method, body):
    """One request to etcd's v3 JSON gateway (POST /v3/METHOD)."""
    request = urllib.request.Request(f"{url}/v3/{method}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as reply:
        return json.load(reply)


def b64(data):
    return base64.b64encode(data if isinstance(data, bytes) else data.encode()).decode()


def get_value(url, key):
    """The key's value as bytes, None when absent."""
    kvs = call(url, "kv/range", {"key": b64(key)}).get("kvs") or []
    return base64.b64decode(kvs[0].get("value", "")) if kvs else None


def put_value(url, key, data):
    """Puts bytes at key with no etcd lease attached (as an operator's etcdctl put would)."""
    call(url, "kv/put", {"key": b64(key), "value": b64(data)})


@contextlib.contextmanager
def member():
    """Yields the client URL of a started, healthy member; raises NotInstalled without etcd.
    A member named by $LEASE_TEST_ETCD_ENDPOINTS is used instead, and not stopped."""
    shared = os.environ.get(SHARED, "").split(",")[0]
    if shared:
        if not healthy(shared):
            raise RuntimeError(f"${SHARED} names {shared}, which is not a healthy etcd")
        yield shared
        return
    if not os.access(ETCD, os.X_OK):
        raise NotInstalled(MISSING_LINE)
    directory = tempfile.mkdtemp(prefix="lease-etcd-", dir=SCRATCH)
    client, peer = free_port(), free_port()
    url = f"http://127.0.0.1:{client}"
    log = open(os.path.join(directory, "etcd.log"), "wb")
    process = subprocess.Popen(
        [ETCD, "--name", "m0", "--data-dir", os.path.join(directory, "data"),
         "--listen-client-urls", url, "--advertise-client-urls", url,
         "--listen-peer-urls", f"http://127.0.0.1:{peer}",
         "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
         "--initial-cluster", f"m0=http://127.0.0.1:{peer}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    ready = threading.Event()

    def drain():  # keeps etcd's pipe empty and signals readiness
        for line in process.stdout:
            log.write(line)
            if b"serving insecure client requests" in line:
                ready.set()
        ready.set()  # EOF: etcd exited

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        ready.wait(timeout=START_TIMEOUT_S)
        if process.poll() is not None or not healthy(url):
            raise RuntimeError("etcd did not start; see " + log.name)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        reader.join(timeout=10)
        log.close()
        shutil.rmtree(directory, ignore_errors=True)
