"""leasesim --history records and changes nothing: the trace and the output of a seed
are byte for byte the same with and without it, and every run it writes is whole (a
header first, a verdict last, the verdict the command printed)."""
import json
import os
import pathlib
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent.parent
LEASESIM = os.environ.get("LEASESIM", str(REPO / "build" / "bin" / "leasesim"))


def run(tmp_path, name, impl, seed, history):
    trace = tmp_path / f"{name}.trace.jsonl"
    argv = [LEASESIM, "--impl", impl, "--seed", str(seed), "--trace", str(trace), "--quiet"]
    if history:
        argv += ["--history", str(tmp_path / f"{name}.history.jsonl")]
    done = subprocess.run(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    output = "\n".join(line for line in done.stdout.splitlines() if "steps/s" not in line)
    return done.returncode, output, trace.read_bytes()


@pytest.mark.parametrize("impl, seed", [("lease", 7), ("neo-v1", 1), ("neo-v2", 1), ("zoo-release-no-token", 3)])
def test_history_changes_no_step_draw_or_output(tmp_path, impl, seed):
    if not pathlib.Path(LEASESIM).exists():
        pytest.skip(f"{LEASESIM} is not built (make)")
    plain = run(tmp_path, "plain", impl, seed, history=False)
    recorded = run(tmp_path, "recorded", impl, seed, history=True)
    assert plain == recorded, "--history changed the run's trace, output or exit status"
    records = [json.loads(line) for line in (tmp_path / "recorded.history.jsonl").read_text().splitlines()]
    assert records[0]["type"] == "run" and records[-1]["type"] == "verdict"
    verdict = records[-1]["violation"]
    assert (verdict == "none") == (plain[0] == 0), f"the recorded verdict {verdict} is not the command's"
    assert verdict == "none" or verdict in plain[1], f"the output does not name the recorded {verdict}"
