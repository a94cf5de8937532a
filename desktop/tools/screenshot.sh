#!/usr/bin/env bash
# Renders docs/screenshots/desktop.png: two vigiad daemons on loopback and the app connected to
# both, under a virtual X server. Needs: xvfb, xdotool, imagemagick (Debian package names).
#
#   desktop/tools/screenshot.sh [OUTPUT.png]
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$repo/docs/screenshots/desktop.png}
target=${CARGO_TARGET_DIR:-$repo/target}
display=:${VIGIA_SHOT_DISPLAY:-77}
password=shot-password

cargo build --manifest-path "$repo/Cargo.toml" -p vigiad -p vigia --bins
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

for name in web db; do
    mkdir -p "$work/$name"
    echo "{\"admin\": \"$password\"}" > "$work/$name/users.json"
    chmod 600 "$work/$name/users.json"
done
"$target/debug/vigiad" --data-dir "$work/web" --listen 127.0.0.1:5101 --no-web \
    --sample-interval-ms 500 > "$work/web.log" 2>&1 &
pids+=($!)
"$target/debug/vigiad" --data-dir "$work/db" --listen 127.0.0.1:5102 --no-web \
    --sample-interval-ms 500 > "$work/db.log" 2>&1 &
pids+=($!)

fingerprint() { "$target/debug/vigiad" cert show --data-dir "$work/$1" | awk '/SHA-256/ {print $2}'; }
mkdir -p "$work/config"
cat > "$work/config/vigia.toml" <<TOML
[ui]
view = "dashboard"
selected = 1

[[server]]
id = 1
name = "web-01"
host = "127.0.0.1"
port = 5101
user = "admin"
pinned = "$(fingerprint web)"

[[server]]
id = 2
name = "db-01"
host = "127.0.0.1"
port = 5102
user = "admin"
pinned = "$(fingerprint db)"
TOML

Xvfb "$display" -screen 0 1280x820x24 > "$work/xvfb.log" 2>&1 &
pids+=($!)
export DISPLAY=$display
for _ in $(seq 50); do xdpyinfo > /dev/null 2>&1 && break; sleep 0.1; done

# No credential store under Xvfb: the app asks for each password once.
"$target/debug/vigia" --config-dir "$work/config" --no-keyring > "$work/vigia.log" 2>&1 &
pids+=($!)
window=
for _ in $(seq 100); do
    window=$(xdotool search --name "Vig" 2>/dev/null | head -1) && [ -n "$window" ] && break
    sleep 0.1
done
sleep 2
xdotool windowfocus "$window"
for _ in 1 2; do
    sleep 1
    xdotool type --delay 30 "$password"
    xdotool key Return
done
# Let the plots fill with a minute of samples (the daemons keep an hour).
sleep "${VIGIA_SHOT_WAIT:-60}"
xdotool mousemove 120 760
sleep 1
import -window root "$out"
echo "wrote $out"
