#!/usr/bin/env bash
# The same implementation, scenario and seed must give a byte-identical
# trace: run a few twice and compare the files.
set -euo pipefail
leasesim=$1
directory=$2
mkdir -p "$directory"
# Every implementation of the registry and the zoo that lives in the world.
for impl in $("$leasesim" --list-impls | awk '{print $1}'); do
    "$leasesim" --impl "$impl" --seed 1 --quiet >/dev/null 2>&1 || [ $? -eq 1 ] || continue # 64: outside the world
    for seed in 7 33 1234; do
        "$leasesim" --impl "$impl" --seed "$seed" --no-shrink --trace "$directory/a.jsonl" >/dev/null || true
        "$leasesim" --impl "$impl" --seed "$seed" --no-shrink --trace "$directory/b.jsonl" >/dev/null || true
        cmp "$directory/a.jsonl" "$directory/b.jsonl"
    done
done
"$leasesim" --scenario fixtures/scenarios/original-wedge.scn --seed 1 --trace "$directory/a.jsonl" >/dev/null
"$leasesim" --scenario fixtures/scenarios/original-wedge.scn --seed 1 --trace "$directory/b.jsonl" >/dev/null
cmp "$directory/a.jsonl" "$directory/b.jsonl"
echo "determinism: traces byte-identical across two runs"
