"""The second oracle's checker must name each broken behaviour in a hand-made
history, pass the clean ones, and --compare must fail when the first oracle's
verdict misses what the history shows (fixtures: make_fixtures.py)."""
import pathlib
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
CHECK = [sys.executable, str(HERE / "check_history.py")]


def check(*arguments):
    return subprocess.run(CHECK + [str(argument) for argument in arguments], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=60)


@pytest.mark.parametrize("name, invariant", [
    ("exclusion", "exclusion"),
    ("foreign-release", "no-foreign-release"),
    ("held-without-holder", "honest-deferral"),
    ("held-unknown-token", "honest-deferral"),
    ("fence", "fence"),
    ("double-acquisition", "double-acquisition"),
    ("expiry", "expiry"),
    ("inherited-renewal", "exclusion"),
])
def test_a_broken_history_fails_naming_its_invariant(name, invariant):
    done = check(FIXTURES / f"{name}.jsonl")
    assert done.returncode == 1, done.stdout
    assert f"VIOLATION {invariant} " in done.stdout, done.stdout


@pytest.mark.parametrize("name", ["clean", "ttl-takeover", "expiry-sane", "acquire-for-pid"])
def test_a_clean_history_passes(name):
    done = check(FIXTURES / f"{name}.jsonl")
    assert done.returncode == 0, done.stdout
    assert "0 violation(s)" in done.stdout


def test_compare_fails_when_the_first_oracle_missed_a_race():
    done = check("--compare", FIXTURES / "disagree.jsonl")
    assert done.returncode == 1 and "DISAGREE: first oracle: none; second: exclusion" in done.stdout, done.stdout


def test_compare_passes_when_both_name_the_same_violation():
    done = check("--compare", FIXTURES / "exclusion.jsonl")
    assert done.returncode == 0 and "1 agree, 0 disagree" in done.stdout, done.stdout


def test_a_cut_history_is_not_taken_for_agreement(tmp_path):
    """A history without the first oracle's verdict (cut short) disagrees."""
    cut = tmp_path / "cut.jsonl"
    cut.write_text("".join(line for line in (FIXTURES / "clean.jsonl").read_text().splitlines(True)
                           if '"verdict"' not in line))
    done = check("--compare", cut)
    assert done.returncode == 1 and "no verdict" in done.stdout, done.stdout


@pytest.mark.parametrize("lines, number, reason", [
    (['{"type": "run", "run": 1}', '{"type": "invoke"'], 2, "not JSON"),
    # Two lines that decode only together (the lines are decoded as one array first).
    (['{"type": "run", "run": 1}', '[1,', '2]'], 2, "not JSON"),
    (['3'], 1, "not a JSON object"),
])
def test_a_malformed_history_names_its_first_bad_line(tmp_path, lines, number, reason):
    history = tmp_path / "history.jsonl"
    history.write_text("\n".join(lines) + "\n")
    done = check(history)
    assert done.returncode != 0, done.stdout
    assert f"{history}:{number}: {reason}" in done.stdout, done.stdout
