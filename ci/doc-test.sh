#!/usr/bin/env bash
# make test-docs: the man pages render without a warning (groff -ww) and
# through man -l; the bash completion completes commands and options; make
# help lists every suite that make test runs.
set -uo pipefail
passed=0
failed=0
check() { # NAME COMMAND...: passes when the command succeeds
    local name=$1
    shift
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "test-docs: FAIL $name"; fi
}
for page in docs/man/*.1; do
    warnings=$(LC_ALL=C.UTF-8 groff -man -ww -z -Tutf8 "$page" 2>&1)
    check "$page renders without warnings${warnings:+: $warnings}" test -z "$warnings"
    check "man -l $page" bash -c "man -l '$page' 2>/dev/null | grep -q '^NAME'"
done
completion() { # WORDS... -> the completions of the last word
    bash -c 'source packaging/completion/lease.bash; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1));
             if [[ $1 == leasesim ]]; then _leasesim; else _lease; fi; echo "${COMPREPLY[*]}"' _ "$@"
}
check "completion of a command" test "$(completion lease ru)" = run
check "completion of a run option" test "$(completion lease run --qu)" = --quiet
check "completion after -- is a command" bash -c "[[ ' $(completion lease run --owner x -- ech) ' == *' echo '* ]]"
check "completion of a strategy" test "$(completion leasesim --strategy ex)" = exhaustive
check "every C file is in the house style (make format-check)" make --no-print-directory format-check
check "every file the docs and comments cite exists" /usr/bin/python3 ci/check-citations.py
citations_scratch=$(mktemp -d)
git -C "$citations_scratch" init -q && mkdir -p "$citations_scratch/docs" "$citations_scratch/notes" &&
    printf 'See `docs/spec.md` and [the design](design.md).\n' > "$citations_scratch/notes/a.md" &&
    touch "$citations_scratch/docs/spec.md" && git -C "$citations_scratch" add -A
check "the citation check fails on a cited file that is not there" \
    bash -c "out=\$(/usr/bin/python3 ci/check-citations.py '$citations_scratch'); status=\$?;
             [ \$status -eq 1 ] && grep -q 'notes/a.md:1 cites notes/design.md' <<<\"\$out\""
rm -rf "$citations_scratch"
help=$(make --no-print-directory help)
weighed=$(grep -v '^#' ci/suite-durations | cut -d' ' -f1)
has() { [[ $1 == *"$2"* ]]; } # TEXT PART: matched in the shell (a grep per target cost a fork each)
for target in $(make --no-print-directory -pn test-run 2>/dev/null | sed -n 's/^TEST_TARGETS :*= //p' | head -n 1); do
    check "make help lists $target" has "$help" "make $target "
    check "ci/suite-durations weighs $target (make bench-suites writes its lines)" has $'\n'"$weighed"$'\n' $'\n'"$target"$'\n'
done
# A bad setting of ci/run-suites.sh: one line, exit 64, nothing removed (its
# reports folder here is a scratch one: it would empty make test's own).
suites_scratch=$(mktemp -d)
touch "$suites_scratch/kept.xml"
for setting in TEST_LOAD=0.5 TEST_LOAD=two TEST_JOBS=0; do
    check "run-suites refuses $setting (exit 64, one line, nothing removed)" \
        bash -c "out=\$(env $setting CI_REPORT_DIR='$suites_scratch' bash ci/run-suites.sh test-lib 2>&1); status=\$?;
                 [ \$status -eq 64 ] && [ \$(wc -l <<<\"\$out\") -eq 1 ] && [ -e '$suites_scratch/kept.xml' ]"
done
rm -rf "$suites_scratch"
echo "test-docs: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
