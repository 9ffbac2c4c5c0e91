#!/usr/bin/python3
"""check_trace.py TRACE [SIM_H]: leasesim --exec --trace against the
simulator's trace schema (sim/README.md, "Trace schema"; the same keys
sim/check-tool.sh checks for a simulated run) and this mode's extra fields
(docs/exec.md, "Trace"). The op names are read from SIM_OP_TABLE in sim/sim.h.
Exit 0 when every record follows it; 1 with the first wrong record."""
import json
import re
import sys


def op_names(sim_h):
    text = open(sim_h).read()
    table = text[text.index("#define SIM_OP_TABLE") :]
    table = table[: table.index("\n\n")]
    return set(re.findall(r'X\(\w+, "(\w+)", (?:true|false)\)', table))


def check(lines, ops):
    assert lines, "empty trace"
    runs = 0
    seen = set()
    for number, line in enumerate(lines, 1):
        record = json.loads(line)
        where = (number, record)
        if record.get("type") == "header":
            runs += 1
            step, ended = 0, set()
            assert record["schema"] == 1 and isinstance(record["seed"], int), where
            for key in ("version", "impl", "plan", "knobs"):
                assert isinstance(record[key], str), (key, where)
            assert record["mode"] == "exec" and record["plan"].startswith("exec "), where
            assert record["knobs"].startswith("strategy="), where
            continue
        assert runs > 0, ("a record before the first header", where)
        for key in ("step", "t", "wall", "proc", "pid", "op", "rc", "value"):
            assert key in record, (key, where)
        assert (record["rc"] < 0) == ("errno" in record), where
        if "errno" in record:
            assert record["errno"].startswith("E"), where
        assert record["op"] in ops, ("not a simulator op", where)
        seen.add(record["op"])
        assert record["step"] >= step, ("steps out of order", where)
        step = record["step"]
        assert record["proc"] not in ended, ("a record after its process's exit", where)
        if record["op"] == "exit":
            ended.add(record["proc"])
        assert isinstance(record["program"], str), where
        if record["op"] in ("body_enter", "body_exit"):
            assert "syscall" not in record, where
        elif record["op"] == "exit":
            assert "result" in record, where
        else:  # a scheduled syscall: its real name, the result, the lease after it
            for key in ("syscall", "process", "result", "lease"):
                assert isinstance(record[key], str), (key, where)
    assert runs > 0, "no header"
    return seen


def main():
    lines = open(sys.argv[1]).read().splitlines()
    ops = op_names(sys.argv[2] if len(sys.argv) > 2 else "sim/sim.h")
    try:
        seen = check(lines, ops)
    except (AssertionError, KeyError, ValueError) as error:
        print("check_trace: %s: %r" % (sys.argv[1], error))
        return 1
    print("check_trace: %d records, ops %s" % (len(lines), " ".join(sorted(seen))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
