# shellcheck shell=bash
# sim/references.sh, sourced by sim/check-dpor.sh and sim/check-explore.sh.
# The reference searches (every interleaving, sleep sets) do not depend on
# LEASESIM_DPOR_BREAK, which breaks DPOR only: with CHECK_REFERENCES=DIR each
# is computed once, kept there, and read back by the run that must catch the
# broken reduction (the Makefile empties DIR before the sound run).
#
# The helpers set variables instead of printing into a command substitution,
# and read files with builtins: every fork of a shell or a sed costs a few
# milliseconds here, and the two checks make hundreds of searches' worth.

# kept NAME COMMAND...: kept_file names a file holding the command's output:
# DIR/NAME when CHECK_REFERENCES is set and NAME is not empty (run only when
# not kept yet), else a scratch file of this shell's.
kept() {
    local name=$1
    shift
    if [[ -n "${CHECK_REFERENCES:-}" && -n "$name" ]]; then
        kept_file=$CHECK_REFERENCES/$name
        [[ -f "$kept_file" ]] && return 0
        mkdir -p "$CHECK_REFERENCES"
    else
        kept_file=${TMPDIR:-/tmp}/references.$$
        # shellcheck disable=SC2064 # this file's name, not kept_file's later value
        trap "rm -f '$kept_file'" EXIT
    fi
    "$@" >"$kept_file"
}

# line_of PREFIX FILE: line = the text after PREFIX on FILE's last line that
# starts with it ("" when none).
# shellcheck disable=SC2034 # line is the callers' result
line_of() {
    local text
    line=""
    while IFS= read -r text; do
        [[ "$text" == "$1"* ]] && line=${text#"$1"}
    done <"$2"
}
