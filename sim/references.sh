# shellcheck shell=bash
# sim/references.sh, sourced by sim/check-dpor.sh and sim/check-explore.sh.
# The reference searches (every interleaving, sleep sets) do not depend on
# LEASESIM_DPOR_BREAK, which breaks DPOR only: with CHECK_REFERENCES=DIR each
# is computed once, kept there, and read back by the run that must catch the
# broken reduction (the Makefile empties DIR before the sound run).

# kept NAME COMMAND...: the command's output, kept as DIR/NAME when
# CHECK_REFERENCES is set (and read from there when already kept).
kept() {
    local file=${CHECK_REFERENCES:+$CHECK_REFERENCES/$1}
    shift
    if [[ -n "$file" && -f "$file" ]]; then
        cat "$file"
    elif [[ -n "$file" ]]; then
        mkdir -p "$CHECK_REFERENCES" && "$@" | tee "$file"
    else
        "$@"
    fi
}
