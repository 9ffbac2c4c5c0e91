"""A controllable CMD for `lease run` tests.

usage: lease_child.py READY_FILE [--log LOG] [--go GO_FILE] [--exit N]

Writes one JSON line to READY_FILE (atomically, via rename) with its pid and
the inherited token it was given, then waits until GO_FILE exists (exits N)
or until SIGINT/SIGTERM/SIGHUP arrives: it appends the signal's name to LOG
and dies of that same signal, so the wrapper sees "killed by signal N".
Every wait has a deadline (60 s) so a broken test cannot leave it behind.
"""
import json
import os
import signal
import sys
import time

DEADLINE_S = 60.0


def main() -> int:
    args = sys.argv[1:]
    ready_path = args[0]
    options = dict(zip(args[1::2], args[2::2]))
    log_path = options.get("--log")
    go_path = options.get("--go")
    exit_code = int(options.get("--exit", "0"))

    def on_signal(number, _frame):
        if log_path:
            with open(log_path, "a", encoding="utf-8") as log:
                log.write(signal.Signals(number).name + "\n")
        signal.signal(number, signal.SIG_DFL)
        os.kill(os.getpid(), number)

    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, on_signal)

    ready = {"pid": os.getpid(), "token": os.environ.get("NEO_HEAVY_MAINTENANCE_LEASE_INHERITED_TOKEN")}
    with open(ready_path + ".tmp", "w", encoding="utf-8") as handle:
        handle.write(json.dumps(ready) + "\n")
    os.rename(ready_path + ".tmp", ready_path)

    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        if go_path and os.path.exists(go_path):
            return exit_code
        time.sleep(0.01)
    return 99


if __name__ == "__main__":
    sys.exit(main())
