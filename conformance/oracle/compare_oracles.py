#!/usr/bin/python3
"""Both oracles on a sample of campaigns of every registered implementation.

    compare_oracles.py LEASESIM [--seeds A..B] [--pct-seeds A..B] [--scenarios yes|no] [--out DIR]

For each implementation `LEASESIM --list-impls` names (one the simulator refuses,
such as a lease kept outside its world, is listed as not simulated), it runs the
seeds with `--history` (POS schedules, the default, then PCT schedules, each range one
`--keep-going` campaign, then every scenario of
fixtures/scenarios/ on its first seed, all in one leasesim), going on after each violating seed, and checks
every recorded run with check_history.py --compare. Exit 1 when the two oracles
disagree on any run (or a campaign could not be recorded), else 0. One line per
implementation: runs, agreements, runs not compared (verdicts the second oracle does
not judge), violations found by the second oracle only (what the first does not check).
"""
import os
import pathlib
import re
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))
import check_history  # noqa: E402


def seed_range(text):
    match = re.fullmatch(r"(\d+)\.\.(\d+)", text)
    if not match:
        raise SystemExit(f"compare_oracles.py: bad seed range {text!r} (A..B)")
    return int(match.group(1)), int(match.group(2))


def run_into(history, argv):
    """Runs leasesim's argv with --history to a part file, then appends that to history.
    None, or why the runs could not be recorded."""
    part = pathlib.Path(str(history) + ".part")
    done = subprocess.run(argv + ["--history", str(part)], cwd=REPO, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=600)
    if part.exists():
        with open(history, "ab") as sink, open(part, "rb") as source:
            sink.write(source.read())
        part.unlink()
    if done.returncode not in (0, 1):
        return f"exit {done.returncode}: {done.stdout.strip()[-300:]}"
    return None


def record(leasesim, impl, history, extra, first, last):
    """Runs seeds first..last into history in one campaign that goes on after each
    violating seed (--keep-going). None, or why the campaign could not be recorded."""
    return run_into(history, [leasesim, "--impl", impl, "--seeds", f"{first}..{last}", "--keep-going", "--no-shrink",
                              "--quiet"] + extra)


def scenario_runs(leasesim, impl, history):
    """Every scenario's first seed into history, in one leasesim (--scenario given once per
    file: one campaign each in turn). None, or why they could not be recorded."""
    argv = [leasesim, "--impl", impl, "--seed", "1", "--no-shrink", "--quiet"]
    for scenario in sorted((REPO / "fixtures" / "scenarios").glob("*.scn")):
        argv += ["--scenario", str(scenario)]
    return run_into(history, argv)


def first_oracle_knows(leasesim):
    """The second-only invariants the simulator checks too: those its `--invariant
    NAME` (issue 11's hunt for one invariant) accepts, once that option exists. From
    then on a run in which only one oracle finds them is a disagreement."""
    def accepted(name):
        done = subprocess.run([leasesim, "--impl", "lease", "--seed", "1", "--quiet", "--invariant", name], cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
        return done.returncode in (0, 1)
    if not accepted("exclusion"):
        return set()
    return {name for name in check_history.SECOND_ONLY if accepted(name)}


def implementations(leasesim):
    listing = subprocess.run([leasesim, "--list-impls"], cwd=REPO, stdout=subprocess.PIPE, text=True, check=True)
    return [line.split()[0] for line in listing.stdout.splitlines() if line.strip()]


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 64
    leasesim = argv[1]
    options = dict(zip(argv[2::2], argv[3::2]))
    if options.get("--scenarios", "yes") not in ("yes", "no"):
        raise SystemExit(f"compare_oracles.py: --scenarios takes yes or no, not {options['--scenarios']!r}")
    random_seeds = seed_range(options.get("--seeds", "1..300"))
    pct_seeds = seed_range(options.get("--pct-seeds", "1..100"))
    out = pathlib.Path(options.get("--out", REPO / "build" / "oracle2"))
    out.mkdir(parents=True, exist_ok=True)
    failed = False
    knows = first_oracle_knows(leasesim)
    print(f"oracle2: compared: {', '.join(check_history.COMMON + tuple(sorted(knows)))}; second oracle only: "
          f"{', '.join(sorted(set(check_history.SECOND_ONLY) - knows)) or 'none'}")
    totals = dict(runs=0, agree=0, disagree=0, skip=0)
    # Every implementation alone, then lease beside the original's models (a
    # mixed run: both oracles blame only the implementation under test).
    campaigns = [(impl, impl, []) for impl in implementations(leasesim)]
    campaigns.append(("lease+neo-v1+neo-v2", "lease", ["--mix", "neo-v1,neo-v2", "--drop", "inode-reuse"]))
    for name, impl, extra in campaigns:
        history = out / f"{name}.jsonl"
        if history.exists():
            history.unlink()
        probe = subprocess.run([leasesim, "--impl", impl, "--seed", "1", "--quiet"], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
        if probe.returncode not in (0, 1):
            print(f"oracle2: {impl:26} not simulated: {probe.stdout.strip().splitlines()[-1][:120]}")
            continue
        problem = record(leasesim, impl, history, extra, *random_seeds) or \
            record(leasesim, impl, history, ["--strategy", "pct"] + extra, *pct_seeds)
        if problem:
            print(f"oracle2: {impl:26} FAILED to record a campaign: {problem}")
            failed = True
            continue
        if not extra and options.get("--scenarios", "yes") == "yes":
            problem = scenario_runs(leasesim, impl, history)
            if problem:
                print(f"oracle2: {impl:26} FAILED to record the scenarios: {problem}")
                failed = True
                continue
        runs = [check_history.Run(header).judge(records) for header, records in check_history.read_runs(history)]
        tally = dict(agree=0, disagree=0, skip=0)
        second_only, both = {}, {}
        for run in runs:
            verdict, why = check_history.compare(run, knows)
            tally[verdict] += 1
            if verdict == "agree" and why != "none":
                both[why] = both.get(why, 0) + 1
            for invariant, _, _ in run.findings:
                if invariant in check_history.SECOND_ONLY and invariant not in knows and run.verdict != invariant:
                    second_only[invariant] = second_only.get(invariant, 0) + 1
            if verdict == "disagree":
                failed = True
                print(f"oracle2: {name}: DISAGREE: {check_history.describe(run.header)}: {why}")
                print(f"    replay: {leasesim} --impl {impl} {' '.join(extra)} --seed {run.header.get('seed')} --history FILE "
                      f"(knobs: {run.header.get('knobs')})")
        found = " ".join(f"{name}={count}" for name, count in sorted(both.items())) or "none"
        suffix = "".join(f", {invariant} (second oracle only) in {count}"
                         for invariant, count in sorted(second_only.items()))
        races = sum(run.model_races for run in runs)
        suffix += f", model races counted {races}" if races else ""
        print(f"oracle2: {name:26} {len(runs):5} runs: {tally['agree']} agree (violations both found: {found}), "
              f"{tally['disagree']} disagree, {tally['skip']} not compared{suffix}")
        totals["runs"] += len(runs)
        for key in tally:
            totals[key] += tally[key]
    print(f"oracle2: {totals['runs']} runs: {totals['agree']} agree, {totals['disagree']} disagree, "
          f"{totals['skip']} not compared (verdicts the second oracle does not judge)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
