#!/usr/bin/env bash
# make test-sim-tool: leasesim as a tool: output files that cannot be written
# are errors (73), exhaustive mode refuses --trace/--svg (64), --merge refuses
# summaries that are not one whole campaign (65), and a campaign whose stderr
# is not a terminal prints heartbeat lines.
#   usage: sim/check-tool.sh LEASESIM SCRATCH
set -uo pipefail
leasesim=$1
scratch=$2
rm -rf "$scratch"
mkdir -p "$scratch"
passed=0
failed=0
# The campaigns' length (CHECK_TOOL_SEEDS, default 3000): the instrumented
# builds of make ci-gates run 600 (a start and every shrink cost far more
# there; the options behave the same over fewer seeds).
seeds=${CHECK_TOOL_SEEDS:-3000}
expect() { # NAME WANTED-EXIT PATTERN COMMAND...
    local name=$1 wanted=$2 pattern=$3
    shift 3
    "$@" > "$scratch/$name.out" 2> "$scratch/$name.err"
    local got=$?
    if [[ $got -eq $wanted ]] && grep -qE -- "$pattern" "$scratch/$name.out" "$scratch/$name.err"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "test-sim-tool: FAIL $name: exit $got (wanted $wanted), output:"
        cat "$scratch/$name.out" "$scratch/$name.err" | head -5
    fi
}
expect svg-unwritable 73 'cannot write --svg /nonexistent/dir/x.svg' "$leasesim" --seed 1 --svg /nonexistent/dir/x.svg
expect trace-unwritable 73 'cannot write --trace' "$leasesim" --seeds 1..5 --trace /nonexistent/t.jsonl
expect summary-unwritable 73 'cannot write --summary' "$leasesim" --seeds 1..5 --summary /nonexistent/s.json
expect exhaustive-svg 64 'not written in exhaustive mode' "$leasesim" --strategy exhaustive --seed 1 --svg "$scratch/x.svg"
for shard in 1 2 3; do
    "$leasesim" --impl lease --seeds 1..90 --shard $shard/3 --summary "$scratch/s$shard.json" --quiet > /dev/null
done
"$leasesim" --impl neo-v1 --seeds 1..90 --shard 3/3 --summary "$scratch/other.json" --quiet > /dev/null
expect merge-whole 0 'merged 3 summaries: 90 seeds' "$leasesim" --merge "$scratch/s1.json" "$scratch/s2.json" "$scratch/s3.json"
expect merge-missing 65 'shard 3/3 is missing' "$leasesim" --merge "$scratch/s1.json" "$scratch/s2.json"
expect merge-twice 65 'given twice' "$leasesim" --merge "$scratch/s1.json" "$scratch/s1.json" "$scratch/s2.json"
expect merge-other 65 "impl 'neo-v1'" "$leasesim" --merge "$scratch/s1.json" "$scratch/s2.json" "$scratch/other.json"
expect heartbeat 0 "leasesim: lease: seeds [0-9]+/$seeds, [0-9]+ seeds/s, violations 0" \
    env LEASESIM_HEARTBEAT_SECONDS=0 "$leasesim" --impl lease --seeds "1..$seeds"
expect svg-written 0 '0 violation' "$leasesim" --seed 3 --svg "$scratch/ok.svg" --trace "$scratch/ok.jsonl"
[[ -s "$scratch/ok.svg" && -s "$scratch/ok.jsonl" ]] || { failed=$((failed + 1)); echo "test-sim-tool: FAIL the svg or trace is empty"; }
# The trace against its schema (sim/README.md, "Trace schema").
"$leasesim" --impl neo-v2 --seed 1 --trace "$scratch/schema.jsonl" > /dev/null
if /usr/bin/python3 - "$scratch/schema.jsonl" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
header = json.loads(lines[0])
assert header["type"] == "header" and header["schema"] == 1 and header["impl"] == "neo-v2" and header["seed"] == 1
assert header["knobs"].startswith("ttl=")
ops = stories = 0
for line in lines[1:]:
    record = json.loads(line)
    if "story" in record:
        stories += 1
        assert set(record) <= {"step", "t", "story", "proc", "pid", "text"} and "text" in record, record
    else:
        ops += 1
        for key in ("step", "t", "wall", "proc", "pid", "op", "rc", "value"):
            assert key in record, (key, record)
        assert (record["rc"] < 0) == ("errno" in record), record
        if "errno" in record:
            assert record["errno"].startswith("E"), record
