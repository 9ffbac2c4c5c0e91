#!/usr/bin/env bash
# figures.sh LEASESIM: the --exec figures as "name value unit" lines
# (docs/exec.md). Seed counts and ratios are repeatable; wall times and
# rates are information only.
set -u
leasesim=$1
racy_c='env LEASE_IMPLEMENTATION=neo-v2 build/bin/{script}'
racy_py='/usr/bin/python3 sim/exec/py_lease.py {script}'

# seeds_to_violation NAME ARGS...: the seed of the first violation within 1..100.
seeds_to_violation() {
    local name=$1
    shift
    local seed
    seed=$("$@" --seeds 1..100 2>/dev/null | sed -n 's/^VIOLATION seed=\([0-9]*\) .*/\1/p')
    echo "$name ${seed:-none-within-100} seeds"
}
for strategy in random pct; do
    seeds_to_violation "exec-two-reclaimers-neo-v2-$strategy" "$leasesim" --exec "$racy_c" --initial dead --strategy "$strategy"
    seeds_to_violation "exec-two-reclaimers-racy-python-$strategy" env PY_LEASE_MODE=racy "$leasesim" --exec "$racy_py" --initial dead --strategy "$strategy"
    seeds_to_violation "exec-fresh-start-racy-python-$strategy" env PY_LEASE_MODE=racy "$leasesim" --exec "$racy_py" --initial none --strategy "$strategy"
done

# Replay: five runs of one violating seed, identical apart from the wall-time summary line.
distinct=$(for run in 1 2 3 4 5; do
    "$leasesim" --exec "$racy_c" --seed 1 | grep -v '^leasesim: .* seed(s) run' | md5sum
done | sort -u | wc -l)
echo "exec-replay-distinct-outputs-of-5 $distinct outputs"

# Overhead: Python start-up alone and under the controller (informational: wall time).
start=$(date +%s%N)
for run in $(seq 20); do /usr/bin/python3 -c pass; done
plain=$(( $(date +%s%N) - start ))
start=$(date +%s%N)
"$leasesim" --exec '/usr/bin/python3 -c pass' --programs a --initial none --seeds 1..20 --quiet >/dev/null
controlled=$(( $(date +%s%N) - start ))
echo "exec-python-startup-plain $((plain / 20000)) us"
echo "exec-python-startup-controlled $((controlled / 20000)) us"
echo "exec-python-startup-ratio $(awk -v a="$controlled" -v b="$plain" 'BEGIN { printf "%.2f", a / b }') ratio"
rate=$("$leasesim" --exec 'build/bin/{script}' --seeds 1..20 | sed -n 's/.*(\([0-9]*\) syscalls\/s).*/\1/p')
echo "exec-lease-syscalls-scheduled-rate ${rate:-0} syscalls/s"
