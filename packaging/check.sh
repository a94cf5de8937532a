#!/usr/bin/env bash
# Checks the packaging: builds the server packages (packaging/build.sh), then inspects the deb
# and the rpm (files, modes, conffiles, maintainer scripts), unpacks the deb into a throw-away
# root, runs its postinst against stub commands, starts the packaged binary with the packaged
# config, verifies the systemd unit and validates the desktop entry and icon.
#
#     packaging/check.sh             # build, then check
#     packaging/check.sh --no-build  # check the packages already in $CARGO_TARGET_DIR/packages
#
# Every check prints PASS or FAIL; the last line is `packaging: N passed, N failed`, and the exit
# status is non-zero when any check failed. Run as root on a fresh Debian machine (as CI does),
# it installs the Debian packages it needs.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
out="$CARGO_TARGET_DIR/packages"
build=1
[ "${1:-}" = "--no-build" ] && build=0

passed=0
failed=0
skipped=0
pass() { passed=$((passed + 1)); printf 'PASS  %s\n' "$1"; }
fail() {
    failed=$((failed + 1))
    printf 'FAIL  %s\n' "$1"
    [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/      | /'
    return 0
}
skip() { skipped=$((skipped + 1)); printf 'SKIP  %s\n' "$1"; }
# check DESCRIPTION COMMAND...: passes when COMMAND succeeds; shows its output when it fails.
check() {
    local what=$1 output
    shift
    if output=$("$@" 2>&1); then pass "$what"; else fail "$what" "$output"; fi
}
# contains DESCRIPTION TEXT REGEX / lacks DESCRIPTION TEXT REGEX (extended regex, per line).
contains() {
    if grep -Eq -- "$3" <<<"$2"; then pass "$1"; else fail "$1" "no line matches /$3/ in:
$2"; fi
}
lacks() {
    local hits
    if hits=$(grep -En -- "$3" <<<"$2"); then fail "$1" "$hits"; else pass "$1"; fi
}
finish() {
    printf '\npackaging: %d passed, %d failed' "$passed" "$failed"
    [ "$skipped" -gt 0 ] && printf ', %d skipped' "$skipped"
    printf '\n'
    [ "$failed" -eq 0 ]
    exit $?
}
die() {
    fail "$1" "${2:-}"
    finish
}

# --- tools -----------------------------------------------------------------------------------
# command -> Debian package that provides it
declare -A tools=(
    [rpm]=rpm [dpkg-deb]=dpkg [desktop-file-validate]=desktop-file-utils
    [systemd-analyze]=systemd [strip]=binutils [cc]=gcc
)
missing=()
for t in "${!tools[@]}"; do
    command -v "$t" >/dev/null 2>&1 || missing+=("${tools[$t]}")
done
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        printf '==> installing %s\n' "${missing[*]}" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q >&2 && apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 \
            || die "install the Debian packages: ${missing[*]}"
    else
        printf 'note: missing Debian packages (not root, not installing): %s\n' "${missing[*]}" >&2
    fi
fi

# --- build -----------------------------------------------------------------------------------
started=$SECONDS
if [ "$build" = 1 ]; then
    if packaging/build.sh "$out"; then
        pass "packaging/build.sh built the packages ($((SECONDS - started)) s)"
    else
        die "packaging/build.sh failed"
    fi
fi
shopt -s nullglob
debs=("$out"/vigiad_*.deb)
rpms=("$out"/vigiad-*.rpm)
shopt -u nullglob
[ "${#debs[@]}" -eq 1 ] || die "exactly one vigiad deb in $out" "found: ${debs[*]:-none}"
[ "${#rpms[@]}" -eq 1 ] || die "exactly one vigiad rpm in $out" "found: ${rpms[*]:-none}"
deb=${debs[0]}
rpm=${rpms[0]}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- deb ---------------------------------------------------------------------------------------
info=$(dpkg-deb -I "$deb")
contains "deb: package is vigiad" "$info" '^ Package: vigiad$'
contains "deb: depends on passwd (useradd)" "$info" '^ Depends: .*passwd'
for s in postinst prerm postrm; do
    contains "deb: has a $s script" "$info" "^ +[0-9]+ bytes, +[0-9]+ lines +\*? *$s "
done

listing=$(dpkg-deb -c "$deb")
owner='(root/root|0/0)'
contains "deb: /usr/bin/vigiad, root, 0755" "$listing" "^-rwxr-xr-x $owner .* \\./usr/bin/vigiad\$"
contains "deb: unit in /usr/lib/systemd/system, 0644" "$listing" \
    "^-rw-r--r-- $owner .* \\./usr/lib/systemd/system/vigiad\\.service\$"
contains "deb: /etc/vigia/vigiad.toml, 0644" "$listing" "^-rw-r--r-- $owner .* \\./etc/vigia/vigiad\\.toml\$"
lacks "deb: ships nothing under /var (the postinst makes /var/lib/vigia)" "$listing" ' \./var/'

control="$tmp/control"
dpkg-deb -e "$deb" "$control"
check "deb: /etc/vigia/vigiad.toml is a conffile" grep -qx /etc/vigia/vigiad.toml "$control/conffiles"
postinst=$(cat "$control/postinst")
contains "deb postinst: creates the vigia system user" "$postinst" 'useradd --system .*vigia'
contains "deb postinst: its home is /var/lib/vigia-run (not the data directory)" "$postinst" \
    '--home-dir /var/lib/vigia-run --no-create-home'
lacks "deb postinst: no home in the data directory" "$postinst" '--home(-dir)? /var/lib/vigia( |$)'
contains "deb postinst: data directory mode 0700" "$postinst" '^ *chmod 0700 /var/lib/vigia$'
contains "deb postinst: data directory owned by root" "$postinst" '^ *chown root:root /var/lib/vigia$'
lacks "deb postinst: vigia owns nothing in the data directory" "$postinst" 'chown .*vigia.* /var/lib/vigia$'
contains "deb postinst: old data directory given to root" "$postinst" '^ *chown -R root:root /var/lib/vigia$'
contains "deb postinst: home /var/lib/vigia-run owned by vigia" "$postinst" \
    '^ *chown vigia:vigia /var/lib/vigia-run$'
contains "deb postinst: home mode 0750" "$postinst" '^ *chmod 0750 /var/lib/vigia-run$'
# Neither enabling nor starting: only `try-restart` (already running) and `disable` may appear.
never_start='systemctl.*(^|[[:space:]])(enable|start|restart|reload-or-restart)([[:space:]]|$)'
for s in postinst prerm postrm; do
    lacks "deb $s: never enables or starts the service" "$(cat "$control/$s")" "$never_start"
    check "deb $s: valid sh" sh -n "$control/$s"
done

# Run the postinst against stubs that log what it asks for. With STUB_OLD unset, as on a first
# install: no vigia user, nothing in /var/lib/vigia. With STUB_OLD=1, as on an upgrade from the
# layout where the daemon ran as vigia: getent gives vigia with the home /var/lib/vigia, and
# find reports a file in /var/lib/vigia not owned by root.
stubs="$tmp/stubs"
mkdir -p "$stubs"
for c in getent groupadd useradd usermod mkdir chown chmod find systemctl; do
    {
        printf '#!/bin/sh\necho "%s $*" >>"$STUB_CALLS"\n' "$c"
        case $c in
        getent) printf '[ -n "${STUB_OLD:-}" ] || exit 2\n'
            printf 'case $1 in passwd) echo "vigia:x:999:999:Vigia daemon:/var/lib/vigia:/usr/sbin/nologin";;\n'
            printf '*) echo "vigia:x:999:";; esac\n' ;;
        find) printf '[ -z "${STUB_OLD:-}" ] || echo /var/lib/vigia/users.json\n' ;;
        esac
        printf 'exit 0\n'
    } >"$stubs/$c"
    chmod 755 "$stubs/$c"