assert ops > 0 and stories > 0
PY
then passed=$((passed + 1)); else failed=$((failed + 1)); echo "test-sim-tool: FAIL the trace does not follow its schema"; fi
# --keep-going: the whole range, both of neo-v2's invariants counted, one
# replay line per signature, and each replay line reproduces its invariant.
expect keep-going 1 'violations by invariant: exclusion=[0-9]+ honest-deferral=[0-9]+' \
    "$leasesim" --impl neo-v2 --seeds "1..$seeds" --keep-going --quiet
if grep -qE "^leasesim: $seeds seed\\(s\\)" "$scratch/keep-going.out" &&
    [[ $(grep -c '^signature ' "$scratch/keep-going.out") -ge 4 ]] &&
    [[ $(grep -c '^signature ' "$scratch/keep-going.out") -eq $(grep -c '^  replay: ' "$scratch/keep-going.out") ]]; then
    passed=$((passed + 1))
else
    failed=$((failed + 1)); echo "test-sim-tool: FAIL keep-going: not every seed run, or signatures without replay lines"
fi
replayed=0
while read -r invariant replay; do
    # shellcheck disable=SC2086
    replay_output=$($replay --quiet 2>&1)
    if ! grep -q "invariant=$invariant\$" <<< "$replay_output"; then
        failed=$((failed + 1)); echo "test-sim-tool: FAIL keep-going replay does not reproduce $invariant: $replay"
    fi
    replayed=$((replayed + 1))
done < <(awk '/^signature /{sub(",", "", $3); invariant=$3} /^  replay: /{sub("^  replay: ", ""); print invariant, $0}' \
    "$scratch/keep-going.out" | sed "s|^\([^ ]*\) [^ ]*leasesim|\1 $leasesim|")
[[ $replayed -gt 0 ]] && passed=$((passed + 1))
expect hunt-exclusion 1 'VIOLATION seed=2 impl=neo-v2 invariant=exclusion' \
    "$leasesim" --impl neo-v2 --strategy random --seeds 1..3000 --invariant exclusion --quiet
expect hunt-counted 1 'hunting exclusion: [1-9][0-9]* seed\(s\) broke another invariant first' \
    "$leasesim" --impl neo-v2 --seeds 1..300 --invariant exclusion --keep-going --quiet
expect keep-going-clean 0 '^0 distinct signature\(s\)' "$leasesim" --impl lease --seeds 1..500 --keep-going --quiet
expect hunt-unknown 64 'unknown invariant: exclusionn' "$leasesim" --seeds 1..5 --invariant exclusionn
expect bench-rates-refused 64 "LEASESIM_BENCH_RATES must be null or lease, not 'nul'" \
    env LEASESIM_BENCH_RATES=nul "$leasesim" --bench
# A wedge is a finding: its length in the summary, the verdict line and the
# picture's title; the project's lease (pid check) does not wedge there.
wedge=fixtures/scenarios/original-wedge.scn
expect wedge-summary 0 "^WEDGE: wedged 6.0 h: the dead holder's lease blocked 1 run until its TTL" \
    "$leasesim" --impl neo-v1 --scenario $wedge --seed 1 --svg "$scratch/wedge.svg"
expect wedge-title 0 "WEDGED 6.0 h: the dead holder&#39;s lease blocked 1 run until its TTL</text>" cat "$scratch/wedge.svg"
expect wedge-campaign 0 '^WEDGE: 10 seed\(s\) wedged; longest \(seed [0-9]+\): wedged 6.0 h' \
    "$leasesim" --impl neo-v1 --scenario $wedge --seeds 1..10 --quiet
