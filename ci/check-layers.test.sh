#!/bin/bash
# ci/check-layers.test.sh: ci/check-layers.py accepts a clean layering and
# fails on each broken one: a back edge, a circle inside one layer, an allow
# line whose edge is gone, an object in no layer, and the real simulator's
# objects under a table with two layers swapped.
# usage: ci/check-layers.test.sh OBJDIR (the build's objects, for the last case)
set -u
objects=${1:?usage: ci/check-layers.test.sh OBJDIR}
check="/usr/bin/python3 ci/check-layers.py"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failures=0

# expect NAME STATUS PATTERN TABLE OBJDIR [show]: the checker exits STATUS and
# prints PATTERN; with show, its verdict is printed too (the real tables: make
# check-layers runs the checker on them only here).
expect() {
    local name=$1 status=$2 pattern=$3 output actual
    output=$($check "$4" "$5" 2>&1)
    actual=$?
    if [ "$actual" -eq "$status" ] && grep -q -- "$pattern" <<<"$output"; then
        echo "ok   $name"
        [ "${6:-}" = show ] && printf '%s\n' "$output"
    else
        echo "FAIL $name: exit $actual (expected $status), output:"; sed 's/^/     /' <<<"$output"
        failures=$((failures + 1))
    fi
}

# build FILE SOURCE: one object of the scratch tree.
build() {
    mkdir -p "$scratch/obj/t"
    mkdir -p "$scratch/t"
    printf '%s\n' "$2" > "$scratch/t/$1.c"
    cc -c -o "$scratch/obj/t/$1.o" "$scratch/t/$1.c" || exit 2
}

build low 'int low_value(void); int low_value(void) { return 1; }'
build high 'int low_value(void); int high_value(void); int high_value(void) { return low_value() + 1; }'
printf 'bottom t/low\ntop t/high\n' > "$scratch/good.table"
expect "a clean layering passes" 0 "none upward, no circle" "$scratch/good.table" "$scratch/obj"

printf 'bottom t/high\ntop t/low\n' > "$scratch/swapped.table"
expect "a file using a higher layer fails" 1 "t/high (layer bottom) uses low_value of t/low (layer top, higher)" \
    "$scratch/swapped.table" "$scratch/obj"

printf 'bottom t/high\ntop t/low\nallow t/high -> t/low  being removed\n' > "$scratch/allowed.table"
expect "an allowed back edge passes" 0 "1 allowed back edge" "$scratch/allowed.table" "$scratch/obj"

printf 'bottom t/low\ntop t/high\nallow t/low -> t/high  gone already\n' > "$scratch/stale.table"
expect "an allow line whose edge is gone fails" 1 "no longer exists" "$scratch/stale.table" "$scratch/obj"

printf 'one t/low t/high\n' > "$scratch/one.table"
build low 'int high_value(void); int low_value(void); int low_value(void) { return high_value(); }'
expect "a circle inside one layer fails" 1 "circle between t/high, t/low" "$scratch/one.table" "$scratch/obj"

build extra 'int extra_value(void); int extra_value(void) { return 3; }'
printf 'bottom t/low\ntop t/high\n' > "$scratch/unplaced.table"
CHECK_LAYERS_SOURCES=$scratch expect "an object in no layer fails" 1 "t/extra is in no layer" "$scratch/unplaced.table" "$scratch/obj"
mv "$scratch/t/extra.c" "$scratch/t/extra.c.gone"
build low 'int low_value(void); int low_value(void) { return 1; }'
CHECK_LAYERS_SOURCES=$scratch expect "a leftover object whose source is gone is ignored" 0 "none upward, no circle" \
    "$scratch/unplaced.table" "$scratch/obj"

expect "a missing object is reported" 66 "is not built" "$scratch/good.table" "$scratch/nowhere"

# The real library: its table passes; with the text helpers moved to the top
# layer (everything below uses them), it fails.
expect "the library's layers hold" 0 "none upward, no circle" ci/check-layers.src "$objects" show
sed -e 's|^text       src/text src/timefmt|text       src/timefmt|' -e 's|^api        src/api src/keeper|api        src/api src/keeper src/text|' \
    ci/check-layers.src > "$scratch/src-swapped.table"
expect "the library with the text helpers on top fails" 1 "of src/text (layer api, higher)" "$scratch/src-swapped.table" "$objects"

# The real simulator: its table passes; with the world moved up into the
# environment's layer (a back edge from the trace writer below it), it fails.
expect "the simulator's layers hold" 0 "none upward, no circle" ci/check-layers.sim "$objects" show
sed -e 's|^world      sim/world|world      sim/alloc|' -e 's|^env        sim/alloc sim/env|env        sim/world sim/env|' \
    ci/check-layers.sim > "$scratch/sim-swapped.table"
expect "the simulator with the world moved up fails" 1 "sim/trace (layer record) uses sim_world_wall_ms of sim/world (layer env, higher)" \
    "$scratch/sim-swapped.table" "$objects"

[ "$failures" -eq 0 ] && echo "check-layers tests: all passed" && exit 0
echo "check-layers tests: $failures failed"
exit 1
