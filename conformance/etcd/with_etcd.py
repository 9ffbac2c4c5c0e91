"""Runs a command with a real etcd on loopback named in $LEASE_TEST_ETCD_ENDPOINTS
(etcd_member.py: started, waited for by its log line and /health, stopped after).
Exits with the command's status; without /usr/bin/etcd prints one skip line and exits 0.
Every suite the command runs uses that one member (etcd_member.member() reuses it).

    python3 conformance/etcd/with_etcd.py build/tests/test_lease_lib
    python3 conformance/etcd/with_etcd.py make test-etcd-suites
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import etcd_member  # noqa: E402


def main(argv):
    if not argv:
        print("usage: with_etcd.py COMMAND [ARG...]", file=sys.stderr)
        return 64
    try:
        with etcd_member.member() as url:
            return subprocess.run(argv, env=dict(os.environ, LEASE_TEST_ETCD_ENDPOINTS=url)).returncode
    except etcd_member.NotInstalled as missing:
        print(f"SKIP {' '.join(argv)}: {missing}")
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
