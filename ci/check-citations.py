#!/usr/bin/python3
"""ci/check-citations.py: every file the project's text cites exists.

Reads the tracked Markdown files, man pages and C/shell/Python comments and
checks each cited path that names a file of the tree (a word with a folder
and an extension under one of the project's top folders, e.g.
`docs/spec.md`, `sim/world.c`, or a relative Markdown link) against the
tree. Build outputs (build/...), globs, placeholders (NAME, <...>, {...})
and paths that a test creates are not citations of the tree.

usage: ci/check-citations.py [ROOT]   exit: 0 all exist, 1 a missing file
(each printed with where it is cited)
"""
import os
import re
import subprocess
import sys

TOP = ("src", "sim", "docs", "ci", "conformance", "fixtures", "packaging", ".github")
PATH = re.compile(r"(?<![\w./-])((?:%s)/[\w./+-]*[\w+-]\.[a-z]{1,5})(?![\w/-])" % "|".join(re.escape(t) for t in TOP))
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
# Files that a test writes into a scratch copy of the tree, not files of it.
CREATED_BY_TESTS = {
    "ci/selftest_assert.c", "ci/selftest-inject.mk", "src/selftest_uncovered.c", "ci/fuzz/fuzz_selftest.c",
    "src/impl_throwaway.c",
}
PLACEHOLDER = re.compile(r"[A-Z]{3,}|[<>{}*?]|\.\.\.")


def main(argv):
    root = argv[1] if len(argv) > 1 else "."
    files = subprocess.run(["git", "-C", root, "ls-files"], capture_output=True, text=True, check=True).stdout.split()
    texts = [f for f in files if f.endswith((".md", ".1", ".c", ".h", ".sh", ".py", ".mk", ".scn")) or f == "Makefile"]
    missing = []
    for name in texts:
        try:
            with open(os.path.join(root, name), encoding="utf-8") as handle:
                lines = handle.read().splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        for number, line in enumerate(lines, 1):
            cited = set(PATH.findall(line))
            if name.endswith(".md"):
                for target in LINK.findall(line):
                    if "://" in target or target.startswith("mailto:"):
                        continue
                    cited.add(os.path.normpath(os.path.join(os.path.dirname(name), target)))
            for path in cited:
                if PLACEHOLDER.search(path) or path.startswith("build/") or path in CREATED_BY_TESTS:
                    continue
                # A path may be written from the top of the tree or from the citing file's folder.
                if not os.path.exists(os.path.join(root, path)) and not os.path.exists(
                        os.path.join(root, os.path.dirname(name), path)):
                    missing.append("%s:%d cites %s, which is not in the tree" % (name, number, path))
    for problem in missing:
        print("check-citations: " + problem)
    print("check-citations: %d text files read, %d missing citation(s)" % (len(texts), len(missing)))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
