#!/usr/bin/env bash
# make bench-instructions: instruction counts per simulated step, from
# callgrind (repeatable: the same binary and inputs give the same count
# whatever else the machine does). Prints `name value unit` lines that
# make bench compares with fixtures/bench-baseline.txt.
#   usage: ci/bench-instructions.sh LEASESIM OUTDIR
set -euo pipefail
leasesim=$1
out=$2
mkdir -p "$out"

# instructions_per_step NAME ARGS...: runs leasesim ARGS under callgrind and
# divides its instruction total by the steps it reports.
instructions_per_step() {
    local name=$1
    shift
    local log=$out/$name.log callgrind=$out/$name.callgrind
    valgrind --tool=callgrind --callgrind-out-file="$callgrind" "$leasesim" "$@" > "$log" 2>&1
    local total steps
    total=$(sed -n 's/^summary: //p' "$callgrind")
    steps=$(sed -n -e 's/^leasesim: [0-9]* seed(s), \([0-9]*\) steps.*/\1/p' \
        -e 's/.*([0-9]* seeds, \([0-9]*\) steps, .*/\1/p' "$log")
    if [[ -z "$total" || -z "$steps" || "$steps" -eq 0 ]]; then
        echo "bench-instructions: $name: no total or no steps (see $log)" >&2
        return 1
    fi
    echo "${name}_instructions_per_step $((total / steps)) instructions"
    eval "${name}_ips=$((total / steps))"
}

# Random scheduling, as when the baseline was taken (POS, the default since,
# re-draws priorities after each step: its own figure follows).
instructions_per_step sim_lease --impl lease --strategy random --seeds 1..300 --quiet
instructions_per_step sim_lease_pos --impl lease --strategy pos --seeds 1..300 --quiet

# A step of lease against the scheduler and world alone (leasesim --bench's
# null implementation: 64 environment calls and an error), counted, not timed
# (the ratio of the two wall rates drifted with the machine).
LEASESIM_BENCH_RATES=null instructions_per_step sim_null_bench --bench
LEASESIM_BENCH_RATES=lease instructions_per_step sim_lease_bench --bench
awk -v lease="$sim_lease_bench_ips" -v null="$sim_null_bench_ips" \
    'BEGIN { printf "sim_lease_vs_null_step_cost_ratio %.3f ratio\n", lease / null }'

# The scheduler's cost per step against the number of processes: the same
# programs, 8 or 256 of them (fixtures/bench/crowd-*.scn); goal: 256 costs at
# most 1.2 times 8 per step.
instructions_per_step sim_crowd_8 --impl lease --strategy random --scenario fixtures/bench/crowd-8.scn --seeds 1..600 --quiet
instructions_per_step sim_crowd_256 --impl lease --strategy random --scenario fixtures/bench/crowd-256.scn --seeds 1..20 --quiet
awk -v small="$sim_crowd_8_ips" -v large="$sim_crowd_256_ips" \
    'BEGIN { printf "sim_crowd_256_vs_8_step_cost_ratio %.3f ratio\n", large / small }'
