"""A real single-member etcd for the etcd backend's suite (conformance/etcd/etcd_member.py):
started on free loopback ports, waited for by its log line and /health, stopped at the end.
Without /usr/bin/etcd the suite is skipped with one line.
"""
import os

import pytest

import etcd_member


@pytest.fixture(scope="session")
def etcd_url():
    try:
        with etcd_member.member() as url:
            yield url
    except etcd_member.NotInstalled as missing:
        pytest.skip(str(missing))


@pytest.fixture
def bin_dir():
    return os.environ.get("CONFORMANCE_BIN", "build/bin")
