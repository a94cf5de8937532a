#!/usr/bin/env bash
# Measures vigiad on this machine and writes the results table of docs/benchmarks.md.
#
#   server/benches/run.sh            # the full run (about 10 minutes on 2 cores)
#   QUICK=1 server/benches/run.sh    # shorter windows and fewer sessions, to try the script
#
# Builds the release daemon and the two measuring examples once, starts a daemon on
# 127.0.0.1 only, adds 300, 1,000 and 3,000 `sleep` processes (killed by pid on exit), and
# measures at each count: the floor scan, `ps`, the daemon's /proc scan, sysinfo, LIST latency
# and bytes, the cost of someone watching at 1 Hz; then, at 3,000: the idle CPU over 60 s,
# START/STOP pairs, idle sessions, new logins beside them, and 1,000 status subscribers.
# Glances (`pip install 'glances[web]'`) is measured beside it when installed. Every loop is
# bounded.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
PORT=${PORT:-15000}
QUICK=${QUICK:-0}
if [[ $QUICK == 1 ]]; then
    COUNTS=${COUNTS:-"300 1000"}; IDLE_SECS=${IDLE_SECS:-20}; WATCH_SECS=10
    SESSION_COUNTS=${SESSION_COUNTS:-"200"}; SUBSCRIBERS=${SUBSCRIBERS:-100}; WINDOW=5
    LIST_SECS=5; PAIRS=10
else
    COUNTS=${COUNTS:-"300 1000 3000"}; IDLE_SECS=${IDLE_SECS:-60}; WATCH_SECS=30
    SESSION_COUNTS=${SESSION_COUNTS:-"1000 5000"}; SUBSCRIBERS=${SUBSCRIBERS:-1000}; WINDOW=20
    LIST_SECS=10; PAIRS=50
fi
# The sampler's watch window (sampler::WATCH_WINDOW) plus a margin: the idle measure starts
# only once nobody has asked for processes for that long.
QUIET_SECS=35

WORK=$(mktemp -d /tmp/vigia-bench.XXXXXX)
RESULTS=$WORK/results.jsonl
VIGIAD=$TARGET/release/vigiad
LOADGEN=$TARGET/release/examples/loadgen
SCANBENCH=$TARGET/release/examples/scanbench
# shellcheck source=server/benches/lib.sh
source "$ROOT/server/benches/lib.sh"
record() { printf '%s\n' "$1" >>"$RESULTS"; }

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
say "building (release, once)"
(cd "$ROOT" && cargo build --release -q -p vigiad --bin vigiad --example loadgen --example scanbench)

loadgen() {
    drive --json "$@" | tee -a /dev/stderr | tail -n 1
}

ps_ms() { # median of 5 runs of ps, milliseconds
    local i t0 t1 v=()
    for i in 1 2 3 4 5; do
        t0=$(now_ns)
        ps -eo pid,user,pcpu,rss,comm >/dev/null
        t1=$(now_ns)
        v+=($(((t1 - t0) / 1000)))
    done
    printf '%s\n' "${v[@]}" | sort -n | sed -n 3p | awk '{ printf "%.2f", $1 / 1000 }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

glances_step() { # glances_step COUNT: Glances 4's REST process list beside the daemon's LIST
    command -v glances >/dev/null || return 0
    local gport=$((PORT + 1)) gpid i a b fresh=() fresh_cpu=() cached=() bytes rows url
    url="http://127.0.0.1:$gport/api/4/processlist"
    glances -w --disable-webui --bind 127.0.0.1 --port "$gport" >/dev/null 2>&1 &
    gpid=$!
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$gport/api/4/status" >/dev/null 2>&1 && break
        sleep 0.2
    done
    # Glances refreshes its figures when a request finds them older than its refresh time
    # (2 s): a request every 2.5 s gets a fresh list, an immediate repeat the cached one.
    for i in 1 2 3 4 5; do
        sleep 2.5
        a=$(ticks "$gpid")
        fresh+=("$(curl -sf -o "$WORK/glances.json" -w '%{time_total}' "$url")")
        b=$(ticks "$gpid")
        fresh_cpu+=("$(((b - a) * 1000 / HZ))")
        cached+=("$(curl -sf -o /dev/null -w '%{time_total}' "$url")")
    done
    bytes=$(wc -c <"$WORK/glances.json")
    rows=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))))' "$WORK/glances.json")
    # Its cost when a dashboard polls it every 2 s.
    a=$(ticks "$gpid")
    for i in $(seq $((WATCH_SECS / 2))); do
        curl -sf -o /dev/null "$url"
        sleep 2
    done
    b=$(ticks "$gpid")
    local poll_cpu rss
    poll_cpu=$(awk -v a="$a" -v b="$b" -v hz="$HZ" -v s="$WATCH_SECS" 'BEGIN { printf "%.2f", (b - a) / hz / s * 100 }')
    rss=$(rss_kib "$gpid")
    kill "$gpid"
    wait "$gpid" 2>/dev/null || true
    record "{\"step\":\"glances\",\"count\":$1,\"fresh_ms\":$(printf '%s\n' "${fresh[@]}" | median | awk '{ printf "%.1f", $1 * 1000 }'),\"fresh_cpu_ms\":$(printf '%s\n' "${fresh_cpu[@]}" | median),\"cached_ms\":$(printf '%s\n' "${cached[@]}" | median | awk '{ printf "%.2f", $1 * 1000 }'),\"bytes\":$bytes,\"rows\":$rows,\"poll_cpu_pct\":$poll_cpu,\"rss_kib\":$rss}"
}

