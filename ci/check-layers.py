#!/usr/bin/python3
"""ci/check-layers.py: proves a layering from the objects' symbol tables.

usage: ci/check-layers.py TABLE OBJDIR

TABLE lists the layers bottom first, one per line: "LAYER FILE..." where a
FILE is a source path without its extension (sim/world); its object is
OBJDIR/FILE.o. A file may use (nm: an undefined symbol that another listed
object defines) only files of its own layer or of a lower one, and no files
may use each other in a circle, even inside one layer. A line
"allow FILE -> FILE  reason" accepts one known back edge while it is being
removed; an allow line whose edge no longer exists is itself an error, so the
list only shrinks. An object of OBJDIR's listed folders that the table does
not name is an error too (a new file must be placed in a layer).

exit: 0 the layering holds; 1 a back edge, a circle, a stale allow line or an
unplaced object of a source file that exists under $CHECK_LAYERS_SOURCES
(default: the current folder) (each printed); 64 usage or an unreadable table; 66 a listed
object missing (build it first).
"""
import os
import subprocess
import sys


def fail_usage(message):
    print("check-layers: " + message, file=sys.stderr)
    sys.exit(64)


def read_table(path):
    layers, allowed = [], {}
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError as error:
        fail_usage("cannot read %s: %s" % (path, error.strerror))
    for number, line in enumerate(lines, 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if words[0] == "allow":
            if len(words) < 4 or words[2] != "->":
                fail_usage("%s:%d: expected 'allow FILE -> FILE reason'" % (path, number))
            allowed[(words[1], words[3])] = number
        elif len(words) < 2:
            fail_usage("%s:%d: expected 'LAYER FILE...'" % (path, number))
        else:
            layers.append((words[0], words[1:]))
    if not layers:
        fail_usage("%s: no layer" % path)
    return layers, allowed


def symbols(object_paths):
    """{path: (the global symbols the object defines, the ones it uses)}, from one nm run
    over every object (one run per object cost a second per table)."""
    output = subprocess.run(["nm", "-g", "--print-file-name", *object_paths], check=True, capture_output=True,
                            text=True).stdout
    table = {path: (set(), set()) for path in object_paths}
    for line in output.splitlines():
        path, _, rest = line.partition(":")
        if path not in table:
            continue
        defined, used = table[path]
        parts = rest.split()
        if len(parts) == 2 and parts[0] == "U":
            used.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBRCVWG":
            defined.add(parts[2])
    return table


def circles(files, edges):
    """Strongly connected components of more than one file (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in files:
        if node not in index:
            visit(node)
    return found


def main(argv):
    if len(argv) != 3:
        fail_usage("usage: ci/check-layers.py TABLE OBJDIR")
    layers, allowed = read_table(argv[1])
    objects = argv[2]
    rank, files = {}, []
    for position, (_, members) in enumerate(layers):
        for member in members:
            if member in rank:
                fail_usage("%s: %s is placed twice" % (argv[1], member))
            rank[member] = position
            files.append(member)
    problems = []
    sources = os.environ.get("CHECK_LAYERS_SOURCES", ".")
    folders = sorted({os.path.dirname(member) for member in files})
    for folder in folders:
        directory = os.path.join(objects, folder)
        for name in sorted(os.listdir(directory)) if os.path.isdir(directory) else ():
            member = os.path.join(folder, name[:-2])
            # An object whose source is gone (a renamed file's leftover in a
            # reused build folder) is not part of the tree.
            if not os.path.exists(os.path.join(sources, member + ".c")):
                continue
            if name.endswith(".o") and member not in rank and not name.startswith("test_"):
                problems.append("%s is in no layer of %s" % (member, argv[1]))
    definer, uses = {}, {}
    paths = {member: os.path.join(objects, member + ".o") for member in files}
    for path in paths.values():
        if not os.path.exists(path):
            print("check-layers: %s is not built" % path, file=sys.stderr)
            return 66
    table = symbols(list(paths.values()))
    for member in files:
        defined, used = table[paths[member]]
        uses[member] = used
        for symbol in defined:
            definer.setdefault(symbol, member)
    edges, why = {}, {}
    for member in files:
        for symbol in sorted(uses[member]):
            target = definer.get(symbol)
            if target is None or target == member:
                continue
            edges.setdefault(member, set()).add(target)
            why.setdefault((member, target), symbol)
    kept = {}
    for member, targets in edges.items():
        for target in sorted(targets):
            edge = (member, target)
            if edge in allowed:
                continue
            kept.setdefault(member, set()).add(target)
            if rank[target] > rank[member]:
                problems.append("%s (layer %s) uses %s of %s (layer %s, higher)" % (
                    member, layers[rank[member]][0], why[edge], target, layers[rank[target]][0]))
    for component in circles(files, kept):
        problems.append("circle between " + ", ".join(component))
    for (member, target), number in sorted(allowed.items(), key=lambda item: item[1]):
        if target not in edges.get(member, ()):
            problems.append("%s:%d: allowed edge %s -> %s no longer exists: remove the line" % (
                argv[1], number, member, target))
    for problem in problems:
        print("check-layers: " + problem)
    edge_count = sum(len(targets) for targets in edges.values())
    if problems:
        print("check-layers: %s: %d problem(s)" % (argv[1], len(problems)))
        return 1
    print("check-layers: %s: %d files in %d layers, %d edges, none upward, no circle, %d allowed back edge(s)" % (
        argv[1], len(files), len(layers), edge_count, len(allowed)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
