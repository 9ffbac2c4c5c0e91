#!/usr/bin/env bash
# make test-sim-explore: exhaustive plans defined by scenarios
# (fixtures/scenarios/exhaustive/*.scn, docs/spec.md 9.25). Each file's
# `expect IMPL pass|violation X` lines are judged by the exhaustive search
# (every schedule, LEASESIM_EXHAUSTIVE_ALL=1): `pass` = complete and no
# violation, `violation X` = X among the violations found. Each file must
# also name a violation that the default fixed plan (2 contenders + 1
# crashing holder, no renewal, no expiry) does not find for that
# implementation: the scenario explores what the default plan cannot. The
# reduced search must find what the reference finds on every file and
# implementation: every interleaving (LEASESIM_REDUCTION=none) for lease,
# the sleep-set search for the others (every interleaving of a broken one
# runs for minutes; the sleep sets keep every crash point).
# CHECK_EXPLORE_REFERENCE=off skips the comparison with the reference: the
# sanitizer and coverage builds do (make ci-gates), where every interleaving
# of release-race (3.7 million steps) takes minutes; whether the reduction
# agrees with it does not depend on the build and make test checks it.
#   usage: sim/check-explore.sh LEASESIM
set -uo pipefail
leasesim=$1
failures=0
# failed_once: counts a failure; with CHECK_EXPLORE_FIRST_FAILURE set (the run
# that must catch a reduction broken on purpose) the first one ends the check.
failed_once() {
    failures=$((failures + 1))
    if [[ -n "${CHECK_EXPLORE_FIRST_FAILURE:-}" ]]; then
        echo "check-explore: stopped at the first failure"
        exit 1
    fi
}

# shellcheck source=sim/references.sh
source "$(dirname "$0")/references.sh"
search() { # REDUCTION IMPL [SCENARIO] -> result: the exhaustive, reduction and violations lines on one
    # line; found: the violations; counts: "N schedules, M classes"
    local name=""
    local base=${3:-default}
    base=${base##*/}
    [[ "$1" != dpor ]] && name="$1-$2-${base%.scn}"
    kept "$name" search_once "$@"
    local text
    result="" found="" counts=""
    while IFS= read -r text; do
        case $text in
        "exhaustive: "* | "reduction: "* | "violations: "*) result+="$text " ;;
        esac
        [[ $text == "violations: "* ]] && found=${text#violations: }
        [[ $text =~ \;\ ([0-9]+)\ schedules\ explored,\ ([0-9]+)\ equivalence\ classes ]] &&
            counts="${BASH_REMATCH[1]} schedules, ${BASH_REMATCH[2]} classes"
    done <"$kept_file"
}
search_once() { # REDUCTION IMPL [SCENARIO]
    local scenario=()
    [[ -n "${3:-}" ]] && scenario=(--scenario "$3")
    LEASESIM_EXHAUSTIVE_ALL=1 LEASESIM_REDUCTION=$1 "$leasesim" --impl "$2" "${scenario[@]}" --strategy exhaustive \
        --seed 1
}

declare -A default_found
for file in fixtures/scenarios/exhaustive/*.scn; do
    name=${file##*/}
    name=${name%.scn}
    beyond_default=0
    while read -r keyword impl verdict invariant _ <&3; do
        [[ "$keyword" == expect ]] || continue
        reference=sleep
        [[ "$impl" == lease ]] && reference=none
        full=""
        if [[ "${CHECK_EXPLORE_REFERENCE:-on}" != off ]]; then
            search "$reference" "$impl" "$file"
            full=$found
        fi
        search dpor "$impl" "$file"
        violations=$found
        [[ "${CHECK_EXPLORE_REFERENCE:-on}" == off ]] && full=$violations
        if [[ "$full" != "$violations" ]]; then
            echo "check-explore: $name $impl: the search without dpor ($reference) finds '$full', dpor finds '$violations'"
            failed_once
        fi
        if [[ "$verdict" == pass ]]; then
            if [[ "$violations" == none && "$result" == *"complete: no violation"* ]]; then
                echo "check-explore: $name $impl: proven, $counts"
            else
                echo "check-explore: $name $impl: expected a complete search without violation, got: $result"
                failed_once
            fi
            continue
        fi
        if [[ " $violations " != *" $invariant "* ]]; then
            echo "check-explore: $name $impl: expected $invariant, found '$violations' ($counts)"
            failed_once
            continue
        fi
        found_counts=$counts
        if [[ ! -v "default_found[$impl]" ]]; then
            search dpor "$impl"
            default_found[$impl]=$found
        fi
        if [[ " ${default_found[$impl]} " == *" $invariant "* ]]; then
            echo "check-explore: $name $impl: $invariant found ($found_counts); the default plan finds it too"
        else
            echo "check-explore: $name $impl: $invariant found ($found_counts); the default plan does not (it finds '${default_found[$impl]}')"
            beyond_default=1
        fi
    done 3<"$file"
    if [[ $beyond_default -eq 0 ]]; then
        echo "check-explore: $name: no expected violation that the default plan misses"
        failed_once
    fi
done
echo "check-explore: $failures failure(s)"
[[ $failures -eq 0 ]]
