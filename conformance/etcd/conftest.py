"""A real single-member etcd for the etcd backend's suite (etcd_member.py):
free loopback ports, readiness from etcd's own log line confirmed by /health,
stopped at the end. Without /usr/bin/etcd the suite is skipped with one line.
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import etcd_member  # noqa: E402


@pytest.fixture(scope="session")
def etcd_url():
    if not etcd_member.installed():
        pytest.skip(etcd_member.SKIP_LINE)
    try:
        member = etcd_member.Member()
    except RuntimeError as error:
        pytest.fail(str(error))
    try:
        yield member.url
    finally:
        member.stop()


@pytest.fixture
def bin_dir():
    return os.environ.get("CONFORMANCE_BIN", "build/bin")
