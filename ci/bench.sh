#!/usr/bin/env bash
# make bench: runs every part's benchmark target that exists (CI_BENCH_TARGETS,
# default bench-cli bench-sim bench-instructions zoo), collects its `name value unit` lines, and
# compares each figure with fixtures/bench-baseline.txt (ci/bench_compare.py):
# ratios, instruction counts and seed or schedule counts more than 20% worse
# than their baseline fail the run; wall times and rates are shown, not judged
# (BENCH_TOLERANCE=0.20; BENCH_UPDATE=1 rewrites the baseline instead).
# Results: build/bench/figures.txt and build/bench/<target>.log.
set -uo pipefail
cd "$(dirname "$0")/.."

targets=(${CI_BENCH_TARGETS:-bench-cli bench-sim bench-instructions zoo})
mkdir -p build/bench
figures=build/bench/figures.txt
: >"$figures"
missing=()
for target in "${targets[@]}"; do
    # make -q exits 2 when there is no rule for the target.
    make -q --no-print-directory "$target" >/dev/null 2>&1
    if [[ $? -eq 2 ]]; then
        missing+=("$target")
        echo "bench: $target: no such make target yet; skipped"
        continue
    fi
    echo "=== bench: $target"
    log=build/bench/$target.log
    if ! make --no-print-directory "$target" 2>&1 | tee "$log"; then
        echo "bench: $target failed; its figures are not compared"
        echo "$target.failed 1 flag" >>"$figures"
        continue
    fi
    /usr/bin/python3 ci/bench_compare.py --extract "$log" >>"$figures"
done
echo "=== bench: figures ($figures) against fixtures/bench-baseline.txt"
/usr/bin/python3 ci/bench_compare.py --baseline fixtures/bench-baseline.txt --tolerance "${BENCH_TOLERANCE:-0.20}" \
    ${BENCH_UPDATE:+--update} "$figures"