done
if PATH="$stubs:$PATH" STUB_CALLS="$tmp/calls" sh -e "$control/postinst" configure "" \
    >"$tmp/postinst.out" 2>&1; then
    pass "deb postinst: runs (first install, with stub commands)"
else
    fail "deb postinst: runs (first install, with stub commands)" "$(cat "$tmp/postinst.out")"
fi
calls=$(cat "$tmp/calls" 2>/dev/null)
contains "deb postinst run: adds group vigia" "$calls" '^groupadd --system vigia$'
contains "deb postinst run: adds user vigia, home /var/lib/vigia-run, no login" "$calls" \
    '^useradd --system --gid vigia --home-dir /var/lib/vigia-run --no-create-home --shell /usr/sbin/nologin .*vigia$'
contains "deb postinst run: makes /var/lib/vigia-run vigia's" "$calls" '^chown vigia:vigia /var/lib/vigia-run$'
contains "deb postinst run: makes /var/lib/vigia-run 0750" "$calls" '^chmod 0750 /var/lib/vigia-run$'
contains "deb postinst run: makes /var/lib/vigia root's" "$calls" '^chown root:root /var/lib/vigia$'
contains "deb postinst run: makes /var/lib/vigia 0700" "$calls" '^chmod 0700 /var/lib/vigia$'
lacks "deb postinst run: no chown -R on a first install" "$calls" '^chown -R'
lacks "deb postinst run: no usermod on a first install" "$calls" '^usermod'
lacks "deb postinst run: starts nothing" "$calls" "$never_start"

