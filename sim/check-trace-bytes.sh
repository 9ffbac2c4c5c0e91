#!/usr/bin/env bash
# The same implementation, scenario and seed must give a byte-identical
# trace: run a few twice and compare the files.
set -euo pipefail
leasesim=$1
directory=$2
mkdir -p "$directory"
for impl in lease neo-v1 neo-v2; do
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
