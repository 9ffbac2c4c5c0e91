#!/usr/bin/python3
"""check_svg.py FILE VERDICT LANES: the timeline leasesim --exec --svg wrote
(drawn by sim/svg.c) is well-formed XML, its title states VERDICT (an
invariant's name: "VIOLATION: NAME"; "hold": "all invariants hold") and it
has one lane per process: LANES lane names "PROGRAM (pN, pid M)", p0 to
pLANES-1. Exits 1 naming what is wrong."""
import re
import sys
import xml.etree.ElementTree as ElementTree

SVG = "{http://www.w3.org/2000/svg}"


def check(path, verdict, lanes):
    try:
        root = ElementTree.parse(path).getroot()
    except (ElementTree.ParseError, OSError) as error:
        return f"{path} is not well-formed XML: {error}"
    if root.tag != SVG + "svg":
        return f"{path}: the root is {root.tag}, not an svg element"
    texts = ["".join(element.itertext()) for element in root.iter(SVG + "text")]
    if not texts:
        return f"{path}: no text at all"
    title = texts[0]
    wanted = "all invariants hold" if verdict == "hold" else f"VIOLATION: {verdict}"
    if not title.endswith(wanted):
        return f"{path}: the title {title!r} does not end with {wanted!r}"
    names = set()
    for element in root.iter(SVG + "text"):
        # The lane's name follows its <title> tooltip, which repeats it.
        own = (element.text or "") + "".join(child.tail or "" for child in element)
        match = re.fullmatch(r"\S+ \(p(\d+), pid \d+\)", own)
        if match:
            names.add(int(match.group(1)))
    if names != set(range(lanes)):
        return f"{path}: lanes for processes {sorted(names)}, expected p0..p{lanes - 1}"
    return None


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    problem = check(sys.argv[1], sys.argv[2], int(sys.argv[3]))
    if problem:
        print(f"check_svg: {problem}")
        return 1
    print(f"check_svg: {sys.argv[1]}: well-formed, title says {sys.argv[2]}, {sys.argv[3]} lanes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