if PATH="$stubs:$PATH" STUB_CALLS="$tmp/calls.old" STUB_OLD=1 \
    sh -e "$control/postinst" configure 0.1.0-1 >"$tmp/postinst.old.out" 2>&1; then
    pass "deb postinst: runs (upgrade from the vigia-owned layout, with stub commands)"
else
    fail "deb postinst: runs (upgrade from the vigia-owned layout, with stub commands)" \
        "$(cat "$tmp/postinst.old.out")"
fi
calls=$(cat "$tmp/calls.old" 2>/dev/null)
lacks "deb postinst upgrade: keeps the existing user" "$calls" '^(useradd|groupadd)'
contains "deb postinst upgrade: moves vigia's home out of /var/lib/vigia" "$calls" \
    '^usermod --home /var/lib/vigia-run vigia$'
contains "deb postinst upgrade: gives /var/lib/vigia and its files to root" "$calls" \
    '^chown -R root:root /var/lib/vigia$'
contains "deb postinst upgrade: /var/lib/vigia 0700" "$calls" '^chmod 0700 /var/lib/vigia$'
# The files must be root's before the daemon (root now) is restarted on them.
order=$(grep -nE '^(chown -R root:root /var/lib/vigia|systemctl try-restart vigiad\.service)$' <<<"$calls" \
    | cut -d: -f2- | tr '\n' ';')
if [ -d /run/systemd/system ]; then
    check "deb postinst upgrade: chown -R before try-restart" \
        test "$order" = "chown -R root:root /var/lib/vigia;systemctl try-restart vigiad.service;"
else
    check "deb postinst upgrade: chown -R (no systemd here: no try-restart)" \
        test "$order" = "chown -R root:root /var/lib/vigia;"
fi
lacks "deb postinst upgrade: starts nothing" "$calls" "$never_start"

# Unpack into a throw-away root and look at the files as installed.
fsroot="$tmp/root"
dpkg-deb -x "$deb" "$fsroot"
mode() { stat -c '%a' "$fsroot$1" 2>&1; }
check "unpacked: /usr/bin/vigiad mode 755" test "$(mode /usr/bin/vigiad)" = 755
check "unpacked: unit mode 644" test "$(mode /usr/lib/systemd/system/vigiad.service)" = 644
check "unpacked: config mode 644" test "$(mode /etc/vigia/vigiad.toml)" = 644
check "unpacked: unit is packaging/systemd/vigiad.service" \
    cmp "$fsroot/usr/lib/systemd/system/vigiad.service" packaging/systemd/vigiad.service
check "unpacked: config is packaging/vigiad.toml" \
    cmp "$fsroot/etc/vigia/vigiad.toml" packaging/vigiad.toml
check "unpacked: vigiad --version runs" "$fsroot/usr/bin/vigiad" --version

# The packaged binary accepts the packaged config, serves, and exits cleanly on SIGTERM.
# Run as root, the daemon checks that the run_as account exists and refuses to start if not. The
# packaged config names `vigia`, which only the postinst creates: this check does not create
# accounts on the machine it runs on, so where `vigia` is missing it starts the daemon with a
# copy of the config whose only change is run_as = "nobody" (an account every system has).
config="$fsroot/etc/vigia/vigiad.toml"
contains "config: run_as = \"vigia\"" "$(cat "$config")" '^run_as = "vigia"$'
if [ "$(id -u)" = 0 ] && ! getent passwd vigia >/dev/null; then
    sed 's/^run_as = "vigia"$/run_as = "nobody"/' "$config" >"$tmp/vigiad.toml"
    config="$tmp/vigiad.toml"
    check "config copy: only run_as differs" \
        test "$(diff "$fsroot/etc/vigia/vigiad.toml" "$config" | grep -c '^[<>]')" = 2
