#!/usr/bin/python3
"""Prints one line per JUnit XML file (cmocka group or pytest run), then the
message of every failed case, so a terminal shows what the XML holds.
--tap prints every case as a TAP line instead.
Exit status: 0 when no file records a failure or error, 1 otherwise, 2 when a
file cannot be parsed."""
import os
import sys
import xml.etree.ElementTree as ElementTree


def cases_of(path):
    root = ElementTree.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    for suite in suites:
        for case in suite.findall("testcase"):
            problem = None
            for kind in ("failure", "error"):
                node = case.find(kind)
                if node is not None:
                    text = (node.get("message") or "") + "\n" + (node.text or "")
                    problem = (kind, text.strip())
            skipped = case.find("skipped") is not None
            yield suite.get("name", path), case.get("name", "?"), problem, skipped


def main(arguments):
    tap = "--tap" in arguments
    paths = [argument for argument in arguments if argument != "--tap"]
    bad_files = 0
    failures = []
    tap_number = 0
    for path in paths:
        try:
            cases = list(cases_of(path))
        except (ElementTree.ParseError, OSError) as error:
            print(f"UNREADABLE {path}: {error}")
            bad_files += 1
            continue
        failed = [case for case in cases if case[2] is not None]
        skipped = sum(1 for case in cases if case[3])
        name = cases[0][0] if cases else path
        if name == "pytest":  # pytest names every suite "pytest": use the file's
            name = os.path.splitext(os.path.basename(path))[0]
        path = os.path.relpath(path)
        if tap:
            for suite, case, problem, is_skipped in cases:
                tap_number += 1
                verdict = "not ok" if problem else "ok"
                directive = " # SKIP" if is_skipped else ""
                print(f"{verdict} {tap_number} - {suite}: {case}{directive}")
            continue
        verdict = "FAILED" if failed else "ok    "
        print(f"{verdict} {name}: {len(cases) - len(failed) - skipped} passed, {len(failed)} failed, "
              f"{skipped} skipped ({path})")
        failures.extend(failed)
    if tap:
        print(f"1..{tap_number}")
    for suite, case, (kind, text), _ in failures:
        print(f"--- {kind}: {suite}: {case}")
        for line in text.splitlines()[:20]:
            print(f"    {line}")
    if bad_files:
        return 2
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
