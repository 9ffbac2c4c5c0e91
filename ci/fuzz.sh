#!/usr/bin/env bash
# make fuzz: runs each libFuzzer binary given after SECONDS for SECONDS (0:
# every seed once, no mutation). Seeds: fixtures/fuzz/<target>/ (read only);
# the working corpus grows in build/fuzz/corpus/<target>/; a crash, leak or
# timeout leaves its input in build/fuzz/crashes/ and fails the gate with the
# command that reproduces it. Prints executions per second per target. The
# targets run at the same time (each for SECONDS of wall time), so the gate
# takes SECONDS, not SECONDS per target.
set -uo pipefail
cd "$(dirname "$0")/.."
source ci/gate-lib.sh

seconds=$1
shift
failed=()
figures=()
mkdir -p build/fuzz/crashes build/fuzz/logs
# run_target BINARY: one target's run; its exit status in its .status file.
run_target() {
    local binary=$1 name seeds corpus log
    name=$(basename "$binary")
    seeds=fixtures/fuzz/$name
    corpus=build/fuzz/corpus/$name
    log=build/fuzz/logs/$name.log
    mkdir -p "$corpus" "$seeds"
    rm -f build/fuzz/crashes/"$name"-*
    local options=(-artifact_prefix="build/fuzz/crashes/$name-" -print_final_stats=1 -timeout=10
                   -rss_limit_mb=2048 -max_len=4096)
    if [[ $seconds -eq 0 ]]; then
        local files=("$seeds"/* "$corpus"/*) existing=() file
        for file in "${files[@]}"; do [[ -f "$file" ]] && existing+=("$file"); done
        "$binary" "${options[@]}" -runs=1 "${existing[@]}" >"$log" 2>&1
    else
        "$binary" "${options[@]}" -max_total_time="$seconds" "$corpus" "$seeds" >"$log" 2>&1
    fi
    echo $? >"build/fuzz/logs/$name.status"
}
for binary in "$@"; do
    run_target "$binary" &
done
wait
for binary in "$@"; do
    name=$(basename "$binary")
    corpus=build/fuzz/corpus/$name
    log=build/fuzz/logs/$name.log
    status=$(cat "build/fuzz/logs/$name.status" 2>/dev/null || echo 1)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    units=$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -n 1)
    coverage=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1)
    echo "fuzz: $name: exit $status, ${runs:-?} runs, ${rate:-?} exec/s, ${units:-0} new inputs, ${coverage:-cov: ?} edges, corpus $(ls "$corpus" | wc -l) files"
    [[ -n "$rate" && $seconds -gt 0 ]] && figures+=("fuzz_${name#fuzz_}_exec_per_second $rate exec/s")
    artifacts=(build/fuzz/crashes/"$name"-*)
    if [[ $status -ne 0 || -e "${artifacts[0]}" ]]; then
        finding=$(grep -m 1 -E '^invariant failed:|ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|ERROR: libFuzzer' "$log" | cut -c1-200)
        echo "$finding"
        grep -E '^ +#[0-9]+ ' "$log" | head -n 12
        artifact=${artifacts[0]}
        # A seed that crashes in a regression run (-runs) is its own reproducer.
        [[ -e "$artifact" ]] || artifact=$(sed -n 's/^Running: //p' "$log" | tail -n 1)
        [[ -n "$artifact" ]] || artifact="(no artifact; see $log)"
        failed+=("$name crashed on $artifact (${finding:-see $log}); reproduce: $binary $artifact")
    fi
done
printf '%s\n' "${figures[@]}" >build/fuzz/figures.txt
gate_verdict fuzz $# "no fuzz target built" "$# targets, ${seconds}s each (at once), no crash" "${failed[*]}" || exit 1