fi
data="$tmp/data"
"$fsroot/usr/bin/vigiad" --config "$config" --data-dir "$data" \
    --listen 127.0.0.1:0 --web-listen 127.0.0.1:0 >"$tmp/daemon.log" 2>&1 &
daemon=$!
for _ in $(seq 1 200); do
    grep -q 'listening for TLS' "$tmp/daemon.log" && break
    kill -0 "$daemon" 2>/dev/null || break
    sleep 0.1
done
if grep -q 'listening for TLS' "$tmp/daemon.log"; then
    pass "unpacked: vigiad starts with /etc/vigia/vigiad.toml"
    kill -TERM "$daemon"
    if wait "$daemon"; then pass "unpacked: vigiad exits 0 on SIGTERM"; else
        fail "unpacked: vigiad exits 0 on SIGTERM" "$(tail -n 20 "$tmp/daemon.log")"
    fi
else
    kill -KILL "$daemon" 2>/dev/null
    wait "$daemon" 2>/dev/null
    fail "unpacked: vigiad starts with /etc/vigia/vigiad.toml" "$(tail -n 20 "$tmp/daemon.log")"
fi
check "unpacked: data directory made with mode 700" test "$(stat -c %a "$data")" = 700

# --- systemd unit ------------------------------------------------------------------------------
unit=$(cat packaging/systemd/vigiad.service)
contains "unit: runs /usr/bin/vigiad with /etc/vigia/vigiad.toml" "$unit" \
    '^ExecStart=/usr/bin/vigiad --config /etc/vigia/vigiad\.toml$'
contains "unit: KillMode=process (started processes outlive a restart)" "$unit" '^KillMode=process$'
# The daemon runs as root (to start processes as run_as), bounded to three capabilities.
check "unit: runs as root (no User= or Group= other than root)" \
    test -z "$(grep -E '^(User|Group)=' <<<"$unit" | grep -vxE '(User|Group)=root')"
contains "unit: CapabilityBoundingSet=CAP_KILL CAP_SETUID CAP_SETGID" "$unit" \
    '^CapabilityBoundingSet=CAP_KILL CAP_SETUID CAP_SETGID$'
check "unit: exactly one CapabilityBoundingSet= line" \
    test "$(grep -c '^CapabilityBoundingSet=' <<<"$unit")" = 1
lacks "unit: no AmbientCapabilities" "$unit" '^AmbientCapabilities='
for line in NoNewPrivileges=yes ProtectSystem=strict ReadWritePaths=/var/lib/vigia \
    ReadWritePaths=-/var/lib/vigia-run StateDirectory=vigia StateDirectoryMode=0700 \
    ProtectHome=yes PrivateTmp=yes Restart=on-failure; do
    contains "unit: $line" "$unit" "^$line\$"
done
# Options that would stop the daemon from switching to run_as or signalling other users.
lacks "unit: nothing that blocks setuid/setgid or signals" "$unit" \
    '^(PrivateUsers|SystemCallFilter|ProtectProc|DynamicUser|SecureBits)='
if command -v systemd-analyze >/dev/null 2>&1; then
    # verify needs ExecStart's binary to exist: point it at the unpacked one, nothing else changes.
    sed "s|^ExecStart=/usr/bin/vigiad|ExecStart=$fsroot/usr/bin/vigiad|" \
        "$fsroot/usr/lib/systemd/system/vigiad.service" >"$tmp/vigiad.service"
    check "unit: systemd-analyze verify" systemd-analyze verify "$tmp/vigiad.service"
elif [ "${CI:-}" = true ]; then
    fail "unit: systemd-analyze verify" "systemd-analyze is missing (Debian package: systemd)"
else
    skip "unit: systemd-analyze verify (systemd-analyze is missing)"
fi

