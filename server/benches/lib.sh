# Shared by run.sh and soak.sh: a daemon of the run's own, extra processes, and readings of
# /proc. The caller sets WORK (a fresh temporary directory), PORT, VIGIAD and LOADGEN first.

SLEEPERS=()
DAEMON_PID=""
DRIVER_PID=""
HZ=$(getconf CLK_TCK)

cleanup() {
    set +e
    [[ -n $DRIVER_PID ]] && kill "$DRIVER_PID" 2>/dev/null
    [[ -n $DAEMON_PID ]] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
    if ((${#SLEEPERS[@]})); then
        printf '%s\n' "${SLEEPERS[@]}" | xargs -r -n 500 kill 2>/dev/null
        wait "${SLEEPERS[@]}" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

say() { printf '\n== %s\n' "$*" >&2; }
nprocs() { find /proc -maxdepth 1 -regex '/proc/[0-9]+' | wc -l; }
ticks() { awk '{ sub(/.*\) /, ""); split($0, f, " "); print f[12] + f[13] }' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
now_ns() { date +%s%N; }

add_sleepers() { # add_sleepers N [SECONDS]: N more `sleep`s, killed by pid on exit
    local i
    for ((i = 0; i < $1; i++)); do
        sleep "${2:-3600}" &
        SLEEPERS+=($!)
    done
}

start_daemon() { # start_daemon [env assignments...]: sets DAEMON_PID and FP
    mkdir -p -m 700 "$WORK/data"
    printf '{"admin":"bench-password"}' >"$WORK/data/users.json"
    chmod 600 "$WORK/data/users.json"
    printf 'bench-password\n' >"$WORK/pw"
    : >"$WORK/cfg.toml"
    [[ $EUID == 0 ]] && printf 'run_as = "root"\n' >"$WORK/cfg.toml"
    env "$@" "$VIGIAD" --config "$WORK/cfg.toml" --data-dir "$WORK/data" \
        --listen "127.0.0.1:$PORT" --no-web --max-connections 12000 \
        --max-connections-per-ip 12000 >>"$WORK/daemon.log" 2>&1 &
    DAEMON_PID=$!
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
        sleep 0.1
    done
    FP=$("$VIGIAD" cert show --data-dir "$WORK/data" | awk '/SHA-256/ { print $2 }')
}

stop_daemon() {
    kill "$DAEMON_PID"
    wait "$DAEMON_PID" 2>/dev/null || true
    DAEMON_PID=""
}

drive() { # drive ARGS...: the load generator against this run's daemon
    "$LOADGEN" --addr "127.0.0.1:$PORT" --fingerprint "$FP" --password-file "$WORK/pw" \
        --daemon-pid "$DAEMON_PID" "$@"
}
