#!/usr/bin/env bash
# Replays every seed that once found a bug (fixtures/seeds/*.seeds, lines
# "IMPL SEED EXPECTED [STRATEGY]" where EXPECTED is pass or an invariant name
# and STRATEGY the one the seed was found under, random when absent: the
# seeds recorded before POS became the default were found by random) and
# checks the verdict is still the recorded one.
set -uo pipefail
leasesim=$1
directory=$2
failures=0
count=0
violation_line="(^|"$'\n'")VIOLATION seed=[0-9]* impl=[^ ]* invariant=([a-z-]*)"
while read -r impl seed expected strategy; do
    [[ -z "$impl" || "$impl" == \#* ]] && continue
    count=$((count + 1))
    output=$("$leasesim" --impl "$impl" --strategy "${strategy:-random}" --seed "$seed" --no-shrink 2>&1)
    got=pass # the invariant of the VIOLATION line, read without a sed per seed
    [[ $output =~ $violation_line ]] && got=${BASH_REMATCH[2]}
    if [[ "$got" != "$expected" ]]; then
        echo "FAIL $impl seed $seed: expected $expected, got $got"
        failures=$((failures + 1))
    fi
done < <(cat "$directory"/*.seeds)
echo "regression seeds: $count replayed, $failures failed"
[[ $failures -eq 0 ]]