# --- rpm ---------------------------------------------------------------------------------------
if command -v rpm >/dev/null 2>&1; then
    rinfo=$(rpm -qip "$rpm" 2>&1)
    contains "rpm: package is vigiad" "$rinfo" '^Name +: vigiad$'
    rlist=$(rpm -qlvp "$rpm" 2>&1)
    contains "rpm: /usr/bin/vigiad, root, 0755" "$rlist" '^-rwxr-xr-x .* root +root .* /usr/bin/vigiad$'
    contains "rpm: unit in /usr/lib/systemd/system, 0644" "$rlist" \
        '^-rw-r--r-- .* root +root .* /usr/lib/systemd/system/vigiad\.service$'
    contains "rpm: /etc/vigia/vigiad.toml, 0644" "$rlist" '^-rw-r--r-- .* /etc/vigia/vigiad\.toml$'
    flags=$(rpm -qp --qf '[%{FILENAMES} %{FILEFLAGS:fflags}\n]' "$rpm" 2>&1)
    contains "rpm: config is %config(noreplace)" "$flags" '^/etc/vigia/vigiad\.toml c?n'
    requires=$(rpm -qp --requires "$rpm" 2>&1)
    contains "rpm: requires shadow-utils (useradd)" "$requires" '^shadow-utils'
    scripts=$(rpm -qp --scripts "$rpm" 2>&1)
    contains "rpm: has a preinstall script" "$scripts" '^preinstall scriptlet'
    contains "rpm: has a postinstall script" "$scripts" '^postinstall scriptlet'
    contains "rpm: has a preuninstall script" "$scripts" '^preuninstall scriptlet'
    contains "rpm: has a postuninstall script" "$scripts" '^postuninstall scriptlet'
    contains "rpm: requires findutils (find in %post)" "$requires" '^findutils'
    contains "rpm %pre: creates the vigia system user, home /var/lib/vigia-run" "$scripts" \
        '^ +useradd --system --gid vigia --home-dir /var/lib/vigia-run --no-create-home'
    lacks "rpm scripts: no home in the data directory" "$scripts" '--home(-dir)? /var/lib/vigia( |$)'
    contains "rpm %post: moves an old home out of /var/lib/vigia" "$scripts" \
        '^ +usermod --home /var/lib/vigia-run vigia'
    contains "rpm %post: home owned by vigia" "$scripts" '^chown vigia:vigia /var/lib/vigia-run$'
    contains "rpm %post: home mode 0750" "$scripts" '^chmod 0750 /var/lib/vigia-run$'
    contains "rpm %post: data directory mode 0700" "$scripts" '^chmod 0700 /var/lib/vigia$'
    contains "rpm %post: data directory owned by root" "$scripts" '^chown root:root /var/lib/vigia$'
    contains "rpm %post: old data directory given to root" "$scripts" \
        '^ +chown -R root:root /var/lib/vigia$'
    lacks "rpm %post: vigia owns nothing in the data directory" "$scripts" \
        'chown .*vigia.* /var/lib/vigia$'
    for s in preinst postinst preuninst postuninst; do
        check "rpm $s: valid sh" sh -n "packaging/rpm/$s"
    done
    lacks "rpm scripts: never enable or start the service" "$scripts" "$never_start"
    lacks "rpm scripts: are the script files, not their paths" "$scripts" 'packaging/rpm/'
else
    fail "rpm: query the rpm" "rpm is missing (Debian package: rpm)"
fi

# --- desktop -----------------------------------------------------------------------------------
if command -v desktop-file-validate >/dev/null 2>&1; then
    check "desktop: desktop-file-validate vigia.desktop" \
        desktop-file-validate packaging/desktop/vigia.desktop
else
    fail "desktop: desktop-file-validate" "missing (Debian package: desktop-file-utils)"
fi
desktop=$(cat packaging/desktop/vigia.desktop)
contains "desktop: Exec=vigia" "$desktop" '^Exec=vigia$'
contains "desktop: Icon=vigia" "$desktop" '^Icon=vigia$'
# PNG: 8-byte signature, then the IHDR chunk with width and height as big-endian u32.
png_head=$(od -An -tx1 -N24 packaging/icons/vigia.png | tr -d ' \n')
check "icon: vigia.png is a 256x256 PNG" \
    test "$png_head" = "89504e470d0a1a0a0000000d494844520000010000000100"
check "icon: vigia.svg is an SVG" grep -q '<svg xmlns="http://www.w3.org/2000/svg"' \
    packaging/icons/vigia.svg

finish
