#!/usr/bin/env bash
# make test-multihost: the etcd backend on three "hosts" under faults, in the
# manner of Jepsen's etcd lock tests (docs/etcd.md, docs/spec.md section 10).
#
# Three network namespaces ($P-h1..3), each with one etcd member and one host
# running the four programs, joined by a bridge in a fourth namespace ($P-net);
# addresses 10.77.0.0/24 exist only inside those namespaces. Phases: none,
# kill (SIGKILL a member, restart it), pause (SIGSTOP/SIGCONT a member),
# partition (a host's link down). In every phase the twelve programs run in a
# storm, three rounds; every body's enter/exit (MAINTENANCE_LOG) is checked
# for exclusion. Then a fenced write: a holder stopped past its TTL wakes and
# its write, carrying an old fence, is refused by the resource. Output:
# `name value unit` lines; exit 0 when safe. Root only; everything is torn down
# on exit. Every wait is bounded.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ $(id -u) -ne 0 ]]; then echo "test-multihost: skipped (needs root for network namespaces)"; exit 0; fi
if ! command -v etcd >/dev/null || ! command -v ip >/dev/null || ! command -v nsenter >/dev/null; then
    echo "test-multihost: skipped (etcd-server, iproute2 or util-linux's nsenter not installed)"; exit 0
fi

BIN=${CONFORMANCE_BIN:-build/bin}
BIN=$(cd "$BIN" && pwd)
PROGRAMS=(backup kbSync sandman syncGithubWorkflow)
ROUNDS=3
P=lmh$$
NET=$P-net
# In memory when there is /dev/shm: etcd's fsyncs to a disk cost about a fifth of its CPU, and the
# nemesis kills processes, never the machine, so what a member wrote outlives it either way.
SCRATCH=/tmp; [[ -d /dev/shm && -w /dev/shm ]] && SCRATCH=/dev/shm
WORK=$(mktemp -d "$SCRATCH/lease-multihost.XXXXXX")
declare -A MEMBER_PID=()
KEY=/multihost/lease
ENDPOINTS=http://10.77.0.1:2379,http://10.77.0.2:2379,http://10.77.0.3:2379
CLUSTER=m1=http://10.77.0.1:2380,m2=http://10.77.0.2:2380,m3=http://10.77.0.3:2380

