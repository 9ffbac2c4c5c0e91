#!/usr/bin/env bash
# figures.sh LEASESIM: the --exec figures as "name value unit" lines
# (docs/exec.md). Seed counts and ratios are repeatable; wall times and
# rates are information only.
set -u
leasesim=$1
racy_c='env LEASE_IMPLEMENTATION=neo-v2 build/bin/{script}'
racy_py='/usr/bin/python3 -S fixtures/adapters/racy_lease.py {script}'
scenarios=fixtures/scenarios

# seeds_to_exclusion NAME ARGS...: the seed of the first *exclusion*
# violation within 1..100 (--invariant exclusion: a foreign release or
# another invariant's violation on the way is counted, not a hit).
seeds_to_exclusion() {
    local name=$1
    shift
    local seed
    seed=$("$@" --invariant exclusion --shrink off --seeds 1..100 2>/dev/null | sed -n 's/^VIOLATION seed=\([0-9]*\) .*/\1/p')
    echo "$name ${seed:-none-within-100} seeds"
}
for strategy in random pct; do
    seeds_to_exclusion "exec-two-reclaimers-racy-python-$strategy" "$leasesim" --exec "$racy_py" \
        --scenario $scenarios/two-reclaimers.scn --strategy "$strategy"
    seeds_to_exclusion "exec-release-race-racy-python-$strategy" "$leasesim" --exec "$racy_py" \
        --scenario $scenarios/exec/release-race-exclusion.scn --strategy "$strategy" --pct-depth 5 --pct-steps 120
    seeds_to_exclusion "exec-torn-create-racy-python-$strategy" "$leasesim" --exec "$racy_py" \
        --scenario $scenarios/torn-create.scn --strategy "$strategy"
    if command -v node >/dev/null; then
        seeds_to_exclusion "exec-two-reclaimers-racy-node-$strategy" "$leasesim" \
            --exec 'node fixtures/adapters/racy_lease.mjs {script}' --scenario $scenarios/two-reclaimers.scn \
            --strategy "$strategy"
    fi
    seeds_to_exclusion "exec-two-reclaimers-neo-v2-$strategy" "$leasesim" --exec "$racy_c" --initial dead \
        --strategy "$strategy"
done

# Replay: five runs of one violating seed, identical apart from the wall-time summary line.
distinct=$(for run in 1 2 3 4 5; do
    "$leasesim" --exec "$racy_py" --scenario $scenarios/two-reclaimers.scn --invariant exclusion --seed 1 |
        grep -v '^leasesim: .* seed(s) run' | md5sum
done | sort -u | wc -l)
echo "exec-replay-distinct-outputs-of-5 $distinct outputs"

# Overhead: start-up alone and under the controller (informational: wall time).
startup() { # startup NAME COMMAND...
    local name=$1
    shift
    local start plain controlled
    start=$(date +%s%N)
    for run in $(seq 20); do "$@" >/dev/null 2>&1; done
    plain=$(($(date +%s%N) - start))
    start=$(date +%s%N)
    "$leasesim" --exec "$*" --programs a --initial none --seeds 1..20 --quiet >/dev/null
    controlled=$(($(date +%s%N) - start))
    echo "exec-$name-startup-plain $((plain / 20000)) us"
    echo "exec-$name-startup-controlled $((controlled / 20000)) us"
    echo "exec-$name-startup-ratio $(awk -v a="$controlled" -v b="$plain" 'BEGIN { printf "%.2f", a / b }') ratio"
}
startup python /usr/bin/python3 -c pass
if command -v node >/dev/null; then
    startup node "$(command -v node)" -e 0
else
    echo "exec-node-startup-ratio not-installed ratio"
fi
rate=$("$leasesim" --exec 'build/bin/{script}' --seeds 1..20 | sed -n 's/.*(\([0-9]*\) syscalls\/s).*/\1/p')
echo "exec-lease-syscalls-scheduled-rate ${rate:-0} syscalls/s"
