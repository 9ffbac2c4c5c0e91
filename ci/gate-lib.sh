# Sourced by the gate scripts: one result line per gate in build/ci/gates/,
# so `make ci-gates` can say which gate failed.
CI_GATE_DIR=${CI_GATE_DIR:-build/ci/gates}
mkdir -p "$CI_GATE_DIR"

# gate_record NAME ok|FAILED MESSAGE...
gate_record() {
    local name=$1 verdict=$2
    shift 2
    printf 'gate %-12s %-6s %s\n' "$name" "$verdict" "$*" | tee "$CI_GATE_DIR/$name.txt"
}

# gate_verdict NAME COUNT NONE_MESSAGE OK_MESSAGE FAILED_MESSAGE: the end of a
# gate that ran COUNT things and collected failures in the array `failed`:
# FAILED with NONE_MESSAGE when nothing ran, ok, or FAILED with FAILED_MESSAGE;
# returns 1 when the gate failed.
gate_verdict() {
    local name=$1 count=$2 none=$3 ok=$4 bad=$5
    if [[ $count -eq 0 ]]; then
        gate_record "$name" FAILED "$none"
        return 1
    elif [[ ${#failed[@]} -eq 0 ]]; then
        gate_record "$name" ok "$ok"
    else
        gate_record "$name" FAILED "$bad"
        return 1
    fi
}

# The make of the calling gate, without the parent's -j/-k surprises.
gate_make() {
    make --no-print-directory "$@"
}
