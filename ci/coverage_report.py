#!/usr/bin/python3
"""Prints the coverage summary (per file and for the library), the functions
never called, and the library's uncovered lines and branches; exits 1 when
the library (src/*.c) is under the line or branch minimum.

Input: lcov.info (functions, lines, branches per file), the same data as the
HTML report, so the gate and the report never disagree."""
import argparse
import os
import re
import sys

LIBRARY = re.compile(r"^src/[^/]+\.c$")
# The etcd backend is in the gate (its suites run under make test-etcd) and is
# also reported on its own line (docs/ci.md).
ETCD_BACKEND = re.compile(r"^src/(etcd_client|impl_etcd)\.c$")


def percent(covered, total):
    return 100.0 * covered / total if total else 100.0


def read_lcov(path):
    """{file: {"functions": {name: calls}, "lines": {n: hits}, "branches": [(line, taken)]}}"""
    files = {}
    current = None
    with open(path, encoding="utf-8") as stream:
        for raw in stream:
            line = raw.strip()
            key, _, value = line.partition(":")
            if key == "SF":
                current = files.setdefault(os.path.relpath(value),
                                           {"functions": {}, "lines": {}, "branches": []})
            elif current is None:
                continue
            elif key == "FNDA":
                calls, name = value.split(",", 1)
                current["functions"][name] = current["functions"].get(name, 0) + int(calls)
            elif key == "FN":
                current["functions"].setdefault(value.split(",", 1)[1], 0)
            elif key == "DA":
                number, hits = value.split(",")[:2]
                current["lines"][int(number)] = current["lines"].get(int(number), 0) + int(hits)
            elif key == "BRDA":
                number, _block, _branch, taken = value.split(",")
                current["branches"].append((int(number), 0 if taken == "-" else int(taken)))
    return files


def ranges(numbers):
    """[1,2,3,7] -> "1-3,7" """
    spans = []
    for number in sorted(numbers):
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in spans)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lcov", required=True)
    parser.add_argument("--line-min", type=float, required=True)
    parser.add_argument("--branch-min", type=float, required=True)
    options = parser.parse_args()

    lcov = read_lcov(options.lcov)

    print(f"{'file':<32} {'lines':>18} {'branches':>18} {'functions':>10}")
    totals = {"lib": [0, 0, 0, 0], "all": [0, 0, 0, 0]}
    for name in sorted(lcov):
        data = lcov[name]
        counts = [sum(1 for hits in data["lines"].values() if hits > 0), len(data["lines"]),
                  sum(1 for _, taken in data["branches"] if taken > 0), len(data["branches"])]
        functions_called = sum(1 for calls in data["functions"].values() if calls > 0)
        for scope in ("all", "lib") if LIBRARY.match(name) else ("all",):
            totals[scope] = [a + b for a, b in zip(totals[scope], counts)]
        print(f"{name:<32} {counts[0]:>5}/{counts[1]:<5} {percent(counts[0], counts[1]):5.1f}% "
              f"{counts[2]:>5}/{counts[3]:<5} {percent(counts[2], counts[3]):5.1f}% "
              f"{functions_called:>4}/{len(data['functions']):<4}")

    lines_covered, lines_total, branches_covered, branches_total = totals["all"]
    print(f"project: lines {percent(lines_covered, lines_total):.1f}% ({lines_covered}/{lines_total}), "
          f"branches {percent(branches_covered, branches_total):.1f}% ({branches_covered}/{branches_total})")
    lines_covered, lines_total, branches_covered, branches_total = totals["lib"]
    line_percent = percent(lines_covered, lines_total)
    branch_percent = percent(branches_covered, branches_total)

    print("functions never called:")
    never = 0
    for name in sorted(lcov):
        for function, calls in sorted(lcov[name]["functions"].items()):
            if calls == 0:
                never += 1
                print(f"  {name}: {function}")
    if never == 0:
        print("  (none)")

    print("library lines never run / branches never taken (file: lines | branch lines):")
    for name in sorted(file for file in lcov if LIBRARY.match(file)):
        missing_lines = [number for number, hits in lcov[name]["lines"].items() if hits == 0]
        missing_branches = {number for number, taken in lcov[name]["branches"] if taken == 0}
        if missing_lines or missing_branches:
            print(f"  {name}: lines {ranges(missing_lines) or '-'} | branches at {ranges(missing_branches) or '-'}")

    etcd = [lcov[name] for name in lcov if ETCD_BACKEND.match(name)]
    if etcd:
        lines = [hits for data in etcd for hits in data["lines"].values()]
        branches = [taken for data in etcd for _, taken in data["branches"]]
        print(f"etcd backend (in the library figure): lines {percent(sum(1 for h in lines if h > 0), len(lines)):.1f}%, "
              f"branches {percent(sum(1 for t in branches if t > 0), len(branches)):.1f}%")
    print(f"library: lines {line_percent:.1f}% ({lines_covered}/{lines_total}), "
          f"branches {branch_percent:.1f}% ({branches_covered}/{branches_total})")
    failures = []
    if line_percent < options.line_min:
        failures.append(f"line coverage {line_percent:.1f}% < {options.line_min:g}%")
    if branch_percent < options.branch_min:
        failures.append(f"branch coverage {branch_percent:.1f}% < {options.branch_min:g}%")
    for failure in failures:
        print(f"COVERAGE GATE FAILED: library {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
