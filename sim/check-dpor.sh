#!/usr/bin/env bash
# make test-sim-dpor: the reduced exhaustive search (DPOR, the default)
# finds every violation the unreduced one finds, on small configurations
# (fixtures/exhaustive/c1+1.scn: one contender and one holder crashed at
# every point; c2+0.scn: two contenders). The reference is the full search
# (LEASESIM_REDUCTION=none: every interleaving) where it ends in seconds
# (lease and the two models of the original), the sleep-set search (itself
# a sound reduction) for the zoo. For lease with two contenders the
# equivalence classes themselves must be the same sets (each run's partial
# order, LEASESIM_DPOR_DEBUG). With LEASESIM_DPOR_BREAK set the reduction
# is broken on purpose and this check must fail (make ci-selftest style:
# sim/check-dpor.sh LEASESIM DIR --expect-failure).
#   usage: sim/check-dpor.sh LEASESIM DIR [--expect-failure]
set -uo pipefail
leasesim=$1
dir=$2
expect_failure=${3:-}
mkdir -p "$dir"
failures=0

# shellcheck source=sim/references.sh
source "$(dirname "$0")/references.sh"

violations() { # REDUCTION IMPL CONFIG -> found: the violations line
    local name=""
    [[ "$1" != dpor ]] && name="$1-$2-$3.out"
    kept "$name" search "$@"
    line_of "violations: " "$kept_file"
    found=$line
}
search() { # REDUCTION IMPL CONFIG
    LEASESIM_EXHAUSTIVE_ALL=1 LEASESIM_REDUCTION=$1 "$leasesim" --impl "$2" --scenario "fixtures/exhaustive/c$3.scn" \
        --strategy exhaustive --seed 1
}

compare() { # REFERENCE IMPL CONFIG
    local reference reduced
    violations "$1" "$2" "$3"
    reference=$found
    violations dpor "$2" "$3"
    reduced=$found
    if [[ -z "$reference" || "$reference" != "$reduced" ]]; then
        echo "check-dpor: $2 $3: $1 finds '${reference}', dpor finds '${reduced}'"
        failures=$((failures + 1))
    else
        echo "check-dpor: $2 $3: $reduced (as $1)"
    fi
}

compare none neo-v1 2+0
compare none neo-v2 2+0
compare none neo-v1 1+1
compare none lease 2+0
for impl in zoo-no-exclusive-create zoo-release-no-token zoo-no-pid-check zoo-torn-publish zoo-stale-greater \
    zoo-takeover-no-recheck zoo-renew-no-check; do
    compare sleep "$impl" 1+1
    compare sleep "$impl" 2+0
done

# The classes: every run's partial order, canonical (steps sorted, each with
# the steps it depends on), as a set.
classes() { # REDUCTION IMPL CONFIG
    LEASESIM_DPOR_DEBUG=1 LEASESIM_REDUCTION=$1 "$leasesim" --impl "$2" --scenario "fixtures/exhaustive/c$3.scn" \
        --strategy exhaustive --seed 1 | grep '<' | /usr/bin/python3 -c '
import sys
classes = set()
for line in sys.stdin:
    steps = []
    for token in line.split():
        if "<" not in token:
            continue
        key, rest = token.split(":", 1)
        op, before = rest.split("<", 1)
        steps.append((key, op, tuple(sorted(b for b in before.rstrip(">").split(",") if b))))
    classes.add(tuple(sorted(steps)))
for entry in sorted(classes):
    print(entry)'
}
kept classes-none-lease-2+0.txt classes none lease 2+0
cp "$kept_file" "$dir/classes-none.txt"
classes dpor lease 2+0 > "$dir/classes-dpor.txt"
if cmp -s "$dir/classes-none.txt" "$dir/classes-dpor.txt" && [[ -s "$dir/classes-none.txt" ]]; then
    echo "check-dpor: lease 2+0: the same $(wc -l < "$dir/classes-dpor.txt") equivalence classes as every interleaving"
else
    echo "check-dpor: lease 2+0: the classes differ ($(wc -l < "$dir/classes-none.txt") in every interleaving, $(wc -l < "$dir/classes-dpor.txt") explored)"
    failures=$((failures + 1))
fi

if [[ "$expect_failure" == --expect-failure ]]; then
    if [[ $failures -eq 0 ]]; then
        echo "check-dpor: FAILED to catch the broken reduction"
        exit 1
    fi
    echo "check-dpor: the broken reduction was caught ($failures difference(s))"
    exit 0
fi
echo "check-dpor: $failures difference(s)"
[[ $failures -eq 0 ]]