teardown() {
    for i in "${!MEMBER_PID[@]}"; do
        kill -CONT "${MEMBER_PID[$i]}" 2>/dev/null || true
        kill -KILL "${MEMBER_PID[$i]}" 2>/dev/null || true
        wait "${MEMBER_PID[$i]}" 2>/dev/null || true
    done
    for ns in $P-h1 $P-h2 $P-h3 $NET; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap teardown EXIT

# Runs a command in host i's network namespace: nsenter joins it and execs the command (ip netns
# exec would also remount /sys and /etc for the command: nothing here reads them).
in_host() { local i=$1; shift; nsenter --net="/run/netns/$P-h$i" "$@"; }

ip netns add "$NET"
ip -n "$NET" link add br0 type bridge
ip -n "$NET" link set br0 up
for i in 1 2 3; do
    ip netns add "$P-h$i"
    ip -n "$NET" link add "b$i" type veth peer name eth0 netns "$P-h$i"
    ip -n "$NET" link set "b$i" master br0 up
    ip -n "$P-h$i" addr add "10.77.0.$i/24" dev eth0
    ip -n "$P-h$i" link set eth0 up
    ip -n "$P-h$i" link set lo up
done

# Elections within half a second of a leader's loss (--election-timeout 500), with the fewest
# heartbeats etcd accepts for it (one per fifth of the timeout: at 50 ms the members' heartbeats
# took two fifths of this suite's CPU; 100 ms: 8.0 -> 6.9 CPU seconds, the same phases and counts).
# The subshell execs nsenter, which execs etcd: MEMBER_PID is etcd's own pid, so the nemesis's
# SIGKILL and SIGSTOP reach the member (a function run with & would leave a shell there that
# takes the signal while etcd runs on; wait_healthy checks it).
start_member() {
    local i=$1 state=$2
    (exec nsenter --net="/run/netns/$P-h$i" etcd --name "m$i" --data-dir "$WORK/m$i" \
        --listen-client-urls "http://10.77.0.$i:2379" --advertise-client-urls "http://10.77.0.$i:2379" \
        --listen-peer-urls "http://10.77.0.$i:2380" --initial-advertise-peer-urls "http://10.77.0.$i:2380" \
        --initial-cluster "$CLUSTER" --initial-cluster-state "$state" \
        --heartbeat-interval 100 --election-timeout 500 >>"$WORK/m$i.log" 2>&1) &
    MEMBER_PID[$i]=$!
}

# Bounded: curl retries refused connections and 5xx (no leader yet) for at most 30 s.
wait_healthy() {
    local i=$1
    in_host "$i" curl -sf --noproxy '*' --retry 300 --retry-delay 0 --retry-connrefused --retry-max-time 30 \
        --max-time 2 "http://10.77.0.$i:2379/health" | grep -q '"health":"true"' ||
        { echo "multihost: member $i did not become healthy"; tail -5 "$WORK/m$i.log"; exit 1; }
    local comm; read -r comm <"/proc/${MEMBER_PID[$i]}/comm"
    [[ $comm == etcd ]] ||
        { echo "multihost: member $i's pid ${MEMBER_PID[$i]} is not etcd's: the nemesis would miss it"; exit 1; }
}

for i in 1 2 3; do start_member "$i" new; done
for i in 1 2 3; do wait_healthy "$i"; done

LOG=$WORK/bodies.log
: >"$LOG"

# One phase: ROUNDS storm rounds, in each the four programs on the three hosts at once
# (multihost_storm.py starts them inside each host's namespace); prints the phase's counts.
run_phase() {
    LEASE_IMPLEMENTATION=etcd LEASE_ETCD_ENDPOINTS="$ENDPOINTS" LEASE_ETCD_KEY=$KEY \
        LEASE_ETCD_TIMEOUT_MS=700 MAINTENANCE_BODY=sleep MAINTENANCE_SLEEP_MS=20 \
        MAINTENANCE_TTL_MS=5000 MAINTENANCE_LOG="$LOG" \
        /usr/bin/python3 conformance/etcd/multihost_storm.py "$1" "$P" "$ROUNDS" "$WORK" "$BIN" "${PROGRAMS[@]}"
}

run_phase none

kill -KILL "${MEMBER_PID[1]}"
code=0; wait "${MEMBER_PID[1]}" 2>/dev/null || code=$?
[[ $code -eq 137 ]] || { echo "multihost: member 1 did not die of SIGKILL (status $code)"; exit 1; }
run_phase kill
start_member 1 existing; wait_healthy 1

kill -STOP "${MEMBER_PID[2]}"
# Stopped before the phase starts (state T in /proc/PID/stat; bounded: 100 looks 10 ms apart).
stopped() { local stat; read -r stat <"/proc/${MEMBER_PID[2]}/stat"; [[ $stat == *") T "* ]]; }
for _ in $(seq 100); do stopped && break; sleep 0.01; done
stopped || { echo "multihost: member 2 did not stop"; exit 1; }
run_phase pause
kill -CONT "${MEMBER_PID[2]}"; wait_healthy 2

ip -n "$NET" link set b3 down
run_phase partition
ip -n "$NET" link set b3 up; wait_healthy 3

# Exclusion over every phase.
/usr/bin/python3 - "$LOG" <<'PY'
import sys
spans, open_bodies = [], {}
for line in open(sys.argv[1]):
    kind, name, pid, stamp = line.split()
    if kind == "enter":
        open_bodies[pid] = int(stamp)
    elif pid in open_bodies:
        spans.append((open_bodies.pop(pid), int(stamp)))
spans.sort()
overlaps = sum(1 for a, b in zip(spans, spans[1:]) if a[1] > b[0])
print(f"bodies_total {len(spans)} bodies")
print(f"exclusion_violations {overlaps} overlaps")
sys.exit(1 if overlaps or not spans else 0)
PY

# Fenced write (Jepsen's lock-etcd-set): the resource keeps the highest fence
# it has seen and refuses a write with a lower one.
DATA=$WORK/data.txt
: >"$DATA"
cat >"$WORK/fenced-append.sh" <<'SH'
#!/usr/bin/env bash
# fenced-append.sh FILE FENCE WRITER: append under flock when FENCE beats every fence in FILE.
exec 9>>"$1.lock"; flock 9
highest=$(awk 'BEGIN{m=0} {if ($1>m) m=$1} END{print m}' "$1")
if (( $2 > highest )); then echo "$2 $3" >>"$1"; echo accepted; else echo refused; fi
SH
chmod +x "$WORK/fenced-append.sh"
lease_json() { local i=$1; shift; in_host "$i" env LEASE_ETCD_TIMEOUT_MS=700 "$BIN/lease" "$@" --backend etcd \
    --endpoints "$ENDPOINTS" --key /multihost/fenced --lease "$WORK/fenced.json" --json; }
field() { /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['lease']$1)"; }

mkfifo "$WORK/ready"
# Holder A on host 1: acquires (TTL 1 s), says so, stops itself, then writes.
(
    exec >"$WORK/a.out" 2>&1
    reply=$(lease_json 1 acquire --owner A --ttl-ms 1000)
    fence=$(field "['metadata']['fence']" <<<"$reply")
    echo "$fence" >"$WORK/ready"
    kill -STOP $BASHPID
    echo "write $("$WORK/fenced-append.sh" "$DATA" "$fence" A)"
) &
HOLDER=$!
read -r FENCE_A <"$WORK/ready"
# The key is deleted when A's etcd lease expires: a watch event, not a sleep.
# Watching from A's create revision replays a deletion that came first.
mkfifo "$WORK/watch"
in_host 2 timeout 20 etcdctl --endpoints "$ENDPOINTS" watch --rev="$FENCE_A" /multihost/fenced \
    >"$WORK/watch" 2>/dev/null &
WATCHER=$!
grep -m1 -q DELETE <"$WORK/watch" || { echo "multihost: A's etcd lease did not expire within 20 s"; exit 1; }
kill "$WATCHER" 2>/dev/null || true; wait "$WATCHER" 2>/dev/null || true
REPLY=$(lease_json 2 acquire --owner B --ttl-ms 10000)
FENCE_B=$(field "['metadata']['fence']" <<<"$REPLY")
B_WRITE=$("$WORK/fenced-append.sh" "$DATA" "$FENCE_B" B)
lease_json 2 release --token "$(field "['token']" <<<"$REPLY")" >/dev/null
kill -CONT "$HOLDER"; wait "$HOLDER"
A_WRITE=$(sed -n 's/^write //p' "$WORK/a.out")
UNFENCED=$(( FENCE_A < FENCE_B ? 1 : 0 ))
echo "fence_a $FENCE_A revision"
echo "fence_b $FENCE_B revision"
echo "fenced_write_b ${B_WRITE} result"
echo "fenced_stale_write_a ${A_WRITE} result"
echo "stale_writes_unfenced_would_land $UNFENCED writes"
[[ $B_WRITE == accepted && $A_WRITE == refused && $FENCE_B -gt $FENCE_A ]] || { echo "multihost: fencing FAILED"; exit 1; }
echo "multihost: safe (exclusion held in every phase; the stale holder's write was refused by its fence)"
