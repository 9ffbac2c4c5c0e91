"""The overlap checker: reads the enter/exit/crash log of the fake bodies.

Records are appended with one O_APPEND write each, and a body writes `enter`
after acquiring and `exit`/`crash` before releasing (or dying), so file order
is real order: exclusion holds iff every `enter` is followed by the `exit` or
`crash` of the same pid before any other record.
"""
from dataclasses import dataclass, field


@dataclass
class LogCheck:
    records: list = field(default_factory=list)  # (event, name, pid, ns)
    completions: int = 0
    crashes: int = 0
    violations: list = field(default_factory=list)
    open_body: tuple = None  # (name, pid) of a body that never logged its end

    def entered_pids(self):
        return [pid for event, _name, pid, _ns in self.records if event == "enter"]


def parse(text):
    records = []
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split(" ")
        if len(words) != 4 or words[0] not in ("enter", "exit", "crash"):
            raise ValueError(f"log line {number} is not a record: {line!r}")
        records.append((words[0], words[1], int(words[2]), int(words[3])))
    return records


def check(text):
    """Returns a LogCheck; violations name the overlapping bodies."""
    result = LogCheck(records=parse(text))
    inside = None  # (name, pid, record number) of the body in progress
    for number, (event, name, pid, _ns) in enumerate(result.records, 1):
        if event == "enter":
            if inside is not None:
                result.violations.append(
                    f"OVERLAP: {name} (pid {pid}) entered its body at record {number} while "
                    f"{inside[0]} (pid {inside[1]}, entered at record {inside[2]}) was still inside its body")
            inside = (name, pid, number)
            continue
        if inside is None or inside[1] != pid:
            result.violations.append(
                f"OVERLAP: record {number} '{event}' of {name} (pid {pid}) does not close the body in progress "
                f"({'none' if inside is None else f'{inside[0]} pid {inside[1]}'})")
        else:
            if event == "exit":
                result.completions += 1
            else:
                result.crashes += 1
        inside = None
    if inside is not None:
        result.open_body = inside[:2]
    return result


def overlapping_pairs(text):
    """Every pair of bodies that were inside at once, in log order: (entered_later,
    still_inside), each (name, pid). Unlike check(), it follows any number of bodies
    at once, so a storm with many overlaps still names each pair once."""
    inside = {}  # pid -> name
    pairs = []
    for event, name, pid, _ns in parse(text):
        if event == "enter":
            pairs.extend(((name, pid), (other_name, other_pid)) for other_pid, other_name in inside.items())
            inside[pid] = name
        else:
            inside.pop(pid, None)
    return pairs
