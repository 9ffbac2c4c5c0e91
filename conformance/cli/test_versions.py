"""Every program answers --version (and -V) with its name and the library's
version, exits 0 and writes nothing else (the conventions of flock(1))."""
import re
import subprocess
from pathlib import Path

import pytest

from conftest import LEASE_BIN

BIN = Path(LEASE_BIN).parent
VERSION = re.search(r'LEASE_VERSION_STRING "([^"]+)"', (Path(__file__).resolve().parents[2] / "src" / "lease.h")
                    .read_text())[1]


@pytest.mark.parametrize("program", ["lease", "leasesim", "sandman", "kbSync", "backup", "syncGithubWorkflow"])
@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(program, flag):
    done = subprocess.run([str(BIN / program), flag], capture_output=True, text=True, timeout=10, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(program) and VERSION in done.stdout
    assert done.stderr == ""
