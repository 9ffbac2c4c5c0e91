#!/bin/bash
# sim/compare-baseline.sh: the evidence that a restructuring of the simulator
# changed nothing it prints or writes. "record DIR" runs a fixed set of
# campaigns, scenario verdicts, traces, the exhaustive mode, the determinism
# check and the bench schedule counts into DIR; "compare DIR" runs them again
# into a scratch folder and diffs. Wall times and rates are masked (they are
# information, never a simulation input).
#
# usage: sim/compare-baseline.sh record|compare DIR [LEASESIM]
# exit: 0 identical (or recorded), 1 a difference (diff printed), 64 usage.
set -u
mode=${1:-}
dir=${2:-}
leasesim=${3:-build/bin/leasesim}
if [ -z "$mode" ] || [ -z "$dir" ] || { [ "$mode" != record ] && [ "$mode" != compare ]; }; then
    echo "usage: sim/compare-baseline.sh record|compare DIR [LEASESIM]" >&2
    exit 64
fi
[ -x "$leasesim" ] || { echo "compare-baseline: $leasesim is not built (make $leasesim)" >&2; exit 64; }

# Times and rates vary run to run: replace them by a placeholder.
mask() {
    sed -E -e 's/[0-9]+(\.[0-9]+)? (steps|seeds)\/s/<rate> \2\/s/g' \
        -e 's/[0-9]+\.[0-9]+s\b/<time>/g' \
        -e 's/"(elapsed|seconds|wall)[a-z_]*": *[0-9.e+-]+/"\1": <time>/g' \
        -e 's/^(zoo-.* [0-9]+) +[0-9]+\.[0-9]+$/\1 <time>/'
}

# run NAME ARGS...: stdout and stderr (masked) and the exit status into NAME.out
run() {
    local name=$1; shift
    # The replay lines name the binary: the same name whichever build ran.
    { "$leasesim" "$@" 2>&1; echo "exit $?"; } | sed "s#$leasesim#LEASESIM#g" | mask > "$out/$name.out"
}

out=$dir
if [ "$mode" = compare ]; then
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out/traces"

# --html (the interactive timeline) where the build has it.
with_html=
"$leasesim" --help 2>&1 | grep -q -- --html && with_html=1
impls=$("$leasesim" --list-impls | awk '{print $1}')
"$leasesim" --list-impls > "$out/list-impls.out"

for impl in $impls; do
    run "campaign-$impl" --impl "$impl" --seeds 1..3000 --quiet
    run "campaign-pct-$impl" --impl "$impl" --strategy pct --seeds 1..500 --quiet
    # A single seed with a trace: the trace bytes themselves are the evidence.
    for seed in 1 2 3 7 42 1001; do
        "$leasesim" --impl "$impl" --seed "$seed" --trace "$out/traces/$impl-$seed.jsonl" \
            --svg "$out/traces/$impl-$seed.svg" ${with_html:+--html "$out/traces/$impl-$seed.html"} > /dev/null 2>&1
        echo "exit $?" >> "$out/traces/$impl-$seed.exit"
    done
    for scenario in fixtures/scenarios/*.scn; do
        base=$(basename "$scenario" .scn)
        "$leasesim" --impl "$impl" --scenario "$scenario" --seed 1 --trace "$out/traces/$impl-$base.jsonl" \
            > /dev/null 2>&1
        echo "exit $?" >> "$out/traces/$impl-$base.exit"
        run "exhaustive-$impl-$base" --impl "$impl" --scenario "$scenario" --strategy exhaustive --seed 1
    done
done
for scenario in fixtures/scenarios/*.scn; do
    run "check-$(basename "$scenario" .scn)" --scenario "$scenario" --check
done
run determinism-lease --impl lease --seeds 1..300 --determinism
run determinism-neo-v2 --impl neo-v2 --seeds 1..300 --determinism
run zoo --zoo --seeds 1..5000
run bench --bench
run shard1 --impl lease --seeds 1..2000 --shard 1/2 --summary "$out/shard1.json" --quiet
run shard2 --impl lease --seeds 1..2000 --shard 2/2 --summary "$out/shard2.json" --quiet
run merge --merge "$out/shard1.json" "$out/shard2.json"
# The summaries name their own path in the merge output; the path differs between runs.
sed -i "s#$out/#DIR/#g" "$out/merge.out"
for f in "$out"/shard*.json; do mask < "$f" > "$f.masked" && mv "$f.masked" "$f"; done
(cd "$out/traces" && sha256sum -- * > ../trace-hashes.txt)

if [ "$mode" = record ]; then
    echo "compare-baseline: recorded $(ls "$out" | wc -l) files and $(ls "$out/traces" | wc -l) traces in $dir"
    exit 0
fi
# The recorded side is masked again, so that a mask added later applies to it too.
expected=$(mktemp -d)
trap 'rm -rf "$out" "$expected"' EXIT
cp -r "$dir/." "$expected/"
for f in "$expected"/*.out; do mask < "$f" > "$f.masked" && mv "$f.masked" "$f"; done
if diff -r "$expected" "$out" > "$out.diff" 2>&1; then
    echo "compare-baseline: identical to $dir ($(ls "$out/traces" | wc -l) traces and $(ls "$out" | wc -l) outputs)"
    rm -f "$out.diff"
    exit 0
fi
head -100 "$out.diff"
rm -f "$out.diff"
echo "compare-baseline: DIFFERENT from $dir" >&2
exit 1
