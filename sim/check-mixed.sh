#!/bin/bash
# sim/check-mixed.sh: mixed-implementation runs (docs/spec.md 9.22).
#  1. lease beside the original's writers (--mix neo-v1,neo-v2, inode reuse
#     drawn as usual): no violation of lease's, model races counted. Before
#     the takeover checked the file's bytes and exchanged (docs/spec.md 9.26),
#     79 of 10 000 seeds failed here;
#  3. the replay line carries --mix and reproduces the violation (neo-v2 under
#     test beside lease);
#  4. a broken implementation under test (the zoo's base: no write grace) is
#     blamed in the migration scenario;
#  5. models racing alone do not fail --impl lease;
#  6. mixed runs are deterministic.
# usage: sim/check-mixed.sh LEASESIM SCRATCH
set -u
leasesim=$1
scratch=$2
mkdir -p "$scratch"
failed=0
fail() { echo "check-mixed: FAIL: $*"; failed=1; }
counter() { grep -o "$1=[0-9]*" "$2" | head -1 | cut -d= -f2; }

"$leasesim" --impl lease --mix neo-v1,neo-v2 --seeds 1..4000 --quiet --no-shrink > "$scratch/mix.out"
status=$?
races=$(counter model-race "$scratch/mix.out")
echo "check-mixed: lease --mix neo-v1,neo-v2, 4000 seeds: exit $status, model-race=${races:-0}"
[ "$status" = 0 ] || { cat "$scratch/mix.out"; fail "a mixed campaign blamed lease"; }
[ "${races:-0}" -gt 0 ] || fail "no model race was counted"

"$leasesim" --impl neo-v2 --mix lease --seeds 1..2000 --quiet --no-shrink > "$scratch/replay.out"
replay=$(sed -n 's/^replay: //p' "$scratch/replay.out" | head -1)
case "$replay" in
*"--mix lease"*) ;;
*) fail "the replay line does not carry --mix: $replay" ;;
esac
first=$(sed -n 's/^VIOLATION seed=\([0-9]*\).*/\1/p' "$scratch/replay.out")
# shellcheck disable=SC2086
$replay --no-shrink > "$scratch/replayed.out"
grep -q "^VIOLATION seed=$first " "$scratch/replayed.out" || fail "the replay did not reproduce seed $first"
echo "check-mixed: replay reproduces seed ${first:-none}: $replay"

"$leasesim" --impl zoo-eperm-dead --scenario fixtures/scenarios/mixed-migration.scn --seeds 1..2000 --quiet --no-shrink > "$scratch/zoo.out"
status=$?
[ "$status" = 1 ] && grep -q 'zoo-eperm-dead (caused it)' "$scratch/zoo.out" ||
    { cat "$scratch/zoo.out"; fail "the zoo member under test was not blamed in mixed-migration"; }
echo "check-mixed: zoo-eperm-dead in mixed-migration: exit $status, $(grep -o 'invariant=[a-z-]*' "$scratch/zoo.out" | head -1), blamed: $(grep -c 'zoo-eperm-dead (caused it)' "$scratch/zoo.out")"

"$leasesim" --impl lease --scenario fixtures/scenarios/model-race.scn --seeds 1..500 --quiet --no-shrink > "$scratch/models.out"
status=$?
races=$(counter model-race "$scratch/models.out")
echo "check-mixed: models alone (model-race.scn), --impl lease: exit $status, model-race=${races:-0}"
[ "$status" = 0 ] && [ "${races:-0}" -gt 0 ] || fail "a race between models alone failed lease or was not counted"

"$leasesim" --impl lease --mix neo-v1,neo-v2 --seeds 1..300 --determinism > "$scratch/determinism.out" ||
    { cat "$scratch/determinism.out"; fail "mixed runs are not deterministic"; }
exit $failed
