#!/usr/bin/env bash
# The memory soak: one daemon, 3,000 extra processes, 10 sessions (8 idle, one LISTing and one
# asking STATUS once a second), five new logins a minute, for an hour; the daemon's resident
# memory and CPU are sampled every 30 s and a table goes into docs/benchmarks.md.
#
#   server/benches/soak.sh                  # one hour
#   SOAK_SECS=300 server/benches/soak.sh    # a shorter try
#
# Extra processes are `sleep`s killed by pid on exit (also on Ctrl-C). Every loop is bounded.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
PORT=${PORT:-15200}
SOAK_SECS=${SOAK_SECS:-3600}
EXTRA=${EXTRA:-3000}
EVERY=30

WORK=$(mktemp -d /tmp/vigia-soak.XXXXXX)
RESULTS=$WORK/soak.jsonl
VIGIAD=$TARGET/release/vigiad
LOADGEN=$TARGET/release/examples/loadgen
# shellcheck source=server/benches/lib.sh
source "$ROOT/server/benches/lib.sh"

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
say "building (release, once)"
(cd "$ROOT" && cargo build --release -q -p vigiad --bin vigiad --example loadgen)
start_daemon

say "$EXTRA extra processes"
add_sleepers "$EXTRA" $((SOAK_SECS + 600))
START_RSS=$(rss_kib "$DAEMON_PID")

say "soak: ${SOAK_SECS}s"
drive --sessions 8 --window 1 --list-rate 1 --status-rate 1 --duration "$SOAK_SECS" \
    >"$WORK/driver.log" 2>&1 &
DRIVER_PID=$!
t0=$(date +%s)
t_prev=$t0 c_prev=$(ticks "$DAEMON_PID")
printf '{"t":0,"rss_kib":%s,"cpu_pct":null,"procs":%s}\n' "$START_RSS" \
    "$(nprocs)" >>"$RESULTS"
next_login=$((t0 + 60))
while :; do
    now=$(date +%s)
    ((now - t0 >= SOAK_SECS)) && break
    kill -0 "$DAEMON_PID" || { echo "the daemon died" >&2; exit 1; }
    if ((now >= next_login)); then
        drive --logins 5 >/dev/null 2>&1 || echo "logins failed at $((now - t0)) s" >&2
        next_login=$((next_login + 60))
    fi
    wait_s=$((EVERY - (now - t0) % EVERY))
    ((now - t0 + wait_s > SOAK_SECS)) && wait_s=$((SOAK_SECS - (now - t0)))
    sleep "$wait_s"
    now=$(date +%s) c=$(ticks "$DAEMON_PID")
    cpu=$(awk -v a="$c_prev" -v b="$c" -v hz="$(getconf CLK_TCK)" -v s=$((now - t_prev)) \
        'BEGIN { printf "%.3f", (b - a) / hz / (s > 0 ? s : 1) * 100 }')
    printf '{"t":%s,"rss_kib":%s,"cpu_pct":%s,"procs":%s}\n' $((now - t0)) "$(rss_kib "$DAEMON_PID")" \
        "$cpu" "$(nprocs)" \
        | tee -a "$RESULTS" >&2
    t_prev=$now c_prev=$c
done
wait "$DRIVER_PID" || { cat "$WORK/driver.log" >&2; exit 1; }
DRIVER_PID=""
tail -n 8 "$WORK/driver.log" >&2
python3 - "$WORK/driver.log" >>"$RESULTS" <<'PY'
import json, re, sys
out = {"driver": {}}
for line in open(sys.argv[1]):
    m = re.match(r"(LIST|STATUS)\s+n=(\d+)\s+p50=\s*([\d.]+) ms\s+p90=\s*([\d.]+) ms\s+p99=\s*([\d.]+) ms", line)
    if m:
        out["driver"][m.group(1)] = {"n": int(m.group(2)), "p50_ms": float(m.group(3)), "p99_ms": float(m.group(5))}
print(json.dumps(out))
PY

say "writing docs/benchmarks.md"
python3 "$ROOT/server/benches/report.py" --soak "$RESULTS" "$ROOT/docs/benchmarks.md"
cp "$RESULTS" "$ROOT/server/benches/last-soak.jsonl"
