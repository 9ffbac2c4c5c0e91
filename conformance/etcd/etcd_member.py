"""One real etcd member on free loopback ports, for the etcd backend's suites.

The data directory lives in a temporary directory; readiness is etcd's own
log line announcing that it serves clients (read from its output pipe, no
sleeps), confirmed by its /health endpoint; stop() ends it and removes the
directory.

As a program it runs a command with a member up and LEASE_ETCD_ENDPOINTS set
(exit 0 with one skip line when /usr/bin/etcd is not installed):

    python3 conformance/etcd/etcd_member.py -- build/tests/test_lease_lib etcd
"""
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import urllib.request

ETCD = shutil.which("etcd") or "/usr/bin/etcd"
START_TIMEOUT_S = 20
HEALTH_TIMEOUT_S = 2
SKIP_LINE = "etcd backend: /usr/bin/etcd is not installed (Debian package etcd-server)"


def installed():
    return os.access(ETCD, os.X_OK)


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


class Member:
    """A started, healthy etcd member (url), or RuntimeError naming its log."""

    def __init__(self):
        self.directory = tempfile.mkdtemp(prefix="lease-etcd-")
        client, peer = free_port(), free_port()
        self.url = f"http://127.0.0.1:{client}"
        self.log = open(os.path.join(self.directory, "etcd.log"), "wb")
        self.process = subprocess.Popen(
            [ETCD, "--name", "m0", "--data-dir", os.path.join(self.directory, "data"),
             "--listen-client-urls", self.url, "--advertise-client-urls", self.url,
             "--listen-peer-urls", f"http://127.0.0.1:{peer}",
             "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
             "--initial-cluster", f"m0=http://127.0.0.1:{peer}"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        ready = threading.Event()

        def drain():  # keeps etcd's pipe empty and signals readiness
            for line in self.process.stdout:
                self.log.write(line)
                if b"serving insecure client requests" in line:
                    ready.set()
            ready.set()  # EOF: etcd exited

        self.reader = threading.Thread(target=drain, daemon=True)
        self.reader.start()
        ready.wait(timeout=START_TIMEOUT_S)
        if self.process.poll() is not None or not healthy(self.url):
            name = self.log.name
            self.stop(keep=True)
            raise RuntimeError("etcd did not start; see " + name)

    def stop(self, keep=False):
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(timeout=10)
        self.reader.join(timeout=10)
        self.log.close()
        if not keep:
            shutil.rmtree(self.directory, ignore_errors=True)


def gateway(url, method, body):
    """One POST to etcd's v3 JSON gateway; returns the reply as JSON."""
    request = urllib.request.Request(f"{url}/v3/{method}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as reply:
        return json.load(reply)


def b64(data):
    return base64.b64encode(data if isinstance(data, bytes) else data.encode()).decode()


def key_of(lease_path):
    """The key the backend uses for a lease path (docs/spec.md section 10)."""
    return "/heavy-maintenance-lease/" + str(lease_path)


def get_value(url, key):
    """The key's value as bytes, None when absent."""
    kvs = gateway(url, "kv/range", {"key": b64(key)}).get("kvs") or []
    return base64.b64decode(kvs[0].get("value", "")) if kvs else None


def put_value(url, key, data, ttl_s=600):
    """Puts data at key under a fresh etcd lease of ttl_s seconds (a holder elsewhere)."""
    lease = gateway(url, "lease/grant", {"TTL": ttl_s})["ID"]
    gateway(url, "kv/put", {"key": b64(key), "value": b64(data), "lease": lease})


def main(argv):
    if "--" not in argv or argv.index("--") == len(argv) - 1:
        print("usage: etcd_member.py -- COMMAND [ARGS...]", file=sys.stderr)
        return 64
    command = argv[argv.index("--") + 1:]
    if not installed():
        print(SKIP_LINE)
        return 0
    member = Member()
    try:
        env = dict(os.environ, LEASE_ETCD_ENDPOINTS=member.url)
        return subprocess.run(command, env=env).returncode
    finally:
        member.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
