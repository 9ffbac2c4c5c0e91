#!/usr/bin/env bash
# make test-timeline: the pictures as a person sees them. leasesim draws a
# neo-v2 two-reclaimers violation and the original's wedge; headless Chromium
# renders the SVGs and the interactive HTML timeline to PNG, and its DOM after
# the script ran must show the timeline ready with every event, the detail
# of the step asked for in the URL, and the lease file's state at that step.
#   usage: sim/check-timeline.sh LEASESIM SCRATCH
set -uo pipefail
leasesim=$1
out=$2
rm -rf "$out"
mkdir -p "$out"
passed=0
failed=0
check() { # NAME COMMAND...
    local name=$1
    shift
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "test-timeline: FAIL $name"; fi
}
if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then
    echo "test-timeline: FAIL chromium is not installed (ci/deps.sh installs it)"
    exit 1
fi
"$leasesim" --impl neo-v2 --scenario fixtures/scenarios/two-reclaimers.scn --strategy random --seed 1 \
    --svg "$out/violation.svg" --html "$out/violation.html" --trace "$out/violation.jsonl" > "$out/violation.log"
check "the violation is found" grep -q 'VIOLATION seed=1 impl=neo-v2 invariant=exclusion' "$out/violation.log"
"$leasesim" --impl neo-v1 --scenario fixtures/scenarios/original-wedge.scn --seed 1 --svg "$out/wedge.svg" \
    > /dev/null
# One browser renders the two SVGs, the HTML timeline at the step asked for
# (and dumps its DOM), then a page that does not exist, which it must report.
/usr/bin/python3 sim/render_pages.py \
    --page "file://$PWD/$out/violation.svg" 1600x600 "$out/violation.png" - \
    --page "file://$PWD/$out/wedge.svg" 1600x600 "$out/wedge.png" - \
    --page "file://$PWD/$out/violation.html#step=3" 1500x900 "$out/violation-html.png" "$out/dom.html" \
    --page "file://$PWD/$out/missing.html" 800x600 "$out/missing.png" - 2>"$out/render.err"
render_status=$?
check "the renderer reports the page that does not exist (exit 1, naming it)" \
    bash -c "[[ $render_status -eq 1 ]] && grep -q 'missing.html: net::ERR_FILE_NOT_FOUND' '$out/render.err'"
for picture in violation wedge; do
    check "$picture.svg is well-formed SVG with a viewBox and tooltips" /usr/bin/python3 -c "
import sys, xml.etree.ElementTree as tree
root = tree.parse('$out/$picture.svg').getroot()
assert root.get('viewBox'), 'no viewBox'
assert root.findall('.//{http://www.w3.org/2000/svg}title'), 'no tooltips'
assert any('the lease file' in (t.text or '') for t in root.iter('{http://www.w3.org/2000/svg}text'))"
    check "$picture.svg renders to a PNG" test "$(stat -c %s "$out/$picture.png" 2>/dev/null || echo 0)" -gt 20000
done
check "the wedge is in the picture's title" grep -q "WEDGED 6.0 h: the dead holder&#39;s lease blocked 1 run until its TTL</text>" "$out/wedge.svg"
check "the violation is drawn with its arrows" grep -q "marker-end='url(#arrow)'" "$out/violation.svg"
check "the HTML timeline renders to a PNG" test "$(stat -c %s "$out/violation-html.png" 2>/dev/null || echo 0)" -gt 20000
events=$(/usr/bin/python3 -c "
import json, re
page = open('$out/violation.html').read()
data = re.search(r\"<script type='application/json' id='events-data'>(.*?)</script>\", page, re.S).group(1)
print(len(json.loads(data)))")
check "the script ran and counted $events events" grep -q "data-ready=\"$events\"" "$out/dom.html"
check "the step asked for is the current one" bash -c "grep -o '<div class=\"current\">[^<]*' '$out/dom.html' | grep -q 'lease file written by kbSync: (no token yet: torn)'"
check "the detail shows the lease file at that step" grep -q 'the lease file then: torn or empty, written by kbSync' "$out/dom.html"
check "the HTML needs no network" bash -c "! grep -qE '(src|href)=.(https?:)?//' '$out/violation.html'"
echo "test-timeline: pictures in $out/*.png; $passed passed, $failed failed"
[[ $failed -eq 0 ]]
