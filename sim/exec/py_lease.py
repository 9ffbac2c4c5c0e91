#!/usr/bin/python3
"""py_lease.py: a small Python lease adapter for the --exec tests (adapter
protocol of conformance/README.md, succeed body only).

PY_LEASE_MODE=racy follows the original algorithm's published steps with its
races (O_EXCL create then write, pid check, remove-then-create takeover,
inspect-then-remove release). PY_LEASE_MODE=locked (default) does the same
steps under an flock on a sidecar file, which closes those races.
PY_LEASE_MODE=wedge (a broken adapter for the oracle's test) records its
parent's pid as the holder and never releases: a lease nobody can recover.
PY_LEASE_MODE=liar (another broken adapter) defers to a holder that never was."""
import datetime
import fcntl
import json
import os
import sys
import uuid

TTL_MS = 21600000


def now_iso(offset_ms=0):
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(milliseconds=offset_ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (moment.microsecond // 1000)


def log(kind, name):
    path = os.environ.get("MAINTENANCE_LOG")
    if path:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.write(fd, ("%s %s %d 0\n" % (kind, name, os.getpid())).encode())
        os.close(fd)


def read_lease(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None
    except ValueError:
        return {}


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def stale(lease):
    if not isinstance(lease, dict) or "acquiredAt" not in lease:
        return True
    pid = lease.get("pid")
    if isinstance(pid, int) and not alive(pid):
        return True
    return lease.get("expiresAt", "") <= now_iso()


def create(path, name, token):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    holder = os.getppid() if os.environ.get("PY_LEASE_MODE") == "wedge" else os.getpid()
    record = {"owner": name, "reason": "manual-cli", "pid": holder, "token": token,
              "acquiredAt": now_iso(), "staleAfterMs": TTL_MS, "expiresAt": now_iso(TTL_MS)}
    os.write(fd, json.dumps(record).encode())
    os.close(fd)


def acquire(path, name, token):
    for _ in range(2):
        try:
            create(path, name, token)
            return "acquired", None
        except FileExistsError:
            lease = read_lease(path)
            if lease is None:
                continue
            if not stale(lease):
                return "held", lease
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
    return "held", read_lease(path) or {}


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else "adapter"
    path = os.environ["HEAVY_MAINTENANCE_LEASE_PATH"]
    locked = os.environ.get("PY_LEASE_MODE", "locked") != "racy"
    token = str(uuid.uuid4())
    if os.environ.get("PY_LEASE_MODE") == "liar":
        read_lease(path)
        print("⏸️  Deferred: heavy-maintenance lease held by 'nobody' (reason='manual-cli', pid=999999, "
              "acquiredAt=2020-01-01T00:00:00.000Z).")
        return 0
    guard = None
    if locked:
        guard = os.open(path + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(guard, fcntl.LOCK_EX)
    status, lease = acquire(path, name, token)
    if guard is not None:
        fcntl.flock(guard, fcntl.LOCK_UN)
    if status == "held":
        print("⏸️  Deferred: heavy-maintenance lease held by '%s' (reason='%s', pid=%s, acquiredAt=%s)."
              % (lease.get("owner"), lease.get("reason"), lease.get("pid"), lease.get("acquiredAt")))
        return 0
    print("🔒 %s: heavy-maintenance lease %s; running." % (name, status))
    log("enter", name)
    log("exit", name)
    if guard is not None:
        fcntl.flock(guard, fcntl.LOCK_EX)
    lease = read_lease(path)
    if isinstance(lease, dict) and lease.get("token") == token and os.environ.get("PY_LEASE_MODE") != "wedge":
        os.unlink(path)
    print("✅ %s: done; heavy-maintenance lease released." % name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
