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

# The make of the calling gate, without the parent's -j/-k surprises.
gate_make() {
    make --no-print-directory "$@"
}