say "daemon on 127.0.0.1:$PORT"
start_daemon
BASE=$(nprocs)
record "{\"step\":\"machine\",\"cores\":$(nproc),\"base_procs\":$BASE,\"kernel\":\"$(uname -r)\",\"rss_kib\":$(rss_kib "$DAEMON_PID")}"

added=0
last_list=$(date +%s)
for count in $COUNTS; do
    say "$count extra processes"
    add_sleepers $((count - added))
    added=$count
    sleep 1
    scan=$("$SCANBENCH" --iters 15)
    echo "$scan" >&2
    record "{\"step\":\"scan\",\"count\":$count,\"ps_ms\":$(ps_ms),\"scan\":$scan}"
    glances_step "$count"
    if [[ $count == "${COUNTS##* }" ]]; then
        # Idle: nobody has asked for processes for QUIET_SECS.
        wait_s=$((last_list + QUIET_SECS - $(date +%s)))
        ((wait_s > 0)) && sleep "$wait_s"
        say "idle CPU over ${IDLE_SECS}s"
        a=$(ticks "$DAEMON_PID")
        sleep "$IDLE_SECS"
        b=$(ticks "$DAEMON_PID")
        record "{\"step\":\"idle\",\"count\":$count,\"secs\":$IDLE_SECS,\"cpu_pct\":$(awk -v a="$a" -v b="$b" -v hz="$HZ" -v s="$IDLE_SECS" 'BEGIN { printf "%.3f", (b - a) / hz / s * 100 }'),\"rss_kib\":$(rss_kib "$DAEMON_PID")}"
    fi
    say "LIST at 20/s for ${LIST_SECS}s, STATUS at 5/s"
    r=$(loadgen --list-rate 20 --status-rate 5 --duration "$LIST_SECS")
    record "{\"step\":\"list\",\"count\":$count,\"r\":$r}"
    say "someone watching: LIST at 1/s for ${WATCH_SECS}s"
    r=$(loadgen --list-rate 1 --duration "$WATCH_SECS")
    record "{\"step\":\"watch\",\"count\":$count,\"r\":$r}"
    last_list=$(date +%s)
done

say "$PAIRS START+STOP pairs"
r=$(loadgen --start-stop "$PAIRS")
record "{\"step\":\"startstop\",\"r\":$r}"

say "10 sessions: resident memory"
r=$(loadgen --sessions 10 --window 2)
record "{\"step\":\"ten\",\"r\":$r}"

say "200 logins, one at a time: resident memory as shipped"
r=$(loadgen --sessions 200 --parallel 4 --window 1)
record "{\"step\":\"logins_shipped\",\"r\":$r}"
stop_daemon

# Each phase on a fresh daemon, so that one phase's sessions do not weigh on the next's figures.
for n in $SESSION_COUNTS; do
    say "$n idle sessions"
    start_daemon
    r=$(loadgen --sessions "$n" --logins 100 --window "$WINDOW")
    record "{\"step\":\"sessions\",\"n\":$n,\"r\":$r}"
    stop_daemon
done

say "$SUBSCRIBERS subscribers"
start_daemon
r=$(loadgen --subscribers "$SUBSCRIBERS" --window "$WINDOW")
record "{\"step\":\"fanout\",\"r\":$r}"
stop_daemon

say "instruction counts of one scan at $added extra processes (callgrind)"
if command -v valgrind >/dev/null; then
    for src in floor procfs sysinfo sysinfo_threads; do
        ok=1
        for it in 1 3; do
            valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.$src.$it" \
                "$SCANBENCH" --only "$src" --iters "$it" >/dev/null 2>&1 || ok=0
        done
        if [[ $ok == 1 ]]; then
            # Three timed scans minus one: two scans, nothing of the start-up.
            i1=$(awk '/^summary:/ { print $2 }' "$WORK/cg.$src.1")
            i3=$(awk '/^summary:/ { print $2 }' "$WORK/cg.$src.3")
            per=$(((i3 - i1) / 2))
        else
            per=null
        fi
        record "{\"step\":\"callgrind\",\"source\":\"$src\",\"count\":$added,\"per_scan\":$per}"
    done
else
    record '{"step":"callgrind","missing":true}'
fi

say "writing docs/benchmarks.md"
python3 "$ROOT/server/benches/report.py" "$RESULTS" "$ROOT/docs/benchmarks.md"
cp "$RESULTS" "$ROOT/server/benches/last-results.jsonl"
