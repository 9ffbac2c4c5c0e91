#!/bin/bash
# sim/check-mixed.sh: mixed-implementation runs (docs/spec.md 9.22).
#  1. lease beside the original's writers (--mix neo-v1,neo-v2): no violation of
#     lease's, model races counted (inode reuse dropped: see 2);
#  2. with inode reuse, lease's takeover race (its lstat check names a reused
#     inode) is found and blamed on lease: the known finding, counted here;
#  3. the replay line carries --mix and reproduces the violation;
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

"$leasesim" --impl lease --mix neo-v1,neo-v2 --seeds 1..2000 --drop inode-reuse --quiet --no-shrink > "$scratch/mix.out"
status=$?
races=$(counter model-race "$scratch/mix.out")
echo "check-mixed: lease --mix neo-v1,neo-v2, 2000 seeds (no inode reuse): exit $status, model-race=${races:-0}"
[ "$status" = 0 ] || { cat "$scratch/mix.out"; fail "a mixed campaign blamed lease"; }
[ "${races:-0}" -gt 0 ] || fail "no model race was counted"

"$leasesim" --impl lease --mix neo-v1,neo-v2 --seeds 1..2000 --keep-going --quiet --no-shrink > "$scratch/finding.out"
found=$(grep -o 'violations by invariant: .*' "$scratch/finding.out")
blamed=$(grep -c 'lease (caused it)' "$scratch/finding.out")
echo "check-mixed: with inode reuse: ${found:-no violation} (signatures blaming lease: $blamed; the finding of docs/spec.md 9.22)"

"$leasesim" --impl lease --mix neo-v1,neo-v2 --seeds 1..2000 --quiet --no-shrink > "$scratch/replay.out"
replay=$(sed -n 's/^replay: //p' "$scratch/replay.out" | head -1)
case "$replay" in
*"--mix neo-v1,neo-v2"*) ;;
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
