#!/usr/bin/env bash
# Measures the desktop app (desktop/examples/deskbench.rs) and writes its table in
# docs/benchmarks.md: 20 real daemons on loopback, the app connected to all of them in a window
# under a virtual X server (Mesa's software renderer), one host's table open with 3,000 extra
# processes on the machine. Needs: xvfb (xvfb-run), Mesa's libgl1-mesa-dri.
#
#   desktop/tools/bench.sh                 # 4 minutes measured
#   SECS=3600 MARK=desktop-hour desktop/tools/bench.sh   # the one-hour run, in its own table
#   PREFILL=1 SECS=1200 MARK=desktop-full desktop/tools/bench.sh  # histories full from the start
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
SECS=${SECS:-240}
HOSTS=${HOSTS:-20}
EXTRA=${EXTRA:-3000}
PORT=${PORT:-15400}
EVERY=${EVERY:-60}
MARK=${MARK:-desktop}
PREFILL=${PREFILL:-0}

(cd "$ROOT" && cargo build --release -q -p vigiad --bin vigiad && \
    cargo build --release -q -p vigia --example deskbench)
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
out=$(mktemp /tmp/vigia-deskbench.XXXXXX)
trap 'rm -f "$out"' EXIT
xvfb-run -a -s "-screen 0 1280x820x24" "$TARGET/release/examples/deskbench" \
    --vigiad "$TARGET/release/vigiad" --hosts "$HOSTS" --extra "$EXTRA" --secs "$SECS" \
    --sample-every "$EVERY" --port "$PORT" $([[ $PREFILL == 1 ]] && echo --prefill-history) \
    | tee "$out"
tail -n 1 "$out" >"$ROOT/desktop/tools/last-$MARK.json"
python3 "$ROOT/server/benches/report.py" --desktop "$ROOT/desktop/tools/last-$MARK.json" \
    "$ROOT/docs/benchmarks.md" "$MARK"
