#!/usr/bin/python3
"""Benchmark figures: `name value unit` lines.

--extract LOG   prints the figures found in a benchmark's output: every line
                of the form `name value unit`, plus the leasesim --bench
                prose lines (steps/s, seeds/s, seeds to the first violation),
                turned into figures until leasesim prints them itself.
FIGURES         compares with --baseline. Only figures that are repeatable on
                a shared, noisy machine are judged: ratios, instruction
                counts, and counts of seeds or schedules; a figure is
                flagged when value > baseline * (1 + tolerance) (or below
                baseline / (1 + tolerance) when its line says `higher`).
                Absolute times and rates (ms, s, .../s) are printed beside
                their baseline as information, never flagged (a loaded
                machine halves them with no code change).
                Exit 1 when a figure is flagged (or a benchmark failed),
                0 otherwise. --update rewrites the baseline from FIGURES.
"""
import argparse
import re
import sys

FIGURE = re.compile(r"^([A-Za-z_][A-Za-z0-9_.:-]*) (-?[0-9][0-9.eE+-]*) (\S+)$")
SIM_RATE = re.compile(r"^(scheduler\+world only|default campaign, impl (\S+)).*?([0-9.]+) steps/s\s+([0-9.]+) seeds/s")
SIM_EXHAUSTIVE = re.compile(r"^exhaustive, impl (\S+), .*?: (\d+) schedules, (\d+) steps, ([0-9.]+)s, proven")
SIM_FIRST = re.compile(r"^\s+(neo-v\d)\s+(random|pct|exhaustive)\s+(\d+) (seeds|schedules)\s+([0-9.]+)s\s+(\S.*)$")


def extract(path):
    figures = []
    with open(path, encoding="utf-8", errors="replace") as stream:
        for line in stream:
            line = line.rstrip("\n")
            match = FIGURE.match(line.strip())
            if match:
                figures.append(f"{match[1]} {match[2]} {match[3]}")
                continue
            match = SIM_RATE.match(line)
            if match:
                scope = "sim_null" if match[2] is None else f"sim_{match[2].replace('-', '_')}"
                figures.append(f"{scope}_steps_per_second {match[3]} steps/s")
                figures.append(f"{scope}_seeds_per_second {match[4]} seeds/s")
                continue
            match = SIM_EXHAUSTIVE.match(line)
            if match:
                impl = match[1].replace("-", "_")
                figures.append(f"sim_{impl}_exhaustive_proof_seconds {match[4]} s")
                figures.append(f"sim_{impl}_exhaustive_proof_schedules {match[2]} schedules")
                continue
            match = SIM_FIRST.match(line)
            if match and match[6] != "none found":
                impl = match[1].replace("-", "_")
                figures.append(f"sim_{impl}_{match[2]}_{match[4]}_to_first_violation {match[3]} {match[4]}")
    return figures


def read_figures(path):
    figures = {}
    with open(path, encoding="utf-8") as stream:
        for line in stream:
            words = line.split()
            if len(words) >= 3 and not line.startswith("#"):
                figures[words[0]] = (float(words[1]), words[2], words[3] if len(words) > 3 else None)
    return figures


INFORMATIONAL_UNITS = ("ms", "s", "us", "ns")


def informational(unit, direction):
    """Wall-clock figures: printed, not judged (see the module comment)."""
    if direction in ("higher", "lower"):
        return False
    return unit in INFORMATIONAL_UNITS or unit.endswith("/s")


def better_when_higher(unit, direction):
    if direction in ("higher", "lower"):
        return direction == "higher"
    return unit.endswith("/s")


def compare(options):
    current = read_figures(options.figures)
    try:
        baseline = read_figures(options.baseline)
    except FileNotFoundError:
        baseline = {}
    if options.update:
        with open(options.baseline, "w", encoding="utf-8") as stream:
            stream.write("# name value unit [higher|lower]: make bench compares with these (ci/bench.sh)\n")
            for name, (value, unit, _) in sorted(current.items()):
                if unit != "flag":
                    direction = baseline.get(name, (0, "", None))[2]
                    stream.write(f"{name} {value:.6g} {unit}{' ' + direction if direction else ''}\n")
        print(f"bench: baseline {options.baseline} rewritten with {len(current)} figures")
        return 0
    flagged = 0
    for name, (value, unit, _) in sorted(current.items()):
        if unit == "flag":
            print(f"FLAG   {name}")
            flagged += 1
            continue
        if name not in baseline:
            print(f"new    {name} {value:g} {unit} (no baseline)")
            continue
        base, _, direction = baseline[name]
        if informational(unit, direction):
            change = (value - base) / base * 100 if base else 0.0
            print(f"info   {name} {value:g} {unit} (baseline {base:g}, {change:+.1f}%; wall time, not judged)")
            continue
        higher = better_when_higher(unit, direction)
        limit = base / (1 + options.tolerance) if higher else base * (1 + options.tolerance)
        slower = value < limit if higher else value > limit
        change = (value - base) / base * 100 if base else 0.0
        verdict = "SLOWER" if slower else "ok    "
        flagged += slower
        print(f"{verdict} {name} {value:g} {unit} (baseline {base:g}, {change:+.1f}%, "
              f"{'higher' if higher else 'lower'} is better)")
    for name in sorted(set(baseline) - set(current)):
        print(f"gone   {name} (in the baseline, not measured)")
    print(f"bench: {len(current)} figures, {flagged} flagged (tolerance {options.tolerance:.0%})")
    return 1 if flagged else 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--extract")
    parser.add_argument("--baseline")
    parser.add_argument("--tolerance", type=float, default=0.20)
    parser.add_argument("--update", action="store_true")
    parser.add_argument("figures", nargs="?")
    options = parser.parse_args()
    if options.extract:
        print("\n".join(extract(options.extract)))
        return 0
    return compare(options)


if __name__ == "__main__":
    sys.exit(main())