expect wedge-verdict 0 'ok   original-wedge +neo-v1 +expected wedged +got wedged .* WEDGED 6.0 h' \
    "$leasesim" --scenario $wedge --check
"$leasesim" --impl lease --scenario $wedge --seeds 1..10 --quiet > "$scratch/wedge-lease.out"
if grep -q WEDGE "$scratch/wedge-lease.out"; then
    failed=$((failed + 1)); echo "test-sim-tool: FAIL lease reported as wedged on $wedge"
else passed=$((passed + 1)); fi
printf 'name wedge-pass\nseeds 1..2\nttl 21600000\norchestrator orch at 0 child kbSync:600000:hang\nkill orch.1 at 120000\nprogram next kbSync at 180000 body 1000\nexpect neo-v1 pass\n' > "$scratch/wedge-pass.scn"
expect wedge-not-pass 1 'FAIL wedge-pass +neo-v1 +expected pass +got wedged' "$leasesim" --scenario "$scratch/wedge-pass.scn" --check
# Double acquisition without overlapping bodies: neo-v2's racing reclaimers
# are told "acquired" twice; the project's lease never is.
expect double-acquisition 1 'VIOLATION seed=165 impl=neo-v2 invariant=double-acquisition' \
    "$leasesim" --impl neo-v2 --strategy random --seeds 1..3000 --invariant double-acquisition --quiet
expect double-acquisition-lease 0 '0 violation\(s\)' \
    "$leasesim" --impl lease --seeds "1..$seeds" --invariant double-acquisition --quiet
# --check judges every registered implementation: those no expect line
# names get a verdict derived from their traits (here the models' race fails).
grep -v '^expect neo' fixtures/scenarios/two-reclaimers.scn > "$scratch/lease-only.scn"
expect check-derived 1 'FAIL two-reclaimers +neo-v2 +expected pass\|wedged +got (exclusion|honest-deferral)' \
    "$leasesim" --scenario "$scratch/lease-only.scn" --check
grep -q 'neo-v1: no expect line; derived from its traits' "$scratch/check-derived.out" && passed=$((passed + 1)) ||
    { failed=$((failed + 1)); echo "test-sim-tool: FAIL neo-v1 not judged without an expect line"; }
# Several --scenario files: one campaign each in turn, as if run one by one
# (the same output; the same history but for the run numbers, which go on).
two=(fixtures/scenarios/two-reclaimers.scn fixtures/scenarios/original-wedge.scn)
for index in 0 1; do
    "$leasesim" --impl neo-v2 --scenario "${two[$index]}" --seed 1 --no-shrink --quiet --history "$scratch/h$index" \
        > "$scratch/o$index"
done
expect scenarios-several 1 'VIOLATION seed=1 impl=neo-v2 ' "$leasesim" --impl neo-v2 \
    --scenario "${two[0]}" --scenario "${two[1]}" --seed 1 --no-shrink --quiet --history "$scratch/h01"
without_rates() { sed 's/, [0-9.]*s ([0-9]* steps\/s)$//; s/"run":[0-9]*,//' "$@"; } # the time taken varies
if cmp -s <(without_rates "$scratch/o0" "$scratch/o1") <(without_rates "$scratch/scenarios-several.out") &&
    cmp -s <(without_rates "$scratch/h0" "$scratch/h1") <(without_rates "$scratch/h01"); then
    passed=$((passed + 1))
else
    failed=$((failed + 1))
    echo "test-sim-tool: FAIL two --scenario files in one run differ from the two runs"
fi
expect scenarios-several-check 64 'for campaigns, not --check' "$leasesim" --scenario "${two[0]}" --scenario "${two[1]}" --check
expect scenarios-several-trace 64 'take one --scenario' "$leasesim" --scenario "${two[0]}" --scenario "${two[1]}" \
    --seed 1 --trace "$scratch/t.jsonl"
expect scenarios-several-missing 64 'cannot read the scenario' "$leasesim" --scenario "${two[0]}" \
    --scenario "$scratch/none.scn" --seed 1 --quiet
echo "test-sim-tool: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
