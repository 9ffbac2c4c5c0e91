"""The program suite (conformance/pytest) on the etcd backend.

With LEASE_IMPLEMENTATION=etcd and LEASE_ETCD_ENDPOINTS set (make test-etcd:
etcd_member.py starts the member), conformance/pytest/conftest.py takes from
here:

* lease_path(path): the runner's lease path, whose bytes are the etcd key's
  value (docs/spec.md section 10: key = "/heavy-maintenance-lease/" + path).
  Reading it reads the key; writing it puts the bytes at the key under a
  fresh etcd lease, as a holder on another host would have written them.
* SKIPPED: the cases that differ by nature, one reason each (docs/etcd.md).
"""
import os
import pathlib

import etcd_member

SEED_TTL_S = 600

PID = "dead holders are found by the etcd lease's expiry, never by a pid probe (docs/spec.md section 10)"
TORN = "a torn or empty file cannot happen: an etcd value is written whole; a non-lease value stays held until expiry"
EXPIRY = "expiry is judged by etcd's clock, not by expiresAt in the value (editing it does not expire the lease)"
PATHS = "file-system obstacles at the lease path: the path only names the etcd key"
PERMISSIONS = "file permissions and another user's pid: no file and no pid probe on this backend"

SKIPPED = {
    "test_stale_pid_lease_is_recovered_with_one_stderr_line": PID,
    "test_holder_killed_mid_body_is_recovered_at_once": PID,
    "test_body_crash_leaves_lease_that_next_program_recovers": PID,
    "test_reused_pid_is_reported_and_own_implementation_recovers": PID,
    "test_reclaimers_of_one_stale_lease_exactly_one_runs": PID,
    "test_malformed_lease_is_recovered": TORN,
    "test_release_race_outgoing_holder_leaves_successor_lease": EXPIRY,
    "test_lease_error_fails_closed_naming_path": PATHS,
    "test_lease_of_live_process_of_another_user_is_alive": PERMISSIONS,
    "test_unreadable_lease_file_of_another_user_fails_closed_untouched": PERMISSIONS,
}


def active():
    return os.environ.get("LEASE_IMPLEMENTATION") == "etcd"


def endpoint():
    endpoints = os.environ.get("LEASE_ETCD_ENDPOINTS", "")
    if not endpoints:
        raise RuntimeError("LEASE_IMPLEMENTATION=etcd needs LEASE_ETCD_ENDPOINTS (make test-etcd sets it)")
    return endpoints.split(",")[0]


class EtcdLeasePath(type(pathlib.Path())):
    """A lease path whose contents live at its etcd key."""

    def read_bytes(self):
        data = etcd_member.get_value(endpoint(), etcd_member.key_of(self))
        if data is None:
            raise FileNotFoundError(str(self))
        return data

    def read_text(self, encoding=None, errors=None):
        return self.read_bytes().decode(encoding or "utf-8", errors or "strict")

    def write_bytes(self, data):
        etcd_member.put_value(endpoint(), etcd_member.key_of(self), bytes(data), SEED_TTL_S)
        return len(data)

    def write_text(self, data, encoding=None, errors=None, newline=None):
        return self.write_bytes(data.encode(encoding or "utf-8", errors or "strict"))

    def exists(self):
        return etcd_member.get_value(endpoint(), etcd_member.key_of(self)) is not None


def lease_path(path):
    return EtcdLeasePath(path)


def skip_reason(name):
    return SKIPPED.get(name)
