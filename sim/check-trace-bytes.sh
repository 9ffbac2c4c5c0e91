#!/usr/bin/env bash
# The same implementation, scenario and seed must give a byte-identical
# trace: run a few twice and compare the files. CHECK_TRACE_SEEDS (default
# "7 33 1234") names the seeds; the instrumented builds of make ci-gates run
# one (every start costs 50 ms there; whether runs repeat is not a property
# of the build).
set -euo pipefail
leasesim=$1
directory=$2
mkdir -p "$directory"
# same A B: fails, naming them, unless the two files are byte-identical (read by
# the shell: a cmp per pair costs a process start).
same() {
    local first second
    IFS= read -r -d '' first <"$1" || true
    IFS= read -r -d '' second <"$2" || true
    [[ "$first" == "$second" ]] && return 0
    echo "determinism: $1 and $2 differ" >&2
    return 1
}
# Every implementation of the registry and the zoo that lives in the world.
for impl in $("$leasesim" --list-impls | awk '{print $1}'); do
    for seed in ${CHECK_TRACE_SEEDS:-7 33 1234}; do
        status=0
        "$leasesim" --impl "$impl" --seed "$seed" --no-shrink --trace "$directory/a.jsonl" >/dev/null 2>&1 || status=$?
        [ "$status" -le 1 ] || continue 2 # 64: an implementation outside the world
        "$leasesim" --impl "$impl" --seed "$seed" --no-shrink --trace "$directory/b.jsonl" >/dev/null || true
        same "$directory/a.jsonl" "$directory/b.jsonl"
    done
done
"$leasesim" --scenario fixtures/scenarios/original-wedge.scn --seed 1 --trace "$directory/a.jsonl" >/dev/null
"$leasesim" --scenario fixtures/scenarios/original-wedge.scn --seed 1 --trace "$directory/b.jsonl" >/dev/null
cmp "$directory/a.jsonl" "$directory/b.jsonl"
echo "determinism: traces byte-identical across two runs"
